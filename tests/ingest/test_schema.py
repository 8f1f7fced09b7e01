"""The canonical record: documented in the README, enforced in code."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from records.schema import (
    CANONICAL_COLUMNS,
    CANONICAL_SCHEMA,
    MINIMAL_COLUMNS,
    SchemaError,
    conform,
    validate_canonical,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_documents_every_canonical_column() -> None:
    text = README.read_text(encoding="utf-8")
    for column in CANONICAL_COLUMNS:
        assert f"| `{column.name}`" in text, column.name
        assert column.vietnamese in text and column.english in text, column.name


def test_conform_accepts_the_required_columns() -> None:
    frame = pl.DataFrame({name: ["1"] for name in MINIMAL_COLUMNS})
    conformed = conform(frame, source="base")
    assert conformed.schema == CANONICAL_SCHEMA
    assert conformed["source"][0] == "base" and conformed["mother_name"][0] is None


def test_conform_refuses_missing_and_unknown_columns() -> None:
    with pytest.raises(SchemaError, match="full_name"):
        conform(pl.DataFrame({name: ["1"] for name in MINIMAL_COLUMNS if name != "full_name"}))
    with pytest.raises(SchemaError, match="shoe_size"):
        conform(pl.DataFrame({**{name: ["1"] for name in MINIMAL_COLUMNS}, "shoe_size": ["42"]}))


def test_validate_names_the_offending_row_and_field() -> None:
    frame = conform(
        pl.DataFrame(
            {
                **{name: ["x", "y"] for name in MINIMAL_COLUMNS},
                "record_id": ["a", "b"],
                "person_id": ["001090012345", "12345"],
                "birth_date": ["1990-01-02", "1990"],
                "sex": ["Nam", "Nữ"],
            }
        ),
        source="base",
    )
    with pytest.raises(SchemaError, match=r"#1 \(record_id=b\): person_id"):
        validate_canonical(frame)
    validate_canonical(frame.with_columns(pl.lit("001090012345").alias("person_id")))
