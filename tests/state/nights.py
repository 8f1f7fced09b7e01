"""A night through the pure libraries, as the nightly graph wires them (ingest → normalize → match → checks → tasks),
for the tests that compare an incremental night with a full recompute of the same night."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from checks import rules_table
from checks.incremental import NightFindings, night_findings
from corrections.build import DraftPlan, NightDrafts, build_drafts, plan_drafts
from corrections.db import store_engine
from corrections.nightly import NightScope, apply_night
from datagen import generate_province
from datagen.evolve import evolve_base
from matchers.engine.nightly import (
    CandidateSummary,
    ClusterNight,
    ScoredNight,
    cluster_night,
    find_candidates,
    repaired_pairs,
    score_candidates,
)
from matchers.engine.population import population_settings
from matchers.engine.settings import MatchSettings
from normalize.frame import normalize_records
from records.ingest import ingest_night
from state.base import base_store, ingest_base_changes, normalize_base
from state.register import RegisterChanges, RegisterNight, register_night
from state.tables import TableVersion
from state.tasks import commit_outcomes, outcome_totals, person_outcomes, task_inputs


def small_block_settings() -> MatchSettings:
    """The population settings with small block guards, so that blocks flip between nights (records joining or
    leaving a block make it cross its ``max_block_size``)."""
    settings = population_settings()
    rules = tuple(
        dataclasses.replace(rule, max_block_size=3) if rule.name in ("ward+birth_date", "parents") else rule
        for rule in settings.blocking_rules
    )
    return dataclasses.replace(settings, blocking_rules=rules)


@dataclass(frozen=True)
class Province:
    input_dir: Path
    nights: list[str]
    snapshots: dict[str, Path]


def province(root: Path, people: int, seed: int, nights: int = 3) -> Province:
    """A generated province whose base snapshot is edited before every night after the first."""
    generated = generate_province(people, seed, root / "in", night=dt.date(2025, 11, 3), nights=nights)
    base = pl.read_parquet(generated.base_path)
    snapshots = {}
    for i, night in enumerate(generated.nights):
        if i:
            base, _ = evolve_base(base, dt.date.fromisoformat(night), seed=seed, changed=0.03, added=0.01,
                                  removed=0.005)  # fmt: skip
        path = root / "snapshots" / night / "population_base.parquet"  # the export keeps its name night after night
        path.parent.mkdir(parents=True, exist_ok=True)
        base.write_parquet(path)
        snapshots[night] = path
    return Province(generated.out_dir, generated.nights, snapshots)


@dataclass(frozen=True)
class Night:
    candidates: CandidateSummary
    base: TableVersion
    scored: ScoredNight
    clusters: ClusterNight
    findings: NightFindings
    register: RegisterNight
    outcomes: pl.DataFrame


def night_inputs(where: Province, night: str, state: Path, *, full: bool = False) -> tuple[TableVersion, pl.DataFrame]:
    """A night's normalized base version (committed under ``state``, on the previous one unless ``full``) and its
    normalized extracts, as the ingest and normalize assets make them."""
    store = base_store(state)
    previous = None if full else store.latest(before=night)
    snapshot = where.snapshots[night]
    changes = ingest_base_changes(snapshot, previous, night)
    base = normalize_base(changes, store)
    as_of = dt.date.fromisoformat(night)
    ingested = ingest_night(snapshot, where.input_dir / "extracts" / night, as_of=as_of, base=changes.ingest,
                            base_ids=changes.accepted_ids)  # fmt: skip
    return base, normalize_records(ingested.extracts.accepted, as_of=as_of)


def run_night(
    where: Province,
    night: str,
    output: Path,
    *,
    full: bool,
    settings: MatchSettings,
    labels: pl.DataFrame | None = None,
    draft_slice: int | None = None,
) -> Night:
    """One night into ``output`` (state under ``output/state``, tasks in ``output/tasks.sqlite``). ``draft_slice``:
    the tasks drafted and staged that many at a time, as the asset does (``plan_drafts``); None: all at once
    (``build_drafts``)."""
    state = output / "state"
    as_of = dt.date.fromisoformat(night)
    base, extracts = night_inputs(where, night, state, full=full)
    candidates, summary = find_candidates(base, extracts, settings, state, full=full)
    scored = score_candidates(candidates, extracts, settings, state, night, labels=labels)
    clusters = cluster_night(base, extracts, scored.pairs, settings, state, night)
    findings = night_findings(base, extracts, scored.pairs, clusters.clusters, state, night, full=full)
    register = register_night(base, extracts, clusters.clusters, state, night, full=full)
    changes = RegisterChanges(register.store_root, night, register.changes)
    inputs = task_inputs(findings, scored.pairs, base, extracts, clusters.clusters, register, changes,
                         repaired_pairs(state, night, settings))  # fmt: skip
    rules = rules_table()
    arguments = (as_of, inputs.findings, inputs.pairs, inputs.records)
    options: dict[str, Any] = {
        "rule_titles": dict(zip(rules["rule"].to_list(), rules["title"].to_list(), strict=True)),
        "clusters": inputs.clusters,
        "register": inputs.register,
        "register_findings": inputs.register_findings,
    }
    drafts: NightDrafts | DraftPlan
    if draft_slice is None:
        drafts = build_drafts(*arguments, **options)
    else:
        drafts = dataclasses.replace(plan_drafts(*arguments, **options), slice_size=draft_slice)
    scope = None if inputs.full else NightScope(subjects=inputs.subjects, pair_records=inputs.pair_records)
    engine = store_engine(f"sqlite:///{output / 'tasks.sqlite'}")
    apply_night(engine, drafts, scope)
    engine.dispose()
    outcomes = commit_outcomes(
        state, night, person_outcomes(inputs.quality, inputs.findings, inputs.clusters, inputs.register_findings,
                                      selection=drafts.selection),
        full=inputs.full, persons=inputs.persons,
    )  # fmt: skip
    return Night(candidates=summary, base=base, scored=scored, clusters=clusters, findings=findings,
                 register=register, outcomes=outcome_totals(outcomes))  # fmt: skip


def copy_output(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
