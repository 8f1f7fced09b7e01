"""Vietnamese personal names: parts, display form and keys that survive the variations records carry.

Most names are written family name first (Nguyễn Thị Thu Hà: family Nguyễn, middle Thị Thu, given Hà), and so are
H'Mông (Giàng A Pao, clan + A/Thị/Mí/Mỷ + a short given name), Thái (Lò Văn Pọm), Hoa and Khmer names (Thạch Sa Ri,
often without a middle name, the given name glued or split: Sa Ri / Sari). Ê Đê, M'Nông and Gia Rai names put a
prefix before the given name (Y for men, H' for women) and the clan last: Y Blông Niê, H'Hen Niê. In An Giang Khmer
names start with Chau (men) or Néang (women).

Parsing, in this order (each rule is a small function of the words' classes, see :func:`_plan`):

1. remarks in brackets or after a dash (``Nguyễn Văn An (chết)``, ``… - đã mất``) and a trailing "đã chết" are cut
   off and kept in ``name_remark``; so are titles (Ông, Bà, Cụ, Anh, Chị…) in front of a family name or a prefix;
2. the Ê Đê / Gia Rai / M'Nông convention: a prefix (``Y``, ``H'``, ``H’``, ``H ``, glued ``Hhen``, ``Y-Blông``)
   first, or after a clan written first (``Niê H'Hen``, ``Ksor Y Phước``); the clan (``Niê``, ``Êban``/``Ê Ban``/
   ``Eban``, ``Niê Kdăm``) is the family part, keyed without spaces;
3. Khmer Chau/Néang prefixes take the family slot;
4. given-name-first orders are put back: ``An Nguyễn``, ``Văn An Nguyễn``, ``An Nguyễn Văn`` (the last word is the
   middle name Văn/Thị, which no one has as a given name).

Keys are ASCII (no diacritics, lower case) in the canonical order; ``name_key_glued`` drops the spaces too, so
``Sa Ri``/``Sari``, ``H'Hen``/``Hhen`` and ``Ê Ban``/``Êban`` key alike. Work is done per distinct word and per
distinct *shape* (the sequence of word classes), never per record, so :func:`name_columns` runs on whole columns.
:func:`parse_name` is the scalar reference the column form is tested against.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final, NamedTuple

import polars as pl

from normalize.columns import FULL_NAME_PARTS
from normalize.text import (
    _COMPOSE,
    _place_tone_lower,
    ascii_key,
    distinct_codes,
    fix_legacy_encoding,
    fix_legacy_series,
    fold_tone_placement,
    is_vietnamese_syllable,
    nfc_series,
    per_distinct,
    replaced_at,
    title_case,
)

__all__ = [
    "CLAN_NAMES",
    "FAMILY_NAMES",
    "GIVEN_NAME_KEYS",
    "GIVEN_NAME_WORDS",
    "NAME_CONVENTIONS",
    "NAME_PART_COLUMNS",
    "ParsedName",
    "family_name_frequencies",
    "name_columns",
    "name_key",
    "parse_name",
]


# Family names in use in Vietnam (ASCII keys), Kinh and minority (Tày, Nùng, Thái, Mường, H'Mông, Hoa, Khmer, Dao).
# Văn and Thị are left out on purpose: as family names they are rare, as middle names they are everywhere, so a
# name that starts with one was most likely written given-name first. Clan names that are also common given names
# (Thào/Thảo, Hạng/Hằng) are left out too: they would stop "Thảo Nguyễn" from being put back in order.
def _keys(text: str) -> frozenset[str]:
    return frozenset(text.split())


FAMILY_NAMES: Final = _keys(
    """
    nguyen tran le pham hoang huynh phan vu vo dang bui do ho ngo duong ly dao doan vuong trinh dinh lam phung mai
    to truong ta ha luong luu cao chau chu quach thai tang kieu khuc luc mac nghiem la lai kim giang hua quan trieu
    than tong tu diep dam dong khong khuong lac lo lu hau ong phi pho man mong nong ninh vi au bach be cu can cong
    cung chung doi dau giap han hoa kha lang ma nhu on phuong sam son thach thieu tieu trang tra ung uong vien xa yen
    chuong cat dieu gia tiet danh tan quang banh khuat cam lanh sung mua lau cha phang bac kham leo xa ban
    """
)
# Family names that are almost never given names: only these may trigger the given-name-first reordering.
_ORDER_MARKERS: Final = _keys(
    "nguyen tran le pham huynh phan vu vo dang bui do ngo duong trinh dinh doan truong dao luong"
)
# … as they are spelled: with diacritics, "Dợ", "Dính", "Vư" (H'Mông given names) are not Đỗ, Đinh, Vũ.
_ORDER_MARKER_SPELLINGS: Final = _keys(
    "Nguyễn Trần Lê Phạm Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Ngô Dương Trịnh Đinh Đoàn Trương Đào Lương"
)
# Clans of the Ê Đê, Gia Rai, M'Nông and neighbouring peoples (ASCII keys, multi-word clans by their first word):
# a name ending with one, or starting with one before a Y/H' prefix, follows the clan-last convention.
CLAN_NAMES: Final = _keys(
    """
    nie eban mlo ksor ksu siu nay kpa bya ktla ayun adrong hdok knul eya enuol bkrong kbuor hwing mdrang rcom rmah
    rlan puih kpuih hmok kpor buon rah ro rcham rocham romah rolan bdap ksor kso kpah dlie mja arul kdoh hlong
    """
)
_MIDDLE_MARKERS: Final = frozenset({"van", "thi"})
# Titles (Ông, Bà, Cụ, Anh, Chị, Em, Cô, Bác) by ASCII key, so that a name typed without diacritics reads the same.
# Ông and Cù are also family names; Chú and Bé are left out (Chu and Bế are common family names).
_TITLES: Final = frozenset({"ong", "ba", "cu", "anh", "chi", "em", "co", "bac", "mr", "mrs", "ms", "miss"})
# Titles told from a family name only by their marks: "Cháu" (a grandchild or nephew in a household list) is not the
# family name Châu.
_MARKED_TITLES: Final = frozenset({"cháu"})
_CONSONANTS: Final = frozenset("bcdghklmnpqrstvx")

_NAMEDB: Final = Path(__file__).resolve().parent.parent / "data" / "vietnamese-namedb"


def _given_name_words() -> frozenset[str]:
    words: set[str] = set()
    for path in sorted(_NAMEDB.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            words.update(fold_tone_placement(unicodedata.normalize("NFC", line.replace("Ð", "Đ"))).lower().split())
    return frozenset(words)


GIVEN_NAME_WORDS: Final = _given_name_words()
"""The words of Vietnamese given names with their diacritics, lower case, tones placed as the normalizer places them
(vietnamese-namedb, MIT): "thủy" is one, "tủy" (a dropped h) is not, though both read "tuy" without diacritics."""


def _given_name_keys() -> frozenset[str]:
    return frozenset(ascii_key(word) for word in GIVEN_NAME_WORDS)


GIVEN_NAME_KEYS: Final = _given_name_keys()
"""ASCII keys of the words used in Vietnamese given names (vietnamese-namedb, MIT): two different ones are two
names, not a typing slip ("Trang" and "Trung", "Hương" and "Phương")."""

NAME_CONVENTIONS: Final = ("family_first", "clan_last", "prefix_first")
"""``family_first``: family, middle, given (Kinh, H'Mông, Thái, Hoa, Khmer…); ``clan_last``: prefix Y/H', given,
clan (Ê Đê, Gia Rai, M'Nông); ``prefix_first``: Khmer Chau/Néang + given."""

NAME_PART_COLUMNS: Final = ("norm", *FULL_NAME_PARTS)

_JUNK: Final = r"[^\w'\s]|_|\d"
_JUNK_RE: Final = re.compile(_JUNK)
_QUOTE_CHARS: Final = "’‘`´ʼ′"
_QUOTE_TABLE: Final = str.maketrans(dict.fromkeys(_QUOTE_CHARS, "'"))
# A remark in brackets (an unterminated bracket runs to the end), or a death note at the end of the name.
_BRACKET: Final = r"[(\[{]([^)\]}]*)[)\]}]?"
_BRACKET_RE: Final = re.compile(_BRACKET)
_TAIL: Final = (
    r"(?i)(?:\s+[-–—]\s+(.+)|[\s,;:/-]+((?:đã\s+|da\s+)?(?:chết|từ\s+trần|qua\s+đời|hy\s+sinh|liệt\s+sĩ|chet|tu\s+tran"
    r"|qua\s+doi|hi\s+sinh|liet\s+si)|(?:đã|da)\s+(?:mất|mat)))\s*$"
)
_TAIL_RE: Final = re.compile(_TAIL)
# "H'Hen", "H' Hen", "K'Brèo": the prefix becomes a word of its own.
_APOSTROPHE_PREFIX: Final = r"(?i)\b([hk])'\s*"
_APOSTROPHE_PREFIX_RE: Final = re.compile(_APOSTROPHE_PREFIX)
# Two-word clans whose glued spelling is the usual one: "Ê Ban" → "Êban".
_CLAN_GLUE: Final = r"(?i)\b([êe])\s+(ban|ya|nuôl|nuol)\b"
_CLAN_GLUE_RE: Final = re.compile(_CLAN_GLUE)

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


class _Word(NamedTuple):
    """One word of a name: display and ASCII key, its class (see :func:`_word_class`), and for a glued prefix
    word ("Hhen") the display and key of the given name inside it."""

    display: str
    key: str
    cls: str
    rest_display: str
    rest_key: str


@lru_cache(maxsize=131072)
def _word(raw: str) -> _Word:
    text = unicodedata.normalize("NFC", raw).replace("Ð", "Đ").replace("ð", "đ")
    apostrophe_prefix = len(text) == 2 and text[1] == "'" and text[0] in "HhKk"
    text = text.strip("'")
    if not any(ch.isalpha() for ch in text):
        return _Word("", "", "", "", "")
    if text.isascii():
        decoded = _untelex(text)
        if decoded is not None:
            text = decoded
    display = title_case(fold_tone_placement(text.lower()))
    key = ascii_key(display).replace(" ", "")
    cls = "K" if apostrophe_prefix and key == "k" else _word_class(display, key)
    rest_display = rest_key = ""
    if cls == "G":
        rest_display, rest_key = title_case(display[1:]), key[1:]
    return _Word(display, key, cls, rest_display, rest_key)


def _word_class(display: str, key: str) -> str:
    """One letter per word; :func:`_plan` decides a name's structure from these letters alone.

    Y / H: prefix; G: an H glued to the given name ("Hhen", not a Vietnamese syllable); C: clan; N: Néang;
    c: Chau (Khmer, no diacritics); M: Văn/Thị; m: Van/Thi (see :func:`_resolve_shape`); T: title that is also a
    family name (Ông, Cụ/Cù); U: other title;
    F: family name that marks the order; f: other family name; x: anything else.
    """
    lower = display.lower()
    if key == "y":
        return "Y"
    if key == "h":
        return "H"
    if key in _MIDDLE_MARKERS:
        # "Vân", "Vấn", "Thì" are given names; a bare "Van"/"Thi" is Văn/Thị only in a name without diacritics.
        return "M" if display in ("Văn", "Thị") else "m" if display.isascii() else "x"
    if key in _TITLES:
        return "T" if key in FAMILY_NAMES else "U"
    if lower in _MARKED_TITLES:
        return "U"
    if key in CLAN_NAMES:
        return "C"
    if key == "neang":
        return "N"
    if display == "Chau":
        return "c"
    if (
        len(key) >= 3
        and key[0] == "h"
        and key[1] in _CONSONANTS
        and key.isalpha()
        and not is_vietnamese_syllable(lower)
        and key not in FAMILY_NAMES
    ):
        return "G"
    if key in _ORDER_MARKERS and (display in _ORDER_MARKER_SPELLINGS or display.isascii()):
        return "F"
    if key in FAMILY_NAMES:
        return "f"
    return "x"


_FAMILY_CLASSES: Final = frozenset("FfT")
_PREFIX_CLASSES: Final = frozenset("YHK")
_PREFIX_LABELS: Final = {"Y": "Y", "H": "H'", "K": "K'", "G": "H'", "N": "Néang", "c": "Chau"}
_PREFIX_KEYS: Final = {"Y": "y", "H": "h", "K": "k", "G": "h"}


@dataclass(frozen=True, slots=True)
class _Plan:
    """How a name of a given shape is read. Positions index the name's words (titles and remarks included in
    ``titles``); ``order`` lists the kept words in canonical order; ``prefix`` is the position of the prefix word
    (-1: none), ``split`` whether that word also holds the given name (glued "Hhen")."""

    order: tuple[int, ...]
    family: tuple[int, ...]
    middle: tuple[int, ...]
    given: tuple[int, ...]
    prefix: int
    split: bool
    titles: tuple[int, ...]
    convention: str
    reordered: bool
    prefix_label: str | None
    prefix_key: str


def _resolve_shape(classes: str, all_ascii: bool) -> str:
    """A bare Van/Thi ("m") is the middle name Văn/Thị in a name typed without diacritics, a given name otherwise."""
    return classes.replace("m", "M" if all_ascii else "x")


@lru_cache(maxsize=16384)
def _plan(shape: str) -> _Plan:
    """The structure of a name from the classes of its words (one letter each, see :func:`_word_class`)."""
    positions = list(range(len(shape)))
    titles: list[int] = []
    # 1. Titles in front of a family name, a prefix or a clan ("Ông Nguyễn Văn An", "Bà H'Hen Niê").
    while len(positions) >= 3 and len(titles) < 2:
        first, following, last = shape[positions[0]], shape[positions[1]], shape[positions[-1]]
        if first in "TU" and following in "FfTUYHKGCNc" and last != "M":
            titles.append(positions.pop(0))
        else:
            break
    classes = [shape[p] for p in positions]
    n = len(positions)
    reordered = False

    def plan(
        order: list[int], family: list[int], middle: list[int], given: list[int], prefix: int, split: bool, kind: str
    ) -> _Plan:
        label = _PREFIX_LABELS.get(shape[prefix]) if prefix >= 0 else None
        key = _PREFIX_KEYS.get(shape[prefix], "") if prefix >= 0 and kind == "clan_last" else ""
        return _Plan(
            tuple(order), tuple(family), tuple(middle), tuple(given), prefix, split, tuple(titles), kind, reordered,
            label, key,
        )  # fmt: skip

    # 2. Clan written first, then the prefix ("Niê H'Hen", "Ksor Y Phước", "Rơ Mah H'Ben").
    for i in range(1, n):
        current = classes[i]
        if current in _PREFIX_CLASSES or current == "G":
            before = classes[:i]
            only_clan_words = all(c in "Cx" for c in before)
            # Y never starts a Kinh given name; H and a glued H need a known clan in front.
            clan_first = only_clan_words and (current == "Y" or before[0] == "C")
            if clan_first and (i + 1 < n or current == "G"):
                positions = positions[i:] + positions[:i]
                classes = classes[i:] + classes[:i]
                reordered = True
            break
        if current not in "Cx":
            break
    # 3. Prefix first: Y/H' + given + clan (never ending with Văn/Thị: "Y Nguyễn Thị" is Nguyễn Thị Y written given
    # name first, see 5).
    if n >= 2 and classes[0] in _PREFIX_CLASSES and classes[-1] != "M":
        return plan(positions, positions[2:], [], [positions[1]], positions[0], False, "clan_last")
    if n >= 2 and classes[0] == "G" and (classes[1] == "C" or reordered):
        return plan(positions, positions[1:], [], [positions[0]], positions[0], True, "clan_last")
    # No prefix, clan last ("Blông Niê").
    if n >= 2 and classes[-1] == "C" and classes[0] not in _FAMILY_CLASSES and "M" not in classes:
        return plan(positions, [positions[-1]], [], positions[:-1], -1, False, "clan_last")
    # 4. Khmer Chau/Néang in the family slot.
    if n >= 2 and (classes[0] == "N" or (classes[0] == "c" and classes[1] != "M")):
        return plan(positions, [positions[0]], positions[1:-1], [positions[-1]], positions[0], False, "prefix_first")
    # 5. Given name first: "An Nguyễn Văn", "Thu Hà Nguyễn Thị", "Bình Lò Thị" (a name never ends with Văn/Thị;
    # the family name is a known one, else the word in front of Văn/Thị) …
    if n >= 3 and classes[-1] == "M":
        marker = next((i for i in range(1, n) if classes[i] == "F"), None)
        if marker is None and classes[-2] != "M" and classes[0] not in _FAMILY_CLASSES:
            marker = n - 2
        if marker is not None:
            positions = positions[marker:] + positions[:marker]
            reordered = True
    # … and "An Nguyễn", "Văn An Nguyễn" (the last word is a family name that is never a given name).
    elif n >= 2 and classes[0] not in _FAMILY_CLASSES and classes[-1] == "F":
        positions = [positions[-1], *positions[:-1]]
        reordered = True
    if n <= 1:
        return plan(positions, [], [], positions, -1, False, "family_first")
    return plan(positions, [positions[0]], positions[1:-1], [positions[-1]], -1, False, "family_first")


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
    prefix: str | None = None
    convention: str | None = None
    name_key_glued: str = ""
    remark: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key the name should be found under: full, without middle name, and order-free."""
        order_free = " ".join(sorted(self.name_key.split()))
        return tuple(dict.fromkeys(k for k in (self.name_key, self.name_key_no_middle, order_free) if k))


def _cut_remarks(text: str) -> tuple[str, list[str]]:
    """Text without bracketed remarks and a trailing remark, and the remarks (stripped, in order).

    A comma never belongs to a name: "NGUYEN, VAN AN" (a family name, then the rest, as systems with two name
    fields print them) is one name; otherwise what follows the first comma is a remark ("Nguyễn Văn An, sinh 1990").
    """
    remarks = [m.group(1).strip() for m in _BRACKET_RE.finditer(text)]
    text = _BRACKET_RE.sub(" ", text)
    tail = _TAIL_RE.search(text)
    if tail is not None:
        remarks.append((tail.group(1) or tail.group(2)).strip())
        text = text[: tail.start()]
    if "," in text:
        head, rest = text.split(",", 1)
        if len(head.split()) == 1 and rest.strip() and not any(ch.isdigit() for ch in rest) and "," not in rest:
            text = f"{head} {rest}"
        else:
            remarks.append(rest.strip())
            text = head
    return text, [r for r in remarks if r]


_NAME_PIECE_KEYS: Final = FAMILY_NAMES | GIVEN_NAME_KEYS | {"van", "thi", "a", "mi", "my", "seo"}


def _unglue(word: str) -> str:
    """ "NguyễnVănAn" (a name typed without spaces) → "Nguyễn Văn An": split before each capital that follows a
    small letter, when every piece is a family name or a word of given names ("NguyEn", a slip of the shift key,
    stays as typed)."""
    pieces: list[str] = []
    start = 0
    for i in range(1, len(word)):
        if word[i].isupper() and word[i - 1].islower():
            pieces.append(word[start:i])
            start = i
    if not pieces:
        return word
    pieces.append(word[start:])
    known = all(ascii_key(piece) in _NAME_PIECE_KEYS for piece in pieces)
    return " ".join(pieces) if known else word


def _unglue_text(text: str) -> str:
    return " ".join(_unglue(word) for word in text.split(" "))


def _prepare_text(text: str) -> str:
    text = _APOSTROPHE_PREFIX_RE.sub(lambda m: m.group(1) + "' ", text)
    return _CLAN_GLUE_RE.sub(lambda m: m.group(1) + m.group(2), text)


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def parse_name(s: str | None) -> ParsedName:
    """Parse one full name (any encoding, case, tone placement, word order or naming convention)."""
    original = s or ""
    text, encoding = fix_legacy_encoding(original)
    text = unicodedata.normalize("NFC", text).translate(_QUOTE_TABLE)
    text, remarks = _cut_remarks(text)
    raw_words = [raw for raw in _JUNK_RE.sub(" ", _prepare_text(_unglue_text(text))).split() if _word(raw).cls]
    words = [_word(raw) for raw in raw_words]
    if not words:
        return ParsedName(original, "", "", "", "", "", "", "", "", "", False, encoding, remark=_remark(remarks))
    plan = _plan(_resolve_shape("".join(w.cls for w in words), all(raw.isascii() for raw in raw_words)))
    remark = _remark([words[p].display for p in plan.titles] + remarks)

    def display(p: int) -> str:
        return words[p].rest_display if plan.split and p == plan.prefix else words[p].display

    def key(p: int) -> str:
        return words[p].rest_key if plan.split and p == plan.prefix else words[p].key

    family = " ".join(display(p) for p in plan.family)
    family_key = "".join(key(p) for p in plan.family)
    middle = " ".join(display(p) for p in plan.middle)
    middle_key = " ".join(key(p) for p in plan.middle)
    given = " ".join(display(p) for p in plan.given)
    if plan.convention == "clan_last":
        given_key = "".join(key(p) for p in plan.given)
        label = plan.prefix_label or ""
        head = label + given if label.endswith("'") else _join(label, given)
        full = _join(head, family)
        name_key = _join(plan.prefix_key, " ".join(key(p) for p in plan.given), family_key)
    else:
        given_key = key(plan.given[-1])
        full = _join(family, middle, given)
        name_key = _join(family_key, middle_key, given_key)
    return ParsedName(
        original=original,
        display=full,
        family=family,
        middle=middle,
        given=given,
        name_key=name_key,
        family_key=family_key,
        middle_key=middle_key,
        given_key=given_key,
        name_key_no_middle=_join(family_key, given_key),
        reordered=plan.reordered,
        legacy_encoding=encoding,
        prefix=plan.prefix_label,
        convention=plan.convention,
        name_key_glued=name_key.replace(" ", ""),
        remark=remark,
    )


def _remark(parts: list[str]) -> str | None:
    kept = [p for p in parts if p]
    return "; ".join(kept) if kept else None


def name_key(s: str | None) -> str:
    """ASCII key of a whole name ("nguyen van an"), independent of diacritics, case and tone placement."""
    return parse_name(s).name_key


def name_columns(values: pl.Series, *, already_distinct: bool = False) -> pl.DataFrame:
    """Vectorized :func:`parse_name` over a column: the columns of :data:`NAME_PART_COLUMNS` plus ``legacy``
    (Boolean: the cell was TCVN3/VNI-encoded). Null or empty names give nulls in every name column (``name_remark``
    keeps a remark even then, ``name_reordered`` is False).

    ``already_distinct``: the values are distinct (as :func:`per_distinct_columns` passes them), so they are not
    grouped again.
    """
    if already_distinct:
        return _name_columns_distinct(values.cast(pl.String).clone())
    return per_distinct(values.cast(pl.String), _name_columns_distinct)


_PLAN_SCHEMA: Final = pl.Schema(
    {  # type: ignore[arg-type]  # mypy widens the mixed dtype values to object
        "_shape": pl.String,
        "_family": pl.List(pl.Int64),
        "_middle": pl.List(pl.Int64),
        "_given": pl.List(pl.Int64),
        "_split": pl.Boolean,
        "_titles": pl.List(pl.Int64),
        "name_convention": pl.String,
        "name_reordered": pl.Boolean,
        "name_prefix": pl.String,
        "_prefix_key": pl.String,
    }
)


def _plans(shapes: list[str]) -> pl.DataFrame:
    rows = [
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
        for shape, plan in ((shape, _plan(shape)) for shape in shapes)
    ]
    return pl.DataFrame(rows, schema=_PLAN_SCHEMA, orient="row")


# A name of letters and single spaces only, with no death note and no two-word clan to glue, needs none of the
# clean-up of :func:`_cleaned_words`: its words are what splitting at the spaces gives (most names of a base).
_PLAIN_NAME: Final = r"^\p{L}[^\W\d_]*(?: \p{L}[^\W\d_]*)*$"
# _CLAN_GLUE without its word boundaries (which make the Unicode regex slow): it matches wherever _CLAN_GLUE does.
_CLAN_GLUE_HINT: Final = r"(?i)[êe]\s+(?:ban|ya|nuôl|nuol)"
# _GLUED_CAPITAL_RE without its look-behinds (which Polars' regex lacks): it matches wherever that one splits.
_GLUED_CAPITAL_HINT: Final = r"\p{Ll}\p{Lu}"


def _cleaned_words(text: pl.Series) -> pl.DataFrame:
    """The words of each name (``_raw``), its bracketed remarks (``_brackets``), trailing remark (``_tail``) and
    what follows a comma (``_comma``)."""
    column = pl.col("_text")
    frame = text.alias("_text").to_frame()
    frame = frame.with_columns(
        column.str.extract_all(_BRACKET)
        .list.eval(pl.element().str.replace(_BRACKET, "$1").str.strip_chars().filter(pl.element() != ""))
        .alias("_brackets"),
        column.str.replace_all(_BRACKET, " "),
    )
    frame = frame.with_columns(
        pl.coalesce(column.str.extract(_TAIL, 1), column.str.extract(_TAIL, 2)).str.strip_chars().alias("_tail"),
        column.str.replace(_TAIL, ""),
    )
    # A comma (see _cut_remarks): one family name before it joins the rest; else the rest is a remark.
    parts = column.str.splitn(",", 2)
    head, rest = parts.struct.field("field_0"), parts.struct.field("field_1")
    joined = (
        head.str.strip_chars().str.contains(r"^\S+$") & (rest.str.strip_chars() != "") & ~rest.str.contains(r"[\d,]")
    ).fill_null(False)
    frame = frame.with_columns(
        pl.when(rest.is_not_null() & ~joined).then(rest.str.strip_chars()).alias("_comma"),
        pl.when(rest.is_null()).then(column).when(joined).then(head + " " + rest).otherwise(head).alias("_text"),
    )
    glued = frame.get_column("_text").str.contains(_GLUED_CAPITAL_HINT).fill_null(False)
    if glued.any():
        rows = glued.arg_true()
        texts = frame.get_column("_text").gather(rows)
        unglued = texts.replace_strict({t: _unglue_text(t) for t in texts.unique().to_list()}, return_dtype=pl.String)
        frame = frame.with_columns(replaced_at(frame.get_column("_text"), rows, unglued))
    return frame.select(
        column.str.replace_all(_APOSTROPHE_PREFIX, "$1' ")
        .str.replace_all(_CLAN_GLUE, "$1$2")
        .str.replace_all(_JUNK, " ")
        .str.extract_all(r"\S+")
        .alias("_raw"),
        "_brackets",
        "_tail",
        "_comma",
    )


def _name_columns_distinct(values: pl.Series) -> pl.DataFrame:
    fixed, legacy = fix_legacy_series(values)
    # New series from here on: never scatter into the caller's values (they are the distinct values of a join).
    text = nfc_series(fixed).str.replace_all(f"[{_QUOTE_CHARS}]", "'")
    plain = (
        text.str.contains(_PLAIN_NAME)
        & ~text.str.contains(_TAIL)
        & ~text.str.contains(_CLAN_GLUE_HINT)
        & ~text.str.contains(_GLUED_CAPITAL_HINT)
    ).fill_null(False)
    # Only the other names go through the clean-up; their remarks are kept beside their row numbers, their words
    # (those with a letter) are written back space-separated, so that one split gives every row its words.
    other_rows = (~plain).arg_true()
    cleaned = _cleaned_words(text.gather(other_rows))
    kept = {w for w in cleaned.get_column("_raw").explode().drop_nulls().unique().to_list() if _word(w).cls}
    rewritten = cleaned.select(
        pl.col("_raw").list.eval(pl.element().filter(pl.element().is_in(list(kept)))).list.join(" ")
    ).to_series()
    text = replaced_at(text, other_rows, pl.select(pl.when(rewritten != "").then(rewritten)).to_series())
    frame = pl.DataFrame({"_w": text.str.split(" ").fill_null(pl.lit([], dtype=pl.List(pl.String))), "legacy": legacy})

    info = {w: _word(w) for w in frame.get_column("_w").explode().drop_nulls().unique().to_list()}
    if any(not i.cls for i in info.values()):  # a word without a letter that the plain-name test let through
        info = {w: i for w, i in info.items() if i.cls}
        frame = frame.with_columns(pl.col("_w").list.eval(pl.element().filter(pl.element().is_in(list(info)))))

    def each_word(field: str) -> pl.Expr:
        lookup = {w: getattr(i, field) for w, i in info.items()}
        return pl.col("_w").list.eval(pl.element().replace_strict(lookup, return_dtype=pl.String))

    frame = frame.with_columns(
        each_word("cls").list.join("").alias("_shape"),
        each_word("display").alias("_wd"),
        each_word("key").alias("_wk"),
    )
    # A bare Van/Thi ("m") is Văn/Thị only in a name typed without diacritics (:func:`_resolve_shape`); only the
    # few names holding one are looked at.
    bare_rows = frame.get_column("_shape").str.contains("m", literal=True).arg_true()
    if bare_rows.len():
        bare = frame.select("_shape", "_w")[bare_rows].select(
            pl.when(pl.col("_w").list.join("").str.contains(r"^[\x00-\x7f]*$"))
            .then(pl.col("_shape").str.replace_all("m", "M", literal=True))
            .otherwise(pl.col("_shape").str.replace_all("m", "x", literal=True))
        )
        frame = frame.with_columns(replaced_at(frame.get_column("_shape"), bare_rows, bare.to_series()))
    shapes, (shape_codes,) = distinct_codes([frame.get_column("_shape")])
    frame = pl.concat([frame, _plans(shapes.to_list()).drop("_shape").gather(shape_codes)], how="horizontal")

    def part(words: str, positions: str, separator: str) -> pl.Expr:
        return pl.col(words).list.gather(pl.col(positions)).list.join(separator)

    frame = frame.with_columns(
        part("_wd", "_family", " ").alias("family_name"),
        part("_wk", "_family", "").alias("family_key"),
        part("_wd", "_middle", " ").alias("middle_name"),
        part("_wk", "_middle", " ").alias("middle_key"),
        part("_wd", "_given", " ").alias("given_name"),
        part("_wk", "_given", " ").alias("_given_spaced"),
    )
    # A glued prefix word ("Hhen") is the whole given part of its name: the given name is what follows the H.
    split = frame.get_column("_split")
    if split.any():
        glued = frame.filter(split).select(
            pl.col("_w").list.gather(pl.col("_given")).alias("_g"),
            pl.col("given_name"),
            pl.col("_given_spaced"),
        )
        glued = glued.with_columns(
            pl.col("_g")
            .list.eval(pl.element().replace_strict({w: i.rest_display for w, i in info.items()}))
            .list.join(" ")
            .alias("given_name"),
            pl.col("_g")
            .list.eval(pl.element().replace_strict({w: i.rest_key for w, i in info.items()}))
            .list.join(" ")
            .alias("_given_spaced"),
        )
        rows = split.arg_true()
        frame = frame.with_columns(
            replaced_at(frame.get_column(c), rows, glued.get_column(c)) for c in ("given_name", "_given_spaced")
        )

    clan = pl.col("name_convention") == "clan_last"
    label = pl.col("name_prefix").fill_null("")
    head = (
        pl.when(label.str.ends_with("'"))
        .then(label + pl.col("given_name"))
        .otherwise(_space_join(label, pl.col("given_name")))
    )
    # Each shared expression is computed once (an eager select does not share common subexpressions).
    frame = frame.with_columns(
        pl.when(clan)
        .then(_space_join(head, pl.col("family_name")))
        .otherwise(_space_join(pl.col("family_name"), pl.col("middle_name"), pl.col("given_name")))
        .alias("_display"),
        pl.when(clan)
        .then(pl.col("_given_spaced").str.replace_all(" ", "", literal=True))
        .otherwise(pl.col("_given_spaced").str.extract(r"(\S*)$"))
        .alias("_given_key"),
        pl.when(clan)
        .then(_space_join(pl.col("_prefix_key"), pl.col("_given_spaced"), pl.col("family_key")))
        .otherwise(_space_join(pl.col("family_key"), pl.col("middle_key"), pl.col("_given_spaced")))
        .alias("_key"),
    )
    empty = pl.col("_w").list.len() == 0

    def unless_empty(expr: pl.Expr) -> pl.Expr:
        return pl.when(empty).then(pl.lit(None, dtype=pl.String)).otherwise(expr)

    out = frame.select(
        unless_empty(pl.col("_display")).alias("norm"),
        unless_empty(pl.col("family_name")).alias("family_name"),
        unless_empty(pl.col("middle_name")).alias("middle_name"),
        unless_empty(pl.col("given_name")).alias("given_name"),
        unless_empty(pl.col("_key")).alias("name_key"),
        unless_empty(pl.col("family_key")).alias("family_key"),
        unless_empty(pl.col("middle_key")).alias("middle_key"),
        unless_empty(pl.col("_given_key")).alias("given_key"),
        unless_empty(_space_join(pl.col("family_key"), pl.col("_given_key"))).alias("name_key_no_middle"),
        unless_empty(pl.col("_key").str.replace_all(" ", "", literal=True)).alias("name_key_glued"),
        pl.when(empty).then(None).otherwise(pl.col("name_prefix")).alias("name_prefix"),
        pl.when(empty).then(None).otherwise(pl.col("name_convention")).alias("name_convention"),
        pl.when(empty).then(False).otherwise(pl.col("name_reordered")).alias("name_reordered"),
        _remarks(frame, other_rows, cleaned, info).alias("name_remark"),
        "legacy",
    )
    return out.select(*NAME_PART_COLUMNS, "legacy")


def _remarks(frame: pl.DataFrame, other_rows: pl.Series, cleaned: pl.DataFrame, info: dict[str, _Word]) -> pl.Series:
    """``name_remark`` per row: titles cut off in front, then bracketed, trailing and after-comma remarks,
    "; "-joined.

    Only rows with a title or that went through the clean-up can have one; the others are null without work.
    """
    titled = frame.select(pl.col("_titles").list.len() > 0).to_series().arg_true()
    rows = pl.concat([titled, other_rows.cast(titled.dtype)]).unique().sort()
    remarks = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    if rows.len() == 0:
        return remarks
    extra = pl.DataFrame(
        {
            "_row": other_rows.cast(rows.dtype),
            "_brackets": cleaned["_brackets"],
            "_tail": cleaned["_tail"],
            "_comma": cleaned["_comma"],
        }
    )
    subset = (
        frame.select("_w", "_titles")
        .gather(rows)
        .with_columns(rows.alias("_row"))
        .join(extra, on="_row", how="left", maintain_order="left")
    )
    display_map = {w: i.display for w, i in info.items()}
    title_words = (
        pl.col("_w")
        .list.gather(pl.col("_titles"))
        .list.eval(pl.element().replace_strict(display_map, return_dtype=pl.String))
    )
    brackets = pl.col("_brackets").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    parts = pl.concat_list(title_words, brackets, pl.concat_list(pl.col("_tail")), pl.concat_list(pl.col("_comma")))
    remark = parts.list.drop_nulls().list.eval(pl.element().filter(pl.element() != ""))
    found = subset.select(pl.when(remark.list.len() > 0).then(remark.list.join("; "))).to_series()
    return replaced_at(remarks, rows, found)


def _space_join(*parts: pl.Expr) -> pl.Expr:
    """Non-empty parts joined with one space (empty string when all are empty)."""
    kept = [pl.when(p != "").then(p) for p in parts]
    return pl.concat_str(kept, separator=" ", ignore_nulls=True)


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
