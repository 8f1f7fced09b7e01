"""The dancu code location: one folder per stage under ``pipelines/defs``."""

import dagster as dg

from pipelines.defs import load_pipeline_definitions
from pipelines.resources import build_resources

defs = dg.Definitions.merge(load_pipeline_definitions(), dg.Definitions(resources=build_resources()))
