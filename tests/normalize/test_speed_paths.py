"""The shortcuts taken for speed give what the plain code gives.

The address resolution cuts an administrative text into pieces through a per-segment cache; the reference here
is the plain cut, text by text, that it replaced. The name plans are built column by column; the reference is the
row-by-row frame. And on a small generated base, the whole frame path (threads, caches) agrees with the scalar
functions row by row.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from datagen import generate_province
from normalize import addresses
from normalize import names as names_module
from normalize import text as text_module
from normalize.addresses import resolve_address
from normalize.columns import ADDRESS_COLUMNS
from normalize.frame import normalize_records
from normalize.names import parse_name
from records.schema import conform

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
    lambda parts, separators: (
        "".join(p + s for p, s in zip(parts, separators, strict=False)) + (parts[-1] if parts else "")
    ),
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
            (
                shape,
                list(plan.family),
                list(plan.middle),
                list(plan.given),
                plan.split,
                list(plan.titles),
                plan.convention,
                plan.reordered,
                plan.prefix_label,
                plan.prefix_key,
            )
        )
    expected = pl.DataFrame(rows, schema=names_module._PLAN_SCHEMA, orient="row")
    assert_frame_equal(names_module._plans(shapes), expected)


def test_generated_base_normalizes_as_the_scalar_functions_say(tmp_path: Path) -> None:
    """On a small generated base (old and new address forms, legacy fonts, relatives' names): every address
    column of ``normalize_records`` is what :func:`resolve_address` gives row by row, and every name what
    :func:`parse_name` gives, whatever threads and caches the frame path uses."""
    generate_province(400, 5, tmp_path, night=date(2026, 11, 20))
    base = pl.read_parquet(tmp_path / "population_base.parquet")
    base = conform(base.drop([c for c in ("source_file", "source_row") if c in base.columns]), source="base")
    normalized = normalize_records(base, as_of=date(2026, 11, 20))
    assert normalized.height == base.height
    for column in ADDRESS_COLUMNS:
        resolved = [resolve_address(v) if v is not None else None for v in base[column].to_list()]
        assert normalized[f"{column}_norm"].to_list() == [r.normalized if r else None for r in resolved]
        assert normalized[f"{column}_street"].to_list() == [r.street if r else None for r in resolved]
        assert normalized[f"{column}_status"].to_list() == [r.status if r else None for r in resolved]
        assert normalized[f"{column}_ward_code"].to_list() == [r.ward_code if r else None for r in resolved]
        assert normalized[f"{column}_legacy_ward_code"].to_list() == [
            r.legacy_ward_code if r else None for r in resolved
        ]
        assert normalized[f"{column}_candidates"].to_list() == [
            list(r.candidates) if r and r.status else None for r in resolved
        ]
    parsed = [parse_name(v) for v in base["full_name"].to_list()]
    assert normalized["full_name_norm"].to_list() == [p.display or None for p in parsed]
    assert normalized["given_name"].to_list() == [p.given if p.display else None for p in parsed]
    assert normalized["name_key"].to_list() == [p.name_key if p.display else None for p in parsed]


def _reference_implausible_words(text: str, *, strict: bool = False) -> int:
    """The count as it was written before the per-word cache: every word of every text tested."""
    plausible = text_module.is_vietnamese_syllable if strict else text_module.is_name_word
    count = 0
    for word in re.split(r"[\s,.;:()/\-\"']+", text):
        if not word or word.isascii():
            continue
        if not plausible("".join(ch for ch in word if not ch.isdigit())):
            count += 1
    return count


def _reference_decode_tcvn3(text: str) -> str:
    """The TCVN3 reading as it was written before the per-word cache."""
    out = []
    for word in text.split(" "):
        decoded = word.translate(text_module._TCVN3_TABLE)
        letters = [ch for ch in word if ch.isascii() and ch.isalpha()]
        if letters and all(ch.isupper() for ch in letters) and (len(letters) > 1 or not decoded[1:].islower()):
            decoded = decoded.upper()
        out.append(decoded)
    return text_module._repair_lost_u_horn(" ".join(out))


# Legacy-font and mojibake words, real Vietnamese and minority words, digits and separators, in any mix and case.
LEGACY_WORDS = [
    "TrÇn", "V¨n", "§øc", "NGUYÔN", "V¡N", "N÷", "Traàn", "Vaên", "Ñöùc", "TRAÀN", "Hoaøng", "Thò", "X·", "TØnh",
    "Ninh", "B×nh", "Ph\xadêng", "Sè", "15", "Nguyá»…n", "Thá»‹", "Lê", "Khánh", "Oânh", "Y", "Blông", "Niê", "H'Hen",
    "Êban", "Ksor", "Xã", "tp", "TP", "kp", "Ng", "nh", "Tr", "Km", "105", "QL1A", "Ðức", "Tæ4", "Phường5", "",
]  # fmt: skip
legacy_texts = st.lists(
    st.tuples(st.sampled_from(LEGACY_WORDS), st.sampled_from([" ", ", ", ".", "-", " (", ") ", "/", "  ", ";"])),
    max_size=8,
).map(lambda parts: "".join(word + separator for word, separator in parts))


@FAST
@given(legacy_texts, st.booleans())
@example("TrÇn V¨n §øc", False)
@example("Nguyá»…n Thá»‹ Lê", True)
def test_implausible_words_equal_the_word_by_word_count(text: str, strict: bool) -> None:
    assert text_module._implausible_words(text, strict=strict) == _reference_implausible_words(text, strict=strict)


@FAST
@given(legacy_texts.map(lambda text: text.replace("(", " ").replace(")", " ")))
@example("NGUYÔN V¡N AN")
@example("Tr Km 105, Ng nh. TP")
def test_tcvn3_reading_equals_the_plain_loop(text: str) -> None:
    assert text_module._decode_tcvn3(text) == _reference_decode_tcvn3(text)
