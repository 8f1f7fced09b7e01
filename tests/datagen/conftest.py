"""One small generated province shared by the datagen tests (about 2,000 people, three nights)."""

from __future__ import annotations

import io
import json
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from datagen import GeneratedProvince, generate_province

NIGHT = date(2025, 11, 3)


@dataclass
class Province:
    result: GeneratedProvince
    base: pl.DataFrame
    persons: pl.DataFrame
    defects: pl.DataFrame
    manifest: dict[str, object]
    extracts: dict[str, pl.DataFrame]  # relative path -> rows as text, canonical column names
    headers: dict[str, list[str]]  # relative path -> header row


def read_extract(path: Path, fmt: str, encoding: str | None) -> pl.DataFrame:
    """A generated extract file as text columns (Excel dates as written: serial numbers stay numbers as text)."""
    if fmt == "csv":
        raw = path.read_bytes()
        text = raw.decode("cp1258") if encoding == "cp1258" else raw.decode("utf-8-sig")
        text = unicodedata.normalize("NFC", text)
        return pl.read_csv(io.StringIO(text), infer_schema=False)
    return pl.read_excel(path, infer_schema_length=0)


def load(result: GeneratedProvince) -> Province:
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    extracts: dict[str, pl.DataFrame] = {}
    headers: dict[str, list[str]] = {}
    for entry in manifest["files"]:
        frame = read_extract(result.out_dir / entry["path"], entry["format"], entry["encoding"])
        headers[entry["path"]] = frame.columns
        rename = {header: canonical for canonical, header in entry["headers"].items()}
        extracts[entry["path"]] = frame.rename(rename)
    return Province(
        result=result,
        base=pl.read_parquet(result.base_path),
        persons=pl.read_parquet(result.persons_path),
        defects=pl.read_parquet(result.defects_path),
        manifest=manifest,
        extracts=extracts,
        headers=headers,
    )


@pytest.fixture(scope="session")
def province(tmp_path_factory: pytest.TempPathFactory) -> Province:
    out = tmp_path_factory.mktemp("province")
    return load(generate_province(2000, 13, out, night=NIGHT, nights=3))
