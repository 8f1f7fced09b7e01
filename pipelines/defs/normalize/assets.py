"""Normalize assets: the night's base snapshot and extract rows with every normalized column added."""

from datetime import date

import dagster as dg
import polars as pl

from normalize.columns import ADDRESS_COLUMNS
from normalize.frame import summarize
from pipelines.engine_options import EngineResource
from pipelines.partitions import nightly_partitions
from pipelines.progress import reporter
from pipelines.resources import DancuPaths
from pipelines.timing import Stopwatch
from state.base import BaseChanges, base_store, normalize_base
from state.tables import TableVersion


def _counts(normalized: pl.DataFrame) -> dict[str, dg.MetadataValue]:
    counts = summarize(normalized)
    return {
        key: dg.MetadataValue.int(counts[key])
        for key in (
            "address_resolved",
            "address_ambiguous",
            "address_unresolved",
            "legacy_encoded_records",
            "legacy_encoded_cells",
            "person_id_invalid",
        )
    }


def _normalize(
    context: dg.AssetExecutionContext, records: pl.DataFrame, engine: EngineResource
) -> dg.Output[pl.DataFrame]:
    night = date.fromisoformat(context.partition_key)
    watch = Stopwatch()
    normalized = engine.normalizer()(records, night)
    counts = summarize(normalized)
    context.log.info(
        "Đã chuẩn hóa %d bản ghi: địa chỉ xác định %d, nhiều khả năng %d, không xác định %d; "
        "%d bản ghi có trường mã cũ TCVN3/VNI",
        counts["rows"],
        counts["address_resolved"],
        counts["address_ambiguous"],
        counts["address_unresolved"],
        counts["legacy_encoded_records"],
    )
    return dg.Output(
        normalized, metadata={"rows": dg.MetadataValue.int(counts["rows"]), **_counts(normalized), **watch.metadata()}
    )


@dg.asset(
    group_name="normalize",
    kinds={"polars", "spark"},
    partitions_def=nightly_partitions,
    description="Cơ sở dữ liệu dân cư đã chuẩn hóa: tên, địa chỉ theo đơn vị hành chính mới, số định danh, ngày.",
)
def normalized_base(
    context: dg.AssetExecutionContext, population_base: BaseChanges, paths: DancuPaths, engine: EngineResource
) -> dg.Output[TableVersion]:
    """The population base with the normalized columns of ``normalize.columns`` beside the canonical ones.

    Names split and keyed, addresses resolved to current (post-2025) ward codes with split old wards flagged
    ambiguous, personal IDs decoded, dates parsed with their precision, legacy-encoded text converted. "Future"
    dates are judged against the night being processed, so a rerun of an old night gives the same result.

    Kept in the state (``state/base``, a version per night): only tonight's new and changed records are normalized;
    the output refers to the night's version. The counts below are those of the records normalized tonight.
    On the Spark engine (the ``engine`` resource) the records are normalized by Spark's executors.
    """
    watch = Stopwatch()
    version = normalize_base(
        population_base, base_store(paths.state_dir), progress=reporter(), normalize=engine.normalizer()
    )
    # Only the columns the counts read: on a full night the delta is the whole base.
    columns = [*(f"{c}_status" for c in ADDRESS_COLUMNS), "legacy_encoded_columns", "person_id_valid"]
    normalized = version.added(columns).collect()
    context.log.info(
        f"Cơ sở dân cư: {version.rows} bản ghi; chuẩn hóa đêm nay {normalized.height} bản ghi mới hoặc đã đổi"
        f"{' (dựng lại toàn bộ)' if version.full else ''}"
    )
    return dg.Output(
        version,
        metadata={
            "rows": dg.MetadataValue.int(version.rows),
            "normalized_tonight": dg.MetadataValue.int(normalized.height),
            "removed": dg.MetadataValue.int(population_base.removed.len()),
            "full": dg.MetadataValue.bool(version.full),
            **_counts(normalized),
            **watch.metadata(),
        },
    )


@dg.asset(
    group_name="normalize",
    kinds={"polars", "spark"},
    partitions_def=nightly_partitions,
    description="Bản ghi trích xuất của đêm (cư trú, hộ tịch, cấp thẻ) đã chuẩn hóa như cơ sở dữ liệu dân cư.",
)
def normalized_extracts(
    context: dg.AssetExecutionContext, extract_records: pl.DataFrame, engine: EngineResource
) -> dg.Output[pl.DataFrame]:
    """The night's extract rows (residence, civil status, card issuance), normalized exactly like the base so the
    match stage compares like with like (on the ``engine`` resource's engine)."""
    return _normalize(context, extract_records, engine)
