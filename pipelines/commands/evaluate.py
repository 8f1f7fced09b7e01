"""``dancu evaluate``: precision, recall and F1 of scored pairs against ground truth."""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from matchers.engine.evaluation import pair_metrics, truth_pairs_from_entities
from matchers.engine.files import read_table
from pipelines.errors import CommandError

_ENTITY_CANDIDATES = ("entity_id", "person_key", "true_person_id", "truth_id", "person_uid", "entity", "cluster_id")


def _truth_pairs(truth: pl.DataFrame, pairs: pl.DataFrame, args: argparse.Namespace) -> pl.DataFrame:
    if {"left_id", "right_id"} <= set(truth.columns):
        return truth.select(pl.col("left_id").cast(pl.String), pl.col("right_id").cast(pl.String))
    if "record_id" not in truth.columns:
        raise CommandError("tệp sự thật cần cột left_id/right_id hoặc record_id / truth needs pair or record columns")
    entity = args.entity_column or next((c for c in _ENTITY_CANDIDATES if c in truth.columns), None)
    if entity is None or entity not in truth.columns:
        raise CommandError("không rõ cột định danh người thật; dùng --entity-column / name the entity column")
    # The truth is restricted to the records the evaluated run saw: given files, else the truth's own sources.
    kinds = set(pairs.get_column("kind").unique().to_list()) if "kind" in pairs.columns else {"dedupe"}
    has_source = "source" in truth.columns
    is_base = pl.col("source") == "base"
    if kinds == {"link"}:
        left, right = args.left_records, args.right_records
        if (left is None or right is None) and not has_source:
            raise CommandError("cần --left-records và --right-records (hoặc cột source trong tệp sự thật)")
        if left is None:
            left = truth.filter(~is_base).get_column("record_id").cast(pl.String)
        if right is None:
            right = truth.filter(is_base).get_column("record_id").cast(pl.String)
        return truth_pairs_from_entities(truth, entity_column=entity, left_ids=left, right_ids=right)
    universe = args.left_records
    if universe is None and has_source:
        universe = truth.filter(is_base).get_column("record_id").cast(pl.String)
    return truth_pairs_from_entities(truth, entity_column=entity, left_ids=universe)


def _ids_of(path: Path | None) -> pl.Series | None:
    if path is None:
        return None
    return read_table(path).get_column("record_id").cast(pl.String)


def _run(args: argparse.Namespace) -> int:
    try:
        pairs = read_table(args.pairs)
        truth = read_table(args.truth)
        args.left_records = _ids_of(args.left_records_file)
        args.right_records = _ids_of(args.right_records_file)
    except (FileNotFoundError, ValueError, pl.exceptions.ColumnNotFoundError) as error:
        raise CommandError(str(error)) from error
    if args.kind:
        pairs = pairs.filter(pl.col("kind") == args.kind)
    truth_pairs = _truth_pairs(truth, pairs, args)
    predicted = pairs.filter(pl.col("decision") == "match") if "decision" in pairs.columns else pairs
    metrics = pair_metrics(predicted, truth_pairs)
    candidates = pair_metrics(pairs, truth_pairs)
    reviewed = pairs.filter(pl.col("decision") == "review").height if "decision" in pairs.columns else 0
    print(
        f"Cặp thật / true pairs: {truth_pairs.height:,}   cặp dự đoán trùng / predicted matches: {predicted.height:,}"
    )
    print(f"Độ chính xác / precision: {metrics.precision:.4f}")
    print(f"Độ phủ / recall:          {metrics.recall:.4f}")
    print(f"F1:                       {metrics.f1:.4f}")
    print(
        f"Dương sai / false positives: {metrics.false_positives:,}   "
        f"âm sai / false negatives: {metrics.false_negatives:,}"
    )
    print(f"Độ phủ của bước chặn / blocking recall: {candidates.recall:.4f}   cần xem xét / review: {reviewed:,}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="đánh giá độ chính xác so với sự thật / precision, recall, F1 against truth",
        description=(
            "So sánh pairs.parquet với sự thật: tệp cặp (left_id, right_id) hoặc tệp record_id + mã người thật."
        ),
    )
    parser.add_argument("--truth", type=Path, required=True, help="tệp sự thật / truth file (Parquet/CSV)")
    parser.add_argument("--pairs", type=Path, required=True, help="pairs.parquet của dedupe/match")
    parser.add_argument("--entity-column", help="cột mã người thật trong tệp sự thật / entity column of the truth")
    parser.add_argument("--kind", choices=("dedupe", "link"), help="chỉ đánh giá một loại cặp / only one pair kind")
    parser.add_argument(
        "--left-records",
        dest="left_records_file",
        type=Path,
        help="tệp bản ghi phía trái (cơ sở khi dedupe, trích xuất khi match) giới hạn phạm vi sự thật",
    )
    parser.add_argument(
        "--right-records",
        dest="right_records_file",
        type=Path,
        help="tệp bản ghi phía phải (cơ sở khi match) giới hạn phạm vi sự thật",
    )
    parser.set_defaults(handler=_run)
