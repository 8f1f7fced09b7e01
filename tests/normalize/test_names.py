"""Names: parts, display, keys that survive variations; the column form equals the single-value form."""

from __future__ import annotations

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
        ("H'Hen Niê", "H'Hen Niê", "H'Hen", "", "Niê"),
        ("Trần Thị Hường.", "Trần Thị Hường", "Trần", "Thị", "Hường"),
        ("Thomas Nguyen", "Nguyen Thomas", "Nguyen", "", "Thomas"),
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
