"""The shortcuts taken for speed give what the plain code gives.

The address resolution cuts an administrative text into pieces through a per-segment cache; the reference here
is the plain cut, text by text, that it replaced. The name plans are built column by column; the reference is the
row-by-row frame. ``normalize_records`` pauses the garbage collector and gives back the state it found.
"""

from __future__ import annotations

import gc
import re
from datetime import date

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from normalize import addresses
from normalize import names as names_module
from normalize.frame import normalize_records
from records.schema import CANONICAL_SCHEMA

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SEGMENTS = [
    "X.Hải Xuân",
    "X. Hải Xuân",
    "Xã Hải Xuân",
    "H.Hải Hậu",
    "tỉnh Nam Định",
    "Nam Định",
    "P.Phường 5",
    "p5",
    "Q3",
    "TP.HCM",
    "T.P Hồ Chí Minh",
    "xom 3 Xa Van Phuc Huyen Thanh Tri Ha Noi",
    "Phường Phúc Xá Quận Ba Đình Thành phố Hà Nội",
    "Q Dong Da Ha Noi",
    "Tỉnh Điện Biên",
    "Bà Rịa - Vũng Tàu",
    "Thôn Ea Lai",
    "Phường 5 Quận 3",
    "Xã Tân Thành Huyện Hàm Tân",
    "  ",
    "",
]
SEPARATORS = [",", ", ", " , ", ",,"]


def _reference_pieces(admin_text: str) -> list[str]:
    """The cut as it was written before the per-segment cache: every step for every text."""
    if ";" in admin_text or "|" in admin_text or "\n" in admin_text:
        text = addresses._tidy(admin_text)
        raw = [s.strip() for s in re.split(r"[,;|\n]+", text) if s.strip()]
    else:
        raw = [s for s in (addresses._tidy(s).strip() for s in admin_text.split(",")) if s]
    pieces: list[str] = []
    for segment in raw:
        pieces.extend(addresses._split_inner(segment) if len(raw) == 1 or segment.count(" ") >= 4 else (segment,))
    if pieces:
        pieces[-1:] = addresses._split_province_tail_uncached(pieces[-1])
    return pieces


admin_texts = st.builds(
    lambda parts, separators: "".join(p + s for p, s in zip(parts, separators, strict=False))
    + (parts[-1] if parts else ""),
    st.lists(st.sampled_from(SEGMENTS), min_size=0, max_size=5),
    st.lists(st.sampled_from([*SEPARATORS, ";", " | "]), min_size=5, max_size=5),
)


@FAST
@given(admin_texts)
@example("xom 3 Xa Van Phuc Huyen Thanh Tri Ha Noi")
@example("X.Hải Xuân,H.Hải Hậu,  tỉnh Nam Định")
@example(", ,Q Dong Da Ha Noi,")
@example("Thôn 2, Phường 5 Quận 3, TP.HCM")
def test_pieces_equal_the_plain_cut(admin_text: str) -> None:
    assert addresses._pieces(admin_text) == _reference_pieces(admin_text)


def test_plans_frame_equals_the_row_by_row_frame() -> None:
    shapes = ["fMx", "fx", "x", "", "TfMx", "Yxf", "Gf", "fmx", "Cxx", "Nxx", "cxx", "UfMxx"]
    rows = []
    for shape in shapes:
        plan = names_module._plan(shape)
        rows.append(
            (shape, list(plan.family), list(plan.middle), list(plan.given), plan.split, list(plan.titles),
             plan.convention, plan.reordered, plan.prefix_label, plan.prefix_key)  # fmt: skip
        )
    expected = pl.DataFrame(rows, schema=names_module._PLAN_SCHEMA, orient="row")
    assert_frame_equal(names_module._plans(shapes), expected)


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": ["r1", "r2"],
            "source": ["base", "base"],
            "full_name": ["Nguyễn Văn An", "TrÇn V¨n §øc"],
            "birth_date": ["1990-01-02", "1985"],
            "permanent_address": ["12 Lê Lợi, Phường Ba Đình, Thành phố Hà Nội", "X.Hải Xuân, H.Hải Hậu, Nam Định"],
        }
    )


def test_normalize_records_gives_back_the_garbage_collector_state() -> None:
    assert gc.isenabled()
    normalize_records(_frame(), as_of=date(2025, 7, 2))
    assert gc.isenabled()
    gc.disable()
    try:
        normalized = normalize_records(_frame(), as_of=date(2025, 7, 2))
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert normalized["legacy_encoded_columns"].to_list() == [[], ["full_name"]]
    assert normalized["permanent_address_status"].to_list() == ["resolved", "resolved"]
    assert set(CANONICAL_SCHEMA) <= set(normalized.columns)
