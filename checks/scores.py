"""Quality scores: per ward, province and overall, per quality, per night — and their history across nights.

Definition (also printed in the report): the score of a quality over a set of records is the share of those records
that have no *error* finding of that quality tonight. Warnings are counted and shown, but do not lower a score.
The overall score ("tổng") is the share of records with no error finding at all. A record counts for the ward it is
registered in (``ward_code``: its resolved permanent address, else its current address); records whose ward is not
resolved are scored under a ward_code of null.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Final

import polars as pl

from checks.findings import QUALITIES
from records.files import atomic_write, locked

__all__ = [
    "OVERALL",
    "SCORES_SCHEMA",
    "SCORE_DEFINITION",
    "compute_scores",
    "read_history",
    "update_history",
]

OVERALL: Final = "tổng"
SCORE_DEFINITION: Final = (
    "Điểm của một tiêu chí (đúng, đủ, sạch, sống) trên một tập bản ghi là tỷ lệ bản ghi không có phát hiện mức "
    '"lỗi" nào thuộc tiêu chí đó trong đêm xử lý; phát hiện mức "cảnh báo" được thống kê riêng, không trừ điểm. '
    "Điểm tổng là tỷ lệ bản ghi không có lỗi nào. Mỗi bản ghi được tính cho xã/phường nơi thường trú (nếu không xác "
    'định được thì nơi ở hiện tại); bản ghi chưa xác định được xã/phường được gom vào nhóm "chưa xác định". '
    "Tập bản ghi gồm CSDL dân cư và các bản ghi trích xuất (cư trú, hộ tịch, cấp thẻ) của đêm."
)

SCORES_SCHEMA: Final = pl.Schema(
    {
        "night": pl.Date,
        "level": pl.String,  # "all" / "province" / "ward"
        "province_code": pl.String,
        "ward_code": pl.String,
        "quality": pl.String,  # one of QUALITIES or OVERALL
        "records": pl.Int64,
        "failing": pl.Int64,
        "warnings": pl.Int64,
        "score": pl.Float64,
    }
)


def compute_scores(records: pl.DataFrame, findings: pl.DataFrame, night: date) -> pl.DataFrame:
    """Scores of one night.

    records: every checked record with record_id, source, ward_code, province_code (``CheckContext.records``).
    findings: the night's findings (``checks.findings.FINDINGS_SCHEMA``).
    """
    keyed = records.select("record_id", "source", "ward_code", "province_code").unique(["record_id", "source"])
    per_record = (
        findings.group_by("record_id", "source")
        .agg(
            *(((pl.col("quality") == q) & (pl.col("severity") == "error")).any().alias(f"fail_{q}") for q in QUALITIES),
            *(
                ((pl.col("quality") == q) & (pl.col("severity") == "warning")).any().alias(f"warn_{q}")
                for q in QUALITIES
            ),
        )
        .with_columns(
            pl.any_horizontal(f"fail_{q}" for q in QUALITIES).alias(f"fail_{OVERALL}"),
            pl.any_horizontal(f"warn_{q}" for q in QUALITIES).alias(f"warn_{OVERALL}"),
        )
    )
    flags = [f"{kind}_{q}" for kind in ("fail", "warn") for q in (*QUALITIES, OVERALL)]
    scored = keyed.join(per_record, on=["record_id", "source"], how="left").with_columns(pl.col(flags).fill_null(False))
    levels = {
        "all": [],
        "province": ["province_code"],
        "ward": ["province_code", "ward_code"],
    }
    parts = []
    for level, keys in levels.items():
        sums = [pl.len().alias("records")] + [pl.col(f).sum().alias(f) for f in flags]
        counts = scored.group_by(keys).agg(sums) if keys else scored.select(sums)
        for quality in (*QUALITIES, OVERALL):
            parts.append(
                counts.select(
                    pl.lit(night, dtype=pl.Date).alias("night"),
                    pl.lit(level).alias("level"),
                    (pl.col("province_code") if "province_code" in keys else pl.lit(None, dtype=pl.String)).alias(
                        "province_code"
                    ),
                    (pl.col("ward_code") if "ward_code" in keys else pl.lit(None, dtype=pl.String)).alias("ward_code"),
                    pl.lit(quality).alias("quality"),
                    pl.col("records").cast(pl.Int64),
                    pl.col(f"fail_{quality}").cast(pl.Int64).alias("failing"),
                    pl.col(f"warn_{quality}").cast(pl.Int64).alias("warnings"),
                    (1.0 - pl.col(f"fail_{quality}") / pl.col("records")).cast(pl.Float64).alias("score"),
                )
            )
    return (
        pl.concat(parts, how="vertical")
        .match_to_schema(SCORES_SCHEMA)
        .sort("level", "province_code", "ward_code", "quality", nulls_last=True)
    )


def read_history(path: Path) -> pl.DataFrame:
    """Every night's scores stored so far (empty when none)."""
    if not path.exists():
        return pl.DataFrame(schema=SCORES_SCHEMA)
    return pl.read_parquet(path).match_to_schema(SCORES_SCHEMA)


def update_history(path: Path, scores: pl.DataFrame) -> pl.DataFrame:
    """Replace the nights present in ``scores`` in the history file (re-running a night never duplicates it) and
    return the whole history. The file is replaced atomically."""
    nights = scores["night"].unique().to_list()
    with locked(path):
        history = read_history(path).filter(~pl.col("night").is_in(nights))
        history = pl.concat([history, scores.match_to_schema(SCORES_SCHEMA)], how="vertical").sort(
            "night", "level", "province_code", "ward_code", "quality", nulls_last=True
        )
        atomic_write(path, history.write_parquet)
    return history
