"""Names: parts, display, keys that survive variations; the column form equals the single-value form."""

from __future__ import annotations

import unicodedata

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unidecode import unidecode

from normalize.names import family_name_frequencies, name_columns, name_key, parse_name


@pytest.mark.parametrize(
    ("raw", "display", "family", "middle", "given"),
    [
        ("Nguyễn Thị Thu Hà", "Nguyễn Thị Thu Hà", "Nguyễn", "Thị Thu", "Hà"),
        ("NGUYỄN VĂN AN", "Nguyễn Văn An", "Nguyễn", "Văn", "An"),
        ("  lê   thị   thuý ", "Lê Thị Thúy", "Lê", "Thị", "Thúy"),
        ("Ðào Thị Thu Hoà", "Đào Thị Thu Hòa", "Đào", "Thị Thu", "Hòa"),
        ("Nguyeenx Vawn Dduwcs", "Nguyễn Văn Đức", "Nguyễn", "Văn", "Đức"),
        ("Traanf Thij Hoaf", "Trần Thị Hòa", "Trần", "Thị", "Hòa"),
        ("TrÇn V¨n §øc", "Trần Văn Đức", "Trần", "Văn", "Đức"),
        ("Traàn Thò Hoaøng Oanh", "Trần Thị Hoàng Oanh", "Trần", "Thị Hoàng", "Oanh"),
        ("An Nguyễn", "Nguyễn An", "Nguyễn", "", "An"),
        ("Văn An Nguyễn", "Nguyễn Văn An", "Nguyễn", "Văn", "An"),
        ("Hà", "Hà", "", "", "Hà"),
        ("H'Hen Niê", "H'Hen Niê", "Niê", "", "Hen"),
        ("Y-Blông Niê Kdăm", "Y Blông Niê Kdăm", "Niê Kdăm", "", "Blông"),
        ("Niê Hhen", "H'Hen Niê", "Niê", "", "Hen"),
        ("Giàng A Pao", "Giàng A Pao", "Giàng", "A", "Pao"),
        ("Thạch Sari", "Thạch Sari", "Thạch", "", "Sari"),
        ("Néang Sa Ri", "Néang Sa Ri", "Néang", "Sa", "Ri"),
        ("Nguyễn Văn An (chết)", "Nguyễn Văn An", "Nguyễn", "Văn", "An"),
        ("Ông Nguyễn Văn An", "Nguyễn Văn An", "Nguyễn", "Văn", "An"),
        ("Cụ bà Lê Thị Mơ", "Lê Thị Mơ", "Lê", "Thị", "Mơ"),
        ("An Nguyễn Văn", "Nguyễn Văn An", "Nguyễn", "Văn", "An"),
        ("Ông Văn Tùng", "Ông Văn Tùng", "Ông", "Văn", "Tùng"),
        ("Nguyễn H Minh", "Nguyễn H Minh", "Nguyễn", "H", "Minh"),
        ("Trần Thị Hường.", "Trần Thị Hường", "Trần", "Thị", "Hường"),
        ("Thomas Nguyen", "Nguyen Thomas", "Nguyen", "", "Thomas"),
        # Real-world forms: a name typed without spaces, "FAMILY, REST" of two-field systems, a remark after a
        # comma, an English title, "Cháu" (not the family name Châu) in a household list.
        ("NguyễnVănAn", "Nguyễn Văn An", "Nguyễn", "Văn", "An"),
        ("LêThịHà", "Lê Thị Hà", "Lê", "Thị", "Hà"),
        ("NGUYEN, VAN AN", "Nguyen Van An", "Nguyen", "Van", "An"),
        ("Nguyễn Văn An, sinh 1990", "Nguyễn Văn An", "Nguyễn", "Văn", "An"),
        ("Mr Nguyen Van An", "Nguyen Van An", "Nguyen", "Van", "An"),
        ("Cháu Nguyễn Văn An", "Nguyễn Văn An", "Nguyễn", "Văn", "An"),
        ("Châu Văn An", "Châu Văn An", "Châu", "Văn", "An"),
        ("NguyEn Văn An", "Nguyen Văn An", "Nguyen", "Văn", "An"),  # a slip of the shift key: one word
        ("Y Nguyễn Thị", "Nguyễn Thị Y", "Nguyễn", "Thị", "Y"),  # the Kinh given name Y, written first
        ("Y Trần Văn", "Trần Văn Y", "Trần", "Văn", "Y"),
    ],
)
def test_parse_name(raw: str, display: str, family: str, middle: str, given: str) -> None:
    parsed = parse_name(raw)
    assert (parsed.display, parsed.family, parsed.middle, parsed.given) == (display, family, middle, given)


def test_keys_survive_usual_variations() -> None:
    reference = parse_name("Nguyễn Văn An")
    for variant in [
        "NGUYEN VAN AN",
        "nguyen van an",
        "Nguyeenx Vawn An",
        "An Nguyễn Văn".replace("An Nguyễn Văn", "Văn An Nguyễn"),
        "Ng\u0075\u0079\u00ea\u0303n Văn An",
    ]:
        assert parse_name(variant).name_key == reference.name_key == "nguyen van an"
    assert parse_name("Nguyễn An").name_key_no_middle == reference.name_key_no_middle == "nguyen an"
    assert parse_name("An Nguyễn").name_key_no_middle == "nguyen an"
    assert "nguyen an" in parse_name("Nguyễn Văn An").keys
    assert parse_name("Nguyễn Văn An").reordered is False
    assert parse_name("Văn An Nguyễn").reordered is True


def test_empty_names() -> None:
    assert parse_name(None).name_key == ""
    assert parse_name("  ").display == ""
    frame = name_columns(pl.Series([None, "", "  "], dtype=pl.String))
    assert frame["name_key"].to_list() == [None, None, None]


NAMES = [
    "Nguyễn Văn An",
    "NGUYEN VAN AN",
    "Văn An Nguyễn",
    "TrÇn V¨n §øc",
    "Lê Thị Thuý",
    "Hà",
    None,
    "",
    "Nguyeenx Vawn Binh",
    "H'Hen Niê",
    "Traàn Thò Hoaøng Oanh",
    "  đỗ   mười ",
    "Phan Thị Hoà.",
    "An Nguyen",
]


def test_column_form_equals_single_value_form() -> None:
    frame = name_columns(pl.Series(NAMES * 3, dtype=pl.String))
    for value, row in zip(NAMES * 3, frame.iter_rows(named=True), strict=True):
        parsed = parse_name(value)
        if not parsed.display:
            assert row["norm"] is None
            continue
        assert row["norm"] == parsed.display
        assert (row["family_name"], row["middle_name"], row["given_name"]) == (
            parsed.family,
            parsed.middle,
            parsed.given,
        )
        assert (row["name_key"], row["family_key"], row["middle_key"], row["given_key"]) == (
            parsed.name_key,
            parsed.family_key,
            parsed.middle_key,
            parsed.given_key,
        )
        assert row["name_key_no_middle"] == parsed.name_key_no_middle
        assert row["legacy"] == (parsed.legacy_encoding is not None)


name_strategy = st.lists(
    st.sampled_from(
        [
            "Nguyễn",
            "Trần",
            "Lê",
            "Văn",
            "Thị",
            "Hoà",
            "Thuý",
            "Khoẻ",
            "Đức",
            "Ngọc",
            "Hưng",
            "Quỳnh",
            "Phương",
            "Ánh",
            "Yến",
            "Đặng",
            "Huỳnh",
            "Thủy",
            "Toàn",
        ]
    ),
    min_size=1,
    max_size=5,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(name_strategy, st.sampled_from(["upper", "lower", "title", "ascii", "ascii_upper"]))
def test_ascii_key_never_depends_on_diacritics_or_case(name: str, style: str) -> None:
    variant = {
        "upper": name.upper(),
        "lower": name.lower(),
        "title": name.title(),
        "ascii": unidecode(name),
        "ascii_upper": unidecode(name).upper(),
    }[style]
    assert name_key(variant) == name_key(name)


def test_family_name_frequencies() -> None:
    base = pl.DataFrame({"full_name": ["Nguyễn Văn An", "NGUYEN THI BINH", "Trần Văn Cường", "Lê Hoa", None, "Hà"]})
    freq = family_name_frequencies(base)
    assert freq.columns == ["family_key", "family_name", "count", "share"]
    rows = {r["family_key"]: r for r in freq.iter_rows(named=True)}
    assert rows["nguyen"]["count"] == 2
    assert rows["nguyen"]["share"] == pytest.approx(0.5)
    assert rows["nguyen"]["family_name"] in ("Nguyễn", "Nguyen")
    assert freq["family_key"][0] == "nguyen"
    assert set(rows) == {"nguyen", "tran", "le"}


# --- Remarks, titles, reversed orders and the minority conventions ---------------------------------------------


@pytest.mark.parametrize(
    ("raw", "remark"),
    [
        ("Nguyễn Văn An (chết)", "chết"),
        ("Nguyễn Văn An [đã mất]", "đã mất"),
        ("Nguyễn Văn An (chết", "chết"),
        ("Nguyễn Văn An - đã chuyển đi", "đã chuyển đi"),
        ("Nguyễn Văn An, đã chết", "đã chết"),
        ("NGUYỄN VĂN AN ĐÃ MẤT", "ĐÃ MẤT"),
        ("Ông Nguyễn Văn An (liệt sĩ)", "Ông; liệt sĩ"),
        ("Nguyễn Văn An", None),
    ],
)
def test_remarks_are_cut_off_and_kept(raw: str, remark: str | None) -> None:
    parsed = parse_name(raw)
    assert parsed.display == "Nguyễn Văn An"
    assert parsed.given_key == "an"
    assert parsed.remark == remark


def test_a_title_is_cut_only_in_front_of_a_family_name() -> None:
    for title in ("Ông", "Bà", "Cụ", "Anh", "Chị", "Bác", "Cụ ông", "ONG", "ba"):
        assert parse_name(f"{title} Trần Văn Bình").name_key == "tran van binh", title
    # A family name Ông, a given name after a title, a two-word name: nothing to cut.
    assert parse_name("Ông Văn Tùng").family_key == "ong"
    assert parse_name("Anh Nguyễn").name_key == "nguyen anh"
    assert parse_name("Bà Lan").remark is None


@pytest.mark.parametrize("raw", ["Nguyễn Văn An", "An Nguyễn Văn", "Văn An Nguyễn", "NGUYEN VAN AN", "an nguyen van"])
def test_given_name_first_orders_are_put_back(raw: str) -> None:
    parsed = parse_name(raw)
    assert (parsed.family_key, parsed.middle_key, parsed.given_key) == ("nguyen", "van", "an")
    assert parsed.reordered == (raw.split()[0].lower() not in ("nguyễn", "nguyen"))


EDE_VARIANTS = [
    ("H'Hen Niê", ["H’Hen Niê", "H Hen Niê", "Hhen Niê", "H'HEN NIÊ", "h'hen nie", "Niê H'Hen", "Niê Hhen"]),
    ("H'Hen Niê", ["H‘Hen Niê", "H`Hen Niê", "H' Hen Niê", "Bà H'Hen Niê (đã chết)"]),
    ("Y Blông Êban", ["Y-Blông Êban", "Y Blông Ê Ban", "Y Blông Eban", "Y BLÔNG Ê BAN", "Êban Y Blông"]),
    ("H'Ben Rơ Mah", ["Rơ Mah H'Ben", "H Ben Rơ Mah", "Hben Rơ Mah"]),
    ("Y Phước Ksor", ["Ksor Y Phước", "Y-Phước Ksor"]),
]


@pytest.mark.parametrize(("canonical", "variants"), EDE_VARIANTS)
def test_ede_jrai_mnong_spellings_key_alike(canonical: str, variants: list[str]) -> None:
    reference = parse_name(canonical)
    assert reference.convention == "clan_last"
    assert reference.prefix in ("Y", "H'")
    for variant in variants:
        parsed = parse_name(variant)
        assert unidecode(parsed.display).lower() == unidecode(reference.display).lower(), variant
        assert (parsed.family_key, parsed.given_key, parsed.name_key) == (
            reference.family_key,
            reference.given_key,
            reference.name_key,
        ), variant
        assert parsed.name_key_glued == reference.name_key_glued
    # The prefix is not part of the family + given key: a record that drops it still meets the others.
    assert parse_name("Hen Niê").name_key_no_middle == parse_name("H'Hen Niê").name_key_no_middle == "nie hen"


def test_khmer_and_hmong_names() -> None:
    assert parse_name("Thạch Sa Ri").name_key_glued == parse_name("Thạch Sari").name_key_glued == "thachsari"
    assert parse_name("Néang Sa Ri").prefix == "Néang"
    assert parse_name("Chau Sóc Khonl").convention == "prefix_first"
    assert parse_name("Châu Văn Tèo").prefix is None  # Châu with diacritics is the Hoa/Kinh family name
    hmong = parse_name("Vàng Mí Dế")
    assert (hmong.family_key, hmong.middle_key, hmong.given_key) == ("vang", "mi", "de")
    assert hmong.convention == "family_first"


_KINH_FAMILY = st.sampled_from(["Nguyễn", "Trần", "Lê", "Phạm", "Đặng", "Bùi", "Hoàng", "Lò", "Giàng", "Thạch", "Hà"])
_MIDDLE = st.sampled_from(["Văn", "Thị", "Thu", "Ngọc", "A", "Mí", "Đức", ""])
_GIVEN = st.sampled_from(["An", "Hòa", "Thúy", "Pao", "Dế", "Sa Ri", "Sari", "Khoẻ", "Quỳnh", "Uyên Phương", "Ánh"])
_EDE_GIVEN = st.sampled_from(["Hen", "Blông", "Nga", "Ơn", "Bia", "Ngông", "Lin"])
_CLAN = st.sampled_from(["Niê", "Êban", "Ê Ban", "Eban", "Mlô", "Ksor", "Siu", "Rơ Mah", "Niê Kdăm", "Byă"])
_REMARK = st.sampled_from(["", " (chết)", " [đã mất]", " - chuyển đi", ", đã chết", " (tức Tư"])
_TITLE = st.sampled_from(["", "Ông ", "Bà ", "Cụ ", "Chị ", "ONG "])


@st.composite
def _names(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["kinh", "reversed", "ede", "ede_clan_first", "khmer_prefix", "junk"]))
    if kind in ("kinh", "reversed"):
        family, middle, given = draw(_KINH_FAMILY), draw(_MIDDLE), draw(_GIVEN)
        if kind == "reversed":
            name = " ".join(p for p in (given, family, middle) if p)
        else:
            name = " ".join(p for p in (family, middle, given) if p)
    elif kind in ("ede", "ede_clan_first"):
        prefix = draw(st.sampled_from(["Y ", "Y-", "H'", "H’", "H ", "H"]))
        head = prefix + draw(_EDE_GIVEN)
        clan = draw(_CLAN)
        name = f"{clan} {head}" if kind == "ede_clan_first" else f"{head} {clan}"
    elif kind == "khmer_prefix":
        name = f"{draw(st.sampled_from(['Chau', 'Néang', 'NEANG']))} {draw(_GIVEN)}"
    else:
        name = draw(st.text(alphabet="aàáHh'’ yYÊê()-,.Đ0 ", max_size=12))
    name = draw(_TITLE) + name + draw(_REMARK)
    style = draw(st.sampled_from(["as_is", "upper", "ascii", "nfd", "lower"]))
    if style == "upper":
        return name.upper()
    if style == "ascii":
        return unidecode(name)
    if style == "nfd":
        return unicodedata.normalize("NFD", name)
    return name.lower() if style == "lower" else name


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(st.one_of(_names(), st.none()), min_size=1, max_size=30))
def test_differential_column_form_equals_scalar_reference(names: list[str | None]) -> None:
    """name_columns (vectorized, per distinct word and shape) gives parse_name's result row for row."""
    series = pl.Series(names, dtype=pl.String)
    before = series.clone()
    frame = name_columns(series)
    assert frame.height == len(names)
    assert series.equals(before)
    for value, row in zip(names, frame.iter_rows(named=True), strict=True):
        parsed = parse_name(value)
        present = bool(parsed.display)
        expected = {
            "norm": parsed.display,
            "family_name": parsed.family,
            "middle_name": parsed.middle,
            "given_name": parsed.given,
            "name_key": parsed.name_key,
            "family_key": parsed.family_key,
            "middle_key": parsed.middle_key,
            "given_key": parsed.given_key,
            "name_key_no_middle": parsed.name_key_no_middle,
            "name_key_glued": parsed.name_key_glued,
            "name_prefix": parsed.prefix,
            "name_convention": parsed.convention,
        }
        for column, value_expected in expected.items():
            assert row[column] == (value_expected if present else None), (value, column)
        assert row["name_reordered"] == parsed.reordered
        assert row["name_remark"] == parsed.remark, value


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_names())
def test_parsing_is_stable_on_its_own_display_form(name: str) -> None:
    """The display form is a fixed point: parsing it again gives the same keys (titles and remarks are gone)."""
    parsed = parse_name(name)
    again = parse_name(parsed.display)
    assert (again.display, again.name_key, again.family_key, again.given_key) == (
        parsed.display,
        parsed.name_key,
        parsed.family_key,
        parsed.given_key,
    )
    assert again.remark is None or parsed.display == ""
