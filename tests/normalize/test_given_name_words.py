"""The list of Vietnamese given-name words the matcher looks names up in: written as the normalizer writes them."""

from __future__ import annotations

import polars as pl

from normalize.names import GIVEN_NAME_KEYS, GIVEN_NAME_WORDS, name_columns
from normalize.text import ascii_key, fold_tone_placement


def test_given_name_words_are_in_the_normalizers_tone_placement() -> None:
    """Old and new tone placement (Hoà/Hòa, Thuỷ/Thủy, Hoạ/Họa) find the same word: a normalized name is found."""
    assert all(fold_tone_placement(word) == word for word in GIVEN_NAME_WORDS)
    given = name_columns(pl.Series(["Lê Thị Thuỷ", "Đào Thị Hoà", "Trần Văn Hoạ", "Ngô Thị Thủy"]))["given_name"]
    assert given.str.to_lowercase().is_in(sorted(GIVEN_NAME_WORDS)).all()


def test_a_dropped_letter_is_not_a_name_though_its_key_is() -> None:
    """ "Tủy" (Thủy without its h) reads "tuy" like the name Tùy, but is no given name."""
    assert "thủy" in GIVEN_NAME_WORDS and "tủy" not in GIVEN_NAME_WORDS
    assert "tuy" in GIVEN_NAME_KEYS
    assert {ascii_key(word) for word in GIVEN_NAME_WORDS} == GIVEN_NAME_KEYS
