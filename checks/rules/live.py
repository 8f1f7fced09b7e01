"""Sống (live): the base keeps up with life — deaths, moves, card renewals, periodic verification."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import polars as pl

from checks.context import CheckContext, CheckSettings
from checks.groups import EXTRACTS
from checks.registry import rule
from checks.rules._common import alive, cards_issued_tonight, fmt_date, hits, night

DEATH_EVENT: Final = "Khai tử"
PERMANENT_REGISTRATION: Final = "Đăng ký thường trú"
PERMANENT_DEREGISTRATION: Final = "Xóa đăng ký thường trú"


def _registered_before_grace(context: CheckContext) -> pl.Expr:
    grace = context.settings.reflection_grace_days
    return pl.col("registration_date_value").fill_null(night(context)) <= night(context) - pl.duration(days=grace)


def _linked_base(
    context: CheckContext, events: pl.DataFrame, columns: list[str], *, base: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Each event row joined to the base record(s) it links to; base columns get the ``_base`` suffix."""
    source = context.base_records if base is None else base
    renamed = source.select(
        pl.col("record_id").alias("base_id"), *(pl.col(c).alias(f"{c}_base") for c in ["ward_code", *columns])
    )
    return events.join(context.links, left_on="record_id", right_on="extract_id").join(renamed, on="base_id")


@rule(
    "death_not_reflected",
    quality="sống",
    severity="error",
    title="Đã đăng ký khai tử nhưng CSDL dân cư chưa cập nhật",
    description="Người đã được đăng ký khai tử (hộ tịch) nhưng bản ghi trong CSDL dân cư vẫn chưa có ngày chết.",
    groups=(EXTRACTS,),
    columns=("event_type", "registration_date_value", "death_date", "death_date_value", "death_date_precision"),
)
def death_not_reflected(context: CheckContext) -> pl.DataFrame:
    """A registered death linked to a base record that still has no death date; reported on the base record."""
    deaths = context.extract_records.filter(
        (pl.col("source") == "civil_status") & (pl.col("event_type") == DEATH_EVENT) & _registered_before_grace(context)
    ).select("record_id", "death_date", "death_date_value", "death_date_precision", "registration_date_value")
    linked = _linked_base(context, deaths, ["source", "death_date"])
    no_death = pl.col("death_date_base").is_null() | (pl.col("death_date_base").str.strip_chars() == "")
    # One base record of the person showing the death is the base reflecting it; a duplicate record that does not
    # is the duplicate's problem (its own finding), not a second unreflected death.
    reflected = linked.filter(~no_death).select("record_id").unique()
    joined = linked.filter(no_death).join(reflected, on="record_id", how="anti")
    flagged = joined.select(
        pl.col("base_id").alias("record_id"),
        pl.col("source_base").alias("source"),
        pl.col("ward_code_base").alias("ward_code"),
        pl.col("record_id").alias("event_id"),
        "death_date_value",
        "death_date_precision",
        "registration_date_value",
    )
    return hits(
        flagged,
        pl.format(
            "Đã đăng ký khai tử (số {}, ngày chết {}) nhưng CSDL dân cư chưa ghi ngày chết.",
            pl.col("event_id"),
            pl.coalesce(fmt_date("death_date"), pl.lit("không rõ")),
        ),
        related=pl.concat_list(pl.col("event_id")),
    )


@rule(
    "move_not_reflected",
    quality="sống",
    severity="error",
    title="Chuyển nơi thường trú nhưng CSDL dân cư chưa cập nhật",
    description="Người đã đăng ký thường trú nơi mới hoặc đã xóa đăng ký thường trú nơi cũ (dữ liệu cư trú) nhưng "
    "nơi thường trú trong CSDL dân cư vẫn là nơi cũ.",
    groups=(EXTRACTS,),
    columns=(
        "event_type",
        "registration_date_value",
        "permanent_address",
        "permanent_address_norm",
        "permanent_address_ward_code",
        "permanent_address_street",
        "permanent_address_candidates",
    ),
)
def move_not_reflected(context: CheckContext) -> pl.DataFrame:
    """A move in the residence extract that the linked base record does not show; reported on the base record.

    Two signals: a permanent registration in another ward, or in the same ward at another street address, than the
    base shows (routed to the new ward, where the person now lives), and a removal of permanent registration (moving
    out) at the address the base still shows (routed to that ward).
    """
    residence = context.extract_records.filter((pl.col("source") == "residence") & _registered_before_grace(context))
    # An old-form address of a split ward has several candidate wards; two addresses are surely different places
    # only when their candidate sets are disjoint, and may be the same place when they share a candidate.
    wards = pl.coalesce(
        pl.when(pl.col("permanent_address_candidates").list.len() > 0).then(pl.col("permanent_address_candidates")),
        pl.concat_list(pl.col("permanent_address_ward_code")).list.drop_nulls(),
    )
    address = ["permanent_address", "permanent_address_norm", "permanent_address_ward_code", "permanent_address_street"]
    columns = ["record_id", "event_type", *address]
    base_columns = ["source", *address, "_wards"]
    events = residence.with_columns(_wards=wards).select(*columns, "_wards")
    joined = _linked_base(context, events, base_columns, base=context.base_records.with_columns(_wards=wards))
    shared = pl.col("_wards").list.set_intersection(pl.col("_wards_base")).list.len()
    known = (pl.col("_wards").list.len() > 0) & (pl.col("_wards_base").list.len() > 0)
    same_text = (pl.col("permanent_address_norm") == pl.col("permanent_address_norm_base")).fill_null(False)
    same_place = (known & (shared > 0)) | same_text
    # Within one ward a move shows in the street part (house number, street, hamlet) of the address.
    other_street = (
        pl.col("permanent_address_street").str.to_lowercase()
        != pl.col("permanent_address_street_base").str.to_lowercase()
    ).fill_null(False)
    not_shown = (pl.col("event_type") == PERMANENT_REGISTRATION) & known & ((shared == 0) | other_street)
    # As for deaths: a move that one base record of the person shows is reflected.
    at_new_place = (pl.col("event_type") == PERMANENT_REGISTRATION) & known & (shared > 0) & ~other_street
    shown = joined.filter(at_new_place).select("record_id").unique()
    moved_in = (
        joined.filter(not_shown)
        .join(shown, on="record_id", how="anti")
        .select(
            pl.col("base_id").alias("record_id"),
            pl.col("source_base").alias("source"),
            pl.coalesce("permanent_address_ward_code", "permanent_address_ward_code_base").alias("ward_code"),
            pl.col("record_id").alias("event_id"),
            pl.format(
                'Đã đăng ký thường trú tại "{}" (hồ sơ {}) nhưng CSDL dân cư vẫn ghi "{}".',
                pl.col("permanent_address"),
                pl.col("record_id"),
                pl.col("permanent_address_base"),
            ).alias("message"),
        )
    )
    moved_out = joined.filter((pl.col("event_type") == PERMANENT_DEREGISTRATION) & same_place).select(
        pl.col("base_id").alias("record_id"),
        pl.col("source_base").alias("source"),
        pl.coalesce("permanent_address_ward_code_base", "permanent_address_ward_code").alias("ward_code"),
        pl.col("record_id").alias("event_id"),
        pl.format(
            'Đã xóa đăng ký thường trú tại "{}" (hồ sơ {}) nhưng CSDL dân cư vẫn ghi đây là nơi thường trú.',
            pl.col("permanent_address"),
            pl.col("record_id"),
        ).alias("message"),
    )
    flagged = pl.concat([moved_in, moved_out], how="vertical_relaxed")
    return hits(flagged, pl.col("message"), related=pl.concat_list(pl.col("event_id")))


def _statutory_expiry(settings: CheckSettings) -> pl.Expr:
    """Expiry implied by the law when the card carries none: the first renewal age at least ``renewal_grace_years``
    after the age at issue; none (valid for life) after the last renewal age."""
    born = pl.col("birth_date_value")
    issued = pl.col("card_issue_date_value")
    age_at_issue = (
        issued.dt.year()
        - born.dt.year()
        - (
            (issued.dt.month() < born.dt.month())
            | ((issued.dt.month() == born.dt.month()) & (issued.dt.day() < born.dt.day()))
        ).cast(pl.Int32)
    )
    expiry: pl.Expr = pl.lit(None, dtype=pl.Date)
    for age in sorted(settings.renewal_ages, reverse=True):
        expiry = (
            pl.when(age_at_issue < age - settings.renewal_grace_years)
            .then(born.dt.offset_by(f"{age}y"))
            .otherwise(expiry)
        )
    return expiry


def _expiry(settings: CheckSettings) -> pl.Expr:
    return pl.coalesce(pl.col("card_expiry_date_value"), _statutory_expiry(settings))


def _expires_between(settings: CheckSettings, before: date, night: date) -> pl.Expr:
    """The card's expiry falls between the two nights (it was valid on the first, is expired on the second)."""
    return _expiry(settings).is_between(pl.lit(before), pl.lit(night), closed="left").fill_null(False)


def _verification_lapses_between(settings: CheckSettings, before: date, night: date) -> pl.Expr:
    days = timedelta(days=settings.verification_max_age_days)
    verified = pl.col("last_verified_date_value")
    return verified.is_between(pl.lit(before - days), pl.lit(night - days), closed="left").fill_null(False)


@rule(
    "card_expired",
    quality="sống",
    severity="error",
    title="Thẻ căn cước đã hết hạn",
    description="Thẻ phải được đổi khi công dân đủ 25, 40 và 60 tuổi; thẻ trong CSDL dân cư quá ngày hết hạn (ghi "
    "trên thẻ, hoặc theo tuổi khi thẻ không ghi) là không còn giá trị, kể cả khi thẻ mới vừa cấp chưa được cập nhật.",
    may_change=_expires_between,
    groups=(EXTRACTS,),
    columns=(
        "card_number",
        "person_id",
        "card_issue_date_value",
        "card_issue_date_precision",
        "card_expiry_date_value",
        "death_date",
        "death_date_value",
        "death_date_precision",
        "birth_date_value",
        "birth_date_precision",
    ),
)
def card_expired(context: CheckContext) -> pl.DataFrame:
    """A living base person whose card expired before the night; a renewal in tonight's card extract is named in the
    finding (the base still shows the expired card)."""
    base = (
        context.base_records.lazy()
        .filter(alive() & pl.col("card_issue_date_value").is_not_null())
        .with_columns(_expiry=_expiry(context.settings))
    )
    expired = base.filter(pl.col("_expiry") < night(context)).join(
        cards_issued_tonight(context).lazy(), on="record_id", how="left"
    )
    return hits(
        expired,
        pl.format(
            "Thẻ số {} cấp ngày {} đã hết hạn từ {}",
            pl.coalesce("card_number", "person_id"),
            fmt_date("card_issue_date"),
            pl.col("_expiry").dt.strftime("%d/%m/%Y"),
        )
        + pl.when(pl.col("cards").list.len() > 0)
        .then(
            pl.lit("; thẻ cấp đổi theo hồ sơ ")
            + pl.col("cards").list.join(", ")
            + pl.lit(" chưa được cập nhật vào CSDL.")
        )
        .otherwise(pl.lit(".")),
        related=pl.col("cards"),
    )


@rule(
    "not_verified_recently",
    quality="sống",
    severity="error",
    title="Lâu chưa xác minh thông tin",
    description="Thông tin của mỗi công dân còn sống cần được xác minh lại định kỳ; bản ghi chưa xác minh quá thời hạn "
    "cấu hình (mặc định 3 năm) cần được rà soát.",
    may_change=_verification_lapses_between,
)
def not_verified_recently(context: CheckContext) -> pl.DataFrame:
    """A living base person last verified longer ago than ``verification_max_age_days`` (or never)."""
    days = context.settings.verification_max_age_days
    cutoff = night(context) - pl.duration(days=days)
    stale = context.base_records.lazy().filter(
        alive() & (pl.col("last_verified_date_value").is_null() | (pl.col("last_verified_date_value") < cutoff))
    )
    detail = (
        pl.when(pl.col("last_verified_date_value").is_null())
        .then(pl.lit("Chưa từng được xác minh."))
        .otherwise(pl.format("Xác minh lần cuối ngày {}, quá {} ngày.", fmt_date("last_verified_date"), pl.lit(days)))
    )
    return hits(stale, detail)
