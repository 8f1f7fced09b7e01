"""The queue's name search: an ASCII key per task, matched at the start of a word.

Officers type names with or without diacritics, in either tone placement (hoà/hòa), in any case; the key folds all
of that away (``normalize.text.ascii_key``), so "nguyen van an", "NGUYỄN Văn An" and "Nguyễn văn an" find the same
tasks. The key starts with a space so that a pattern ``"% " + key_of(term) + "%"`` matches whole words or word
prefixes ("hoa" finds "Lê Thị Hoa" and "Hoàng", not "Khoa"). PostgreSQL serves the pattern from a trigram index.
"""

from __future__ import annotations

from functools import lru_cache

from normalize.text import ascii_key

__all__ = ["name_key", "name_pattern"]


@lru_cache(maxsize=65536)
def name_key(name: str | None) -> str | None:
    """The stored search key of a subject name (``None`` when there is no name; names repeat, so it is cached)."""
    if not name:
        return None
    key = ascii_key(name)
    return f" {key}" if key else None


def name_pattern(term: str) -> str | None:
    """The LIKE pattern of a search term, or ``None`` when the term has no letter or digit to search for."""
    key = ascii_key(term)
    if not key:
        return None
    # The key alphabet is [a-z0-9 ]: no LIKE wildcard can come from the user's input.
    return f"% {key}%"
