"""Đúng (correct): the record agrees with reality and with itself.

Personal ID structure vs birth year and sex; possible dates (birth ≤ card issue ≤ night, death ≥ birth); addresses
that resolve to a current unit; ethnicity among the 54 official groups; the same person's fields agreeing across
sources.
"""

from __future__ import annotations

import polars as pl

from checks.context import CheckContext
from checks.groups import EXTRACTS
from checks.registry import rule
from checks.rules._common import fmt_date, hits, night, period_end, present, text
from records.ethnicities import canonical_ethnicity

_ID_ISSUES = {
    "length": "không đủ 12 chữ số",
    "digits": "có ký tự không phải chữ số",
    "province": "mã tỉnh nơi đăng ký khai sinh (3 số đầu) không tồn tại",
    "century_sex": "chữ số thế kỷ/giới tính (số thứ 4) không hợp lệ",
}


@rule(
    "id_structure_invalid",
    quality="đúng",
    severity="error",
    title="Số định danh sai cấu trúc",
    description="Số định danh cá nhân phải gồm 12 chữ số: 3 số mã tỉnh nơi đăng ký khai sinh, 1 số thế kỷ và giới "
    "tính, 2 số cuối năm sinh và 6 số ngẫu nhiên.",
)
def id_structure_invalid(context: CheckContext) -> pl.DataFrame:
    """A personal ID that is present but breaks the Circular 07/2016 structure."""
    bad = context.records.filter(present("person_id") & ~pl.col("person_id_valid").fill_null(False))
    reason = pl.col("person_id_issue").replace_strict(_ID_ISSUES, default="không hợp lệ", return_dtype=pl.String)
    return hits(bad, pl.format("Số định danh {} {}.", pl.col("person_id"), reason))


@rule(
    "id_birth_year_mismatch",
    quality="đúng",
    severity="error",
    title="Số định danh không khớp năm sinh",
    description="Chữ số thế kỷ và hai số năm sinh trong số định danh phải trùng với năm sinh ghi trên bản ghi.",
)
def id_birth_year_mismatch(context: CheckContext) -> pl.DataFrame:
    """The birth year encoded in the ID (century digit + 2 digits) differs from the record's birth year."""
    bad = context.records.filter(pl.col("person_id_contradiction").fill_null("").str.contains("birth_year"))
    return hits(
        bad,
        pl.format(
            "Số định danh {} mã hóa năm sinh {} nhưng bản ghi ghi năm sinh {}.",
            pl.col("person_id_norm"),
            pl.col("person_id_birth_year"),
            pl.col("birth_year"),
        ),
    )


@rule(
    "id_sex_mismatch",
    quality="đúng",
    severity="error",
    title="Số định danh không khớp giới tính",
    description="Chữ số thứ tư của số định danh mã hóa giới tính (chẵn: Nam, lẻ: Nữ); phải trùng với giới tính trên "
    "bản ghi.",
)
def id_sex_mismatch(context: CheckContext) -> pl.DataFrame:
    """The sex encoded by the ID's century/sex digit differs from the record's sex."""
    bad = context.records.filter(pl.col("person_id_contradiction").fill_null("").str.contains("sex"))
    return hits(
        bad,
        pl.format(
            "Số định danh {} mã hóa giới tính {} nhưng bản ghi ghi {}.",
            pl.col("person_id_norm"),
            pl.col("person_id_sex"),
            text("sex_norm"),
        ),
    )


@rule(
    "birth_in_future",
    quality="đúng",
    severity="error",
    title="Ngày sinh sau ngày hiện tại",
    description="Ngày sinh không thể muộn hơn ngày xử lý dữ liệu.",
    may_change=lambda settings, before, night: pl.col("birth_date_value") > before,
)
def birth_in_future(context: CheckContext) -> pl.DataFrame:
    """Birth date after the night (for a partial date: its first possible day is already after it)."""
    bad = context.records.filter(pl.col("birth_date_value") > night(context))
    return hits(
        bad,
        pl.format(
            "Ngày sinh {} muộn hơn ngày xử lý {}.", fmt_date("birth_date"), night(context).dt.strftime("%d/%m/%Y")
        ),
    )


@rule(
    "death_before_birth",
    quality="đúng",
    severity="error",
    title="Ngày chết trước ngày sinh",
    description="Ngày chết phải bằng hoặc sau ngày sinh.",
)
def death_before_birth(context: CheckContext) -> pl.DataFrame:
    """Even the latest day a (partial) death date can stand for is before the earliest possible birth day."""
    bad = context.records.filter(period_end("death_date") < pl.col("birth_date_value"))
    return hits(bad, pl.format("Ngày chết {} trước ngày sinh {}.", fmt_date("death_date"), fmt_date("birth_date")))


@rule(
    "death_in_future",
    quality="đúng",
    severity="error",
    title="Ngày chết sau ngày hiện tại",
    description="Ngày chết không thể muộn hơn ngày xử lý dữ liệu.",
    may_change=lambda settings, before, night: pl.col("death_date_value") > before,
)
def death_in_future(context: CheckContext) -> pl.DataFrame:
    """Death date after the night."""
    bad = context.records.filter(pl.col("death_date_value") > night(context))
    return hits(bad, pl.format("Ngày chết {} muộn hơn ngày xử lý.", fmt_date("death_date")))


@rule(
    "card_issued_before_birth",
    quality="đúng",
    severity="error",
    title="Thẻ căn cước cấp trước ngày sinh",
    description="Ngày cấp thẻ phải sau ngày sinh.",
)
def card_issued_before_birth(context: CheckContext) -> pl.DataFrame:
    """Card issue date before the birth date."""
    bad = context.records.filter(period_end("card_issue_date") < pl.col("birth_date_value"))
    return hits(
        bad, pl.format("Ngày cấp thẻ {} trước ngày sinh {}.", fmt_date("card_issue_date"), fmt_date("birth_date"))
    )


@rule(
    "card_issued_in_future",
    quality="đúng",
    severity="error",
    title="Ngày cấp thẻ sau ngày hiện tại",
    description="Ngày cấp thẻ không thể muộn hơn ngày xử lý dữ liệu.",
    may_change=lambda settings, before, night: pl.col("card_issue_date_value") > before,
)
def card_issued_in_future(context: CheckContext) -> pl.DataFrame:
    """Card issue date after the night."""
    bad = context.records.filter(pl.col("card_issue_date_value") > night(context))
    return hits(bad, pl.format("Ngày cấp thẻ {} muộn hơn ngày xử lý.", fmt_date("card_issue_date")))


@rule(
    "card_expiry_before_issue",
    quality="đúng",
    severity="error",
    title="Ngày hết hạn thẻ trước ngày cấp",
    description="Ngày hết hạn của thẻ căn cước phải sau ngày cấp.",
)
def card_expiry_before_issue(context: CheckContext) -> pl.DataFrame:
    """Card expiry date before its issue date."""
    bad = context.records.filter(period_end("card_expiry_date") < pl.col("card_issue_date_value"))
    return hits(
        bad, pl.format("Thẻ hết hạn {} trước ngày cấp {}.", fmt_date("card_expiry_date"), fmt_date("card_issue_date"))
    )


_ADDRESS_LABELS = {"permanent_address": "Nơi thường trú", "current_address": "Nơi ở hiện tại"}


def _address_status_hits(context: CheckContext, status: str, verb: str) -> pl.DataFrame:
    parts = []
    for column, label in _ADDRESS_LABELS.items():
        if f"{column}_status" not in context.records.columns:
            continue
        parts.append(
            pl.when(pl.col(f"{column}_status") == status).then(
                pl.format('{} "{}" {}', pl.lit(label), pl.col(column), pl.lit(verb))
            )
        )
    detail = pl.concat_list(parts).list.drop_nulls()
    flagged = context.records.with_columns(_details=detail).filter(pl.col("_details").list.len() > 0)
    return hits(flagged, pl.col("_details").list.join("; ") + pl.lit("."))


@rule(
    "address_unresolved",
    quality="đúng",
    severity="error",
    title="Địa chỉ không xác định được đơn vị hành chính",
    description="Nơi thường trú và nơi ở hiện tại phải xác định được một xã/phường/đặc khu hiện hành (sau 01/07/2025).",
)
def address_unresolved(context: CheckContext) -> pl.DataFrame:
    """An address that matches no current (or legacy) unit at all."""
    return _address_status_hits(context, "unresolved", "không khớp với xã/phường/đặc khu nào")


@rule(
    "address_ambiguous",
    quality="đúng",
    severity="warning",
    title="Địa chỉ thuộc xã/phường cũ đã bị chia tách",
    description="Xã/phường cũ đã được chia cho nhiều đơn vị mới; cần bổ sung thôn/tổ/đường phố để xác định đơn vị "
    "hiện hành, không được tự suy đoán.",
)
def address_ambiguous(context: CheckContext) -> pl.DataFrame:
    """An old-form address whose ward was split between several current wards."""
    return _address_status_hits(context, "ambiguous", "thuộc đơn vị cũ đã chia tách, chưa xác định được đơn vị mới")


@rule(
    "ethnicity_not_recognized",
    quality="đúng",
    severity="error",
    title="Dân tộc không thuộc 54 dân tộc",
    description="Dân tộc phải là một trong 54 dân tộc Việt Nam theo danh mục của Tổng cục Thống kê.",
)
def ethnicity_not_recognized(context: CheckContext) -> pl.DataFrame:
    """An ethnicity that is none of the 54 official groups (compared on a diacritic-free key, so spelling variants of a
    real group pass, and so do "Người Kinh" and a local subgroup such as "Thái đen")."""
    values = context.records.get_column("ethnicity").drop_nulls().unique().to_list()
    unknown = sorted(value for value in values if canonical_ethnicity(value) is None)
    keys = context.records.select("record_id", "source", "ward_code", "ethnicity")
    bad = keys.filter(present("ethnicity") & pl.col("ethnicity").is_in(unknown))
    return hits(bad, pl.format('Dân tộc "{}" không thuộc danh mục 54 dân tộc.', pl.col("ethnicity")))


@rule(
    "cross_source_mismatch",
    quality="đúng",
    severity="error",
    title="Thông tin một người không khớp giữa các nguồn",
    description="Bản ghi trong dữ liệu cư trú, hộ tịch hoặc cấp thẻ đã được ghép với một người trong cơ sở dữ liệu "
    "dân cư nhưng giới tính, ngày sinh đầy đủ hoặc số định danh khác nhau.",
    groups=(EXTRACTS,),
    columns=("sex_norm", "birth_date_value", "birth_date_precision", "person_id_norm", "person_id_valid"),
)
def cross_source_mismatch(context: CheckContext) -> pl.DataFrame:
    """A linked extract/base pair disagrees on sex, full birth date or valid personal ID."""
    columns = ["record_id", "sex_norm", "birth_date_value", "birth_date_precision", "person_id_norm", "person_id_valid"]
    extract = context.extract_records.select([*columns, "source", "ward_code"])
    base = context.base_records.select(
        pl.col("record_id").alias("base_id"), *(pl.col(c).alias(f"{c}_base") for c in [*columns[1:], "ward_code"])
    )
    joined = context.links.join(extract, left_on="extract_id", right_on="record_id").join(base, on="base_id")
    both_full_dates = (pl.col("birth_date_precision") == "day") & (pl.col("birth_date_precision_base") == "day")
    problems = pl.concat_list(
        pl.when(pl.col("sex_norm") != pl.col("sex_norm_base")).then(
            pl.format("giới tính {} / {}", pl.col("sex_norm"), pl.col("sex_norm_base"))
        ),
        pl.when(both_full_dates & (pl.col("birth_date_value") != pl.col("birth_date_value_base"))).then(
            pl.format(
                "ngày sinh {} / {}",
                pl.col("birth_date_value").dt.strftime("%d/%m/%Y"),
                pl.col("birth_date_value_base").dt.strftime("%d/%m/%Y"),
            )
        ),
        pl.when(
            pl.col("person_id_valid").fill_null(False)
            & pl.col("person_id_valid_base").fill_null(False)
            & (pl.col("person_id_norm") != pl.col("person_id_norm_base"))
        ).then(pl.format("số định danh {} / {}", pl.col("person_id_norm"), pl.col("person_id_norm_base"))),
    ).list.drop_nulls()
    flagged = joined.with_columns(_problems=problems).filter(pl.col("_problems").list.len() > 0)
    flagged = flagged.select(
        pl.col("extract_id").alias("record_id"),
        "source",
        pl.coalesce("ward_code_base", "ward_code").alias("ward_code"),
        "base_id",
        "_problems",
    )
    return hits(
        flagged,
        pl.format("Khác với bản ghi {} trong CSDL dân cư: ", pl.col("base_id"))
        + pl.col("_problems").list.join("; ")
        + ".",
        related=pl.concat_list(pl.col("base_id")),
    )
