"""The canonical person record: the one shape every source is brought into before anything else happens.

Every column is text (``pl.String``): extracts carry dates as partial text (``1950``, ``1950-03``), IDs with leading
zeros, and codes that must never become numbers. Parsing into typed values is the normalizer's job, which keeps
the original beside the parsed value.

Which columns a file must have is decided here, once, for every source and the base: ``REQUIRED_COLUMNS``, the
few without which a record cannot be matched at all (its id within the source, and the name every comparison
starts from). Every other canonical column may be absent: it is added as nulls, and ingest names it in the file's
warnings. Whether a present record *fills* the fields its source should (a residence registration without a
permanent address) is a completeness finding of the checks (``records/mappings/*.toml`` ``expected``), never a
reason to refuse a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import polars as pl

__all__ = [
    "CANONICAL_COLUMNS",
    "CANONICAL_SCHEMA",
    "LINEAGE_COLUMNS",
    "MINIMAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "SEX_VALUES",
    "SOURCES",
    "CanonicalColumn",
    "SchemaError",
    "conform",
    "missing_optional",
    "validate_canonical",
]


@dataclass(frozen=True, slots=True)
class CanonicalColumn:
    name: str
    vietnamese: str
    english: str
    pattern: str | None = None


SOURCES: Final = ("base", "residence", "civil_status", "card")
"""base = the population base snapshot; residence = cư trú; civil_status = hộ tịch; card = cấp thẻ căn cước."""

SEX_VALUES: Final = ("Nam", "Nữ")

_DATE_TEXT = r"^\d{4}(-\d{2}(-\d{2})?)?$"

CANONICAL_COLUMNS: Final[tuple[CanonicalColumn, ...]] = (
    CanonicalColumn("record_id", "Mã bản ghi (duy nhất trong nguồn)", "Record id, unique within its source"),
    CanonicalColumn(
        "person_id", "Số định danh cá nhân (12 số), có thể trống", "12-digit personal ID, nullable", r"^\d{12}$"
    ),
    CanonicalColumn("full_name", "Họ và tên", "Full name, family name first"),
    CanonicalColumn(
        "birth_date", "Ngày sinh: YYYY-MM-DD, YYYY-MM hoặc YYYY", "Birth date, full or partial", _DATE_TEXT
    ),
    CanonicalColumn("sex", "Giới tính: Nam / Nữ", "Sex: Nam (male) / Nữ (female)"),
    CanonicalColumn("permanent_address", "Nơi thường trú", "Permanent residence address"),
    CanonicalColumn("current_address", "Nơi ở hiện tại / tạm trú", "Current (temporary) residence address"),
    CanonicalColumn("hometown", "Quê quán", "Hometown (ancestral origin)"),
    CanonicalColumn("father_name", "Họ tên cha", "Father's full name"),
    CanonicalColumn("mother_name", "Họ tên mẹ", "Mother's full name"),
    CanonicalColumn("spouse_name", "Họ tên vợ/chồng", "Spouse's full name"),
    CanonicalColumn("ethnicity", "Dân tộc", "Ethnic group (one of 54)"),
    CanonicalColumn("old_id_number", "Số CMND cũ (9 hoặc 12 số)", "Old ID card (CMND) number", r"^(\d{9}|\d{12})$"),
    CanonicalColumn("source", "Nguồn: base / residence / civil_status / card", "Source of the record"),
    CanonicalColumn(
        "event_type", "Loại sự kiện (đăng ký thường trú, khai sinh, khai tử, cấp mới…)", "Event type of the extract row"
    ),
    CanonicalColumn("birth_place", "Nơi sinh", "Place of birth"),
    CanonicalColumn("death_date", "Ngày chết", "Date of death", _DATE_TEXT),
    CanonicalColumn("death_place", "Nơi chết", "Place of death"),
    CanonicalColumn("card_number", "Số thẻ căn cước (= số định danh)", "ID card number (= personal ID)", r"^\d{12}$"),
    CanonicalColumn("card_issue_date", "Ngày cấp thẻ", "Card issue date", _DATE_TEXT),
    CanonicalColumn("card_expiry_date", "Ngày hết hạn thẻ", "Card expiry date", _DATE_TEXT),
    CanonicalColumn("card_issue_place", "Nơi cấp thẻ", "Card issuing authority"),
    CanonicalColumn("registration_place", "Nơi đăng ký", "Registration place (authority or ward)"),
    CanonicalColumn("registration_date", "Ngày đăng ký", "Registration date", _DATE_TEXT),
    CanonicalColumn("residence_type", "Loại cư trú: thường trú / tạm trú", "Residence type: permanent / temporary"),
    CanonicalColumn("household_id", "Số hộ / mã hộ gia đình", "Household id"),
    CanonicalColumn("relation_to_head", "Quan hệ với chủ hộ", "Relation to the head of household"),
    CanonicalColumn("last_verified_date", "Ngày xác minh gần nhất", "Date the record was last verified", _DATE_TEXT),
    CanonicalColumn("source_file", "Tệp nguồn", "File the row came from"),
    CanonicalColumn(
        "source_row", "Dòng trong tệp nguồn (tính cả dòng tiêu đề)", "Row number in the source file, header = 1"
    ),
)

REQUIRED_COLUMNS: Final = ("record_id", "full_name")
"""The columns every person file must have. A row without a record id, or with neither a name nor any identifier
(person_id, card_number, old_id_number), is quarantined: it cannot be matched."""
MINIMAL_COLUMNS: Final = REQUIRED_COLUMNS
"""The smallest file accepted wherever a person file is (the same as ``REQUIRED_COLUMNS``)."""
LINEAGE_COLUMNS: Final = ("source_file", "source_row")
CANONICAL_SCHEMA: Final = pl.Schema({c.name: pl.String for c in CANONICAL_COLUMNS})
_PATTERNS: Final = {c.name: re.compile(c.pattern) for c in CANONICAL_COLUMNS if c.pattern}


class SchemaError(ValueError):
    """A frame does not follow the canonical person record."""


def missing_optional(columns: list[str] | tuple[str, ...]) -> list[str]:
    """The canonical data columns a file does not have (they will be null); lineage and ``source`` are not data."""
    present = set(columns)
    return [
        name
        for name in CANONICAL_SCHEMA
        if name not in present and name not in REQUIRED_COLUMNS and name not in (*LINEAGE_COLUMNS, "source")
    ]


def conform(frame: pl.DataFrame, *, source: str | None = None) -> pl.DataFrame:
    """Return ``frame`` with exactly the canonical columns, in order, as text.

    Missing optional columns are added as nulls; a missing required column or an unknown column is an error
    (an unknown column is usually a mapping mistake, and silently dropping data is not allowed).
    """
    missing = [name for name in MINIMAL_COLUMNS if name not in frame.columns]
    if missing:
        raise SchemaError(f"thiếu cột bắt buộc / missing required columns: {', '.join(missing)}")
    unknown = [name for name in frame.columns if name not in CANONICAL_SCHEMA]
    if unknown:
        raise SchemaError(f"cột không thuộc lược đồ / columns not in the canonical schema: {', '.join(unknown)}")
    columns = []
    for name in CANONICAL_SCHEMA:
        if name in frame.columns:
            columns.append(pl.col(name).cast(pl.String))
        elif name == "source" and source is not None:
            columns.append(pl.lit(source, dtype=pl.String).alias(name))
        else:
            columns.append(pl.lit(None, dtype=pl.String).alias(name))
    return frame.select(columns)


def validate_canonical(frame: pl.DataFrame) -> None:
    """Raise ``SchemaError`` naming the first offending row and field when a frame breaks the contract."""
    if list(frame.schema.items()) != list(CANONICAL_SCHEMA.items()):
        raise SchemaError("các cột không đúng lược đồ chuẩn / columns do not match the canonical schema")
    problems: list[pl.Expr] = [
        pl.when(pl.col("record_id").is_null()).then(pl.lit("record_id: trống / empty")),
        pl.when(pl.col("source").is_null() | ~pl.col("source").is_in(SOURCES)).then(
            pl.lit("source: không hợp lệ / invalid")
        ),
        pl.when(pl.col("sex").is_not_null() & ~pl.col("sex").is_in(SEX_VALUES)).then(
            pl.lit("sex: phải là Nam hoặc Nữ / must be Nam or Nữ")
        ),
    ]
    for name, pattern in _PATTERNS.items():
        problems.append(
            pl.when(pl.col(name).is_not_null() & ~pl.col(name).str.contains(pattern.pattern)).then(
                pl.lit(f"{name}: sai định dạng / malformed")
            )
        )
    checked = frame.with_row_index("_row").select("_row", "record_id", pl.coalesce(problems).alias("_problem"))
    bad = checked.filter(pl.col("_problem").is_not_null())
    if bad.height:
        first = bad.row(0, named=True)
        raise SchemaError(
            f"{bad.height} dòng sai lược đồ; dòng đầu tiên #{first['_row']} (record_id={first['record_id']}): "
            f"{first['_problem']}"
        )
    duplicated = frame.filter(pl.struct("source", "record_id").is_duplicated())
    if duplicated.height:
        row = duplicated.row(0, named=True)
        raise SchemaError(f"record_id trùng trong nguồn {row['source']}: {row['record_id']}")
