"""Vietnamese text helpers for the generator: tone placement, diacritic removal and the legacy encodings.

The generator writes the *dirt* a normalizer has to undo, so each helper here produces one real-world form:
old-style tone placement ("hoà" for "hòa"), text without diacritics, "Ð" (U+00D0) typed for "Đ", and text typed
in the 8-bit font encodings TCVN3 (ABC, ".VnTime") and VNI-Windows as it looks once the bytes are read as
Windows-1252 ("TrÇn V¨n §øc", "Traàn Vaên Ñöùc" for "Trần Văn Đức").

Canonical text (the ground truth) is NFC with the tone on the first vowel of an open "oa", "oe", "uy" syllable
("hòa", "khỏe", "thúy"), the style most of the name list already uses.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, Literal

__all__ = [
    "ASCII_FOLD",
    "TCVN3_ENCODE",
    "VNI_ENCODE",
    "LegacyScheme",
    "decode_legacy",
    "encode_legacy",
    "fold_name_text",
    "strip_diacritics",
    "to_cp1258_bytes",
    "to_old_tone",
]

LegacyScheme = Literal["tcvn3", "vni", "utf8_as_cp1252"]
"""How text was damaged: typed in a TCVN3 or VNI font, or UTF-8 opened as Windows-1252 and saved again."""

_TONES: Final = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # huyền, sắc, hỏi, ngã, nặng
_BASES: Final = "aăâeêioôơuưy"


def _toned(base: str, tone: str) -> str:
    return unicodedata.normalize("NFC", base + tone)


# TCVN 5712:1993 VN3 (the "ABC" .VnTime fonts): one byte per letter. Lower case toned letters and the seven
# upper-case base letters have codes; upper-case toned letters do not exist in VN3 (they were typed in the
# capitals font .VnTimeH with the lower-case codes), so they encode to the lower-case code.
_TCVN3_LOWER: Final[dict[str, int]] = {
    "à": 0xB5, "á": 0xB8, "ả": 0xB6, "ã": 0xB7, "ạ": 0xB9,
    "ă": 0xA8, "ằ": 0xBB, "ắ": 0xBE, "ẳ": 0xBC, "ẵ": 0xBD, "ặ": 0xC6,
    "â": 0xA9, "ầ": 0xC7, "ấ": 0xCA, "ẩ": 0xC8, "ẫ": 0xC9, "ậ": 0xCB,
    "è": 0xCC, "é": 0xD0, "ẻ": 0xCE, "ẽ": 0xCF, "ẹ": 0xD1,
    "ê": 0xAA, "ề": 0xD2, "ế": 0xD5, "ể": 0xD3, "ễ": 0xD4, "ệ": 0xD6,
    "ì": 0xD7, "í": 0xDD, "ỉ": 0xD8, "ĩ": 0xDC, "ị": 0xDE,
    "ò": 0xDF, "ó": 0xE3, "ỏ": 0xE1, "õ": 0xE2, "ọ": 0xE4,
    "ô": 0xAB, "ồ": 0xE5, "ố": 0xE8, "ổ": 0xE6, "ỗ": 0xE7, "ộ": 0xE9,
    "ơ": 0xAC, "ờ": 0xEA, "ớ": 0xED, "ở": 0xEB, "ỡ": 0xEC, "ợ": 0xEE,
    "ù": 0xEF, "ú": 0xF3, "ủ": 0xF1, "ũ": 0xF2, "ụ": 0xF4,
    "ư": 0xAD, "ừ": 0xF5, "ứ": 0xF8, "ử": 0xF6, "ữ": 0xF7, "ự": 0xF9,
    "ỳ": 0xFA, "ý": 0xFD, "ỷ": 0xFB, "ỹ": 0xFC, "ỵ": 0xFE,
    "đ": 0xAE,
}  # fmt: skip
_TCVN3_UPPER_BASE: Final[dict[str, int]] = {"Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7}


def _byte_char(code: int) -> str:
    """The character a legacy byte shows as when the file is read as Windows-1252 (how the gibberish travels)."""
    return bytes([code]).decode("cp1252")


def _build_tcvn3() -> dict[str, str]:
    table = {letter: _byte_char(code) for letter, code in _TCVN3_LOWER.items()}
    table.update({letter: _byte_char(code) for letter, code in _TCVN3_UPPER_BASE.items()})
    for letter, code in _TCVN3_LOWER.items():
        upper = letter.upper()
        if upper not in table:
            table[upper] = _byte_char(code)
    return table


# VNI-Windows: a base letter followed by a mark byte; a few letters are single bytes (ơ, ư, đ and the toned i, ỵ).
_VNI_TONE_MARK: Final = {"\u0300": "ø", "\u0301": "ù", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}
_VNI_CIRCUMFLEX: Final = {"": "â", "\u0300": "à", "\u0301": "á", "\u0309": "å", "\u0303": "ã", "\u0323": "ä"}
_VNI_BREVE: Final = {"": "ê", "\u0300": "è", "\u0301": "é", "\u0309": "ú", "\u0303": "ü", "\u0323": "ë"}
_VNI_SINGLE: Final = {
    "ơ": "ô", "ư": "ö", "đ": "ñ", "ì": "ì", "í": "í", "ỉ": "æ", "ĩ": "ó", "ị": "ò", "ỵ": "î",
}  # fmt: skip


def _build_vni() -> dict[str, str]:
    table: dict[str, str] = {}
    for base in "aeiouy":
        for tone in _TONES:
            table[_toned(base, tone)] = base + _VNI_TONE_MARK[tone]
    for base in "aeo":
        for tone, mark in _VNI_CIRCUMFLEX.items():
            table[_toned(base + "\u0302", tone)] = base + mark
    for tone, mark in _VNI_BREVE.items():
        table[_toned("a\u0306", tone)] = "a" + mark
    for base, single in (("ơ", "ô"), ("ư", "ö")):
        table[base] = single
        for tone in _TONES:
            table[_toned(base, tone)] = single + _VNI_TONE_MARK[tone]
    table.update(_VNI_SINGLE)
    for letter, code in list(table.items()):
        table[letter.upper()] = code.upper()
    return table


TCVN3_ENCODE: Final[dict[str, str]] = _build_tcvn3()
"""Unicode letter -> TCVN3 (VN3) character as read through Windows-1252."""
VNI_ENCODE: Final[dict[str, str]] = _build_vni()
"""Unicode letter -> VNI-Windows character(s) as read through Windows-1252."""

_TCVN3_TRANSLATE: Final = str.maketrans(TCVN3_ENCODE)
_VNI_TRANSLATE: Final = str.maketrans(VNI_ENCODE)


# Windows-1252 leaves five bytes without a letter; Windows shows them as the C1 controls of the same number.
_CP1252_BYTES: Final = [bytes([b]).decode("cp1252", errors="replace") for b in range(256)]
_CP1252_CHARS: Final = [chr(b) if ch == "\ufffd" else ch for b, ch in enumerate(_CP1252_BYTES)]


def encode_legacy(text: str, scheme: LegacyScheme) -> str:
    """``text`` (NFC) as it appears when typed in a legacy font and read as Unicode: "Trần" -> "TrÇn" (TCVN3); or,
    ``utf8_as_cp1252``, its UTF-8 bytes read as Windows-1252: "Trần" -> "Tráº§n"."""
    text = unicodedata.normalize("NFC", text)
    if scheme == "utf8_as_cp1252":
        return "".join(_CP1252_CHARS[b] for b in text.encode("utf-8"))
    table = _TCVN3_TRANSLATE if scheme == "tcvn3" else _VNI_TRANSLATE
    return text.translate(table)


def _decode_tables() -> dict[str, list[tuple[str, str]]]:
    tcvn3 = [
        (code, letter)
        for letter, code in TCVN3_ENCODE.items()
        if letter == letter.lower() or letter in _TCVN3_UPPER_BASE
    ]
    vni = sorted(((code, letter) for letter, code in VNI_ENCODE.items()), key=lambda pair: -len(pair[0]))
    return {"tcvn3": tcvn3, "vni": vni}


_DECODE: Final = _decode_tables()
_DECODE_RE: Final = {
    scheme: (re.compile("|".join(re.escape(code) for code, _ in pairs)), dict(pairs))
    for scheme, pairs in _DECODE.items()
}


def decode_legacy(text: str, scheme: LegacyScheme) -> str:
    """Inverse of :func:`encode_legacy` (upper-case toned letters come back lower case in TCVN3, as in VN3 files).

    The pipeline's own repair lives in the normalizer; this one exists so the generator's tables can be tested.
    """
    if scheme == "utf8_as_cp1252":
        return bytes(_CP1252_CHARS.index(ch) for ch in text).decode("utf-8")
    pattern, mapping = _DECODE_RE[scheme]
    return pattern.sub(lambda match: mapping[match.group(0)], text)


# Tone placement. In an open syllable ending in "oa", "oe" or "uy" (not after "q", where "u" is part of the
# consonant) the old style puts the tone on the second vowel ("hoà", "khoẻ", "thuý"), the canonical style on
# the first ("hòa", "khỏe", "thúy").
def _tone_pairs() -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for first, second in (("o", "a"), ("o", "e"), ("u", "y")):
        for tone in _TONES:
            for f, s in ((first, second), (first.upper(), second.upper()), (first.upper(), second)):
                new = _toned(f, tone) + s
                old = f + _toned(s, tone)
                pairs.append((new, old))
    return pairs


_TONE_PAIRS: Final = _tone_pairs()
_OLD_TO_NEW: Final = {old: new for new, old in _TONE_PAIRS}
_NEW_TO_OLD: Final = {new: old for new, old in _TONE_PAIRS}
_OLD_TONE_RE: Final = re.compile(r"(?<![qQ])(" + "|".join(re.escape(old) for old in _OLD_TO_NEW) + r")(?!\w)")
_NEW_TONE_RE: Final = re.compile(r"(" + "|".join(re.escape(new) for new in _NEW_TO_OLD) + r")(?!\w)")


def to_old_tone(text: str) -> str:
    """Move tones of open "oa/oe/uy" syllables to the second vowel: "Thúy Hòa" -> "Thuý Hoà"."""
    return _NEW_TONE_RE.sub(lambda match: _NEW_TO_OLD[match.group(1)], text)


def fold_name_text(text: str) -> str:
    """Canonical form of name-list text: NFC, "Ð" (U+00D0) -> "Đ", canonical tone placement, single spaces."""
    text = unicodedata.normalize("NFC", text).replace("\u00d0", "Đ").replace("\u00f0", "đ")
    text = _OLD_TONE_RE.sub(lambda match: _OLD_TO_NEW[match.group(1)], text)
    return " ".join(text.split())


def _ascii_fold() -> dict[str, str]:
    table: dict[str, str] = {"đ": "d", "Đ": "D", "\u00d0": "D"}
    for base in _BASES:
        plain = unicodedata.normalize("NFD", base)[0]
        for tone in ("", *_TONES):
            letter = _toned(base, tone)
            if letter != plain:
                table[letter] = plain
                table[letter.upper()] = plain.upper()
    return table


ASCII_FOLD: Final[dict[str, str]] = _ascii_fold()
"""Every Vietnamese letter with a diacritic -> its ASCII letter (for vectorized ``str.replace_many``)."""
_ASCII_TRANSLATE: Final = str.maketrans(ASCII_FOLD)


def strip_diacritics(text: str) -> str:
    """ "Nguyễn Thị Đào" -> "Nguyen Thi Dao" (for display dirt, not for keys)."""
    return unicodedata.normalize("NFC", text).translate(_ASCII_TRANSLATE)


# Windows-1258 stores Vietnamese as base letter (with its hat, breve or horn) + a combining tone mark: the
# codec only knows those pieces, so precomposed toned letters are split before encoding.
def _cp1258_split() -> dict[str, str]:
    table: dict[str, str] = {}
    for base in _BASES:
        for tone in _TONES:
            letter = _toned(base, tone)
            for candidate in (letter, letter.upper()):
                try:
                    candidate.encode("cp1258")
                except UnicodeEncodeError:
                    decomposed = unicodedata.normalize("NFD", candidate)
                    mark = next(c for c in decomposed if c in _TONES)
                    rest = unicodedata.normalize("NFC", decomposed.replace(mark, ""))
                    table[candidate] = rest + mark
    return table


_CP1258_TRANSLATE: Final = str.maketrans(_cp1258_split())


def to_cp1258_bytes(text: str) -> bytes:
    """Encode NFC text in Windows-1258 the way Vietnamese Windows software does (tone as a combining mark)."""
    return unicodedata.normalize("NFC", text).translate(_CP1258_TRANSLATE).encode("cp1258")
