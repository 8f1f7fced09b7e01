"""Vietnamese text: Unicode normalization, one tone-placement style, legacy font encodings, ASCII keys.

Extract text reaches us in three shapes that look different but mean the same: NFC or NFD Unicode, the
"old" or "new" tone placement (hoà/hòa, thuý/thúy, khoẻ/khỏe), and text typed with the legacy TCVN3 (ABC,
``.VnTime``) or VNI fonts, which reads as gibberish once decoded as Windows-1252 ("TrÇn V¨n §øc", "Traàn Vaên
Ñöùc" for "Trần Văn Đức"). Everything here folds those shapes into one display form (NFC, tone on the classic
position, ``Đ`` not ``Ð``) and derives ASCII keys from it. ASCII keys are for blocking and comparison only and
are never shown to people.
"""

from __future__ import annotations

import gc
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache, lru_cache
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import polars as pl
from unidecode import unidecode

__all__ = [
    "LATIN1_HIGH_PATTERN",
    "LATIN1_ONLY_PATTERN",
    "LEGACY_HINT_PATTERN",
    "MOJIBAKE_HINT_PATTERN",
    "LegacyEncoding",
    "ascii_key",
    "distinct_codes",
    "fix_legacy_encoding",
    "fix_legacy_series",
    "fold_tone_placement",
    "interleaved",
    "is_vietnamese_syllable",
    "known_syllables",
    "legacy_flags",
    "legacy_suspects",
    "looks_legacy_encoded",
    "nfc_series",
    "normalize_text",
    "paused_gc",
    "per_distinct",
    "per_distinct_columns",
    "replaced_at",
    "strip_tones",
    "title_case",
]

LegacyEncoding = str
"""``"TCVN3"`` or ``"VNI"``."""

# --- Vowel tables -----------------------------------------------------------------------------------------------

_TONED: Final = {
    # base: (sắc, huyền, hỏi, ngã, nặng)
    "a": "áàảãạ",
    "ă": "ắằẳẵặ",
    "â": "ấầẩẫậ",
    "e": "éèẻẽẹ",
    "ê": "ếềểễệ",
    "i": "íìỉĩị",
    "o": "óòỏõọ",
    "ô": "ốồổỗộ",
    "ơ": "ớờởỡợ",
    "u": "úùủũụ",
    "ư": "ứừửữự",
    "y": "ýỳỷỹỵ",
}
_DECOMPOSE: Final[dict[str, tuple[str, int]]] = {}
_COMPOSE: Final[dict[tuple[str, int], str]] = {}
for _base, _forms in _TONED.items():
    _DECOMPOSE[_base] = (_base, 0)
    _COMPOSE[(_base, 0)] = _base
    for _tone, _char in enumerate(_forms, start=1):
        _DECOMPOSE[_char] = (_base, _tone)
        _COMPOSE[(_base, _tone)] = _char

_VOWEL_BASES: Final = "aăâeêioôơuưy"
_MARKED_BASES: Final = "ăâêôơư"
VIETNAMESE_LOWER: Final = frozenset("abcdefghijklmnopqrstuvwxyzđ" + "".join(_TONED) + "".join(_TONED.values()))
_SYLLABLE: Final = re.compile(
    r"^(ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdđghklmnpqrstvx])?([aăâeêioôơuưy]{1,3})(ch|ng|nh|[cmnpt])?$"
)
_WORD: Final = re.compile(r"[^\W\d_]+")
# The closed set of Vietnamese vowel nuclei (after the gi/qu onsets are taken off); "oo" is for loanwords (xoong).
_NUCLEI: Final = frozenset(
    [
        "a",
        "ă",
        "â",
        "e",
        "ê",
        "i",
        "o",
        "ô",
        "ơ",
        "u",
        "ư",
        "y",
        "ai",
        "ao",
        "au",
        "ay",
        "âu",
        "ây",
        "eo",
        "êu",
        "ia",
        "iê",
        "iu",
        "oa",
        "oă",
        "oe",
        "oi",
        "oo",
        "ôi",
        "ơi",
        "ua",
        "uâ",
        "uê",
        "ui",
        "uô",
        "uơ",
        "uy",
        "ưa",
        "ưi",
        "ươ",
        "ưu",
        "yê",
        "iêu",
        "oai",
        "oay",
        "oeo",
        "uây",
        "uôi",
        "uya",
        "uyê",
        "uyu",
        "ươi",
        "ươu",
        "yêu",
    ]
)
_OPEN_ONLY: Final = frozenset(
    [
        "ai",
        "ao",
        "au",
        "ay",
        "âu",
        "ây",
        "eo",
        "êu",
        "ia",
        "iu",
        "oi",
        "ôi",
        "ơi",
        "ưa",
        "ưi",
        "ưu",
        "iêu",
        "oai",
        "oay",
        "oeo",
        "uây",
        "uôi",
        "uya",
        "uyu",
        "ươi",
        "ươu",
        "yêu",
    ]
)
_CLOSED_ONLY: Final = frozenset(["ă", "â", "iê", "yê", "uô", "ươ", "uyê", "oă", "uâ"])

# Characters that look Vietnamese in a legacy-decoded string but must be mapped: Ð (U+00D0, Icelandic eth) and ð.
_ETH: Final = str.maketrans({"Ð": "Đ", "ð": "đ"})
# Invisible or odd spacing characters that extracts carry; the soft hyphen is handled by the legacy decoder first.
_SPACES: Final = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_ZERO_WIDTH: Final = re.compile(r"[\u200c\u200d\u2060\u00ad]")
_QUOTES: Final = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "`": "'", "–": "-", "—": "-"})
_SPACE_BEFORE_PUNCT: Final = re.compile(r"\s+([,.;:)])")
_REPEATED_COMMA: Final = re.compile(r"(?:\s*[,;]\s*){2,}")
_COMMA_NO_SPACE: Final = re.compile(r"([,;])(?=[^\s\d])")
_EDGE_PUNCT: Final = re.compile(r"^[\s,;:.\-/]+|[\s,;:\-/]+$")
_ABBREVIATIONS: Final = frozenset(
    {
        "TP",
        "TX",
        "TT",
        "KP",
        "TDP",
        "HCM",
        "HN",
        "QL",
        "TL",
        "CMND",
        "CCCD",
        "BRVT",
        "TPHCM",
        "HCMC",
        "UBND",
        "ĐK",
        "DK",
        "KCN",
        "KDC",
        "KTX",
        "CT",
        "CH",
        # Road markers: "Km 90 Tỉnh lộ 13" (kilometre), "ĐT 741" / "DT 741" (đường tỉnh).
        "KM",
        "ĐT",
        "DT",
    }
)
_KEEP_UPPER: Final = frozenset({"HN", "HCM", "TP", "TX", "TT", "UBND", "KP", "TDP", "CA", "HCMC", "BRVT", "TPHCM"})

# Latin-1-only strings are the only candidates for legacy decoding: legacy gibberish is bytes 0x00-0xFF shown as
# Windows-1252, while real Vietnamese Unicode almost always has a letter outside Latin-1 (ư, ơ, ă, đ, ạ...).
LATIN1_ONLY_PATTERN: Final = r"^[\x00-\x{ff}]*$"
LATIN1_HIGH_PATTERN: Final = r"[\x{a1}-\x{ff}]"
_LATIN1_HIGH: Final = re.compile(r"[\u00a1-\u00ff]")
# A cheap gate in front of the syllable test: legacy text always shows a Latin-1 character Vietnamese never uses,
# or a vowel followed by an accented vowel in a pair no Vietnamese word has ("aø", "eâ", "uyÔ" ...). Pairs that
# real words have (hoà, quá, xuân, thuý, luôn, tiên, già) are left out, or genuine text would pay for the test.
LEGACY_HINT_PATTERN: Final = (
    r"[¡-¿ÄÅÆÇËÎÏÐÑÖ×ØÛÜÞßäåæçëîïðñö÷øûüþÿ]|(?i:[ae][\x{c0}-\x{ff}])|(?i:o[âêìíòóôõùúý])|(?i:u[òóõùú])"
    r"|(?i:y[àáâãèéìíòóôõùúý])|(?i:[êÊ]i)"
)
_LEGACY_HINT: Final = re.compile(LEGACY_HINT_PATTERN.replace(r"\x{c0}", "\u00c0").replace(r"\x{ff}", "\u00ff"))


# UTF-8 read as Windows-1252 (mojibake): a Vietnamese letter's lead byte (C3, C4, C5, C6, or E1 BA / E1 BB for the
# toned vowels) shown as Ã Ä Å Æ / áº á» and followed by a continuation byte (0x80-0xBF: €‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ,
# the C1 controls where Windows-1252 has no letter, or NBSP-¿). Vietnamese never writes these pairs.
_CONTINUATION: Final = "\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
# Text saved decomposed (NFD, as macOS writes it) carries its tone marks as U+0300-U+036F, lead bytes CC and CD: "Ì" and
# "Í" before a continuation byte ("NguyeÌ‚Ìƒn").
MOJIBAKE_HINT_PATTERN: Final = f"[ÃÄÅÆÌÍ][{_CONTINUATION}]|á[º»][{_CONTINUATION}]"
_MOJIBAKE_HINT: Final = re.compile(MOJIBAKE_HINT_PATTERN)


def legacy_suspects(values: pl.Series) -> pl.Series:
    """Boolean per cell: may be legacy-font text (Latin-1 letters with a legacy hint) or UTF-8 read as
    Windows-1252; what :func:`fix_legacy_encoding` then decides on. Null cells are False."""
    legacy_font = values.str.contains(LATIN1_ONLY_PATTERN) & values.str.contains(LEGACY_HINT_PATTERN)
    return (legacy_font | values.str.contains(MOJIBAKE_HINT_PATTERN)).fill_null(False)


def _repair_mojibake(s: str) -> str | None:
    """``s`` with UTF-8-read-as-Windows-1252 undone, when that makes it more plausible Vietnamese.

    The text is read back through ftfy's "sloppy" Windows-1252 (the C1 controls where the code page has no letter)
    as UTF-8, layer after layer, as a whole or (when only some words are damaged) word by word, ftfy's own repair
    taking what neither reads back; its general-purpose heuristics alone let a short name such as "Nguyá»…n" pass.
    """
    import ftfy
    import ftfy.bad_codecs  # registers the "sloppy-windows-1252" codec

    def undo(text: str) -> str:
        for _ in range(3):
            if not _MOJIBAKE_HINT.search(text):
                break
            text = text.encode("sloppy-windows-1252").decode("utf-8")
        return text

    try:
        repaired = undo(s)
    except UnicodeError:
        # Damaged words beside sound ones ("Nguyá»…n Văn An"): word by word, then ftfy on what is left.
        words = []
        for word in s.split(" "):
            try:
                words.append(undo(word))
            except UnicodeError:
                words.append(ftfy.fix_encoding(word))
        repaired = " ".join(words)
    repaired = unicodedata.normalize("NFC", repaired)
    if repaired == s or repaired.count("\ufffd") > s.count("\ufffd"):
        return None
    if any(unicodedata.combining(ch) for ch in repaired):
        return None  # a mark left on no Vietnamese letter: legacy-font bytes that happened to read as UTF-8
    # The pairs gone and no word less plausible ("GiÃ\u00a0ng" reads as two plausible words, "Giã" and "ng").
    if _MOJIBAKE_HINT.search(repaired) or _implausible_words(repaired) > _implausible_words(s):
        return None
    return repaired


def strip_tones(word: str) -> str:
    """``word`` without tone marks (vowel marks such as ư, ô and đ are kept)."""
    return "".join(_DECOMPOSE.get(ch, (ch, 0))[0] for ch in word)


def _split_syllable(bases: str) -> tuple[str, str, str] | None:
    match = _SYLLABLE.match(bases)
    if match is None:
        return None
    return match.group(1) or "", match.group(2), match.group(3) or ""


def _tone_position(vowels: str, final: str) -> int:
    """Index in ``vowels`` of the letter that carries the tone, classic placement (hòa, thúy, khỏe)."""
    marked = [i for i, ch in enumerate(vowels) if ch in _MARKED_BASES]
    if marked:
        if "ươ" in vowels:
            return vowels.index("ơ")
        return marked[-1]
    if final:
        return len(vowels) - 1
    if len(vowels) == 3:
        return 1
    return 0


def _place_tone_lower(word: str) -> str:
    bases: list[str] = []
    tone = 0
    for ch in word:
        base, t = _DECOMPOSE.get(ch, (ch, 0))
        if t:
            if tone and t != tone:
                return word
            tone = t
        bases.append(base)
    if not tone:
        return word
    parts = _split_syllable("".join(bases))
    if parts is None:
        return word
    onset, vowels, final = parts
    if vowels not in _NUCLEI or (final and vowels in _OPEN_ONLY):
        return word  # not a Vietnamese syllable ("auo", or "au" + final): no placement rule applies
    position = len(onset) + _tone_position(vowels, final)
    bases[position] = _COMPOSE[(bases[position], tone)]
    return "".join(bases)


def _restore_case(template: str, lower: str) -> str:
    return "".join(c.upper() if t.isupper() else c for t, c in zip(template, lower, strict=True))


@lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    lower = word.lower()
    if len(lower) != len(word):
        return word
    folded = _place_tone_lower(lower)
    if folded == lower:
        return word
    return _restore_case(word, folded)


def fold_tone_placement(text: str) -> str:
    """Move every tone mark to its classic position: ``hoà`` → ``hòa``, ``thuý`` → ``thúy``, ``khoẻ`` → ``khỏe``.

    Expects NFC text; words that are not Vietnamese syllables are left untouched.
    """
    return _WORD.sub(lambda m: _fold_word(m.group(0)), text)


@lru_cache(maxsize=131072)
def is_vietnamese_syllable(word: str) -> bool:
    """True when ``word`` (any case) is shaped like one Vietnamese syllable with at most one tone."""
    lower = word.lower()
    if not lower or any(ch not in VIETNAMESE_LOWER for ch in lower):
        return False
    tones = [t for t in (_DECOMPOSE.get(ch, (ch, 0))[1] for ch in lower) if t]
    if len(tones) > 1:
        return False
    parts = _split_syllable(strip_tones(lower))
    if parts is None:
        return False
    onset, vowels, final = parts
    if vowels not in _NUCLEI:
        return False
    if final and vowels in _OPEN_ONLY:
        return False
    if not final and vowels in _CLOSED_ONLY:
        return False
    if vowels == "ơ" and final in ("ng", "c", "ch", "nh"):
        return False
    return not (onset in ("k", "gh", "ngh") and vowels[0] not in "eêiy")


# A word of a minority language written in the Vietnamese alphabet (Ê Đê, Gia Rai, M'Nông, Ba Na, Khmer names):
# onset clusters Vietnamese has not ("Blông", "Kpă", "Hđơk", "Mlô"), an open "iê"/"uô" ("Niê"), finals such as
# -r, -l, -h, -k, -s ("Bhiêr", "Ênuôl", "Ksor"), and a leading vowel glued to the next syllable ("Êban", "Adrơng").
_MINORITY_WORD: Final = re.compile(
    r"^(?:[aeêơ](?P<glued>[bcdđghjklmnpqrstvxwy]{1,3})|(?P<onset>[bcdđghjklmnpqrstvxw]{0,3}))"
    r"(?P<vowels>[aăâeêioôơuưy]{1,3})(?P<final>ng|nh|ch|[cmnptkhlrsy])?$"
)
# Vowel groups minority names add to Vietnamese ones: "Byă", "Kpuă", "Néang" and the Ê Đê "Ea" (water, in place
# names: Ea Kar, Ea Súp). Of the groups Vietnamese only closes, they leave "iê", "uô" and "ă" open ("Niê", "Mlô",
# "Kpă"); "â" stays closed ("Vâ" is TCVN3 "Võ").
_MINORITY_VOWELS: Final = frozenset({"yă", "uă", "ea"})  # "ea" only in "-eang" ("Néang")
_MINORITY_OPEN: Final = frozenset({"iê", "uô", "ă"})


def is_minority_name_word(word: str) -> bool:
    """True when ``word`` (any case) is shaped like a word of a minority name written in the Vietnamese alphabet
    with at most one tone: a Vietnamese vowel group between consonants, with the onset clusters and finals those
    languages use ("Blông", "Niê", "Kpă", "Êban", "Ksor")."""
    lower = word.lower()
    if not lower or any(ch not in VIETNAMESE_LOWER for ch in lower):
        return False
    if sum(1 for ch in lower if _DECOMPOSE.get(ch, (ch, 0))[1]) > 1:
        return False
    match = _MINORITY_WORD.match(strip_tones(lower))
    if match is None:
        return False
    onset, vowels, final = match.group("onset") or "", match.group("vowels"), match.group("final")
    if vowels not in _NUCLEI and vowels not in _MINORITY_VOWELS:
        return False
    if onset.endswith("gh") and vowels[0] not in "eêiy":
        return False  # "gh" and "ngh" only before e, ê, i (a single k comes before a, o, u here: "Kar", "Kon")
    if vowels == "ea":
        return final == "ng"  # "Néang"; "Theá", "cheát" are VNI "Thế", "chết"
    if vowels == "oo":
        return False  # Vietnamese "xoong" is a syllable already; "Bloõng" is VNI "Blông" read as TCVN3
    if final is None:
        # Open: what Vietnamese leaves open, and the groups these languages leave open too.
        return vowels not in _CLOSED_ONLY or vowels in _MINORITY_OPEN
    if vowels in _OPEN_ONLY:
        return False  # "Baùc": a VNI mark read as a vowel, not a word
    # "Quỡnh" (TCVN3 "Quúnh" read as VNI) is no word; "Pơng", "Hđơk" are.
    return not (vowels.endswith("ơ") and final in ("nh", "ch"))


def is_name_word(word: str) -> bool:
    """A Vietnamese syllable or a word of a minority name (:func:`is_minority_name_word`).

    A syllable with "oo" counts only when a name or place has it (xã Đăk Kroong, bản Loong): Vietnamese has it in
    a few loanwords ("xoong"), and "Ngoõng" is VNI "Ngông" read as TCVN3.
    """
    if "oo" in strip_tones(word.lower()):
        return fold_tone_placement(word.lower()) in known_syllables()
    return is_vietnamese_syllable(word) or is_minority_name_word(word)


def title_case(word: str) -> str:
    """Capitalize the first letter of a word (and after an apostrophe, as in H'Hen), lower-case the rest."""
    out: list[str] = []
    capitalize = True
    for ch in word:
        if ch.isalpha():
            out.append(ch.upper() if capitalize else ch.lower())
            capitalize = False
        else:
            out.append(ch)
            capitalize = ch in "'-"
    return "".join(out)


def _title_all_caps(text: str) -> str:
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < 4 or any(ch.islower() for ch in letters):
        return text

    def _word(m: re.Match[str]) -> str:
        word = m.group(0)
        return word if word in _KEEP_UPPER else title_case(word)

    return re.sub(r"[^\W\d_]+(?:'[^\W\d_]+)?", _word, text)


@lru_cache(maxsize=262144)
def normalize_text(s: str) -> str:
    """The display form of any extract text.

    Legacy TCVN3/VNI text is converted, then NFC, ``Ð`` → ``Đ``, classic tone placement, one space between words,
    tidy commas, and ALL CAPS turned into title case. Idempotent.
    """
    text, _ = fix_legacy_encoding(s)
    text = unicodedata.normalize("NFC", text).translate(_ETH).translate(_QUOTES)
    text = _ZERO_WIDTH.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _REPEATED_COMMA.sub(", ", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _COMMA_NO_SPACE.sub(r"\1 ", text)
    text = _EDGE_PUNCT.sub("", text).strip()
    text = fold_tone_placement(text)
    return _title_all_caps(text)


@lru_cache(maxsize=262144)
def ascii_key(s: str) -> str:
    """Lower-case ASCII key of ``s`` with single spaces, for blocking and comparison only (never for display)."""
    text = unicodedata.normalize("NFC", s).translate(_ETH)
    text = unidecode(text).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


# --- Legacy encodings -------------------------------------------------------------------------------------------

# TCVN3 (TCVN 5712:1993 VN3, the "ABC" .VnTime fonts): one byte per letter; capitals with a tone only exist in the
# separate capital font, where the lower-case code is drawn as a capital, so they decode to lower case here.
_TCVN3: Final = {
    "¡": "Ă",
    "¢": "Â",
    "£": "Ê",
    "¤": "Ô",
    "¥": "Ơ",
    "¦": "Ư",
    "§": "Đ",
    "¨": "ă",
    "©": "â",
    "ª": "ê",
    "«": "ô",
    "¬": "ơ",
    "\u00ad": "ư",
    "®": "đ",
    "µ": "à",
    "¶": "ả",
    "·": "ã",
    "¸": "á",
    "¹": "ạ",
    "»": "ằ",
    "¼": "ẳ",
    "½": "ẵ",
    "¾": "ắ",
    "Æ": "ặ",
    "Ç": "ầ",
    "È": "ẩ",
    "É": "ẫ",
    "Ê": "ấ",
    "Ë": "ậ",
    "Ì": "è",
    "Î": "ẻ",
    "Ï": "ẽ",
    "Ð": "é",
    "Ñ": "ẹ",
    "Ò": "ề",
    "Ó": "ể",
    "Ô": "ễ",
    "Õ": "ế",
    "Ö": "ệ",
    "×": "ì",
    "Ø": "ỉ",
    "Ü": "ĩ",
    "Ý": "í",
    "Þ": "ị",
    "ß": "ò",
    "á": "ỏ",
    "â": "õ",
    "ã": "ó",
    "ä": "ọ",
    "å": "ồ",
    "æ": "ổ",
    "ç": "ỗ",
    "è": "ố",
    "é": "ộ",
    "ê": "ờ",
    "ë": "ở",
    "ì": "ỡ",
    "í": "ớ",
    "î": "ợ",
    "ï": "ù",
    "ñ": "ủ",
    "ò": "ũ",
    "ó": "ú",
    "ô": "ụ",
    "õ": "ừ",
    "ö": "ử",
    "÷": "ữ",
    "ø": "ứ",
    "ù": "ự",
    "ú": "ỳ",
    "û": "ỷ",
    "ü": "ỹ",
    "ý": "ý",
    "þ": "ỵ",
}
_TCVN3_TABLE: Final = str.maketrans(_TCVN3)


def _vni_table() -> dict[str, str]:
    """VNI-Windows: a base letter followed by one or two mark bytes (shown as Latin-1 letters)."""
    tones = "ùøûõï"  # sắc, huyền, hỏi, ngã, nặng after a plain vowel
    hat_tones = "áàåãä"  # after â/ê/ô (the circumflex is 'â')
    breve_tones = "éèúüë"  # after ă (the breve is 'ê')
    table: dict[str, str] = {}

    def add(sequence: str, result: str) -> None:
        table[sequence] = result
        table[sequence.upper()] = result.upper()

    for vowel in "aeouy":
        add(vowel, vowel)
        for tone, mark in enumerate(tones, start=1):
            add(vowel + mark, _COMPOSE[(vowel, tone)])
    for vowel, hatted in (("a", "â"), ("e", "ê"), ("o", "ô")):
        add(vowel + "â", hatted)
        for tone, mark in enumerate(hat_tones, start=1):
            add(vowel + mark, _COMPOSE[(hatted, tone)])
    add("aê", "ă")
    for tone, mark in enumerate(breve_tones, start=1):
        add("a" + mark, _COMPOSE[("ă", tone)])
    for single, base in (("ô", "ơ"), ("ö", "ư")):
        add(single, base)
        for tone, mark in enumerate(tones, start=1):
            add(single + mark, _COMPOSE[(base, tone)])
    for tone, mark in enumerate("íìæóò", start=1):
        add(mark, _COMPOSE[("i", tone)])
    add("î", "ỵ")
    add("ñ", "đ")
    # "yï" would be the regular pattern for ỵ, but VNI uses the single byte 'î'; keep 'y' alone plain.
    table.pop("yï", None)
    table.pop("YÏ", None)
    for plain in "aeouyAEOUY":
        table.pop(plain, None)
    return table


_VNI: Final = _vni_table()
_VNI_PATTERN: Final = re.compile("|".join(re.escape(k) for k in sorted(_VNI, key=len, reverse=True)))

# TCVN3's ư is byte 0xAD, the soft hyphen, which spreadsheets and web forms silently delete. The loss leaves
# syllables no Vietnamese word has: a bare onset ("Hng" for Hưng) or ơ before ng/c/u ("Kh¬ng" for Khương).
# Only after a Vietnamese onset at the start of the word: "Adrơng", "Knơng" (Ê Đê names) are words as they are.
_LOST_U_HORN_BEFORE_O: Final = re.compile(
    r"\b(ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdđghklmnpqrstvx])?([ơớờởỡợ])(?=ng|c|u\b)", re.IGNORECASE
)
_ONSETS: Final = (
    "ngh",
    "ng",
    "gh",
    "kh",
    "nh",
    "ph",
    "th",
    "tr",
    "ch",
    "b",
    "c",
    "d",
    "đ",
    "g",
    "h",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "x",
)
_VOWELLESS: Final = re.compile(
    r"\b(ngh|ng|gh|kh|nh|ph|th|tr|ch|[bcdđghklmnprstvx])(ng|nh|ch|[cmnpt])?\b", re.IGNORECASE
)


def _repair_lost_u_horn(text: str) -> str:
    def _horn_o(m: re.Match[str]) -> str:
        onset, vowel = m.group(1) or "", m.group(2)
        return onset + ("Ư" if vowel.isupper() else "ư") + vowel

    def _bare(m: re.Match[str]) -> str:
        onset, final = m.group(1), m.group(2) or ""
        if len(onset) == 1 and not final:
            return m.group(0)  # a lone letter is an initial (Nguyễn V. A), not a damaged syllable
        if m.group(0).upper() in _ABBREVIATIONS or m.string[m.end() : m.end() + 1] == ".":
            return m.group(0)  # TP, TX, KP, Tp. ... are abbreviations, not syllables that lost their ư
        horn = "Ư" if onset.isupper() and (not final or final.isupper()) and len(m.group(0)) > 1 else "ư"
        return onset + horn + final

    text = _LOST_U_HORN_BEFORE_O.sub(_horn_o, text)
    return _VOWELLESS.sub(_bare, text)


def _decode_tcvn3(text: str) -> str:
    return _repair_lost_u_horn(" ".join(map(_decode_tcvn3_word, text.split(" "))))


@lru_cache(maxsize=262144)
def _decode_tcvn3_word(word: str) -> str:
    """One space-separated word read as TCVN3 (once per distinct word: legacy texts repeat the same words)."""
    decoded = word.translate(_TCVN3_TABLE)
    letters = [ch for ch in word if ch.isascii() and ch.isalpha()]
    # Capital-font TCVN3 ("NGUYÔN") decodes to mixed case; the plain letters tell the intended case.
    if letters and all(ch.isupper() for ch in letters) and (len(letters) > 1 or not decoded[1:].islower()):
        decoded = decoded.upper()
    return decoded


def _decode_vni(text: str) -> str:
    return _VNI_PATTERN.sub(lambda m: _VNI[m.group(0)], text)


_WORD_BREAKS: Final = re.compile(r"[\s,.;:()/\-\"']+")


def _implausible_words(text: str, *, strict: bool = False) -> int:
    """Words that are neither ASCII nor a Vietnamese syllable or minority-name word (legacy gibberish scores high,
    real text 0); ``strict``: nor a Vietnamese syllable (minority-name words count)."""
    return sum(_implausible_word(word, strict) for word in _WORD_BREAKS.split(text))


@lru_cache(maxsize=262144)
def _implausible_word(word: str, strict: bool) -> bool:
    """One word of :func:`_implausible_words`, decided once per distinct word: the candidate readings of a legacy
    text are scored word by word, and a night's addresses and names repeat the same few thousand words."""
    if not word or word.isascii():
        return False
    letters = "".join(ch for ch in word if not ch.isdigit())
    plausible = is_vietnamese_syllable if strict else is_name_word
    return not plausible(letters)


_BEYOND_LATIN1: Final = re.compile(r"[^\x00-\xff]")
_WORDS_OF_TEXT: Final = re.compile(r"[^\W\d_]+")
_NAMEDB: Final = Path(__file__).resolve().parent.parent / "data" / "vietnamese-namedb"
# Family names are rarely place names; the commonest are listed so that a name such as "Lê ..." is recognized.
_FAMILY_SYLLABLES: Final = (
    "nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý đinh trịnh đoàn lâm mai trương đào "
    "cao lương hà tạ vương lưu kiều quách chu tô triệu thái phùng lã khuất nghiêm tăng châu thân từ mạc âu đàm "
    "khổng giang tống hứa nông doãn ninh lục hàn bạch tôn phí diệp lại đồng quan ông kim viên hầu lò vi mẫn"
)


@cache
def known_syllables() -> frozenset[str]:
    """Lower-case syllables of real Vietnamese names and places (classic tone placement).

    Built from the official names of every administrative unit before and after the 2025 reform (the
    ``vietnamadminunits`` tables), the given names of ``data/vietnamese-namedb`` when the repository is at hand, and
    the common family names. It only ever vetoes a legacy-font conversion that would destroy a real word.
    """
    from normalize import units

    texts = [_FAMILY_SYLLABLES]
    for frame, columns in (
        (units.current_wards(), ("ward_name", "province_name")),
        (units.legacy_wards(), ("ward_name", "district_name")),
        (units.legacy_provinces(), ("province_name",)),
    ):
        for column in columns:
            texts.extend(frame[column].drop_nulls().unique().to_list())
    if _NAMEDB.is_dir():
        texts.extend(path.read_text(encoding="utf-8") for path in sorted(_NAMEDB.glob("*.txt")))
    words = _WORDS_OF_TEXT.findall(unicodedata.normalize("NFC", "\n".join(texts)).lower())
    # Folded once per distinct word: the unit tables repeat the same few thousand syllables.
    return frozenset(fold_tone_placement(word) for word in set(words))


def _destroys_known_words(original: str, converted: str) -> bool:
    """True when a real Vietnamese word of ``original`` (a syllable of a name or place, see
    :func:`known_syllables`) would become a word that is not one. Legacy text as it stands is gibberish; a
    conversion that turns "Lê" into "Lờ" and "Khánh" into "Khỏnh" is reading Unicode as if it were TCVN3."""
    before, after = _WORDS_OF_TEXT.findall(original), _WORDS_OF_TEXT.findall(converted)
    if len(before) != len(after):
        return False  # a conversion that moved word boundaries is judged by the syllable test alone
    known = known_syllables()
    for word, result in zip(before, after, strict=True):
        if word.isascii() or word == result:
            continue
        if fold_tone_placement(word.lower()) in known and fold_tone_placement(result.lower()) not in known:
            return True
    return False


# VNI writes a mark as a byte after the letter it sits on; a mark byte the VNI patterns did not consume has no letter
# under it, which genuine VNI text never has ("Lê" and "Khánh" are not VNI: VNI writes them "Leâ", "Khaùnh").
_VNI_MARKS: Final = frozenset("ùøûõïáàåãäéèúüëâê" + "ÙØÛÕÏÁÀÅÃÄÉÈÚÜËÂÊ")


def _vni_leaves_marks(text: str) -> bool:
    covered = [False] * len(text)
    for match in _VNI_PATTERN.finditer(text):
        for i in range(match.start(), match.end()):
            covered[i] = True
    return any(ch in _VNI_MARKS and not covered[i] for i, ch in enumerate(text))


@lru_cache(maxsize=65536)
def fix_legacy_encoding(s: str) -> tuple[str, str | None]:
    """Convert TCVN3 (ABC) or VNI text shown as Windows-1252, or UTF-8 text once read as Windows-1252
    ("Nguyá»…n"), to Unicode.

    Returns ``(text, "TCVN3" | "VNI" | "UTF-8" | None)``; ``None`` means the text was not legacy-encoded and is returned
    unchanged. A string is only converted when the result is more plausible Vietnamese than the input: as given, it
    has words no Vietnamese syllable looks like; the conversion leaves at most one such word (a typing error made
    before encoding, "YÕnn") for each word it makes plausible, turns no real word of a name or place into one that
    is not (:func:`_destroys_known_words`) and, for VNI, leaves no mark byte without its letter. That keeps genuine
    Unicode such as "Lê Tâm" (Latin-1 letters only) or "Lê Khánh Thy Oânh" (one odd letter) as it is.
    """
    if s.isascii():
        return s, None
    if _MOJIBAKE_HINT.search(s):
        repaired = _repair_mojibake(s)
        if repaired is not None:
            return repaired, "UTF-8"
    if _BEYOND_LATIN1.search(s) or not _LEGACY_HINT.search(s):
        return s, None
    original = s.translate(_ETH)
    before = _implausible_words(original)
    if before == 0:
        return s, None
    best: tuple[int, int, int, str, str] | None = None
    # Ð (U+00D0) is TCVN3's é, but also the Đ some keyboards type (VNI writes Đ as Ñ, TCVN3 as §): TCVN3 is read
    # both ways, VNI with Đ.
    readings = [("TCVN3", _decode_tcvn3, s), ("TCVN3", _decode_tcvn3, original), ("VNI", _decode_vni, original)]
    for order, (name, decode, text) in enumerate(readings):
        if order == 1 and original == s:
            continue
        converted = unicodedata.normalize("NFC", decode(text))
        # Leftover legacy bytes that also are Vietnamese letters (ô, â, ê...) are fine; the word test decides. A word
        # typed wrong before it was encoded ("YÕnn" for Yến) stays implausible once converted: the conversion still
        # wins when it makes at least as many words plausible as it leaves implausible. Between two plausible
        # readings, the one with more Vietnamese syllables wins (a minority-name word is the rarer reading).
        score = _implausible_words(converted)
        candidate = (score, _implausible_words(converted, strict=True), order, converted, name)
        if 2 * score > before or (best is not None and candidate[:3] >= best[:3]):
            continue
        if (name == "VNI" and _vni_leaves_marks(s)) or _destroys_known_words(original, converted):
            continue
        best = candidate
    if best is None:
        return s, None
    return best[3], best[4]


def looks_legacy_encoded(s: str) -> bool:
    """True when ``s`` is TCVN3 or VNI text shown as Windows-1252 ("TrÇn V¨n §øc", "Traàn Vaên Ñöùc")."""
    return fix_legacy_encoding(s)[1] is not None


def fix_legacy_series(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Vectorized :func:`fix_legacy_encoding`: (converted values, Boolean "was legacy-encoded", never null).

    Only distinct cells made of Latin-1 characters with at least one non-ASCII one reach Python.
    """
    suspicious = legacy_suspects(values)
    converted: dict[str, str] = {}
    for value in values.filter(suspicious).unique().to_list():
        text, encoding = fix_legacy_encoding(value)
        if encoding is not None:
            converted[value] = text
    if not converted:
        return values, pl.repeat(False, values.len(), dtype=pl.Boolean, eager=True).alias(values.name)
    return values.replace(converted), values.is_in(list(converted)).fill_null(False)


def replaced_at(values: pl.Series, indices: pl.Series, replacement: pl.Series | object) -> pl.Series:
    """A copy of ``values`` with the rows at ``indices`` set to ``replacement``; ``values`` itself is untouched.

    ``Series.scatter`` writes into the series it is called on: a normalizer that scattered into its argument
    changed the caller's column (and ``per_distinct``'s keys, which multiplied rows on the join back). Every
    positional update in the normalizers goes through here.
    """
    return values.clone().scatter(indices, replacement)  # type: ignore[arg-type]


def distinct_codes(columns: Sequence[pl.Series]) -> tuple[pl.Series, list[pl.Series]]:
    """The distinct values of ``columns`` together (non-null ones in first-seen order, then a null if there is
    one) and for each column the index (``UInt32``) of every row's value among them: ``distinct.gather(codes[i])``
    is ``columns[i]``.

    Values are grouped by a 64-bit hash, which is far cheaper than grouping and joining strings; the result is then
    checked against the values themselves, and in the (astronomically rare) case of two values sharing a hash the
    strings are grouped exactly instead. Nulls (most relatives' names, most temporary addresses) take no part in
    the grouping. Nothing is written into ``columns``.
    """
    if not columns:
        return pl.Series([], dtype=pl.String), []
    values = pl.concat([c.cast(pl.String) for c in columns], rechunk=True)
    present = values.is_not_null()
    rows = present.arg_true()
    known = values.gather(rows) if rows.len() < values.len() else values
    first, known_codes = _first_and_codes(_hash_keys(known))
    distinct = known.gather(first)
    if not distinct.gather(known_codes).equals(known):
        first, known_codes = _first_and_codes(known)
        distinct = known.gather(first)
    if rows.len() < values.len():
        null_code = pl.repeat(distinct.len(), values.len(), dtype=pl.UInt32, eager=True)
        codes = replaced_at(null_code, rows, known_codes)
        distinct = pl.concat([distinct, pl.Series([None], dtype=pl.String)])
    else:
        codes = known_codes
    out: list[pl.Series] = []
    offset = 0
    for column in columns:
        out.append(codes.slice(offset, column.len()))
        offset += column.len()
    return distinct, out


def _hash_keys(values: pl.Series) -> pl.Series:
    return values.hash()


def _first_and_codes(keys: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Row of the first occurrence of each distinct key, and every row's index among those first occurrences."""
    first = keys.arg_unique()
    if keys.dtype == pl.UInt64 and keys.null_count() == 0:
        # 64-bit hashes: pandas' factorize numbers them in first-seen order with one hash table, about twice as
        # fast as joining the keys back to their first occurrences (the order arg_unique gives too).
        codes, uniques = pd.factorize(keys.to_numpy())
        if len(uniques) == first.len() and first.is_sorted():
            return first, pl.Series(keys.name, codes.astype(np.uint32))
    code = pl.int_range(first.len(), dtype=pl.UInt32, eager=True)
    keyed = pl.DataFrame({"__key": keys.gather(first), "__code": code})
    codes = (
        keys.alias("__key")
        .to_frame()
        .join(keyed, on="__key", how="left", nulls_equal=True, maintain_order="left")
        .get_column("__code")
    )
    return first, codes


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside: for the per-distinct Python loops, which create many small acyclic
    objects (cache entries) while the caches already hold a million. Each automatic collection then walks all of
    them, which cost a fifth of the address resolution; reference counting still frees everything as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def interleaved(mask: pl.Series, chosen: pl.Series, others: pl.Series) -> pl.Series:
    """One series in ``mask``'s order: where ``mask`` is true the next value of ``chosen``, elsewhere the next of
    ``others`` (``chosen`` has one value per true, ``others`` one per false). Works for every dtype (``scatter``
    does not take lists) and writes into none of its arguments."""
    ones = mask.cast(pl.UInt32)
    position = pl.select(
        pl.when(mask).then(ones.cum_sum() - 1).otherwise(chosen.len() + (1 - ones).cum_sum() - 1).cast(pl.UInt32)
    ).to_series()
    return pl.concat([chosen, others.cast(chosen.dtype)]).gather(position)


def per_distinct(values: pl.Series, compute: Callable[[pl.Series], pl.DataFrame]) -> pl.DataFrame:
    """Run ``compute`` on the distinct values of ``values`` only and spread its rows back, in order.

    ``compute`` receives the distinct values (nulls included once) and returns one row per value. Extract columns
    repeat heavily (a ward name thousands of times), so this is where most of the speed of normalization comes
    from. ``compute`` gets its own copy of the distinct values: even a ``compute`` that changed its argument could
    not change ``values``, and a result of the wrong height is an error, never a silent row multiplication.
    """
    distinct, (codes,) = distinct_codes([values])
    if distinct.len() > 0.8 * values.len():
        # Nearly all distinct (e.g. addresses with house numbers): spreading back would cost more than it saves.
        return _checked_height(compute(values.cast(pl.String).clone()), values.len())
    return _checked_height(compute(distinct.clone()), distinct.len()).gather(codes)


def per_distinct_columns(
    columns: list[pl.Series],
    compute: Callable[[pl.Series], pl.DataFrame],
    keep: Sequence[Sequence[str] | None] | None = None,
) -> list[pl.DataFrame]:
    """:func:`per_distinct` over several columns of the same kind at once: ``compute`` runs once on the distinct
    values of all of them (a child's father_name is often another record's full_name; a hometown is often
    another record's address), and each column gets its rows back, in order. ``keep[i]`` (if given and not None)
    names the result columns column ``i`` needs: only those are spread back."""
    distinct, codes = distinct_codes(columns)
    result = _checked_height(compute(distinct.clone()), distinct.len())
    wanted = keep if keep is not None else [None] * len(columns)
    return [
        (result if names is None else result.select(names)).gather(code)
        for code, names in zip(codes, wanted, strict=True)
    ]


def legacy_flags(values: pl.Series) -> pl.Series:
    """Boolean "was TCVN3/VNI-encoded (or UTF-8 read as Windows-1252)" per cell, decided once per distinct
    suspicious value; all False (no join back) when no value is legacy-encoded, as in most columns.

    A column of few distinct values (sex, places, dates) is reduced to them first; a column of mostly distinct
    ones (IDs) is scanned as it is, which is cheaper than grouping a million strings to find none suspicious.
    """
    sample = values.head(10_000)
    tested = values.drop_nulls().unique() if sample.n_unique() <= 0.2 * sample.len() else values
    # Every legacy hint is a non-ASCII character: ASCII cells (IDs, dates, codes) leave before the patterns run.
    tested = tested.filter(tested.str.len_bytes() != tested.str.len_chars())
    suspicious = tested.filter(legacy_suspects(tested))
    converted = [v for v in suspicious.unique().to_list() if fix_legacy_encoding(v)[1] is not None]
    if not converted:
        return pl.repeat(False, values.len(), dtype=pl.Boolean, eager=True).alias(values.name)
    return values.is_in(converted).fill_null(False)


def _checked_height(result: pl.DataFrame, expected: int) -> pl.DataFrame:
    if result.height != expected:
        raise AssertionError(f"per-value computation returned {result.height} rows for {expected} values")
    return result


# Characters that are NFC on their own and never compose with each other: ASCII to the spacing modifiers
# (U+0000-U+02FF) and Latin Extended Additional (U+1E00-U+1EFF, every precomposed Vietnamese vowel). A text made of
# these only is already NFC (checked against Python's tables, character by character and pair by pair, in the
# tests); any other character (a combining mark, a singleton such as U+2126 OHM SIGN) sends the cell to NFC.
_MAYBE_NOT_NFC_PATTERN: Final = r"[^\x00-\x{2ff}\x{1e00}-\x{1eff}]"


def nfc_series(values: pl.Series) -> pl.Series:
    """NFC of a text column, computed only on the cells that may change (the others already are NFC).

    Returns a new series; ``values`` is never changed.
    """
    mask = values.str.contains(_MAYBE_NOT_NFC_PATTERN).fill_null(False)
    indices = mask.arg_true()
    if indices.len() == 0:
        return values
    return replaced_at(values, indices, values.gather(indices).str.normalize("NFC"))
