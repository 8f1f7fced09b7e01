"""Are two runs of ``dancu nightly`` on the same inputs the same? Every output of one night, and the task store.

    .venv/bin/python benchmarks/diff_nights.py var/a/out var/b/out 2025-11-11

For old code against new (a speed or memory change must leave every result identical): each output under
``nights/<night>/`` as the whole table it stands for (``pipelines.io.output_frame``: a state output as the state's
version of that night: the register, the change set, every finding, every cluster), compared row for row in the
order written, and every table of the SQLite task store (``dancu.sqlite``) without the columns that hold the
run's wall-clock times. Prints one line per table; exit 1 if any differs.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

import polars as pl

_RUN_TIMES = frozenset({"at", "created_at", "updated_at", "resolved_at", "finished_at", "claimed_at"})
"""Columns that hold when the run happened, not what it decided."""
_RUN_FILES = frozenset({"run-summary.json"})


def store_tables(database: Path) -> dict[str, pl.DataFrame]:
    """Every table of a task store, without run-time columns, sorted by every column."""
    tables: dict[str, pl.DataFrame] = {}
    with sqlite3.connect(database) as connection:
        names = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for name in sorted(names):
            cursor = connection.execute(f'SELECT * FROM "{name}"')
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            frame = pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)
            frame = frame.drop([c for c in columns if c in _RUN_TIMES or (name == "audit_log" and c == "detail")])
            tables[name] = frame.sort(frame.columns, nulls_last=True) if frame.width else frame
    return tables


def _same(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    return a.schema == b.schema and a.equals(b, null_equal=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path, help="one run's --output folder")
    parser.add_argument("second", type=Path, help="the other run's --output folder")
    parser.add_argument("night", help="the night (YYYY-MM-DD)")
    args = parser.parse_args()

    from pipelines.io import output_frame

    same = True
    folder = args.first / "nights" / args.night
    outputs = sorted(
        p.name.removesuffix(".parquet")
        for p in folder.iterdir()
        if not p.name.startswith(".") and p.name not in _RUN_FILES
    )
    for name in outputs:
        a = output_frame(args.first, args.night, name)
        b = output_frame(args.second, args.night, name)
        equal = _same(a, b)
        same &= equal
        print(f"output {name:<28}{a.height:>10,} rows {a.width:>4} columns  identical: {'yes' if equal else 'NO'}")
    first, second = store_tables(args.first / "dancu.sqlite"), store_tables(args.second / "dancu.sqlite")
    for name in sorted(first.keys() | second.keys()):
        left, right = first.get(name), second.get(name)
        equal = left is not None and right is not None and _same(left, right)
        same &= equal
        rows = 0 if left is None else left.height
        print(f"store  {name:<28}{rows:>10,} rows  identical: {'yes' if equal else 'NO'}")
    print("identical" if same else "DIFFERENT")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
