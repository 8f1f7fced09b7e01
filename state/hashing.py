"""Content hashes of records and fingerprints of the code that derives state from them.

A record's content hash tells whether it changed since the last night without comparing its fields; a code
fingerprint tells whether the state was derived by the code now installed: when the normalizer, the matching engine
or the rules change, the components they shaped are rebuilt instead of mixing old and new results.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import polars as pl

__all__ = ["HASH_COLUMN", "code_fingerprint", "row_hashes"]

HASH_COLUMN = "_row_hash"
_SEED = 20250701
_CODE_SUFFIXES = (".py", ".toml", ".json", ".csv", ".txt")


def row_hashes(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """A 64-bit hash of each row's ``columns`` (as text; null and empty differ), stable across processes.

    Polars' row hash with fixed seeds: the same row gives the same hash in every run of the same Polars version
    (the version is part of every state fingerprint). Missing columns hash as null.
    """
    selected = frame.select(
        (pl.col(c).cast(pl.String) if c in frame.columns else pl.lit(None, dtype=pl.String)).alias(c) for c in columns
    )
    if selected.height == 0:
        return pl.Series(HASH_COLUMN, [], dtype=pl.UInt64)
    return selected.hash_rows(seed=_SEED).alias(HASH_COLUMN)


@cache
def code_fingerprint(*modules: str) -> str:
    """A digest of the source (and data) files of the given packages or modules, and of the Polars version.

    Any edit to them changes it; so does another Polars, whose hashes and sort orders the state may depend on.
    """
    digest = hashlib.sha256(f"polars={pl.__version__}".encode())
    for name in sorted(modules):
        module = importlib.import_module(name)
        origin = Path(module.__file__ or "")
        root = origin.parent if origin.name == "__init__.py" else origin
        files = sorted(p for p in root.rglob("*") if p.suffix in _CODE_SUFFIXES) if root.is_dir() else [root]
        for path in files:
            if "__pycache__" in path.parts:
                continue
            digest.update(f"{name}:{path.relative_to(root.parent).as_posix()}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:20]
