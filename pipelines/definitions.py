"""The dancu code location: one folder per stage under ``pipelines/defs``."""

import dagster as dg

from pipelines.defs import STAGES, orchestration
from pipelines.resources import build_resources

defs = dg.Definitions.merge(
    *(dg.load_definitions_from_package_module(stage) for stage in (*STAGES, orchestration)),
    dg.Definitions(resources=build_resources()),
)
