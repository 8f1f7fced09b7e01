"""Vietnamese personal names: family / middle / given parts, display form and keys that survive variations.

Names are written family name first (Nguyễn Thị Thu Hà: family Nguyễn, middle Thị Thu, given Hà). The keys
survive the variations records really carry: no diacritics or ALL CAPS (ASCII keys), old/new tone placement and
NFD (folded before keying), telex artefacts ("Nguyeenx" → Nguyễn), a dropped or added middle name
(``name_key_no_middle``) and a name written given-name first ("An Nguyễn", "Văn An Nguyễn"), which is put back
in Vietnamese order when the last word is a common family name and the first is not.

Work is done per distinct word, never per record: a million names share a few thousand syllables, which is what
lets :func:`name_columns` run on whole columns at once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import polars as pl

from normalize.columns import FULL_NAME_PARTS
from normalize.text import (
    _COMPOSE,
    _place_tone_lower,
    ascii_key,
    fix_legacy_encoding,
    fix_legacy_series,
    fold_tone_placement,
    is_vietnamese_syllable,
    nfc_series,
    per_distinct,
    title_case,
)

__all__ = [
    "FAMILY_NAMES",
    "NAME_PART_COLUMNS",
    "ParsedName",
    "family_name_frequencies",
    "name_columns",
    "name_key",
    "parse_name",
]

# Family names in use in Vietnam (ASCII keys). Văn and Thị are left out on purpose: as family names they are rare,
# as middle names they are everywhere, so a name that starts with one was most likely written given-name first.
FAMILY_NAMES: Final = frozenset(
    [
        "nguyen",
        "tran",
        "le",
        "pham",
        "hoang",
        "huynh",
        "phan",
        "vu",
        "vo",
        "dang",
        "bui",
        "do",
        "ho",
        "ngo",
        "duong",
        "ly",
        "dao",
        "doan",
        "vuong",
        "trinh",
        "dinh",
        "lam",
        "phung",
        "mai",
        "to",
        "truong",
        "ta",
        "ha",
        "luong",
        "luu",
        "cao",
        "chau",
        "chu",
        "quach",
        "thai",
        "tang",
        "kieu",
        "khuc",
        "luc",
        "mac",
        "nghiem",
        "la",
        "lai",
        "kim",
        "giang",
        "hua",
        "quan",
        "trieu",
        "than",
        "tong",
        "tu",
        "doan",
        "diep",
        "dam",
        "dong",
        "khong",
        "khuong",
        "lac",
        "lo",
        "lu",
        "hau",
        "ong",
        "phi",
        "pho",
        "man",
        "mong",
        "nong",
        "ninh",
        "vi",
        "au",
        "bach",
        "be",
        "cu",
        "can",
        "cong",
        "cung",
        "chung",
        "chu",
        "doi",
        "dau",
        "duong",
        "giap",
        "han",
        "ha",
        "hoa",
        "kha",
        "lang",
        "lu",
        "luong",
        "ma",
        "nhu",
        "ngo",
        "on",
        "phuong",
        "quan",
        "sam",
        "son",
        "thach",
        "thieu",
        "tieu",
        "trang",
        "tra",
        "trinh",
        "ung",
        "uong",
        "vien",
        "xa",
        "yen",
        "ma",
        "chuong",
        "cat",
        "dieu",
        "gia",
        "tiet",
        "danh",
        "tan",
        "quang",
        "banh",
    ]
)
# Family names that are almost never given names: only these may trigger the given-name-first reordering.
_ORDER_MARKERS: Final = frozenset(
    [
        "nguyen",
        "tran",
        "le",
        "pham",
        "huynh",
        "phan",
        "vu",
        "vo",
        "dang",
        "bui",
        "do",
        "ngo",
        "duong",
        "trinh",
        "dinh",
        "doan",
        "truong",
        "dao",
        "luong",
    ]
)

NAME_PART_COLUMNS: Final = ("norm", *FULL_NAME_PARTS)

_JUNK: Final = r"[^\w'\s]|_|\d"
_JUNK_RE: Final = re.compile(_JUNK)
_TELEX_HINT: Final = re.compile(r"aa|aw|ee|oo|ow|uw|dd|w|[aeiouy][a-z]*[sfrxj]$")
_TELEX_TONES: Final = {"s": 1, "f": 2, "r": 3, "x": 4, "j": 5}
_TELEX_MARKS: Final = (
    ("uwow", "ươ"),
    ("uow", "ươ"),
    ("aa", "â"),
    ("aw", "ă"),
    ("ee", "ê"),
    ("oo", "ô"),
    ("ow", "ơ"),
    ("uw", "ư"),
    ("w", "ư"),
)


def _untelex(word: str) -> str | None:
    """Decode one syllable typed in telex without the input method ("nguyeenx" → "nguyễn"), or None."""
    lower = word.lower()
    if not _TELEX_HINT.search(lower):
        return None
    first_vowel = re.search(r"[aeiouy]", lower)
    if first_vowel is None:
        return None
    onset, rest = lower[: first_vowel.start()], lower[first_vowel.start() :]
    tone = 0
    letters: list[str] = []
    for ch in rest:
        if ch in _TELEX_TONES:
            tone = _TELEX_TONES[ch]
        elif ch == "z":
            tone = 0
        else:
            letters.append(ch)
    body = onset.replace("dd", "đ") + "".join(letters)
    for telex, mark in _TELEX_MARKS:
        body = body.replace(telex, mark)
    if body == lower or not is_vietnamese_syllable(body):
        return None
    if tone:
        # Put the tone on any vowel, then let the placement rule move it where it belongs.
        vowel = re.search(r"[aăâeêioôơuưy]", body)
        if vowel is None:
            return None
        index = vowel.start()
        body = _place_tone_lower(body[:index] + _COMPOSE[(body[index], tone)] + body[index + 1 :])
    return body


@lru_cache(maxsize=131072)
def _word_forms(word: str) -> tuple[str, str]:
    """(display, ASCII key) of one name word; ("", "") for a word with no letter."""
    text = unicodedata.normalize("NFC", word).replace("Ð", "Đ").replace("ð", "đ").strip("'")
    if not any(ch.isalpha() for ch in text):
        return "", ""
    if text.isascii():
        decoded = _untelex(text)
        if decoded is not None:
            text = decoded
    display = title_case(fold_tone_placement(text.lower()))
    return display, ascii_key(display).replace(" ", "")


@dataclass(frozen=True, slots=True)
class ParsedName:
    """One name split into parts, with its display form and matching keys."""

    original: str
    display: str
    family: str
    middle: str
    given: str
    name_key: str
    family_key: str
    middle_key: str
    given_key: str
    name_key_no_middle: str
    reordered: bool
    legacy_encoding: str | None

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key the name should be found under: full, without middle name, and order-free."""
        order_free = " ".join(sorted(self.name_key.split()))
        return tuple(dict.fromkeys(k for k in (self.name_key, self.name_key_no_middle, order_free) if k))


def _assemble(displays: list[str], keys: list[str]) -> tuple[list[str], list[str], bool]:
    reordered = len(keys) >= 2 and keys[0] not in FAMILY_NAMES and keys[-1] in _ORDER_MARKERS
    if reordered:
        displays = [displays[-1], *displays[:-1]]
        keys = [keys[-1], *keys[:-1]]
    return displays, keys, reordered


def parse_name(s: str | None) -> ParsedName:
    """Parse one full name (any encoding, case, tone placement or word order)."""
    original = s or ""
    text, encoding = fix_legacy_encoding(original)
    text = _JUNK_RE.sub(" ", unicodedata.normalize("NFC", text))
    displays: list[str] = []
    keys: list[str] = []
    for word in text.split():
        display, key = _word_forms(word)
        if display:
            displays.append(display)
            keys.append(key)
    displays, keys, reordered = _assemble(displays, keys)
    if not displays:
        return ParsedName(original, "", "", "", "", "", "", "", "", "", False, encoding)
    family, family_key = (displays[0], keys[0]) if len(displays) > 1 else ("", "")
    middle = " ".join(displays[1:-1])
    middle_key = " ".join(keys[1:-1])
    return ParsedName(
        original=original,
        display=" ".join(displays),
        family=family,
        middle=middle,
        given=displays[-1],
        name_key=" ".join(keys),
        family_key=family_key,
        middle_key=middle_key,
        given_key=keys[-1],
        name_key_no_middle=" ".join(k for k in (family_key, keys[-1]) if k),
        reordered=reordered,
        legacy_encoding=encoding,
    )


def name_key(s: str | None) -> str:
    """ASCII key of a whole name ("nguyen van an"), independent of diacritics, case and tone placement."""
    return parse_name(s).name_key


def name_columns(values: pl.Series) -> pl.DataFrame:
    """Vectorized :func:`parse_name` over a column: the columns of :data:`NAME_PART_COLUMNS` plus ``legacy``
    (Boolean: the cell was TCVN3/VNI-encoded). Null or empty names give nulls in every name column.
    """
    return per_distinct(values.cast(pl.String), _name_columns_distinct)


def _name_columns_distinct(values: pl.Series) -> pl.DataFrame:
    fixed, legacy = fix_legacy_series(values)
    frame = pl.DataFrame({"_words": nfc_series(fixed).str.replace_all(_JUNK, " ").str.extract_all(r"\S+")})
    words = frame["_words"].explode().drop_nulls().unique()
    forms = {w: _word_forms(w) for w in words.to_list()}
    display_map = {w: f[0] for w, f in forms.items()}
    key_map = {w: f[1] for w, f in forms.items()}
    keep = pl.element().filter(pl.element() != "")
    frame = frame.select(
        pl.col("_words")
        .list.eval(pl.element().replace_strict(display_map, return_dtype=pl.String))
        .list.eval(keep)
        .alias("_d"),
        pl.col("_words")
        .list.eval(pl.element().replace_strict(key_map, return_dtype=pl.String))
        .list.eval(keep)
        .alias("_k"),
    )
    n = pl.col("_k").list.len()
    reordered = (
        (n >= 2)
        & ~pl.col("_k").list.first().is_in(sorted(FAMILY_NAMES))
        & pl.col("_k").list.last().is_in(sorted(_ORDER_MARKERS))
    )

    def rotate(col: str) -> pl.Expr:
        return (
            pl.when(reordered)
            .then(pl.concat_list(pl.col(col).list.last(), pl.col(col).list.head(n - 1)))
            .otherwise(pl.col(col))
        )

    frame = frame.with_columns(rotate("_d"), rotate("_k"))
    empty = n == 0
    several = n >= 2

    def part(col: str, which: str) -> pl.Expr:
        if which == "all":
            expr = pl.col(col).list.join(" ")
        elif which == "family":
            expr = pl.when(several).then(pl.col(col).list.first()).otherwise(pl.lit(""))
        elif which == "middle":
            expr = pl.when(n >= 3).then(pl.col(col).list.slice(1, n - 2).list.join(" ")).otherwise(pl.lit(""))
        else:
            expr = pl.col(col).list.last()
        return pl.when(empty).then(pl.lit(None, dtype=pl.String)).otherwise(expr)

    out = frame.select(
        part("_d", "all").alias("norm"),
        part("_d", "family").alias("family_name"),
        part("_d", "middle").alias("middle_name"),
        part("_d", "given").alias("given_name"),
        part("_k", "all").alias("name_key"),
        part("_k", "family").alias("family_key"),
        part("_k", "middle").alias("middle_key"),
        part("_k", "given").alias("given_key"),
    )
    return out.with_columns(
        pl.when(pl.col("family_key") == "")
        .then(pl.col("given_key"))
        .otherwise(pl.concat_str("family_key", pl.lit(" "), "given_key"))
        .alias("name_key_no_middle"),
        legacy.alias("legacy"),
    )


def family_name_frequencies(frame: pl.DataFrame) -> pl.DataFrame:
    """Family-name frequencies of a population (for term-frequency weighting of name agreement).

    Accepts a normalized frame (uses ``family_key``/``family_name``) or a canonical one (parses ``full_name``).
    Columns: family_key, family_name (most common display form), count, share (of people with a family name),
    sorted by count descending.
    """
    if "family_key" in frame.columns and "family_name" in frame.columns:
        parts = frame.select("family_key", "family_name")
    else:
        parts = name_columns(frame["full_name"]).select("family_key", "family_name")
    parts = parts.filter(pl.col("family_key").is_not_null() & (pl.col("family_key") != ""))
    total = max(parts.height, 1)
    return (
        parts.group_by("family_key")
        .agg(pl.len().alias("count"), pl.col("family_name").mode().sort().first().alias("family_name"))
        .with_columns((pl.col("count") / total).alias("share"))
        .select("family_key", "family_name", pl.col("count").cast(pl.Int64), "share")
        .sort(["count", "family_key"], descending=[True, False])
    )
