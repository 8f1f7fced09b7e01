"""Đủ (complete): nothing missing — required fields, ID cards of adults, person records of births and cards,
household heads."""

from __future__ import annotations

from functools import cache
from typing import Final

import polars as pl

from checks.context import CheckContext
from checks.groups import CLUSTER, EXTRACTS, HOUSEHOLD
from checks.registry import rule
from checks.rules._common import alive, cards_issued_tonight, fmt_date, hits, night, present, surely_aged
from records.mappings import all_mappings
from records.schema import CANONICAL_COLUMNS

BASE_REQUIRED: Final = ("person_id", "full_name", "birth_date", "sex", "ethnicity", "permanent_address")
"""What the population base must hold for every citizen (every citizen has a personal ID from birth registration)."""

HEAD_OF_HOUSEHOLD: Final = "chủ hộ"
BIRTH_EVENT: Final = "Khai sinh"

_LABELS: Final = {c.name: c.vietnamese.split(":")[0].split(",")[0] for c in CANONICAL_COLUMNS}


@cache
def required_fields() -> dict[str, tuple[str, ...]]:
    """source → fields every row of that source must fill (the extracts' from their mapping files)."""
    required = {mapping.source: tuple(c for c in mapping.expected if c != "record_id") for mapping in all_mappings()}
    required["base"] = BASE_REQUIRED
    return required


@rule(
    "required_field_missing",
    quality="đủ",
    severity="error",
    title="Thiếu trường thông tin bắt buộc",
    description="Mỗi nguồn có các trường bắt buộc (CSDL dân cư: số định danh, họ tên, ngày sinh, giới tính, nơi "
    "thường trú; các tệp trích xuất: theo tệp ánh xạ cột của nguồn).",
)
def required_field_missing(context: CheckContext) -> pl.DataFrame:
    """Rows of a source with any of that source's required fields empty; one finding per row lists them all."""
    parts = []
    records = context.records
    for source, fields in required_fields().items():
        of_source = pl.col("source") == source
        if not records.select(of_source.any()).item():
            continue
        held = [f for f in fields if f in records.columns]
        if not held:
            continue
        # The rows with a field missing first, then their lists: building a list for every row (nearly all of them
        # complete) cost 13x the filter at 1,000,000 records.
        rows = records.lazy().filter(of_source & pl.any_horizontal([~present(f) for f in held]))
        missing = pl.concat_list([pl.when(~present(f)).then(pl.lit(_LABELS.get(f, f))) for f in held]).list.drop_nulls()
        parts.append(rows.with_columns(_missing=missing))
    if not parts:
        return context.records.head(0).pipe(hits, pl.lit(""))
    flagged = pl.concat(parts, how="diagonal_relaxed")
    return hits(flagged, pl.lit("Thiếu: ") + pl.col("_missing").list.join(", ") + pl.lit("."))


@rule(
    "adult_without_card",
    quality="đủ",
    severity="error",
    title="Công dân từ 14 tuổi chưa có thẻ căn cước",
    description="Công dân từ đủ 14 tuổi phải được cấp thẻ căn cước (Luật Căn cước 2023). Người đã chết không bị "
    "tính; thẻ vừa cấp trong đêm mà CSDL chưa ghi nhận vẫn được nêu để cập nhật.",
    may_change=lambda settings, before, night: (
        (surely_aged(pl.lit(night)) >= settings.card_age)
        & (surely_aged(pl.lit(before)) < settings.card_age).fill_null(False)
    ),
    groups=(EXTRACTS,),
    columns=(
        "card_number",
        "death_date",
        "death_date_value",
        "death_date_precision",
        "birth_date_value",
        "birth_date_precision",
    ),
)
def adult_without_card(context: CheckContext) -> pl.DataFrame:
    """A living base person surely aged 14+ with no card number. A card issued tonight (card extract linked to the
    person) is named in the finding: the base still has to show it."""
    minimum = context.settings.card_age
    candidates = context.base_records.lazy().filter(
        alive() & ~present("card_number") & (surely_aged(night(context)) >= minimum)
    )
    bad = candidates.join(cards_issued_tonight(context).lazy(), on="record_id", how="left")
    return hits(
        bad,
        pl.format(
            "Sinh {}, đã đủ {} tuổi nhưng CSDL dân cư chưa có số thẻ căn cước", fmt_date("birth_date"), pl.lit(minimum)
        )
        + pl.when(pl.col("cards").list.len() > 0)
        .then(pl.lit(" (thẻ vừa cấp theo hồ sơ ") + pl.col("cards").list.join(", ") + pl.lit(" chưa được cập nhật)."))
        .otherwise(pl.lit(".")),
        related=pl.col("cards"),
    )


@rule(
    "birth_without_person_record",
    quality="đủ",
    severity="error",
    title="Khai sinh chưa có bản ghi công dân",
    description="Mỗi trẻ đã đăng ký khai sinh phải có bản ghi trong CSDL dân cư (hoặc được đăng ký thường trú trong "
    "cùng đợt dữ liệu).",
    groups=(EXTRACTS, CLUSTER),
    columns=(
        "event_type",
        "registration_date_value",
        "registration_date_precision",
        "full_name",
        "name_key",
        "birth_date_value",
        "birth_date_precision",
    ),
)
def birth_without_person_record(context: CheckContext) -> pl.DataFrame:
    """A registered birth (hộ tịch, Khai sinh) that links to no base record and to no residence registration tonight,
    registered at least ``reflection_grace_days`` before the night."""
    grace = context.settings.reflection_grace_days
    births = context.extract_records.filter(
        (pl.col("source") == "civil_status")
        & (pl.col("event_type") == BIRTH_EVENT)
        & (pl.col("registration_date_value").fill_null(night(context)) <= night(context) - pl.duration(days=grace))
    )
    births = births.join(context.links.select(pl.col("extract_id").alias("record_id")), on="record_id", how="anti")
    # A newborn's residence registration in the same night is another extract record, which the match stage does
    # not link to the base: tie them by cluster, by personal ID, or by name and full birth date.
    residence = context.extract_records.filter(pl.col("source") == "residence")
    registered = pl.concat(
        [
            births.join(residence.select("cluster_id").drop_nulls(), on="cluster_id", how="semi"),
            births.filter(pl.col("person_id_valid").fill_null(False)).join(
                residence.select("person_id_norm").drop_nulls(), on="person_id_norm", how="semi"
            ),
            births.filter(pl.col("birth_date_precision") == "day").join(
                residence.select("name_key", "birth_date_value").drop_nulls(),
                on=["name_key", "birth_date_value"],
                how="semi",
            ),
        ],
        how="diagonal_relaxed",
    ).select("record_id")
    bad = births.join(registered, on="record_id", how="anti")
    return hits(
        bad,
        pl.format(
            "Khai sinh số {} ngày {} cho {} (sinh {}) chưa có bản ghi trong CSDL dân cư.",
            pl.col("record_id"),
            fmt_date("registration_date"),
            pl.col("full_name"),
            fmt_date("birth_date"),
        ),
    )


@rule(
    "card_without_person_record",
    quality="đúng",
    severity="error",
    title="Hồ sơ cấp thẻ không khớp công dân nào trong CSDL",
    description="Thẻ căn cước chỉ cấp cho công dân đã có trong CSDL dân cư: một hồ sơ cấp thẻ không ghép được với "
    "bản ghi nào mang số định danh hoặc thông tin nhân thân sai, hoặc CSDL thiếu công dân đó.",
    groups=(EXTRACTS, CLUSTER),
    columns=("person_id", "full_name", "birth_date_value", "birth_date_precision"),
)
def card_without_person_record(context: CheckContext) -> pl.DataFrame:
    """A card-issuance record that links to no base record, unless another extract record of its cluster (a birth,
    a first residence registration tonight) brings the person into the base: the card must belong to a citizen the
    base holds, so its ID or identity is wrong, or the base lacks the citizen."""
    cards = context.extract_records.filter(pl.col("source") == "card")
    cards = cards.join(context.links.select(pl.col("extract_id").alias("record_id")), on="record_id", how="anti")
    newcomers = context.extract_records.filter(pl.col("source") != "card").select("cluster_id").drop_nulls()
    bad = cards.join(newcomers, on="cluster_id", how="anti")
    return hits(
        bad,
        pl.format(
            "Hồ sơ cấp thẻ {} (số định danh {}) cho {} (sinh {}) không khớp bản ghi nào trong CSDL dân cư.",
            pl.col("record_id"),
            pl.col("person_id").fill_null("—"),
            pl.col("full_name").fill_null("(không rõ tên)"),
            fmt_date("birth_date"),
        ),
    )


@rule(
    "household_without_head",
    quality="đủ",
    severity="error",
    title="Hộ gia đình không có chủ hộ",
    description='Mỗi hộ (số hộ) trong CSDL dân cư phải có đúng một thành viên còn sống có quan hệ "Chủ hộ".',
    groups=(HOUSEHOLD,),
    columns=("relation_to_head", "death_date", "death_date_value", "death_date_precision", "birth_date_value"),
)
def household_without_head(context: CheckContext) -> pl.DataFrame:
    """A household id whose living members include nobody recorded as head; reported on its first member."""
    members = context.base_records.lazy().filter(present("household_id") & alive())
    is_head = pl.col("relation_to_head").fill_null("").str.strip_chars().str.to_lowercase() == HEAD_OF_HOUSEHOLD
    households = (
        members.sort("record_id")
        .group_by("household_id", maintain_order=True)
        .agg(
            pl.col("record_id").first().alias("record_id"),
            pl.col("source").first(),
            pl.col("ward_code").drop_nulls().first(),
            pl.col("record_id").slice(1).alias("related"),
            is_head.any().alias("_has_head"),
            pl.len().alias("_size"),
        )
        .filter(~pl.col("_has_head"))
    )
    return hits(
        households,
        pl.format("Hộ số {} có {} thành viên nhưng không ai là chủ hộ.", pl.col("household_id"), pl.col("_size")),
        related=pl.col("related"),
    )
