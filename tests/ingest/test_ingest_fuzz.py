"""Thousands of generated malformed files and rows: ingest fails only with its documented outcomes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from records.encodings import encode_cp1258
from records.ingest import ingest_file
from records.mappings import load_mapping
from records.schema import CANONICAL_SCHEMA

HEADERS = list(load_mapping("civil_status").headers().values())
cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "15/03/1990",
            "31/02/1990",
            "00/00/1950",
            "Nam",
            "Nữ",
            "X",
            "001090012345",
            "123",
            "Khai sinh",
            "Khai tử",
            "",
            '"',
            ",",
            "\n",
            "TrÇn V¨n §øc",
        ]
    ),
)
row = st.lists(cell, min_size=0, max_size=len(HEADERS) + 2)
header = st.one_of(
    st.just(HEADERS),
    st.lists(st.sampled_from([*HEADERS, "Cột lạ", ""]), min_size=1, max_size=len(HEADERS) + 1),
)
encoding = st.sampled_from(["utf-8", "utf-8-sig", "cp1258", "utf-16"])


def render(rows: list[list[str]]) -> str:
    def quote(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(ch in value for ch in ',"\n\r') else value

    return "\r\n".join(",".join(quote(v) for v in r) for r in rows)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=header, rows=st.lists(row, max_size=12), encoding=encoding, garbage=st.binary(max_size=30))
def test_ingest_never_loses_a_row(header: list[str], rows: list[list[str]], encoding: str, garbage: bytes) -> None:
    text = render([header, *rows])
    try:
        data = encode_cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    if garbage and garbage[0] % 4 == 0:
        data = data + garbage
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ho_tich.csv"
        path.write_bytes(data)
        result = ingest_file(path)
    result.check_counts()
    assert result.accepted.schema == CANONICAL_SCHEMA
    assert result.quarantine["reason"].null_count() == 0
    assert result.quarantine["source_file"].null_count() == 0
