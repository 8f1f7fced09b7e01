"""CPU seconds of each stage of ``bench_match.py``'s dancu engine on a prepared province (not in CI).

On a shared machine wall time says little; the process's CPU time (all threads) is what a change moves. This runs
what ``engine_dancu`` runs (read the canonical records, normalize base and extracts, ``dedupe_and_link``, person
clusters) and prints wall and CPU seconds per stage, and per step inside ``dedupe_and_link`` (the linker's steps
wrapped in this process only). It also writes the outputs ``engine_dancu`` writes (pairs, clusters, both models)
into ``out``, to compare two commits:

    .venv/bin/python benchmarks/stage_cpu.py var/bench/suite/37-1000000-11-8 /tmp/stages-new

A folder of a million records is a heavy run: through the lock (``flock /work/wt/heavy.lock ...``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import matchers.engine.linker as linker  # noqa: E402
from matchers.engine.clustering import person_clusters  # noqa: E402
from matchers.engine.population import population_settings  # noqa: E402
from normalize.frame import normalize_records  # noqa: E402

_STEPS = (
    "prepare_records",
    "guarded_block_keys",
    "block_keys",
    "random_pair_levels",
    "estimate_u",
    "dedupe_candidates",
    "compare_candidates",
    "train_and_score",
    "sorted_keys",
    "link_candidates",
)


def _timed(rows: list[tuple[str, float, float]], label: str, run: Callable[[], Any]) -> Any:
    cpu, wall = time.process_time(), time.perf_counter()
    result = run()
    rows.append((label, time.perf_counter() - wall, time.process_time() - cpu))
    print(f"{label:<24} wall {rows[-1][1]:7.2f} s  CPU {rows[-1][2]:7.2f} s", flush=True)
    return result


def _wrap_steps(rows: list[tuple[str, float, float]]) -> None:
    for name in _STEPS:
        step = getattr(linker, name, None)
        if step is None:
            continue

        def wrapped(*args: Any, _step: Callable[..., Any] = step, _name: str = name, **kwargs: Any) -> Any:
            return _timed(rows, f"  {_name}", lambda: _step(*args, **kwargs))

        setattr(linker, name, wrapped)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a prepared province (bench_match.py generated/suite --data)")
    parser.add_argument("out", type=Path, help="folder for pairs, clusters and models")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    settings = population_settings()
    rows: list[tuple[str, float, float]] = []
    canonical = args.folder / "canonical"

    def read() -> tuple[pl.DataFrame, pl.DataFrame]:
        return pl.read_parquet(canonical / "base.parquet"), pl.read_parquet(canonical / "extracts.parquet")

    as_of = date.fromisoformat((canonical / "as_of.txt").read_text("utf-8").strip())
    base, extract = _timed(rows, "read", read)
    base = _timed(rows, "normalize base", lambda: normalize_records(base, as_of=as_of))
    extract = _timed(rows, "normalize extracts", lambda: normalize_records(extract, as_of=as_of))
    _wrap_steps(rows)
    deduped, linked = _timed(rows, "dedupe_and_link", lambda: linker.dedupe_and_link(base, extract, settings))
    conflict_columns = [c for rule in settings.conflicts for c in rule.columns if c in base.columns]
    needed = list(dict.fromkeys(["record_id", "source", "person_id_norm", "person_id_valid", *conflict_columns]))
    records = pl.concat([base.select(needed), extract.select(needed)])
    both = pl.concat([deduped.pairs, linked.pairs])
    clusters, _ = _timed(rows, "clusters", lambda: person_clusters(records, both, settings))
    levels = [c for c in both.columns if c.startswith("level_")]
    both.select("left_id", "right_id", "kind", "match_probability", "decision", *levels).write_parquet(
        args.out / "pairs.parquet"
    )
    clusters.write_parquet(args.out / "clusters.parquet")
    deduped.model.save(args.out / "model_dedupe.json")
    linked.model.save(args.out / "model_link.json")
    top = [row for row in rows if not row[0].startswith(" ")]
    print(f"{'total':<24} wall {sum(r[1] for r in top):7.2f} s  CPU {sum(r[2] for r in top):7.2f} s")


if __name__ == "__main__":
    main()
