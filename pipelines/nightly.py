"""Run the whole nightly graph for one night, in process, through Dagster."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.execution.execute_in_process import (
    core_execute_in_process,
    merge_run_tags,
    type_check_and_normalize_args,
)

from pipelines.defs import load_pipeline_definitions
from pipelines.engine_options import EngineResource
from pipelines.partitions import TIMEZONE
from pipelines.resources import build_resources
from records.files import atomic_write_text


def today_in_vietnam() -> dt.date:
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()


def latest_extract_night(input_dir: Path) -> str | None:
    """The latest ``extracts/YYYY-MM-DD`` folder under ``input_dir``, if any."""
    folder = input_dir / "extracts"
    nights = []
    if folder.is_dir():
        for child in folder.iterdir():
            try:
                nights.append(dt.date.fromisoformat(child.name))
            except ValueError:
                continue
    return max(nights).isoformat() if nights else None


@dataclass(frozen=True)
class NightlyOutcome:
    night: str
    success: bool
    materialized: dict[str, dict[str, object]]


def run_nightly(
    input_dir: Path,
    output_dir: Path,
    night: str,
    *,
    log_level: str = "INFO",
    full: bool = False,
    retrain: bool = False,
    keep_nights: int | None = None,
    engine: EngineResource | None = None,
) -> NightlyOutcome:
    """Materialize every asset and run every asset check of the graph for ``night``.

    ``full``: rebuild the state from tonight's snapshot instead of applying tonight's changes (same result);
    ``retrain``: also re-estimate the matching model; ``keep_nights``: retention; ``engine``: the engine resource
    (default: the environment's, ``DANCU_ENGINE``).
    """
    definitions = load_pipeline_definitions()
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    assets = [*(definitions.assets or []), *(definitions.asset_checks or [])]
    result = materialize_uncaptured(
        assets,
        partition_key=night,
        resources=build_resources(
            str(input_dir), str(output_dir), full=full, retrain=retrain, keep_nights=keep_nights, engine=engine
        ),
        instance=instance,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        raise_on_error=False,
        tags={"dancu/trigger": "cli"},
    )
    materialized: dict[str, dict[str, object]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if materialization is None:
            continue
        materialized[materialization.asset_key.to_user_string()] = {
            key: getattr(value, "value", value) for key, value in materialization.metadata.items()
        }
    return NightlyOutcome(night=night, success=result.success, materialized=materialized)


_JOB_NAME: Final = "__ephemeral_asset_job__"
"""The job ``dg.materialize`` runs (the run's name in the instance and its logs stay what they were)."""


def materialize_uncaptured(
    assets: Sequence[Any],
    *,
    partition_key: str,
    resources: Mapping[str, object],
    instance: dg.DagsterInstance,
    run_config: Mapping[str, object],
    tags: Mapping[str, str],
    raise_on_error: bool = False,
) -> dg.ExecuteInProcessResult:
    """``dg.materialize`` of ``assets`` (and asset checks) without its output capture.

    ``materialize`` keeps every asset's returned value in memory until the run ends (for
    ``result.output_for_node``), so in the one in-process run of a night every stage's outputs stayed allocated
    (the ingested base, the register, the change set, the findings …) while the later assets ran. Here a value is
    released once the IO manager has stored it; the result holds the run's events, and no output values.

    The steps of ``dg.materialize`` and ``JobDefinition.execute_in_process`` (Dagster 1.13, pinned), with
    ``output_capturing_enabled=False``: the flag ``execute_in_process`` does not expose."""
    definitions = dg.Definitions(jobs=[dg.define_asset_job(_JOB_NAME)], assets=assets, resources=resources)
    job = definitions.resolve_job_def(_JOB_NAME)
    run_config, op_selection, asset_selection, resource_defs, key, input_values = type_check_and_normalize_args(
        run_config=run_config, partition_key=partition_key, op_selection=None, asset_selection=None,
        input_values=None, resources=None,
    )  # fmt: skip
    ephemeral = job.as_ephemeral_job(
        resource_defs=resource_defs, input_values=input_values, op_selection=op_selection,
        asset_selection=asset_selection,
    )  # fmt: skip
    if key and ephemeral.partitions_def:
        with partition_loading_context(dynamic_partitions_store=instance) as loading:
            ephemeral.validate_partition_key(partition_key=key, selected_asset_keys=set(asset_selection),
                                             context=loading)  # fmt: skip
    return core_execute_in_process(
        job=InMemoryJob(job_def=ephemeral),
        run_config=run_config,
        instance=instance,
        output_capturing_enabled=False,
        raise_on_error=raise_on_error,
        run_tags=merge_run_tags(
            job_def=job,
            partition_key=key,
            tags=tags,
            asset_selection=asset_selection,
            instance=instance,
            run_config=run_config,
        ),
        asset_selection=frozenset(asset_selection),
    )


def write_run_summary(output_dir: Path, outcome: NightlyOutcome) -> Path:
    """``{output}/nights/{night}/run-summary.json``: per asset its metadata (rows, seconds, peak RSS), and the
    run's outcome; what an operator (or the benchmark) reads after a night."""
    path = output_dir / "nights" / outcome.night / "run-summary.json"
    data = {"night": outcome.night, "success": outcome.success, "assets": outcome.materialized}
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")
    return path
