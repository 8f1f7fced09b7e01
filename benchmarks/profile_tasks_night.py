"""Where a night's ``correction_tasks`` asset spends its time and memory, step by step.

    .venv/bin/dancu nightly --input <inputs>/night1 --output var/prof/out --date 2025-11-11 --quiet   # once
    .venv/bin/python benchmarks/profile_tasks_night.py var/prof/out 2025-11-11 [--dump var/prof/tasks-a]

Reads a finished night's outputs, then does what the ``correction_tasks`` asset does (``task_inputs``,
``build_drafts``, ``apply_night`` into a new, empty SQLite task store, the per-person outcomes) in a scratch folder
(the night's own state and store are not touched). Meant for a *first* night (the store was empty before it); for a
later night, ``--store`` names the task store as it was before that night (a copy of ``dancu.sqlite`` kept after
the previous night), which the profile copies and applies the night to.
Prints per step wall and CPU seconds and RSS (before, peak sampled every 5 ms, after). ``--dump`` writes the task
store's tables and the outcomes as Parquet, for comparing two versions of the code (``--compare A B``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import inspect
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diff_nights import store_tables
from profile_register_night import Steps, _compare, _rss_mb, night_arguments


def dump_store(database: Path, folder: Path) -> None:
    """Every table of the task store as Parquet (without the run's wall-clock times: ``diff_nights``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in store_tables(database).items():
        frame.write_parquet(folder / f"store_{name}.parquet")


def main() -> int:
    def store_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--store", type=Path, help="the task store before this night (copied; default: empty)")
        parser.add_argument("--draft-slice", type=int, help="tasks drafted at a time (default: DRAFT_SLICE)")

    args = night_arguments(__doc__, "write the task store's tables and the outcomes here", store_option)
    if args.compare:
        return _compare(*args.compare)

    import corrections.build as build
    import corrections.nightly as nightly
    import pipelines.defs.report.tasks as asset
    import state.tasks as state_tasks
    from corrections.db import store_engine
    from matchers.engine.nightly import repaired_pairs
    from matchers.engine.population import population_settings
    from pipelines.io import load_output

    try:
        from pipelines.timing import collector_paused
    except ImportError:  # the code before it (profiling old code against new: PYTHONPATH=<old checkout>)
        collector_paused = contextlib.nullcontext
    # The code before one selection a night selected again in person_outcomes.
    selection_passed = "selection" in inspect.signature(state_tasks.person_outcomes).parameters
    from state.tables import TableStore

    steps = Steps()
    for name in ("task_inputs", "person_outcomes", "commit_outcomes", "outcome_totals"):
        steps.wrap(state_tasks, name)
    for name in ("select_findings", "_register_values", "_golden_rows", "_golden_values", "_records_frame"):
        if hasattr(build, name):
            steps.wrap(build, name, f"drafts: {name}")
    steps.wrap(build, "build_drafts")
    if hasattr(build, "plan_drafts"):
        steps.wrap(build, "plan_drafts")
    for name in ("_upsert_snapshots", "_upsert_staged_snapshots", "_apply_tasks", "_apply_plan", "_apply_reviews"):
        if hasattr(nightly, name):  # not every version of the code has each
            steps.wrap(nightly, name, f"apply_night: {name}")
    steps.wrap(nightly, "apply_night")
    steps.wrap(TableStore, "commit", "TableStore.commit")

    def out(name: str) -> object:
        return load_output(args.output, args.night, name)

    state_dir = args.output / "state"
    scratch = Path(tempfile.mkdtemp(prefix="dancu-profile-tasks-"))
    try:
        start = _rss_mb()
        night = dt.date.fromisoformat(args.night)
        database = scratch / "dancu.sqlite"
        if args.store is not None:
            shutil.copy(args.store, database)
        engine = store_engine(f"sqlite:///{database}")
        settings = population_settings()
        rules = asset.rules_table()
        wards = asset.units.current_wards()
        comparisons = asset.comparison_infos()

        def body() -> None:
            inputs = state_tasks.task_inputs(
                out("quality_findings"),  # type: ignore[arg-type]
                out("scored_pairs"),  # type: ignore[arg-type]
                out("normalized_base"),  # type: ignore[arg-type]
                out("normalized_extracts"),  # type: ignore[arg-type]
                out("person_clusters").clusters,  # type: ignore[attr-defined]
                out("register"),  # type: ignore[arg-type]
                out("register_changes"),  # type: ignore[arg-type]
                repaired_pairs(state_dir, args.night, settings),
            )
            # As the asset does: the code before drafting in slices built every draft at once.
            draft = getattr(build, "plan_drafts", build.build_drafts)
            with collector_paused():
                drafts = draft(
                    night,
                    inputs.findings,
                    inputs.pairs,
                    inputs.records,
                    rule_titles=dict(zip(rules["rule"].to_list(), rules["title"].to_list(), strict=True)),
                    comparisons=comparisons,
                    ward_provinces=dict(
                        zip(wards["ward_code"].to_list(), wards["province_code"].to_list(), strict=True)
                    ),
                    clusters=inputs.clusters,
                    register=inputs.register,
                    register_findings=inputs.register_findings,
                )
                if args.draft_slice:
                    drafts.slice_size = args.draft_slice
                scope = None if inputs.full else nightly.NightScope(inputs.subjects, inputs.pair_records)
                nightly.apply_night(engine, drafts, scope)
                version = state_tasks.commit_outcomes(
                    scratch / "state",
                    args.night,
                    state_tasks.person_outcomes(
                        inputs.quality,
                        inputs.findings,
                        inputs.clusters,
                        inputs.register_findings,
                        **({"selection": drafts.selection} if selection_passed else {}),
                    ),
                    full=inputs.full,
                    persons=inputs.persons,
                )
            totals = state_tasks.outcome_totals(version)
            asset.queue_summary(nightly.open_task_counts(engine))
            if args.dump:
                args.dump.mkdir(parents=True, exist_ok=True)
                version.read().write_parquet(args.dump / "outcomes.parquet")
                totals.write_parquet(args.dump / "outcome_totals.parquet")
            drafted = drafts.task_count if hasattr(drafts, "task_count") else len(drafts.tasks)
            print(f"{drafted:,} task drafts")

        steps.run("correction_tasks (asset body)", body)
        print(f"RSS {start:.0f} MB before")
        steps.print()
        if args.dump:
            engine.dispose()
            dump_store(database, args.dump)
            print(f"written to {args.dump}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
