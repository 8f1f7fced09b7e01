"""Benchmark of the demo-province generator: ``python benchmarks/bench_generate.py [--people N] [--nights K]``.

Prints wall-clock seconds, rows written and peak resident memory. Run on a quiet machine.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from datagen import generate_province


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--nights", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="write here and keep the output")
    args = parser.parse_args()
    out = args.keep or Path(tempfile.mkdtemp(prefix="dancu-bench-"))
    try:
        started = time.perf_counter()
        result = generate_province(args.people, args.seed, out, nights=args.nights)
        seconds = time.perf_counter() - started
    finally:
        if args.keep is None:
            shutil.rmtree(out, ignore_errors=True)
    extract_rows = sum(result.extract_rows.values())
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"people={args.people} nights={args.nights} seconds={seconds:.1f}")
    print(f"base_rows={result.base_rows} extract_rows={extract_rows} defect_rows={result.defect_rows}")
    print(f"peak_rss_mib={peak_mib:.0f}")


if __name__ == "__main__":
    main()
