"""Register assets: build the night's clean register and change set from the normalized records and the person
clusters, store them as a new version, check the register with the quality rules, and score before → after."""

import datetime as dt
from collections.abc import Iterator
from typing import Any, Final

import dagster as dg
import polars as pl
from unidecode import unidecode

from checks.context import ROUTING_COLUMNS
from checks.incremental import NightFindings
from checks.scores import OVERALL
from matchers.engine.nightly import ClusterNight
from normalize import units
from pipelines.nightstate import NightlyState
from pipelines.partitions import nightly_partitions
from pipelines.progress import reporter
from pipelines.resources import DancuPaths
from pipelines.timing import Stopwatch
from register.changes import changes_by_rule, write_changes_excel
from register.quality import stage_scores
from register.rules import survivorship_rules
from register.store import RegisterStore
from state.register import REGISTER_FOLDER as STATE_REGISTER_FOLDER
from state.register import RegisterNight, register_night
from state.tables import TableVersion

REGISTER_FOLDER: Final = STATE_REGISTER_FOLDER
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
    night_state: NightlyState,
    normalized_base: TableVersion,
    normalized_extracts: pl.DataFrame,
    person_clusters: ClusterNight,
) -> Iterator[dg.Output[Any]]:
    """Rebuild the golden records of the persons tonight touched (every person on a full night), starting from the
    previous night's version (events persist across nights), store register + change set as this night's version
    (a delta of last night's; a rerun replaces this night's version only) and check the register with the quality
    rules (``state.register``)."""
    watch = Stopwatch()
    night = dt.date.fromisoformat(context.partition_key)
    rules = survivorship_rules()
    built = register_night(
        normalized_base,
        normalized_extracts,
        person_clusters.clusters,
        paths.state_dir,
        context.partition_key,
        full=night_state.rebuild,
        info={"run_id": context.run.run_id},
        progress=reporter(),
    )
    store = register_store(paths)
    changes = built.changes_output()
    excel = paths.reports_dir(context.partition_key) / CHANGES_XLSX
    write_changes_excel(excel, changes.scan(), night, labels=rules.change_rules, ward_names=_ward_names())
    timed = watch.metadata()
    manifest = store.manifest(context.partition_key)
    statuses = {s: int(n) for s, n in built.scan().group_by("status").len().sort("status").collect().iter_rows()}
    context.log.info(
        f"{night}: {built.rows} người trong sổ sạch ({statuses}); dựng lại {built.rebuilt_persons} người"
        f"{' (toàn bộ)' if built.full else ''}; {manifest['changes']} thay đổi, phiên bản {manifest['version']}"
    )
    yield dg.Output(
        built,
        output_name="register",
        metadata={
            **timed,
            "rows": dg.MetadataValue.int(built.rows),
            "rebuilt_tonight": dg.MetadataValue.int(built.rebuilt_persons),
            "full": dg.MetadataValue.bool(built.full),
            "by_status": dg.MetadataValue.json(statuses),
            "with_conflicts": dg.MetadataValue.int(built.conflicted_persons()),
            "version": dg.MetadataValue.path(str(store.version_dir(context.partition_key))),
            "previous_night": dg.MetadataValue.text(str(manifest.get("previous_night") or "")),
        },
    )
    by_rule = changes_by_rule(changes.scan(), night, rules.change_rules)
    yield dg.Output(
        changes,
        output_name="register_changes",
        metadata={
            **timed,
            "rows": dg.MetadataValue.int(int(manifest["changes"])),
            "tonight": dg.MetadataValue.int(int(manifest["changes_tonight"])),
            "by_rule": dg.MetadataValue.json({r: int(n) for r, n in by_rule.select("rule", "changes").iter_rows()}),
            "excel": dg.MetadataValue.path(str(excel)),
        },
    )
    rule_counts = built.findings.read(["rule"]).group_by("rule").len().sort("rule")
    yield dg.Output(
        built.findings,
        output_name="register_findings",
        metadata={
            **watch.metadata(),
            "rows": dg.MetadataValue.int(built.findings.rows),
            "checked_tonight": dg.MetadataValue.int(built.checked.len()),
            "by_rule": dg.MetadataValue.json({str(r): int(n) for r, n in rule_counts.iter_rows()}),
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
    normalized_base: TableVersion,
    quality_findings: NightFindings,
    register: RegisterNight,
    register_findings: TableVersion,
) -> dg.Output[pl.DataFrame]:
    """Score the raw base with tonight's findings and the register with its own findings, side by side (from the
    few columns the scores read: every record and person counts, none is checked again here)."""
    watch = Stopwatch()
    night = dt.date.fromisoformat(context.partition_key)
    scored = ["record_id", "source", "quality", "severity"]
    base = normalized_base.read(["record_id", "source", *ROUTING_COLUMNS])
    persons = register.scan().select("person_key", "in_base", *ROUTING_COLUMNS).collect()
    scores = stage_scores(base, quality_findings.all(scored), persons, register_findings.read(scored), night)
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
