"""The dancu code location: one folder per stage under ``pipelines/defs``."""

import dagster as dg

from pipelines.defs import check, ingest, match, normalize, report
from pipelines.resources import build_resources

defs = dg.Definitions.merge(
    *(dg.load_definitions_from_package_module(stage) for stage in (ingest, normalize, match, check, report)),
    dg.Definitions(resources=build_resources()),
)
