"""One package per pipeline stage, in the order data flows through them, plus the orchestration around them."""

import dagster as dg

from pipelines.defs import check, ingest, match, normalize, orchestration, register, report, state

STAGES = (ingest, normalize, match, check, register, report, state)
PACKAGES = (*STAGES, orchestration)


def load_pipeline_definitions() -> dg.Definitions:
    """Every asset, check, job, schedule and sensor of the pipeline, without resources."""
    return dg.Definitions.merge(*(dg.load_definitions_from_package_module(package) for package in PACKAGES))
