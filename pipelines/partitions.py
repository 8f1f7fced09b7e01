"""The nightly partitioning: one partition per extract date, in Vietnam's time zone."""

from __future__ import annotations

import dagster as dg

TIMEZONE = "Asia/Ho_Chi_Minh"

# end_offset=1 makes today's date a valid partition, so tonight's extracts can be processed tonight.
nightly_partitions = dg.DailyPartitionsDefinition(start_date="2025-07-01", timezone=TIMEZONE, end_offset=1)
