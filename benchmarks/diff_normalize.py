"""Differential check and timing of ``normalize.frame.normalize_records`` on generated suite data (not in CI).

A speed change to normalization must leave every value as it was. This script normalizes canonical record sets
(the ``canonical/`` folders that ``bench_match.py suite`` writes: ``base.parquet``, ``extracts.parquet`` and
``as_of.txt``), prints wall and CPU time per frame, and either saves the outputs as the reference (``--save``) or
compares them with a saved reference (``--check``: ``DataFrame.equals``, nulls equal, column order and dtypes
included). Run ``--save`` with the old code, then ``--check`` with the new one:

    .venv/bin/python benchmarks/diff_normalize.py --save /tmp/ref var/bench/suite/37-100000-11-8/canonical
    .venv/bin/python benchmarks/diff_normalize.py --check /tmp/ref var/bench/suite/37-100000-11-8/canonical

Each folder's frames are normalized in one process after a 1,000-row warm-up (the unit tables load), in the order
base then extracts, as the matching stage does. Exits 1 when any frame differs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from normalize.frame import normalize_records  # noqa: E402

FRAMES = ("base", "extracts")


def _reference_path(reference: Path, folder: Path, frame: str) -> Path:
    return reference / f"{folder.parent.name}-{frame}.parquet"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--save", type=Path, help="write the outputs here as the reference")
    mode.add_argument("--check", type=Path, help="compare the outputs with the reference saved here")
    parser.add_argument("folders", type=Path, nargs="+", help="canonical/ folders (base.parquet, extracts.parquet)")
    args = parser.parse_args()

    warmed = False
    differing = 0
    print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for folder in args.folders:
        as_of = date.fromisoformat((folder / "as_of.txt").read_text().strip())
        for name in FRAMES:
            frame = pl.read_parquet(folder / f"{name}.parquet")
            if not warmed:
                normalize_records(frame.head(1_000), as_of=as_of)
                warmed = True
            wall, cpu = time.perf_counter(), time.process_time()
            out = normalize_records(frame, as_of=as_of)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            path = _reference_path(args.save or args.check, folder, name)
            if args.save:
                path.parent.mkdir(parents=True, exist_ok=True)
                out.write_parquet(path)
                verdict = "saved"
            else:
                reference = pl.read_parquet(path)
                same = out.schema == reference.schema and out.equals(reference, null_equal=True)
                differing += not same
                verdict = "identical" if same else "DIFFERENT"
            print(
                f"{folder.parent.name:>16} {name:<9} {frame.height:>9,} rows  wall {wall:6.2f} s  "
                f"CPU {cpu:6.2f} s  {verdict}"
            )
    print(f"load average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
