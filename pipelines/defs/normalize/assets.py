"""Normalize assets: the night's base snapshot and extract rows with every normalized column added.

On the Spark engine (``pipelines.resources.EngineResource``) the inputs arrive as Spark DataFrames and the same
``normalize_records`` runs on every partition (``scaleout.normalize``).
"""

from datetime import date

import dagster as dg

from normalize.frame import normalize_records, summarize
from pipelines.io import EngineFrame, engine_inputs, on_spark
from pipelines.partitions import nightly_partitions
from pipelines.timing import Stopwatch


def _normalize(context: dg.AssetExecutionContext, records: EngineFrame) -> dg.Output[EngineFrame]:
    night = date.fromisoformat(context.partition_key)
    watch = Stopwatch()
    normalized: EngineFrame
    if on_spark(records):
        from scaleout.normalize import normalize_dataframe, summarize_dataframe

        normalized = normalize_dataframe(records, as_of=night).persist()
        counts = summarize_dataframe(normalized)
    else:
        normalized = normalize_records(records, as_of=night)
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
        normalized,
        metadata={
            "rows": dg.MetadataValue.int(counts["rows"]),
            "address_resolved": dg.MetadataValue.int(counts["address_resolved"]),
            "address_ambiguous": dg.MetadataValue.int(counts["address_ambiguous"]),
            "address_unresolved": dg.MetadataValue.int(counts["address_unresolved"]),
            "legacy_encoded_records": dg.MetadataValue.int(counts["legacy_encoded_records"]),
            "legacy_encoded_cells": dg.MetadataValue.int(counts["legacy_encoded_cells"]),
            "person_id_invalid": dg.MetadataValue.int(counts["person_id_invalid"]),
            **watch.metadata(),
        },
    )


@dg.asset(
    group_name="normalize",
    kinds={"polars", "spark"},
    partitions_def=nightly_partitions,
    ins=engine_inputs("population_base"),
    description="Cơ sở dữ liệu dân cư đã chuẩn hóa: tên, địa chỉ theo đơn vị hành chính mới, số định danh, ngày.",
)
def normalized_base(context: dg.AssetExecutionContext, population_base: EngineFrame) -> dg.Output[EngineFrame]:
    """The population base with the normalized columns of ``normalize.columns`` beside the canonical ones.

    Names split and keyed, addresses resolved to current (post-2025) ward codes with split old wards flagged
    ambiguous, personal IDs decoded, dates parsed with their precision, legacy-encoded text converted. "Future"
    dates are judged against the night being processed, so a rerun of an old night gives the same result.
    """
    return _normalize(context, population_base)


@dg.asset(
    group_name="normalize",
    kinds={"polars", "spark"},
    partitions_def=nightly_partitions,
    ins=engine_inputs("extract_records"),
    description="Bản ghi trích xuất của đêm (cư trú, hộ tịch, cấp thẻ) đã chuẩn hóa như cơ sở dữ liệu dân cư.",
)
def normalized_extracts(context: dg.AssetExecutionContext, extract_records: EngineFrame) -> dg.Output[EngineFrame]:
    """The night's extract rows (residence, civil status, card issuance), normalized exactly like the base so the
    match stage compares like with like."""
    return _normalize(context, extract_records)
