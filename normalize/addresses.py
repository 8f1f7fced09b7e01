"""Free-text Vietnamese addresses resolved to the official codes of the current (post-2025) units.

Addresses come in two generations. The old form has three tiers ("Số 12 ngõ 34 Khâm Thiên, P. Thổ Quan, Q. Đống
Đa, TP. Hà Nội"); the new form, since 2025-07-01, has two ("25 Lê Lợi, Phường Ba Đình, Thành phố Hà Nội"). Both
come abbreviated (P., Q., TX., TP., HN, tp hcm, TP.HCM), without diacritics, in capitals, without the province, or
in another order. An old ward maps to one current ward, or was split between several: a split ward cannot be
placed without surveying the street, so it is returned with every candidate and status ``ambiguous`` (it becomes
a correction task), never silently guessed.

Matching is on codes from :mod:`normalize.units` (offline data of ``vietnamadminunits``), through name keys that
ignore diacritics, case and spacing, with diacritics used again only to tell apart names that collide without them
(Tân Thành / Tân Thạnh).

Resolution is split in two so it can run on a million rows: the street segments of an address (house numbers,
ngõ, thôn, tổ ... which make almost every address distinct) are recognized by one regular expression that Polars
evaluates in bulk, and only the administrative remainder, shared by thousands of records, goes through the
resolver, once per distinct value.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Final, NamedTuple

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

from normalize import units
from normalize.text import (
    ascii_key,
    distinct_codes,
    fix_legacy_encoding,
    fix_legacy_series,
    fold_tone_placement,
    nfc_series,
    normalize_text,
    paused_gc,
    per_distinct,
    replaced_at,
    title_case,
)

__all__ = [
    "ADDRESS_PART_COLUMNS",
    "ADMIN_WORD_PATTERN",
    "STREET_SEGMENT_PATTERN",
    "ResolvedAddress",
    "address_columns",
    "resolve_address",
]

ADDRESS_PART_COLUMNS: Final = (
    "norm",
    "street",
    "ward_code",
    "province_code",
    "legacy_ward_code",
    "status",
    "candidates",
)

# A segment is "street" (below the ward: house number, lane, hamlet, residential group) when it starts with a
# digit or a street word and carries no administrative word. The same two patterns run in Python (re) and in
# Polars (Rust regex), so both paths cut an address identically.
STREET_SEGMENT_PATTERN: Final = (
    r"(?i)^(?:\d|(?:số|so|sn|nhà|nha|ngõ|ngo|ngách|ngach|hẻm|hem|kiệt|kiet|đường|duong|phố|pho|tổ|to|thôn|thon|xóm|"
    r"xom|ấp|ap|khu phố|khu pho|khu|kp|tdp|tổ dân phố|to dan pho|km|lô|lo|căn hộ|can ho|chung cư|chung cu|tòa|toa|"
    r"tầng|tang|bản|ban|buôn|buon|làng|khối|khoi|khóm|khom|quốc lộ|quoc lo|ql|tỉnh lộ|tinh lo|đại lộ|dai lo|đội|"
    r"doi|cụm|cum)(?:[\s.,:/-]|\d|$))"
)
ADMIN_WORD_PATTERN: Final = (
    r"(?i)(?:^|[\s.,])(?:phường|phuong|xã|quận|huyện|huyen|thị trấn|thi tran|thị xã|thi xa|thành phố|thanh pho|"
    r"tỉnh|tinh|đặc khu|dac khu|tp|tx|tt|p|q|f)(?:[\s.]|\d|$)"
)
# A provincial road ("Tỉnh lộ 31", "TINH LO 5") names a road, not a province.
_PROVINCIAL_ROAD: Final = r"(?i)t[iỉ]nh\s+l[oộ]\b"
_STREET_RE: Final = re.compile(STREET_SEGMENT_PATTERN)
_MARK: Final = "\x01"
_ADMIN_WORD_RE: Final = re.compile(ADMIN_WORD_PATTERN)
_PROVINCIAL_ROAD_RE: Final = re.compile(_PROVINCIAL_ROAD)

# --- Administrative words --------------------------------------------------------------------------------------

_WARD, _DISTRICT, _CITY, _PROVINCE = "ward", "district", "city", "province"
# ASCII token sequences that open a segment, with the level they name and the unit type they imply.
_PREFIXES: Final[tuple[tuple[tuple[str, ...], str, str | None], ...]] = (
    (("thi", "tran"), _WARD, "Thị trấn"),
    (("thi", "xa"), _DISTRICT, "Thị xã"),
    (("thanh", "pho"), _CITY, "Thành phố"),
    (("dac", "khu"), _WARD, "Đặc khu"),
    (("t", "p"), _CITY, "Thành phố"),
    (("phuong",), _WARD, "Phường"),
    (("xa",), _WARD, "Xã"),
    (("quan",), _DISTRICT, "Quận"),
    (("huyen",), _DISTRICT, "Huyện"),
    (("tinh",), _PROVINCE, None),
    (("tp",), _CITY, "Thành phố"),
    (("tx",), _DISTRICT, "Thị xã"),
    (("tt",), _WARD, "Thị trấn"),
    (("dk",), _WARD, "Đặc khu"),
    (("p",), _WARD, "Phường"),
    (("ph",), _WARD, "Phường"),
    (("f",), _WARD, "Phường"),
    (("x",), _WARD, "Xã"),
    (("q",), _DISTRICT, "Quận"),
    (("h",), _DISTRICT, "Huyện"),
    (("t",), _PROVINCE, None),
)
_PREFIXES_BY_FIRST: Final[dict[str, list[tuple[tuple[str, ...], str, str | None]]]] = {}
for _prefix in _PREFIXES:
    _PREFIXES_BY_FIRST.setdefault(_prefix[0][0], []).append(_prefix)
_SPLIT_WORDS_ACCENTED: Final = frozenset({"phường", "xã", "quận", "huyện", "tỉnh", "thị", "thành", "đặc"})
_SPLIT_WORDS_ASCII: Final = frozenset({"phuong", "xa", "quan", "huyen", "tinh", "thi", "thanh", "dac"})
_SPLIT_ABBREVIATIONS: Final = frozenset({"p", "q", "f", "x", "h", "tp", "tx", "tt", "t.p"})
_SECOND_WORD: Final = {
    "thị": {"trấn", "xã"},
    "thành": {"phố"},
    "đặc": {"khu"},
    "thi": {"tran", "xa"},
    "thanh": {"pho"},
    "dac": {"khu"},
}

# Everyday names of provinces (compact ASCII keys) that are not derived from the official names.
_PROVINCE_ALIASES: Final = {
    "hn": "hanoi",
    "hanoicity": "hanoi",
    "hcm": "hochiminh",
    "tphcm": "hochiminh",
    "hcmc": "hochiminh",
    "tphochiminh": "hochiminh",
    "saigon": "hochiminh",
    "sg": "hochiminh",
    "tpsg": "hochiminh",
    "hp": "haiphong",
    "brvt": "bariavungtau",
    "thuathienhue": "hue",
    "tth": "hue",
    "daclac": "daklak",
    "daclak": "daklak",
    "daknong": "daknong",
    "dacnong": "daknong",
    "baccan": "backan",
    "kontum": "kontum",
    "dongnai": "dongnai",
    "hoabinh": "hoabinh",
}


def _compact(tokens: Iterable[str]) -> str:
    return "".join(str(int(t)) if t.isdecimal() else t for t in tokens)


def _accent_compact(text: str) -> str:
    folded = fold_tone_placement(unicodedata.normalize("NFC", text).replace("Ð", "Đ")).lower()
    return "".join(str(int(t)) if t.isdecimal() else t for t in re.findall(r"\d+|[^\W\d_]+", folded))


def _bare_name(short: str, unit_type: str) -> str:
    """The name without its type word or the source's disambiguation: "Quận 1" → "1", "Long Mỹ (Thị xã)" →
    "Long Mỹ"."""
    short = re.sub(r"\s*\([^)]*\)$", "", short)
    return short[len(unit_type) + 1 :] if short.startswith(unit_type + " ") else short


# --- Indexes over the official tables --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Unit:
    code: str
    unit_type: str
    accent: str  # accent-aware compact key of the bare name


@dataclass(slots=True)
class _Index:
    province_alias: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    current_province_name: dict[str, str] = field(default_factory=dict)
    legacy_to_current_province: dict[str, str] = field(default_factory=dict)
    merged_legacy_provinces: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    current_wards: dict[tuple[str, str], list[_Unit]] = field(default_factory=lambda: defaultdict(list))
    current_wards_any: dict[str, list[tuple[str, _Unit]]] = field(default_factory=lambda: defaultdict(list))
    current_ward_info: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (ward name, province)
    current_pool: dict[str, dict[str, list[_Unit]]] = field(default_factory=lambda: defaultdict(dict))
    districts: dict[tuple[str, str], list[_Unit]] = field(default_factory=lambda: defaultdict(list))
    districts_any: dict[str, list[tuple[str, _Unit]]] = field(default_factory=lambda: defaultdict(list))
    legacy_wards: dict[tuple[str, str], list[_Unit]] = field(default_factory=lambda: defaultdict(list))
    legacy_wards_by_province: dict[tuple[str, str], list[_Unit]] = field(default_factory=lambda: defaultdict(list))
    legacy_pool: dict[str, dict[str, list[_Unit]]] = field(default_factory=lambda: defaultdict(dict))
    legacy_successors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    legacy_province_of_ward: dict[str, str] = field(default_factory=dict)


@cache
def _index() -> _Index:
    index = _Index()
    for row in units.current_provinces().iter_rows(named=True):
        index.current_province_name[row["province_code"]] = normalize_text(row["province_name"])
    legacy = units.legacy_provinces()
    for row in legacy.iter_rows(named=True):
        index.legacy_to_current_province[row["legacy_province_code"]] = row["current_province_code"]
        index.merged_legacy_provinces[row["current_province_code"]].append(row["legacy_province_code"])
    current_by_key = {
        _compact(ascii_key(r["province_short"]).split()): r["province_code"]
        for r in units.current_provinces().iter_rows(named=True)
    }
    for row in legacy.iter_rows(named=True):
        key = _compact(ascii_key(row["province_short"]).split())
        current = current_by_key.get(key, row["current_province_code"])
        for alias in (key, _compact(ascii_key(row["province_name"]).split())):
            index.province_alias[alias] = (row["legacy_province_code"], current)
    for key, code in current_by_key.items():
        index.province_alias.setdefault(key, (None, code))
    for alias, target in _PROVINCE_ALIASES.items():
        if target in index.province_alias:
            index.province_alias.setdefault(alias, index.province_alias[target])

    for row in units.current_wards().iter_rows(named=True):
        bare = _bare_name(row["ward_short"], row["ward_type"])
        unit = _Unit(row["ward_code"], row["ward_type"], _accent_compact(bare))
        key = _compact(ascii_key(bare).split())
        index.current_wards[(row["province_code"], key)].append(unit)
        index.current_wards_any[key].append((row["province_code"], unit))
        index.current_pool[row["province_code"]].setdefault(key, []).append(unit)
        index.current_ward_info[row["ward_code"]] = (normalize_text(row["ward_name"]), row["province_code"])

    seen_districts: set[str] = set()
    for row in units.legacy_wards().iter_rows(named=True):
        province = row["legacy_province_code"]
        if row["district_code"] not in seen_districts:
            seen_districts.add(row["district_code"])
            bare = _bare_name(row["district_short"], row["district_type"])
            unit = _Unit(row["district_code"], row["district_type"], _accent_compact(bare))
            key = _compact(ascii_key(bare).split())
            index.districts[(province, key)].append(unit)
            index.districts_any[key].append((province, unit))
        bare = _bare_name(row["ward_short"], row["ward_type"])
        unit = _Unit(row["legacy_ward_code"], row["ward_type"], _accent_compact(bare))
        key = _compact(ascii_key(bare).split())
        index.legacy_wards[(row["district_code"], key)].append(unit)
        index.legacy_wards_by_province[(province, key)].append(unit)
        index.legacy_pool[row["district_code"]].setdefault(key, []).append(unit)
        index.legacy_successors[row["legacy_ward_code"]] = tuple(row["current_ward_codes"])
        index.legacy_province_of_ward[row["legacy_ward_code"]] = province
    return index


# --- Segments --------------------------------------------------------------------------------------------------


# A named tuple, not a frozen dataclass: one is built per distinct segment and each is hashed to get its number
# (:func:`_segment_id`), both cheaper for a tuple.
class _Segment(NamedTuple):
    text: str
    level: str | None  # level named by the segment's type word, if any
    unit_type: str | None
    key: str  # compact ASCII key of the name after the type word
    inner_key: str  # after a second type word of the same level ("Q. Quận 3" → "3"), else ""
    whole_key: str  # compact ASCII key of the whole segment
    accent: str  # accent-aware compact key of the whole segment
    street: bool


_ABBREVIATION_DOT: Final = re.compile(r"(?i)\b(t\.p|tp|tx|tt|p|q|f|x|h)\.(?=\S)")
_GLUED_NUMBER: Final = re.compile(r"(?i)\b(p|q|f)(\d{1,2})\b")


def _tidy(text: str) -> str:
    if "." in text:
        text = _ABBREVIATION_DOT.sub(r"\g<0> ", text)
    return _GLUED_NUMBER.sub(r"\1 \2", text)


def _make_segment(text: str) -> _Segment:
    tokens = ascii_key(text).split()
    level: str | None = None
    unit_type: str | None = None
    rest = tokens
    for prefix, prefix_level, prefix_type in _PREFIXES_BY_FIRST.get(tokens[0] if tokens else "", ()):
        if len(tokens) > len(prefix) and tuple(tokens[: len(prefix)]) == prefix:
            level, unit_type, rest = prefix_level, prefix_type, tokens[len(prefix) :]
            break
    inner: list[str] = []
    for prefix, prefix_level, _ in _PREFIXES_BY_FIRST.get(rest[0] if rest and level else "", ()):
        same_level = prefix_level == level and len(prefix[0]) > 1
        if same_level and len(rest) > len(prefix) and tuple(rest[: len(prefix)]) == prefix:
            inner = rest[len(prefix) :]
            break
    return _Segment(
        text=text,
        level=level,
        unit_type=unit_type,
        key=_compact(rest),
        inner_key=_compact(inner),
        whole_key=_compact(tokens),
        accent=_accent_compact(text),
        street=_is_street(text),
    )


def _is_street(segment: str) -> bool:
    return bool(_STREET_RE.search(segment)) and not _ADMIN_WORD_RE.search(_PROVINCIAL_ROAD_RE.sub("lộ", segment))


@lru_cache(maxsize=65536)
def _split_inner(text: str) -> tuple[str, ...]:
    """Cut a segment that holds several units ("xom 3 Xa Van Phuc Huyen Thanh Tri Ha Noi") before each type word."""
    words = text.split()
    accented = not text.isascii()
    pieces: list[list[str]] = [[]]
    for i, word in enumerate(words):
        lower = word.lower().rstrip(".")
        is_type = (lower in _SPLIT_WORDS_ACCENTED if accented else lower in _SPLIT_WORDS_ASCII) or (
            lower in _SPLIT_ABBREVIATIONS and (word.endswith(".") or word.isupper())
        )
        if lower in _SECOND_WORD:
            following = words[i + 1].lower() if i + 1 < len(words) else ""
            is_type = is_type and following in _SECOND_WORD[lower]
        if is_type and pieces[-1] and i + 1 < len(words):
            pieces.append([])
        pieces[-1].append(word)
    merged: list[list[str]] = []
    for piece in pieces:
        # A piece that is only a type word was a syllable of the previous name ("Phúc Xá", "Thổ Quan").
        if merged and len(piece) == 1:
            merged[-1].extend(piece)
        else:
            merged.append(piece)
    return tuple(" ".join(p) for p in merged if p)


@lru_cache(maxsize=65536)
def _province_tail(text: str) -> tuple[str, ...]:
    return tuple(_split_province_tail_uncached(text))


def _split_province_tail_uncached(text: str) -> list[str]:
    """Cut a trailing province name written without a comma ("Q Dong Da Ha Noi" → "Q Dong Da", "Ha Noi").

    Not when what would stay in front is only a type word ("Tỉnh Điện Biên", "H. Hòa Bình": the name belongs to
    that word) or ends in a dash ("Bà Rịa - Vũng Tàu").
    """
    words = text.split()
    aliases = _index().province_alias
    for size in (4, 3, 2, 1):
        if len(words) > size:
            head, tail = words[:-size], words[-size:]
            if _compact(ascii_key(" ".join(tail)).split()) not in aliases:
                continue
            head_tokens = ascii_key(" ".join(head)).split()
            only_type = any(tuple(head_tokens) == prefix for prefix, _, _ in _PREFIXES)
            if only_type or head[-1].endswith(("-", "–")):
                return [text]
            return [" ".join(head), " ".join(tail)]
    return [text]


@lru_cache(maxsize=131072)
def _comma_segment(segment: str) -> tuple[str, tuple[str, ...]]:
    """One comma-separated segment cleaned up, and its pieces when other segments stand beside it (a long one is
    cut before each type word). Cached: a province or a district segment is shared by thousands of addresses."""
    tidied = _tidy(segment).strip()
    return tidied, _split_inner(tidied) if tidied.count(" ") >= 4 else (tidied,)


def _pieces(admin_text: str) -> list[str]:
    """The segment texts of an administrative part: cut at commas, inside long segments before each type word,
    and before a trailing province name."""
    if ";" in admin_text or "|" in admin_text or "\n" in admin_text:
        text = _tidy(admin_text)
        raw = [s.strip() for s in re.split(r"[,;|\n]+", text) if s.strip()]
        pieces: list[str] = []
        for segment in raw:
            pieces.extend(_split_inner(segment) if len(raw) == 1 or segment.count(" ") >= 4 else (segment,))
    else:
        # Cut at commas only: the clean-up never crosses a comma (a space it would add before one is stripped), so
        # each segment is cleaned up and cut once, however many addresses share it (a province, a district).
        cut = [c for c in map(_comma_segment, admin_text.split(",")) if c[0]]
        # A segment alone is always cut before its type words.
        pieces = list(_split_inner(cut[0][0])) if len(cut) == 1 else [piece for _, inner in cut for piece in inner]
    if pieces:
        pieces[-1:] = _province_tail(pieces[-1])
    return pieces


# --- Resolution ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResolvedAddress:
    """An address resolved to current units.

    ``status``: ``resolved`` (exactly one current ward), ``ambiguous`` (several candidates: a split old ward, or a
    name that several units share), ``unresolved`` (no unit found), or ``None`` for empty text.
    """

    original: str
    normalized: str | None
    status: str | None
    ward_code: str | None
    province_code: str | None
    legacy_ward_code: str | None
    candidates: tuple[str, ...]
    street: str | None
    form: str | None  # "current" (post-2025 text) / "legacy" (pre-2025 text) / None
    legacy_encoding: str | None = None


# Internal results are named tuples, not frozen dataclasses: one is built per distinct text, and a frozen
# dataclass's __init__ sets every field through object.__setattr__.
class _AdminResult(NamedTuple):
    display: str
    status: str
    ward_code: str | None
    province_code: str | None
    legacy_ward_code: str | None
    candidates: tuple[str, ...]
    residual_street: str
    form: str | None


def _filter_type(found: list[_Unit], segment: _Segment) -> list[_Unit]:
    if segment.unit_type is not None:
        typed = [u for u in found if u.unit_type == segment.unit_type]
        if typed:
            found = typed
    if len({u.code for u in found}) > 1:
        accented = [u for u in found if segment.accent.endswith(u.accent)]
        if accented:
            found = accented
    unique: dict[str, _Unit] = {u.code: u for u in found}
    return list(unique.values())


def _keys(segment: _Segment) -> list[str]:
    keys = [segment.key, segment.inner_key] if segment.level is not None else []
    if segment.whole_key not in keys:
        keys.append(segment.whole_key)
    return [k for k in keys if k]


def _fuzzy(segment: _Segment, pool: dict[str, list[_Unit]]) -> list[_Unit]:
    """Typo-tolerant match inside a small pool (one province's or one district's units), unique best only."""
    query = segment.key if segment.level is not None else segment.whole_key
    if len(query) < 4 or not pool:
        return []
    best = process.extract(query, list(pool), scorer=fuzz.ratio, limit=2, score_cutoff=85)
    if not best or (len(best) == 2 and best[1][1] >= best[0][1] - 3):
        return []
    return pool[best[0][0]]


def _find_province(segments: Sequence[_Segment]) -> tuple[int | None, str | None, str | None]:
    alias = _index().province_alias
    for i in range(len(segments) - 1, -1, -1):
        segment = segments[i]
        if segment.street or segment.level in (_WARD, _DISTRICT):
            continue
        for key in _keys(segment):
            if key in alias:
                legacy, current = alias[key]
                return i, legacy, current
    return None, None, None


class _Core(NamedTuple):
    """What resolution decides from the segments' keys alone (their texts only matter for the display)."""

    status: str
    candidates: tuple[str, ...]
    province: str | None
    legacy_ward: str | None
    ward_index: int | None
    form: str | None
    used: frozenset[int]


def _result(
    status: str,
    codes: Iterable[str],
    province: str | None,
    legacy_ward: str | None,
    segments: Sequence[_Segment],
    ward_index: int | None,
    admin_text: str,
    form: str | None,
    used: frozenset[int] = frozenset(),
) -> _Core:
    index = _index()
    candidates = tuple(sorted(set(codes)))
    provinces = {index.current_ward_info[c][1] for c in candidates if c in index.current_ward_info}
    if len(provinces) == 1:
        province = next(iter(provinces))
    return _Core(status, candidates, province, legacy_ward, ward_index, form, used)


def _render(core: _Core, pieces: Sequence[str], admin_text: str) -> _AdminResult:
    """The display of a resolution: official names when resolved, the cleaned text otherwise."""
    index = _index()
    residual = ""
    if core.ward_index:  # (a ward at 0 has nothing before it)
        # Whatever stands before the ward and is not a unit (house, lane, hamlet) is the street part.
        residual = ", ".join(normalize_text(p) for i, p in enumerate(pieces[: core.ward_index]) if i not in core.used)
    candidates = core.candidates
    if core.status == "resolved" and len(candidates) == 1:
        ward_name, ward_province = index.current_ward_info[candidates[0]]
        parts = [residual, ward_name, index.current_province_name[ward_province]]
        return _AdminResult(
            ", ".join(p for p in parts if p),
            "resolved",
            candidates[0],
            ward_province,
            core.legacy_ward,
            candidates,
            residual,
            core.form,
        )
    status = "ambiguous" if len(candidates) > 1 else "unresolved"
    return _AdminResult(
        normalize_text(admin_text), status, None, core.province, core.legacy_ward, candidates, residual, core.form
    )


def _from_legacy(
    units_found: list[_Unit], segments: Sequence[_Segment], ward_index: int, admin_text: str, used: frozenset[int]
) -> _Core:
    index = _index()
    if len(units_found) == 1:
        legacy_code = units_found[0].code
        successors = index.legacy_successors.get(legacy_code, ())
        status = "resolved" if len(successors) == 1 else "ambiguous"
        return _result(status, successors, None, legacy_code, segments, ward_index, admin_text, "legacy", used)
    # Several old wards share the name (no district given): every successor is a candidate.
    every = [c for u in units_found for c in index.legacy_successors.get(u.code, ())]
    return _result("ambiguous", every, None, None, segments, ward_index, admin_text, "legacy", used)


@lru_cache(maxsize=262144)
def _resolve_admin(admin_text: str) -> _AdminResult:
    """Resolve the administrative part of an address (no street segments left in front, except as residual)."""
    pieces = _pieces(admin_text)
    core = _core_of(tuple(map(_segment_id, pieces)))
    return _render(core, pieces, admin_text)


# Keyed segments are interned as small integers so that a resolution is looked up by a tuple of ints (cheap to
# hash) rather than by a tuple of dataclasses.
_SEGMENT_IDS: Final[dict[_Segment, int]] = {}
_SEGMENTS_BY_ID: Final[list[_Segment]] = []


_SEGMENT_IDS_LOCK: Final = threading.Lock()


@lru_cache(maxsize=262144)
def _segment_id(text: str) -> int:
    """The number of the segment of ``text`` without its text (what resolution reads): the same for every
    spelling the keys do not tell apart. Cached per text, so each distinct piece is cut into keys once."""
    keyed = _Segment("", *_make_segment(text)[1:])
    found = _SEGMENT_IDS.get(keyed)
    if found is None:
        with _SEGMENT_IDS_LOCK:  # two threads must never give two segments one number
            found = _SEGMENT_IDS.get(keyed)
            if found is None:
                found = _SEGMENT_IDS[keyed] = len(_SEGMENTS_BY_ID)
                _SEGMENTS_BY_ID.append(keyed)
    return found


@lru_cache(maxsize=262144)
def _core_of(ids: tuple[int, ...]) -> _Core:
    return _resolve_core(tuple(_SEGMENTS_BY_ID[i] for i in ids))


def _resolve_core(segments: tuple[_Segment, ...]) -> _Core:
    """Resolution from the segments' keys only. Texts that differ only in what the keys ignore (case, spacing,
    punctuation, an abbreviation's dot) share one resolution: a million addresses have far fewer key sequences
    than spellings."""
    index = _index()
    admin_text = ""  # never read: the display is rendered afterwards from the real texts
    province_at, legacy_province, current_province = _find_province(segments)
    used = frozenset({province_at} if province_at is not None else set())
    others = [i for i in range(len(segments) - 1, -1, -1) if i != province_at and not segments[i].street]
    # The old provinces merged into the named one are searched too (new-form province, old-form district).
    legacy_provinces: list[str] | None = None
    if current_province:
        merged = index.merged_legacy_provinces.get(current_province, [])
        legacy_provinces = [p for p in [legacy_province, *merged] if p]
        legacy_provinces = list(dict.fromkeys(legacy_provinces))

    # 1. Old form: a district, then a ward inside it.
    district_at: int | None = None
    districts: list[tuple[str, _Unit]] = []
    order = others + ([province_at] if province_at is not None else [])
    for i in order:
        segment = segments[i]
        if segment.level in (_WARD, _PROVINCE) or (i == province_at and segment.level not in (_CITY, None)):
            continue
        for key in _keys(segment):
            if legacy_provinces is not None:
                named = [(p, u) for p in legacy_provinces for u in index.districts.get((p, key), [])]
            else:
                named = list(index.districts_any.get(key, []))
            if segment.unit_type is not None and named:
                typed = [(p, u) for p, u in named if u.unit_type == segment.unit_type]
                named = typed or named
            if named:
                districts, district_at = named, i
                break
        if districts:
            break
    if districts and district_at is not None:
        used = used | {district_at}
        candidates_at = [i for i in others if i != district_at]
        for i in candidates_at:
            segment = segments[i]
            if segment.level not in (_WARD, None):
                continue
            for key in _keys(segment):
                found = [u for _, d in districts for u in index.legacy_wards.get((d.code, key), [])]
                found = _filter_type(found, segment)
                if found:
                    return _from_legacy(found, segments, i, admin_text, used)
        for i in candidates_at:
            segment = segments[i]
            if segment.level != _WARD or len(districts) != 1:
                continue
            found = _filter_type(_fuzzy(segment, index.legacy_pool[districts[0][1].code]), segment)
            if len(found) == 1:
                return _from_legacy(found, segments, i, admin_text, used)

    # 2. New form: a ward directly in the province.
    for i in others:
        segment = segments[i]
        if segment.level not in (_WARD, None):
            continue
        for key in _keys(segment):
            if current_province:
                current = index.current_wards.get((current_province, key), [])
            else:
                current = [u for _, u in index.current_wards_any.get(key, [])]
            current = _filter_type(current, segment)
            if current:
                status = "resolved" if len(current) == 1 else "ambiguous"
                return _result(
                    status,
                    [u.code for u in current],
                    current_province,
                    None,
                    segments,
                    i,
                    admin_text,
                    "current",
                    used,
                )

    # 3. Old ward written without its district.
    for i in others:
        segment = segments[i]
        if segment.level not in (_WARD, None) or (
            segment.level is None and district_at is None and not legacy_province
        ):
            continue
        for key in _keys(segment):
            if legacy_provinces is None:
                break
            found = [u for p in legacy_provinces for u in index.legacy_wards_by_province.get((p, key), [])]
            found = _filter_type(found, segment)
            # With a district named but not containing the ward, only an unmistakable name is taken.
            if found and (district_at is None or len(found) == 1):
                return _from_legacy(found, segments, i, admin_text, used)

    # 4. Typos in a ward name of a known province.
    if current_province:
        for i in others:
            segment = segments[i]
            if segment.level != _WARD:
                continue
            found = _filter_type(_fuzzy(segment, index.current_pool[current_province]), segment)
            if len(found) == 1:
                return _result(
                    "resolved", [found[0].code], current_province, None, segments, i, admin_text, "current", used
                )
    return _result("unresolved", [], current_province, None, segments, None, admin_text, None)


# --- Street part and public entry points -----------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _street_word(word: str, title: bool) -> str:
    word = fold_tone_placement(word.replace("Ð", "Đ").replace("ð", "đ"))
    return title_case(word) if title else word


def _normalize_street(raw: str) -> str:
    words = raw.split()
    letters = sum(ch.isalpha() for ch in raw)
    title = letters >= 4 and raw == raw.upper()
    return " ".join(_street_word(w, title) for w in words)


def _split_street(text: str) -> tuple[str, str]:
    """(street segments, administrative remainder) of an NFC, legacy-fixed address."""
    segments = [s.strip() for s in text.replace(";", ",").split(",")]
    segments = [s for s in segments if s]
    if len(segments) < 2:
        return "", ", ".join(segments)
    street = [s for s in segments if _is_street(s)]
    admin = [s for s in segments if not _is_street(s)]
    if not admin:
        return "", ", ".join(segments)
    return ", ".join(street), ", ".join(admin)


def _join(*parts: str | None) -> str:
    return ", ".join(p for p in parts if p)


def resolve_address(s: str | None) -> ResolvedAddress:
    """Resolve one free-text address (old or new form, any spelling) to current unit codes."""
    original = s or ""
    text, encoding = fix_legacy_encoding(original)
    text = unicodedata.normalize("NFC", text)
    street_raw, admin_text = _split_street(text)
    if not admin_text.strip():
        return ResolvedAddress(original, None, None, None, None, None, (), None, None, encoding)
    admin = _resolve_admin(admin_text)
    street = _join(_normalize_street(street_raw), admin.residual_street)
    return ResolvedAddress(
        original=original,
        normalized=_join(_normalize_street(street_raw), admin.display),
        status=admin.status,
        ward_code=admin.ward_code,
        province_code=admin.province_code,
        legacy_ward_code=admin.legacy_ward_code,
        candidates=admin.candidates,
        street=street or None,
        form=admin.form,
        legacy_encoding=encoding,
    )


def address_columns(values: pl.Series, *, already_distinct: bool = False) -> pl.DataFrame:
    """Vectorized :func:`resolve_address` over a column: the columns of :data:`ADDRESS_PART_COLUMNS`
    (``candidates`` is ``List(String)``) plus ``legacy`` (Boolean: the cell was TCVN3/VNI-encoded).

    ``already_distinct``: the values are distinct (as :func:`per_distinct_columns` passes them), so they are not
    grouped again."""
    if already_distinct:
        return _address_columns_distinct(values.cast(pl.String).clone())
    return per_distinct(values.cast(pl.String), _address_columns_distinct)


# A blank text's row: every field null.
_BLANK_ADMIN: Final = _AdminResult(*[None] * len(_AdminResult._fields))  # type: ignore[arg-type]
_LOOKUP_COLUMNS: Final = (
    "_display",
    "status",
    "ward_code",
    "province_code",
    "legacy_ward_code",
    "_candidates",
    "_residual",
)


def _admin_lookup(admin_values: list[str]) -> pl.DataFrame:
    """One row per administrative text, in order: its resolution (all null for a blank text)."""
    with paused_gc():
        resolved = [_resolve_admin(v) if v.strip() else None for v in admin_values]
    # One pass over the results (transposed), not one per column.
    display, status, ward, province, legacy_ward, candidates, residual, _ = (
        zip(*[r or _BLANK_ADMIN for r in resolved], strict=True) if resolved else ((),) * len(_BLANK_ADMIN)
    )
    return pl.DataFrame(
        {
            "_display": display,
            "status": status,
            "ward_code": ward,
            "province_code": province,
            "legacy_ward_code": legacy_ward,
            "_candidates": ["|".join(c) if c is not None else None for c in candidates],
            "_residual": residual,
        },
        schema=dict.fromkeys(_LOOKUP_COLUMNS, pl.String),
    ).with_columns(
        pl.when(pl.col("_candidates") == "")
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(pl.col("_candidates").str.split("|"))
        .alias("candidates")
    )


def _normalize_street_column(street: pl.Series) -> pl.Series:
    """Vectorized :func:`_normalize_street`; only cells that change are rebuilt.

    A word can only change if it has a non-ASCII letter (a tone mark to move, an Ð) or if the whole cell is in
    capitals, so the few words that change are found first and only the cells holding one are rebuilt.
    """
    upper = (street == street.str.to_uppercase()).fill_null(False)
    upper_rows = upper.arg_true()
    title = pl.repeat(False, street.len(), dtype=pl.Boolean, eager=True)
    if upper_rows.len():
        letters = street.gather(upper_rows).str.count_matches(r"[^\W\d_]")
        title = replaced_at(title, upper_rows.filter(letters >= 4), True)
    words = street.str.extract_all(r"\S*[^\x00-\x7f]\S*").explode().drop_nulls().unique().to_list()
    changed = {w: n for w in words if (n := _street_word(w, False)) != w}
    touched = title | street.str.contains(r"\s\s|^\s|\s$|[^\S ]").fill_null(False)
    if changed:
        touched = touched | street.str.contains_any(list(changed)).fill_null(False)
    indices = touched.arg_true()
    if indices.len() == 0:
        return street
    subset = pl.DataFrame({"s": street.gather(indices), "t": title.gather(indices)})
    # Words in capitals are title-cased in the cells in capitals; elsewhere only the words that change are mapped.
    title_words = subset.filter("t")["s"].str.extract_all(r"\S+").explode().drop_nulls().unique()
    # A word without a letter (a house number) is the same in title case.
    titled = {w: _street_word(w, True) for w in title_words.filter(title_words.str.contains(r"[^\W\d_]")).to_list()}
    tokens = pl.col("s").str.extract_all(r"\S+")
    rebuilt = subset.select(
        pl.when(pl.col("t"))
        .then(tokens.list.eval(pl.element().replace_strict(titled, default=pl.element(), return_dtype=pl.String)))
        .otherwise(tokens.list.eval(pl.element().replace_strict(changed, default=pl.element(), return_dtype=pl.String)))
        .list.join(" ")
    ).to_series()
    return replaced_at(street, indices, rebuilt)


# Text already cut as the splitter would cut it: segments without a comma or semicolon and without blanks at
# their ends, separated by exactly ", " (almost every address). Other texts are rewritten into this form first.
_CANONICAL_SEGMENTS: Final = r"^[^,;\s](?:[^,;]*[^,;\s])?(?:, [^,;\s](?:[^,;]*[^,;\s])?)*$"


def _canonical_segments(text: pl.Series) -> pl.Series:
    """``text`` with its segments cut at commas and semicolons, stripped, empty ones dropped, joined by ", "; a
    null becomes "" (which, like an empty text, resolves to nothing)."""
    rows = (~text.str.contains(_CANONICAL_SEGMENTS).fill_null(False)).arg_true()
    rebuilt = (
        text.gather(rows)
        .str.replace_all(";", ",", literal=True)
        .str.split(",")
        .list.eval(pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != ""))
        .list.join(", ")
    )
    return replaced_at(text, rows, rebuilt).fill_null("")


def _street_flags(segments: pl.Series) -> pl.Series:
    """Whether each segment is a street segment (below the ward), as :func:`_is_street` decides."""
    return (
        segments.str.contains(STREET_SEGMENT_PATTERN)
        & ~segments.str.replace_all(_PROVINCIAL_ROAD, "lộ").str.contains(ADMIN_WORD_PATTERN)
    ).fill_null(False)


def _street_and_admin(text: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(street segments, administrative remainder) of every canonical text, both ", "-joined, as
    :func:`_split_street` cuts them.

    Segments repeat across addresses (a ward, a province), so each distinct segment is tested once. When the
    street segments all come before the others, as in nearly every address, both parts are slices of the text;
    the few other texts are cut segment by segment.
    """
    if text.len() == 0:
        return text, text
    segments = text.str.split(", ")
    counts = segments.list.len().cast(pl.Int64).to_numpy()
    flat = segments.explode(empty_as_null=False, keep_nulls=False)
    distinct, (codes,) = distinct_codes([flat])
    flags = _street_flags(distinct).gather(codes).to_numpy()
    lengths = distinct.str.len_chars().cast(pl.Int64).gather(codes).to_numpy()
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    n_street = np.add.reduceat(flags.astype(np.int64), starts)
    position = np.arange(flat.len()) - np.repeat(starts, counts)
    leading = position < np.repeat(n_street, counts)
    in_order = np.add.reduceat((flags != leading).astype(np.int64), starts) == 0
    cut = (counts >= 2) & (n_street > 0) & (n_street < counts)
    street_chars = np.add.reduceat(np.where(leading, lengths, 0), starts) + 2 * (n_street - 1)
    frame = pl.DataFrame(
        {"_text": text, "_cut": cut, "_chars": np.where(cut, street_chars, 0), "_in_order": in_order | ~cut}
    )
    parts = frame.select(
        pl.when(pl.col("_cut")).then(pl.col("_text").str.slice(0, pl.col("_chars"))).otherwise(pl.lit("")).alias("s"),
        pl.when(pl.col("_cut")).then(pl.col("_text").str.slice(pl.col("_chars") + 2)).otherwise("_text").alias("a"),
    )
    street, admin = parts.get_column("s"), parts.get_column("a")
    mixed = (~frame.get_column("_in_order")).arg_true()
    if mixed.len():
        mixed_segments = segments.gather(mixed).alias("_segments").to_frame()
        is_street = pl.element().str.contains(STREET_SEGMENT_PATTERN) & ~pl.element().str.replace_all(
            _PROVINCIAL_ROAD, "lộ"
        ).str.contains(ADMIN_WORD_PATTERN)
        cut_parts = mixed_segments.select(
            pl.col("_segments").list.eval(pl.element().filter(is_street)).list.join(", ").alias("s"),
            pl.col("_segments").list.eval(pl.element().filter(~is_street)).list.join(", ").alias("a"),
        )
        street = replaced_at(street, mixed, cut_parts.get_column("s"))
        admin = replaced_at(admin, mixed, cut_parts.get_column("a"))
    return street, admin


def _address_columns_distinct(values: pl.Series) -> pl.DataFrame:
    fixed, legacy = fix_legacy_series(values)
    street, admin = _street_and_admin(_canonical_segments(nfc_series(fixed)))
    admins, (admin_codes,) = distinct_codes([admin])
    # The street parts are mostly Polars work (which releases the GIL) and do not depend on the resolution, which is
    # Python (holding it): in a thread of their own, on two cores, the two overlap. The result is the same.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dancu-streets") as pool:
        streets = pool.submit(_normalize_street_column, street)
        lookup = _admin_lookup(admins.to_list()).gather(admin_codes)
        street_norm = streets.result()
    frame = pl.concat([pl.DataFrame({"_street": street_norm}), lookup], how="horizontal")
    out = frame.select(
        pl.concat_str(
            pl.when(pl.col("_street") != "").then(pl.col("_street")),
            pl.col("_display"),
            separator=", ",
            ignore_nulls=True,
        ).alias("norm"),
        pl.concat_str(
            pl.when(pl.col("_street") != "").then(pl.col("_street")),
            pl.when(pl.col("_residual") != "").then(pl.col("_residual")),
            separator=", ",
            ignore_nulls=True,
        ).alias("street"),
        "ward_code",
        "province_code",
        "legacy_ward_code",
        "status",
        "candidates",
    )
    empty = pl.col("status").is_null()
    return out.with_columns(
        pl.when(empty).then(pl.lit(None, dtype=pl.String)).otherwise(pl.col("norm")).alias("norm"),
        pl.when(empty | (pl.col("street") == ""))
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.col("street"))
        .alias("street"),
        pl.when(empty).then(pl.lit(None, dtype=pl.List(pl.String))).otherwise(pl.col("candidates")).alias("candidates"),
        legacy.alias("legacy"),
    )
