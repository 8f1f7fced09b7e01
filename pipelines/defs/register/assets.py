"""Register assets: build the night's clean register and change set from the normalized records and the person
clusters, store them as a new version, check the register with the quality rules, and score before → after."""

import datetime as dt
from collections.abc import Iterator
from typing import Final

import dagster as dg
import polars as pl
from unidecode import unidecode

from checks.scores import OVERALL
from normalize import units
from pipelines.partitions import nightly_partitions
from pipelines.resources import DancuPaths
from pipelines.timing import Stopwatch
from register.changes import build_changes, changes_by_rule, write_changes_excel
from register.golden import build_golden_in_partitions
from register.quality import register_findings, stage_scores
from register.rules import survivorship_rules
from register.store import RegisterStore

REGISTER_FOLDER: Final = "register"
CHANGES_XLSX: Final = "so-dan-cu-sach-thay-doi.xlsx"
"""The change set as Excel, in the night's reports folder (linked from the quality report)."""


def register_store(paths: DancuPaths) -> RegisterStore:
    """The versioned register under the state folder: ``var/state/register``."""
    return RegisterStore(paths.state_dir / REGISTER_FOLDER)


def _ward_names() -> dict[str, str]:
    wards = units.current_wards()
    return dict(zip(wards["ward_code"].to_list(), wards["ward_name"].to_list(), strict=True))


@dg.multi_asset(
    partitions_def=nightly_partitions,
    group_name="register",
    outs={
        "register": dg.AssetOut(
            kinds={"polars", "parquet"},
            description="Sổ dân cư sạch của đêm: mỗi người (cụm bản ghi) một dòng, giá trị vàng của từng trường theo "
            "quy tắc chọn nguồn (register/survivorship.toml) và nguồn gốc của từng giá trị; lưu thành một phiên "
            "bản bất biến trong var/state/register.",
        ),
        "register_changes": dg.AssetOut(
            kinds={"polars", "parquet", "excel"},
            description="Bộ thay đổi của đêm: mỗi trường của một bản ghi CSDL dân cư mà sổ sạch sửa an toàn (chuẩn "
            "hóa, chuyển mã, địa chỉ sau 01/07/2025, khai tử, chuyển đến, cấp thẻ); Parquet và Excel tiêu đề "
            "tiếng Việt.",
        ),
        "register_findings": dg.AssetOut(
            kinds={"polars"},
            description="Các phát hiện đúng, đủ, sạch, sống trên sổ dân cư sạch (mỗi người một bản ghi), kèm mâu "
            "thuẫn giữa các nguồn mà quy tắc chọn nguồn không tự giải quyết.",
        ),
    },
)
def clean_register(
    context: dg.AssetExecutionContext,
    paths: DancuPaths,
    normalized_base: pl.DataFrame,
    normalized_extracts: pl.DataFrame,
    person_clusters: pl.DataFrame,
) -> Iterator[dg.Output[pl.DataFrame]]:
    """Build tonight's golden records from the base, the extracts and the clusters, starting from the previous
    night's version (events persist across nights), then store register + change set as this night's version (a
    rerun replaces this night's version only) and check the register with the quality rules."""
    watch = Stopwatch()
    night = dt.date.fromisoformat(context.partition_key)
    store = register_store(paths)
    previous_night = store.previous_night(context.partition_key)
    previous = store.read_register(previous_night) if previous_night else None
    previous_changes = store.read_changes(previous_night) if previous_night else None
    records = pl.concat([normalized_base, normalized_extracts], how="diagonal_relaxed")
    build = build_golden_in_partitions(records, person_clusters, night, previous=previous)
    changes = build_changes(build, night, previous_changes=previous_changes)
    rules = survivorship_rules()
    version = store.write(
        context.partition_key,
        build.register,
        changes,
        info={"rules_sha256": rules.digest, "run_id": context.run.run_id},
    )
    excel = paths.reports_dir(context.partition_key) / CHANGES_XLSX
    write_changes_excel(excel, changes, night, labels=rules.change_rules, ward_names=_ward_names())
    built = watch.metadata()
    findings = register_findings(build.golden, night)
    statuses = {s: int(n) for s, n in build.register.group_by("status").len().sort("status").iter_rows()}
    context.log.info(
        f"{night}: {build.register.height} người trong sổ sạch ({statuses}); {changes.height} thay đổi, "
        f"phiên bản {version.name} (đêm trước: {previous_night or 'không có'})"
    )
    yield dg.Output(
        build.register,
        output_name="register",
        metadata={
            **built,
            "rows": dg.MetadataValue.int(build.register.height),
            "by_status": dg.MetadataValue.json(statuses),
            "with_conflicts": dg.MetadataValue.int(int((build.register["conflicts"].list.len() > 0).sum())),
            "version": dg.MetadataValue.path(str(version)),
            "previous_night": dg.MetadataValue.text(previous_night or ""),
        },
    )
    by_rule = changes_by_rule(changes, night, rules.change_rules)
    yield dg.Output(
        changes,
        output_name="register_changes",
        metadata={
            **built,
            "rows": dg.MetadataValue.int(changes.height),
            "tonight": dg.MetadataValue.int(int((changes["night"] == night).sum())),
            "by_rule": dg.MetadataValue.json({r: int(n) for r, n in by_rule.select("rule", "changes").iter_rows()}),
            "excel": dg.MetadataValue.path(str(excel)),
        },
    )
    yield dg.Output(
        findings,
        output_name="register_findings",
        metadata={
            **watch.metadata(),
            "rows": dg.MetadataValue.int(findings.height),
            "by_rule": dg.MetadataValue.json(
                {str(r): int(n) for r, n in findings.group_by("rule").len().sort("rule").iter_rows()}
            ),
        },
    )


@dg.asset(
    partitions_def=nightly_partitions,
    group_name="register",
    kinds={"polars"},
    description="Điểm bốn tiêu chí trước và sau làm sạch: CSDL dân cư gốc (bản ghi cơ sở) và sổ dân cư sạch (mỗi "
    "người một bản ghi), theo xã/phường, tỉnh và toàn bộ.",
)
def register_scores(
    context: dg.AssetExecutionContext,
    normalized_base: pl.DataFrame,
    quality_findings: pl.DataFrame,
    register: pl.DataFrame,
    register_findings: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Score the raw base with tonight's findings and the register with its own findings, side by side."""
    watch = Stopwatch()
    night = dt.date.fromisoformat(context.partition_key)
    scores = stage_scores(normalized_base, quality_findings, register, register_findings, night)
    overall = scores.filter((pl.col("level") == "all") & (pl.col("quality") == OVERALL))
    by_stage = {s: float(v) for s, v in overall.select("stage", "score").iter_rows()}
    return dg.Output(
        scores,
        metadata={
            **watch.metadata(),
            "rows": dg.MetadataValue.int(scores.height),
            **{
                f"score_{unidecode(OVERALL)}_{stage}": dg.MetadataValue.float(round(v, 6))
                for stage, v in by_stage.items()
            },
        },
    )
