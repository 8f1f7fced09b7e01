"""Run the whole nightly graph for one night, in process, through Dagster."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.defs import load_pipeline_definitions
from pipelines.partitions import TIMEZONE
from pipelines.resources import EngineResource, build_resources


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
    input_dir: Path, output_dir: Path, night: str, *, log_level: str = "INFO", engine: EngineResource | None = None
) -> NightlyOutcome:
    """Materialize every asset and run every asset check of the graph for ``night`` (``engine``: default from the
    environment, see ``pipelines.resources``)."""
    definitions = load_pipeline_definitions()
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    assets = [*(definitions.assets or []), *(definitions.asset_checks or [])]
    result = dg.materialize(
        assets,  # type: ignore[arg-type]
        partition_key=night,
        resources=build_resources(str(input_dir), str(output_dir), engine=engine),
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
