"""Where a first night's matching spends its time and memory: ``find_candidates``, ``score_candidates`` and
``cluster_night`` (the ``candidate_pairs``, ``scored_pairs`` and ``person_clusters`` assets) step by step.

    .venv/bin/dancu nightly --input <inputs>/night1 --output var/prof/out --date 2025-11-11 --quiet   # once
    .venv/bin/python benchmarks/profile_match_night.py var/prof/out 2025-11-11 [--dump var/prof/match-a]
    .venv/bin/python benchmarks/profile_match_night.py --compare var/prof/match-a var/prof/match-b
    .venv/bin/python benchmarks/profile_match_night.py var/prof/out 2025-11-11 --chunk-rows 25000 --batch-pairs 9000

Reads a finished first night's ``normalized_base`` and ``normalized_extracts`` outputs and matches them again as a
full night into a scratch state folder (the night's own state is not touched): the base index built from nothing,
the model trained, every base pair blocked, scored and clustered. Prints per step: wall and CPU seconds, and the
process's RSS before, at its peak during the step (sampled every 5 ms) and after (``profile_register_night.Steps``).
``--dump`` writes the candidates, the scored pairs and the clusters as Parquet, for comparing two versions of the
code (``--compare A B``: every file equal, exit 1 if not). ``--chunk-rows`` and ``--batch-pairs`` override the
engine's ``INDEX_CHUNK_ROWS`` and ``COMPARE_BATCH_PAIRS`` (a small base in as many pieces as a large one).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse

from profile_register_night import Steps, _compare, _rss_mb, night_arguments


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chunk-rows", type=int, help="base rows prepared into the index at once")
    parser.add_argument("--batch-pairs", type=int, help="pairs compared at once")


def main() -> int:
    args = night_arguments(__doc__, "write candidates, scored pairs and clusters here", _options)
    if args.compare:
        return _compare(*args.compare)

    import matchers.engine.index as index
    import matchers.engine.nightly as nightly
    from matchers.engine.population import population_settings
    from pipelines.io import load_output

    if args.chunk_rows:
        nightly.INDEX_CHUNK_ROWS = args.chunk_rows
    if args.batch_pairs:
        nightly.COMPARE_BATCH_PAIRS = args.batch_pairs
    steps = Steps()
    for name in ("_all_base_pairs", "_link_candidates", "_candidates_result", "_training_model", "_base_rows",
                 "estimate_u", "random_pair_levels", "dedupe_candidates", "compare_candidates", "train_model",
                 "score_compared", "_records_for_clustering", "_full_clusters"):  # fmt: skip
        if hasattr(nightly, name):
            steps.wrap(nightly, name)
    steps.wrap(index.IndexStore, "commit", "IndexStore.commit")

    base = load_output(args.output, args.night, "normalized_base")
    extracts = load_output(args.output, args.night, "normalized_extracts")
    settings = population_settings()
    scratch = Path(tempfile.mkdtemp(prefix="dancu-profile-match-"))
    try:
        start = _rss_mb()
        candidates, _ = steps.run(
            "find_candidates (full)",
            lambda: nightly.find_candidates(base, extracts, settings, scratch, full=True),
        )
        scored = steps.run(
            "score_candidates",
            lambda: nightly.score_candidates(candidates, extracts, settings, scratch, args.night),
        )
        clusters = steps.run(
            "cluster_night",
            lambda: nightly.cluster_night(base, extracts, scored.pairs, settings, scratch, args.night),
        )
        print(f"{base.rows:,} base records, {candidates.height:,} candidates, {scored.pairs.height:,} scored pairs "
              f"kept; RSS {start:.0f} MB before")  # fmt: skip
        steps.print()
        if args.dump is not None:
            args.dump.mkdir(parents=True, exist_ok=True)
            candidates.write_parquet(args.dump / "candidates.parquet")
            scored.pairs.write_parquet(args.dump / "scored_pairs.parquet")
            clusters.frame().sort("record_id").write_parquet(args.dump / "clusters.parquet")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
