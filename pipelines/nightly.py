"""Run the whole nightly graph for one night, in process, through Dagster."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

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
    result = dg.materialize(
        assets,  # type: ignore[arg-type]
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


def write_run_summary(output_dir: Path, outcome: NightlyOutcome) -> Path:
    """``{output}/nights/{night}/run-summary.json``: per asset its metadata (rows, seconds, peak RSS), and the
    run's outcome; what an operator (or the benchmark) reads after a night."""
    path = output_dir / "nights" / outcome.night / "run-summary.json"
    data = {"night": outcome.night, "success": outcome.success, "assets": outcome.materialized}
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")
    return path
