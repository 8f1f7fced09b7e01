"""Freshness of the population base: a snapshot not renewed for too many nights is itself a quality finding."""

import datetime as dt
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.environment import environment_int
from pipelines.partitions import TIMEZONE
from pipelines.resources import DancuPaths

MAX_AGE_ENV: Final = "DANCU_BASE_MAX_AGE_NIGHTS"
DEFAULT_MAX_AGE_NIGHTS: Final = 7


def max_base_age_nights() -> int:
    """``$DANCU_BASE_MAX_AGE_NIGHTS`` (default 7): how many nights the same base snapshot may be used."""
    return environment_int(MAX_AGE_ENV, DEFAULT_MAX_AGE_NIGHTS, minimum=0)


def snapshot_date(base_file: Path) -> dt.date:
    """The Vietnam calendar day the snapshot file was last written (replaced by the next export)."""
    return dt.datetime.fromtimestamp(base_file.stat().st_mtime, tz=ZoneInfo(TIMEZONE)).date()


def base_age_nights(base_file: Path, night: str) -> int:
    """Nights between the snapshot and the night processed; 0 when the snapshot is newer (a re-run of an old night)."""
    return max(0, (dt.date.fromisoformat(night) - snapshot_date(base_file)).days)


@dg.asset_check(
    asset="population_base",
    name="base_snapshot_fresh",
    description=(
        "Cơ sở dữ liệu dân cư (snapshot) phải được cập nhật trong vòng N đêm ($DANCU_BASE_MAX_AGE_NIGHTS, mặc định 7): "
        "dữ liệu 'sống'. The base snapshot must not be older than N nights."
    ),
)
def base_snapshot_fresh(context: dg.AssetCheckExecutionContext, paths: DancuPaths) -> dg.AssetCheckResult:
    limit = max_base_age_nights()
    base_file = paths.base_file()
    if not base_file.exists():
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"Không tìm thấy snapshot cơ sở dân cư: {base_file}",
            metadata={"base_file": dg.MetadataValue.path(str(base_file)), "max_age_nights": limit},
        )
    today = dt.datetime.now(ZoneInfo(TIMEZONE)).date().isoformat()
    night = context.partition_key if context.has_partition_key else today
    age = base_age_nights(base_file, night)
    passed = age <= limit
    taken = snapshot_date(base_file).isoformat()
    description = (
        f"Snapshot ngày {taken}, cũ {age} đêm so với đêm {night} (giới hạn {limit})."
        if passed
        else f"Snapshot cơ sở dân cư đã cũ {age} đêm (ngày {taken}, giới hạn {limit}): cần xuất snapshot mới."
    )
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "base_file": dg.MetadataValue.path(str(base_file)),
            "snapshot_date": taken,
            "age_nights": age,
            "max_age_nights": limit,
        },
    )
