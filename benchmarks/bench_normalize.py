"""Benchmark of ``normalize.frame.normalize_records`` on a generated population base as varied as a real one.

The base is the generator's (``datagen.generate_province``): mostly distinct permanent addresses (house numbers,
lanes written the region's way, thousands of streets, one household typed differently per record), old- and
new-form addresses, hometowns from the whole country, parents' and spouses' names, legacy-font and damaged text.
When the generator gives fewer than 10,000 distinct given-name spellings (the held-out bases have more), the
benchmark gives a share of the records a two-syllable given name drawn from the syllables of real names, and says
so. A fresh process normalizes the whole base once (only 1,000 rows are normalized before, to load the unit
tables), and prints a table: the base's variety, seconds, records/s, CPU seconds, load average and peak memory.

    .venv/bin/python benchmarks/bench_normalize.py [--people 1000000] [--seed 7] [--current-share 0.3]

``--current-share`` fills ``current_address`` (temporary residence) for that share of the records with another
generated address, as real bases carry; the generator's base leaves it empty. Target (issue 12): >= 100,000
records/s on the 2-core build machine; run it alone on a quiet machine (``uptime``).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datagen import generate_province  # noqa: E402
from datagen.names import NAMEDB_DIR  # noqa: E402
from normalize.frame import normalize_records, summarize  # noqa: E402
from records.schema import conform  # noqa: E402

NIGHT = date(2026, 11, 20)
GIVEN_TARGET = 10_000


def _base(people: int, seed: int, cache: Path) -> pl.DataFrame:
    folder = cache / f"dancu-bench-normalize-{people}-{seed}"
    path = folder / "population_base.parquet"
    if not path.exists():
        started = time.perf_counter()
        generate_province(people, seed, folder, night=NIGHT)
        print(f"Sinh dữ liệu / generated {people:,} people in {time.perf_counter() - started:.1f} s → {folder}")
    frame = pl.read_parquet(path)
    return conform(frame.drop([c for c in ("source_file", "source_row") if c in frame.columns]), source="base")


def _name_syllables() -> list[str]:
    words: set[str] = set()
    for file in sorted(NAMEDB_DIR.glob("*.txt")):
        words.update(re.findall(r"[^\W\d_]+", file.read_text(encoding="utf-8")))
    return sorted(w for w in words if w[:1].isupper())


def _given_spellings(frame: pl.DataFrame) -> int:
    """Distinct spellings of the given name (the last word, as typed)."""
    return frame["full_name"].str.split(" ").list.last().n_unique()


def _after_family_spellings(frame: pl.DataFrame) -> int:
    """Distinct spellings of what follows the family name (middle and given names, as typed)."""
    return frame["full_name"].str.split(" ").list.slice(1).list.join(" ").n_unique()


def _more_given_names(frame: pl.DataFrame, seed: int, share: float) -> pl.DataFrame:
    """Give ``share`` of the records a two-syllable given name ("... Minh Khôi") from real name syllables."""
    rng = np.random.default_rng(seed)
    syllables = np.array(_name_syllables())
    n = frame.height
    pick = rng.random(n) < share
    pair = (
        pl.Series(syllables[rng.integers(0, syllables.size, n)])
        + " "
        + pl.Series(syllables[rng.integers(0, syllables.size, n)])
    )
    words = frame["full_name"].str.split(" ")
    renamed = pl.select(
        pl.when(pl.lit(pl.Series(pick)) & (words.list.len() >= 3))
        .then(pl.concat_str(words.list.slice(0, 2).list.join(" "), pl.lit(" "), pair))
        .otherwise(frame["full_name"])
    ).to_series()
    return frame.with_columns(renamed.alias("full_name"))


def _with_current_addresses(frame: pl.DataFrame, seed: int, share: float) -> pl.DataFrame:
    if share <= 0:
        return frame
    rng = np.random.default_rng(seed + 1)
    elsewhere = frame["permanent_address"].gather(rng.permutation(frame.height))
    pick = pl.Series(rng.random(frame.height) < share)
    return frame.with_columns(
        pl.when(pick).then(elsewhere).otherwise(pl.col("current_address")).alias("current_address")
    )


def _variety(frame: pl.DataFrame, note: str) -> list[tuple[str, str]]:
    n = frame.height

    def share(count: int) -> str:
        return f"{count:,} ({count / n:.0%})"

    old_form = frame["permanent_address"].str.contains(r"(?i)\b(quận|huyện|q\.|h\.|tx\.)").sum()
    return [
        ("records", f"{n:,}"),
        ("distinct permanent addresses", share(frame["permanent_address"].n_unique())),
        ("distinct current addresses", share(frame["current_address"].drop_nulls().n_unique())),
        ("distinct hometowns", share(frame["hometown"].n_unique())),
        ("permanent addresses in the old (3-tier) form", share(int(old_form))),
        ("distinct given names (last word, as typed)", f"{_given_spellings(frame):,}"),
        ("distinct middle + given names (as typed)", f"{_after_family_spellings(frame):,}{note}"),
        ("distinct full names", share(frame["full_name"].n_unique())),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--current-share", type=float, default=0.0)
    parser.add_argument("--cache", type=Path, default=Path("/tmp"), help="where the generated base is kept")
    args = parser.parse_args()

    records = _base(args.people, args.seed, args.cache)
    note = ""
    if _given_spellings(records) < GIVEN_TARGET:
        records = _more_given_names(records, args.seed, 0.5)
        note = (
            " (the generator has < 10,000 given names: here half the records were given a two-syllable given name"
            " drawn from the namedb syllables)"
        )
    records = _with_current_addresses(records, args.seed, args.current_share)

    # Unit tables and indexes are loaded once per process; their cost is not per record.
    warm = time.perf_counter()
    normalize_records(records.head(1000), as_of=NIGHT)
    warm_seconds = time.perf_counter() - warm

    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    normalized = normalize_records(records, as_of=NIGHT)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = summarize(normalized)

    rows = [
        *_variety(records, note),
        ("unit tables + warm-up (1,000 rows)", f"{warm_seconds:.1f} s"),
        ("normalize_records", f"{elapsed:.1f} s for {normalized.height:,} records x {normalized.width} columns"),
        ("records/s", f"{normalized.height / elapsed:,.0f}"),
        ("CPU time (all threads)", f"{cpu:.1f} s"),
        ("load average before / after", f"{load_before:.2f} / {os.getloadavg()[0]:.2f}"),
        ("peak memory (RSS)", f"{peak_mib:,.0f} MiB"),
        ("addresses resolved / ambiguous / unresolved", (
            f"{counts['address_resolved']:,} / {counts['address_ambiguous']:,} / {counts['address_unresolved']:,}"
        )),
        ("records with legacy-font text", f"{counts['legacy_encoded_records']:,}"),
    ]  # fmt: skip
    width = max(len(label) for label, _ in rows)
    print(f"\n{'Chuẩn hóa / normalization benchmark':<{width}}  ")
    print(f"{'-' * width}  {'-' * 60}")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
