"""Sạch (clean): one person = one record = one ID; one ID = one person; one normalized form of each text."""

from __future__ import annotations

import polars as pl
from rapidfuzz import fuzz, process

from checks.context import CheckContext
from checks.groups import CLUSTER, PERSON_ID
from checks.registry import rule
from checks.rules._common import hits, present

_LEGACY_LABELS = {"full_name": "họ tên", "permanent_address": "nơi thường trú", "current_address": "nơi ở hiện tại"}


@rule(
    "duplicate_person",
    quality="sạch",
    severity="error",
    title="Một người có nhiều bản ghi trong CSDL dân cư",
    description="Khâu ghép nối xác định hai hay nhiều bản ghi của CSDL dân cư là cùng một công dân; cần hợp nhất "
    "về một bản ghi.",
    groups=(CLUSTER,),
)
def duplicate_person(context: CheckContext) -> pl.DataFrame:
    """Base records the match stage put into one person cluster (or, without clusters, matched dedupe pairs).

    Each record but the first of a cluster is reported, with the others as related records.
    """
    base = context.base_records
    if context.clusters is not None:
        # Only clusters of two or more records, their ids sorted once before grouping (a group keeps the order of
        # its rows): a sort inside each of a million groups of one took 5x as long.
        groups = (
            base.select("cluster_id", "record_id")
            .filter(pl.col("cluster_id").is_not_null() & (pl.len().over("cluster_id") > 1))
            .sort("record_id")
            .group_by("cluster_id")
            .agg(pl.col("record_id").alias("members"))
        )
        pairs = groups.with_columns(pl.col("members").alias("record_id")).explode("record_id")
        pairs = pairs.filter(pl.col("record_id") != pl.col("members").list.first()).select(
            "record_id", pl.col("members").alias("group")
        )
    elif context.pairs is not None and context.pairs.height:
        matched = context.pairs.filter((pl.col("decision") == "match") & (pl.col("kind") == "dedupe"))
        pairs = matched.select(
            pl.max_horizontal("left_id", "right_id").alias("record_id"),
            pl.concat_list(pl.min_horizontal("left_id", "right_id"), pl.max_horizontal("left_id", "right_id")).alias(
                "group"
            ),
        )
    else:
        return hits(base.head(0), pl.lit(""))
    flagged = pairs.join(base.select("record_id", "source", "ward_code"), on="record_id").with_columns(
        related=pl.col("group").list.set_difference(pl.concat_list(pl.col("record_id")))
    )
    return hits(
        flagged,
        pl.lit("Trùng với bản ghi ") + pl.col("related").list.join(", ") + pl.lit(" (cùng một công dân)."),
        related=pl.col("related"),
    )


_PROFILE = (
    "person_id_norm",
    "sex_norm",
    "birth_year",
    "name_key_no_middle",
    "given_key",
    "full_name",
    "birth_date_value",
    "birth_date_precision",
    "birth_date_swapped",
)
"""What :func:`shared_person_id` compares (and shows: ``full_name``) about a record."""


@rule(
    "shared_person_id",
    quality="sạch",
    severity="error",
    title="Một số định danh dùng cho nhiều người",
    description="Hai bản ghi mang cùng số định danh nhưng khác giới tính, ngày sinh hoặc có họ tên khác hẳn nhau, "
    "tức là hai người khác nhau (thường là anh chị em, sinh đôi); một trong hai số định danh sai.",
    groups=(PERSON_ID,),
    columns=_PROFILE,
)
def shared_person_id(context: CheckContext) -> pl.DataFrame:
    """Pairs of base records with one valid ID but evidently different people (sex, birth year, a full birth date
    that is not a day/month swap, or a dissimilar name), and pairs of any two records with one ID that the match
    stage vetoed as two people (an extract row carrying a brother's ID); both records are reported, each naming
    the other."""
    flagged = _shared_in_base(context)
    vetoed = _vetoed_one_id(context)
    if vetoed.height:
        keep = ["record_id", "source", "ward_code", "person_id_norm", "record_id_other", "full_name_other"]
        in_base = flagged.explode("related", "names").rename({"related": "record_id_other", "names": "full_name_other"})
        flagged = (
            pl.concat([in_base.select(keep), vetoed.select(keep)])
            .unique(subset=["record_id", "record_id_other"], keep="first", maintain_order=True)
            .group_by("record_id", "source", "ward_code", "person_id_norm", maintain_order=True)
            .agg(pl.col("record_id_other").alias("related"), pl.col("full_name_other").alias("names"))
        )
    return hits(
        flagged,
        pl.format("Số định danh {} cũng được ghi cho ", pl.col("person_id_norm"))
        + pl.col("names").list.join(", ")
        + pl.lit(" (bản ghi ")
        + pl.col("related").list.join(", ")
        + pl.lit(")."),
        related=pl.col("related"),
    )


_FLAGGED_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "source": pl.String(),
    "ward_code": pl.String(),
    "person_id_norm": pl.String(),
    "related": pl.List(pl.String),
    "names": pl.List(pl.String),
}


def _shared_in_base(context: CheckContext) -> pl.DataFrame:
    """Base records sharing one valid ID with evidently different people: record_id, source, ward_code,
    person_id_norm, related (their record ids), names (their full names).

    Records are compared once per distinct *profile* (the fields the comparison reads), never record by record: a
    base that repeats the same few people thousands of times (200,000 rows of 14 people) would otherwise make
    billions of pairs. Each record then names the records of every profile that differs from its own.
    """
    holders = (
        context.base_records.lazy()
        .filter(pl.col("person_id_valid").fill_null(False))
        .select("record_id", "source", "ward_code", *_PROFILE)
        .collect(engine="in-memory")
    )
    shared = holders.filter(pl.col("person_id_norm").is_duplicated()).with_row_index("_order")
    if shared.height == 0:
        return pl.DataFrame(schema=_FLAGGED_SCHEMA)
    profiles = (
        shared.group_by(_PROFILE, maintain_order=True)
        .agg(pl.col("_order").alias("_members"), pl.col("record_id").alias("_ids"))
        .with_row_index("_profile")
    )
    pairs = profiles.join(profiles, on="person_id_norm", suffix="_other")
    similarity = process.cpdist(
        pairs["name_key_no_middle"].fill_null("").to_list(),
        pairs["name_key_no_middle_other"].fill_null("").to_list(),
        scorer=fuzz.ratio,
        workers=1,
    )
    given_similarity = process.cpdist(
        pairs["given_key"].fill_null("").to_list(),
        pairs["given_key_other"].fill_null("").to_list(),
        scorer=fuzz.ratio,
        workers=1,
    )
    floor = context.settings.name_similarity_floor
    pairs = pairs.with_columns(
        pl.Series("_similarity", similarity, dtype=pl.Float64),
        pl.Series("_given_similarity", given_similarity, dtype=pl.Float64),
    )
    # A duplicate of one person varies its name spelling, drops a middle name or swaps day and month; it does not
    # change sex, birth year or a full birth date.
    both_full = (pl.col("birth_date_precision") == "day") & (pl.col("birth_date_precision_other") == "day")
    swapped = pl.col("birth_date_swapped") == pl.col("birth_date_value_other").dt.strftime("%Y-%m-%d")
    different = (
        (pl.col("sex_norm") != pl.col("sex_norm_other")).fill_null(False)
        | (pl.col("birth_year") != pl.col("birth_year_other")).fill_null(False)
        | (both_full & (pl.col("birth_date_value") != pl.col("birth_date_value_other")) & ~swapped.fill_null(False))
        | (pl.col("_similarity") < floor)
        | (pl.col("_given_similarity") < floor)
    )
    # profile -> the records of every profile it differs from (a profile can differ from itself only through an
    # empty name, and then its records name each other, as a record-by-record comparison would).
    other_records = (
        pairs.filter(different)
        .select("_profile", pl.col("_members_other").alias("_order"))
        .explode("_order")
        .join(shared.select("_order", "record_id", "full_name"), on="_order")
        .sort("_order")
        .rename({"record_id": "_other_id", "full_name": "_other_name", "_order": "_other_order"})
    )
    members = profiles.select("_profile", pl.col("_members").alias("_order")).explode("_order")
    flagged = (
        members.join(other_records, on="_profile")
        .filter(pl.col("_order") != pl.col("_other_order"))
        .sort("_order", "_other_order")
        .group_by("_order", maintain_order=True)
        .agg(pl.col("_other_id").alias("related"), pl.col("_other_name").alias("names"))
        .join(shared.select("_order", "record_id", "source", "ward_code", "person_id_norm"), on="_order")
        .sort("_order")
    )
    return flagged.select(list(_FLAGGED_SCHEMA))


def _vetoed_one_id(context: CheckContext) -> pl.DataFrame:
    """Both orientations of the pairs the matcher vetoed as two people although they carry one personal ID."""
    columns = ["record_id", "source", "ward_code", "person_id_norm", "record_id_other", "full_name_other"]
    pairs = context.pairs
    if pairs is None or "level_veto" not in pairs.columns or "level_person_id" not in pairs.columns:
        return pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    vetoed = pairs.filter(
        pl.col("level_veto").is_not_null()
        & ~pl.col("level_veto").is_in(["none", "twins_or_typo"])
        & (pl.col("level_person_id") == "exact")
        & (pl.col("decision") != "match")
    ).select("left_id", "right_id")
    both = pl.concat([vetoed, vetoed.select(pl.col("right_id").alias("left_id"), pl.col("left_id").alias("right_id"))])
    records = context.records.select("record_id", "source", "ward_code", "person_id_norm", "full_name")
    return (
        both.join(records, left_on="left_id", right_on="record_id")
        .join(
            records.select(pl.col("record_id").alias("record_id_other"), pl.col("full_name").alias("full_name_other")),
            left_on="right_id",
            right_on="record_id_other",
        )
        .select(
            pl.col("left_id").alias("record_id"),
            "source",
            "ward_code",
            "person_id_norm",
            pl.col("right_id").alias("record_id_other"),
            "full_name_other",
        )
        .filter(pl.col("person_id_norm").is_not_null())
    )


@rule(
    "legacy_encoded_text",
    quality="sạch",
    severity="error",
    title="Văn bản gõ bằng bảng mã cũ (TCVN3/VNI) hoặc bị đọc sai bảng mã",
    description="Dữ liệu nguồn còn chữ gõ bằng phông TCVN3 (ABC) hoặc VNI, hoặc chữ Unicode từng bị mở sai bảng mã "
    'rồi lưu lại ("Nguyá»…n" thay cho "Nguyễn"), hiển thị sai trên mọi hệ thống khác; cần sửa tại nguồn sang Unicode.',
)
def legacy_encoded_text(context: CheckContext) -> pl.DataFrame:
    """Records whose columns had to be converted from a legacy font encoding (or from UTF-8 read as Windows-1252)."""
    records = context.records
    if "legacy_encoded_columns" not in records.columns:
        return hits(records.head(0), pl.lit(""))
    flagged = records.lazy().filter(pl.col("legacy_encoded_columns").list.len() > 0)
    labels = pl.col("legacy_encoded_columns").list.eval(pl.element().replace(_LEGACY_LABELS))
    detail = pl.lit("Sai bảng mã (phông cũ hoặc mở sai bảng mã) ở: ") + labels.list.join(", ") + pl.lit(".")
    return hits(flagged, detail)


@rule(
    "name_not_normalized",
    quality="sạch",
    severity="warning",
    title="Họ tên chưa đúng dạng chuẩn",
    description="Họ tên phải viết bằng Unicode dựng sẵn, có dấu, viết hoa chữ cái đầu, một kiểu bỏ dấu thanh "
    '(ví dụ "Hòa" chứ không "HOÀ", "Nguyen Van An" hay "Ðức").',
)
def name_not_normalized(context: CheckContext) -> pl.DataFrame:
    """A full name (not legacy-encoded: that has its own rule) whose text is not its normalized display form, or that
    has no diacritics at all (Vietnamese names virtually always carry some)."""
    records = context.records.lazy().filter(present("full_name"))
    if "legacy_encoded_columns" in context.records.columns:
        records = records.filter(~pl.col("legacy_encoded_columns").fill_null([]).list.contains("full_name"))
    no_diacritics = ~pl.col("full_name_norm").str.contains(r"[^\x00-\x7F]")
    differs = pl.col("full_name") != pl.col("full_name_norm")
    flagged = records.filter(differs | no_diacritics)
    detail = (
        pl.when(no_diacritics)
        .then(pl.format('Họ tên "{}" viết không dấu.', pl.col("full_name")))
        .otherwise(pl.format('Họ tên "{}" cần ghi là "{}".', pl.col("full_name"), pl.col("full_name_norm")))
    )
    return hits(flagged, detail)


@rule(
    "address_legacy_form",
    quality="sạch",
    severity="warning",
    title="Nơi thường trú còn ghi theo đơn vị hành chính cũ",
    description="Từ 01/07/2025 không còn cấp huyện và nhiều xã/phường đã sáp nhập; nơi thường trú trong CSDL dân cư "
    "cần ghi theo xã/phường/đặc khu và tỉnh/thành phố hiện hành.",
)
def address_legacy_form(context: CheckContext) -> pl.DataFrame:
    """A base permanent address written with pre-2025 units (resolved or not)."""
    flagged = context.base_records.lazy().filter(pl.col("permanent_address_legacy_ward_code").is_not_null())
    return hits(
        flagged,
        pl.format('Nơi thường trú "{}" ghi theo đơn vị hành chính trước 01/07/2025.', pl.col("permanent_address")),
    )
