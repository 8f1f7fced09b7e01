"""Writing Windows-1258, the Vietnamese Windows code page that stores tone marks as separate combining characters."""

from __future__ import annotations

import unicodedata

__all__ = ["encode_cp1258"]

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _cp1258_form(char: str) -> str:
    """A precomposed letter cp1258 lacks, as base letter (with its vowel mark) + combining tone mark."""
    decomposed = unicodedata.normalize("NFD", char)
    tones = "".join(c for c in decomposed if c in _TONES)
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    return base + tones


def encode_cp1258(text: str, errors: str = "strict") -> bytes:
    """Encode NFC Vietnamese text as cp1258 bytes (decoding them and applying NFC gives the text back)."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        try:
            out.append(char.encode("cp1258"))
        except UnicodeEncodeError:
            out.append(_cp1258_form(char).encode("cp1258", errors=errors))
    return b"".join(out)
