"""The README documents the columns of register.parquet and changes.parquet, and docs/register.md every rule."""

from __future__ import annotations

import re
from pathlib import Path

from checks import rules_table
from normalize.columns import ADDRESS_COLUMNS
from register.golden import register_columns
from register.rules import survivorship_rules
from register.types import ADDRESS_CODE_SUFFIXES, CHANGES_SCHEMA

ROOT = Path(__file__).resolve().parents[2]


def test_readme_documents_every_column_of_both_files() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    patterns = {f"{a}_{s}": f"`<address>_{s}`" for a in ADDRESS_COLUMNS for s in ADDRESS_CODE_SUFFIXES}
    for column in register_columns():
        documented = "`<field>_source`" if column.endswith("_source") else patterns.get(column, f"`{column}`")
        assert documented in text, column
    for column in CHANGES_SCHEMA:
        assert f"`{column}`" in text, column
    for rule in survivorship_rules().change_rules:
        assert f"`{rule}`" in text, rule
    assert "Delta Lake or Iceberg" in text


def test_rule_page_lists_every_field_and_every_quality_rule() -> None:
    text = (ROOT / "docs" / "register.md").read_text(encoding="utf-8")
    for rule in survivorship_rules().fields:
        assert all(f"`{c}`" in text for c in rule.columns), rule.name
    for rule in rules_table()["rule"].to_list():
        assert re.search(rf"^\| `{rule}` ", text, re.MULTILINE), rule
