"""One package per pipeline stage, in the order data flows through them."""

from pipelines.defs import check, ingest, match, normalize, report

STAGES = (ingest, normalize, match, check, report)
