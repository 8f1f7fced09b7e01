"""Spark gives the embedded engine's results: same normalized rows, pairs, models, blocking report and clusters.

All on one small generated province, against the embedded engine run on the same data.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from matchers.engine import MatchResult, ReviewLabel, dedupe_and_link, labels_frame, population_settings
from matchers.engine.clustering import person_clusters
from matchers.engine.settings import MatchSettings
from normalize.frame import normalize_records
from register.changes import build_changes
from register.golden import build_golden
from register.store import REGISTER_FILE, RegisterStore
from tests.spark.conftest import NIGHT, SPARK, Province, assert_same_pairs, union_find_labels

pytestmark = SPARK


def _settings() -> MatchSettings:
    """The population spec with a guard that bites on this small province (oversized blocks are reported and
    skipped identically) and a smaller u sample (the same pairs in both engines, fewer of them)."""
    settings = population_settings()
    rules = tuple(
        dataclasses.replace(rule, max_block_size=4) if rule.name in ("ward+birth_date", "parents") else rule
        for rule in settings.blocking_rules
    )
    return dataclasses.replace(settings, blocking_rules=rules, u_sample_size=2_000)


def _labels(base: pl.DataFrame, settings: MatchSettings) -> pl.DataFrame:
    """Reviewers' decisions on some candidate pairs (both orders, one undecided), as the console stores them."""
    first, _ = dedupe_and_link(base, base.head(0), settings)
    pairs = first.pairs.sort("match_probability")
    chosen = [*pairs.head(25).iter_rows(named=True), *pairs.tail(25).iter_rows(named=True)]
    return labels_frame(
        [
            ReviewLabel(row["right_id"], row["left_id"], None if i % 7 == 0 else i % 2 == 0)
            for i, row in enumerate(chosen)
        ]
    )


@pytest.fixture(scope="module")
def embedded(province: Province) -> dict[str, Any]:
    settings = _settings()
    labels = _labels(province.base, settings)
    deduped, linked = dedupe_and_link(province.base, province.extracts, settings, labels=labels)
    return {"settings": settings, "labels": labels, "dedupe": deduped, "link": linked}


def _numbered(spark: Any, frame: pl.DataFrame, parts: int) -> Any:
    """A Spark DataFrame of ``frame`` with its row numbers, cut into ``parts`` partitions in row order."""
    from scaleout.frames import ROW, from_polars

    numbered = frame.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
    return from_polars(spark, numbered).repartitionByRange(parts, ROW)


def test_normalization_on_spark_gives_the_same_rows(spark: Any, province: Province) -> None:
    from scaleout.frames import ROW, collect_polars
    from scaleout.normalize import normalize_dataframe

    canonical = province.canonical_base
    # Many partitions in shuffled order and small batches: nothing may depend on which rows share a batch.
    shuffled = _numbered(spark, canonical, 5).repartition(7)
    normalized = collect_polars(normalize_dataframe(shuffled, as_of=NIGHT, batch_rows=300)).sort(ROW).drop(ROW)
    expected = normalize_records(canonical, as_of=NIGHT)
    assert normalized.schema == expected.schema
    assert normalized.equals(expected)


def test_dedupe_and_link_on_spark_give_the_same_pairs_and_models(
    spark: Any, province: Province, embedded: dict[str, Any]
) -> None:
    from scaleout import linker
    from scaleout.frames import collect_polars

    settings: MatchSettings = embedded["settings"]
    deduped, linked = linker.dedupe_and_link(
        _numbered(spark, province.base, 3), _numbered(spark, province.extracts, 2), settings, labels=embedded["labels"]
    )
    want_dedupe: MatchResult = embedded["dedupe"]
    want_link: MatchResult = embedded["link"]
    assert_same_pairs(collect_polars(deduped.pairs), want_dedupe.pairs)
    assert_same_pairs(collect_polars(linked.pairs), want_link.pairs)
    assert deduped.model.to_json() == want_dedupe.model.to_json()
    assert linked.model.to_json() == want_link.model.to_json()
    assert deduped.blocking == want_dedupe.blocking
    assert linked.blocking == want_link.blocking
    # What makes the comparison worth having: the guard skipped blocks, reviewers' labels decided pairs, and the
    # small night's link took the base's model with a refitted prior.
    assert sum(report.oversized_blocks for report in want_dedupe.blocking) > 0
    assert (want_dedupe.pairs.get_column("decision_source") == "label").sum() > 20
    assert want_link.model.em_sessions == want_dedupe.model.em_sessions
    assert want_link.model.prior != want_dedupe.model.prior


def _with_chaining_edges(pairs: pl.DataFrame, records: pl.DataFrame, settings: MatchSettings) -> pl.DataFrame:
    """``pairs`` plus match edges that would chain persons: between records of different valid IDs (a conflict)
    and, weaker than ``strong_link``, between two persons of several records each (a weak link)."""
    with_id = records.filter(pl.col("person_id_valid").fill_null(False)).select("record_id", "person_id_norm")
    matched = pairs.filter(pl.col("decision") == "match")
    linked = with_id.filter(pl.col("record_id").is_in(matched.get_column("left_id").implode()))
    left, right = linked.head(20), linked.tail(20)
    template = matched.head(1)
    rows = []
    for (a, id_a), (b, id_b) in zip(left.iter_rows(), right.iter_rows(), strict=True):
        if id_a != id_b:
            rows.append(template.with_columns(pl.lit(a).alias("left_id"), pl.lit(b).alias("right_id")))
    members = matched.head(40)
    for i in range(0, 20, 2):
        weak = template.with_columns(
            pl.lit(members.get_column("left_id")[i]).alias("left_id"),
            pl.lit(members.get_column("right_id")[i + 1]).alias("right_id"),
            pl.lit((settings.thresholds.match + settings.thresholds.strong_link) / 2).alias("match_probability"),
            pl.lit(-1.0).alias("match_weight"),
        )
        rows.append(weak)
    return pl.concat([pairs, *rows])


def _contested_previous(clusters: pl.DataFrame) -> pl.DataFrame:
    """Last night's ids, disturbed: some persons merged under one id, some records moved, some ids new."""
    rng = np.random.default_rng(3)
    ids = clusters.get_column("cluster_id").unique().sort()
    merge = dict(zip(ids.sample(60, seed=1).to_list(), ids.sample(60, seed=2).to_list(), strict=True))
    moved = rng.random(clusters.height) < 0.05
    return clusters.select(
        "record_id",
        pl.when(pl.Series(moved))
        .then(pl.lit("Pmoved") + (pl.int_range(pl.len()) % 40).cast(pl.String))
        .otherwise(pl.col("cluster_id").replace(merge))
        .alias("cluster_id"),
    )


def test_person_clusters_on_spark_are_the_same_over_two_nights(
    spark: Any, province: Province, embedded: dict[str, Any]
) -> None:
    from scaleout import clustering
    from scaleout.frames import ROW, collect_polars, from_polars

    settings: MatchSettings = embedded["settings"]
    records = pl.concat([province.base, province.extracts.select(province.base.columns)], how="vertical_relaxed")
    pairs = _with_chaining_edges(pl.concat([embedded["dedupe"].pairs, embedded["link"].pairs]), records, settings)
    first, first_report = person_clusters(records, pairs, settings)
    previous = _contested_previous(first)
    second, second_report = person_clusters(records, pairs, settings, previous=previous)
    assert second.get_column("cluster_id").is_in(previous.get_column("cluster_id").implode()).mean() > 0.5
    assert not second.equals(first)
    spark_records = _numbered(spark, records, 3)
    spark_pairs = from_polars(spark, pairs)
    for expected, report, before in ((first, first_report, None), (second, second_report, previous)):
        got, got_report = clustering.person_clusters(
            spark_records, spark_pairs, settings, previous=None if before is None else from_polars(spark, before)
        )
        assert collect_polars(got).sort(ROW).drop(ROW).equals(expected)
        assert got_report == report
    # The anti-chaining rules were at work, not only plain unions.
    assert first_report.refused_conflict > 0 and first_report.refused_weak_link > 0


def test_register_on_spark_is_stored_as_the_embedded_register_over_two_nights(
    spark: Any, province: Province, embedded: dict[str, Any], tmp_path: Path
) -> None:
    """Night one without a previous register, night two succeeding it under contested person keys: the register
    and change set Spark writes into the store read back as the embedded builders' (same rows, same order)."""
    from scaleout.frames import from_polars
    from scaleout.register import build_register, register_records, write_version

    settings: MatchSettings = embedded["settings"]
    records = pl.concat([province.base, province.extracts], how="diagonal_relaxed")
    pairs = pl.concat([embedded["dedupe"].pairs, embedded["link"].pairs])
    first, _ = person_clusters(records, pairs, settings)
    second, _ = person_clusters(records, pairs, settings, previous=_contested_previous(first))
    store = RegisterStore(tmp_path / "register")
    spark_base, spark_extracts = _numbered(spark, province.base, 2), _numbered(spark, province.extracts, 2)
    previous: pl.DataFrame | None = None
    previous_changes: pl.DataFrame | None = None
    for night, clusters in ((NIGHT, first), (NIGHT + timedelta(days=1), second)):
        build = build_golden(records, clusters, night, previous=previous)
        changes = build_changes(build, night, previous_changes=previous_changes)
        built = build_register(
            register_records(spark_base, spark_extracts),
            from_polars(spark, clusters),
            night,
            previous=None if previous is None else from_polars(spark, previous),
            previous_changes=None if previous_changes is None else from_polars(spark, previous_changes),
        )
        version = write_version(store, night.isoformat(), built)
        assert (version / REGISTER_FILE).is_dir()  # Spark's part files, read by the store as one table
        assert store.read_register(night.isoformat()).equals(build.register)
        assert store.read_changes(night.isoformat()).equals(changes)
        assert store.manifest(night.isoformat())["persons"] == build.register.height
        previous, previous_changes = build.register, changes
    # Night two succeeded night one under other person keys (its rows were routed to their successors).
    first_keys = store.read_register(NIGHT.isoformat()).get_column("person_key")
    assert previous is not None and not previous.get_column("person_key").equals(first_keys)


@pytest.mark.parametrize("local_edges", ["0", "100000"], ids=["rounds", "driver"])
def test_connected_components_of_long_chains_stars_and_cycles(spark: Any, local_edges: str) -> None:
    """By large-star/small-star rounds alone, and finished on the driver (``component_labels``): a few hundred
    edges are under the limit."""
    from scaleout.components import LOCAL_EDGES, connected_components
    from scaleout.frames import collect_polars, from_polars

    rng = np.random.default_rng(9)
    chain = [(i, i + 1) for i in range(0, 300)]  # a long chain: label propagation would need 300 rounds
    shuffled_chain = [(int(a), int(b)) for a, b in rng.permutation(np.array(chain))]
    star = [(1000, 1000 + k) for k in range(1, 40)]
    cycle = [(2000 + k, 2000 + (k + 1) % 25) for k in range(25)]
    pairs = [
        (int(a), int(b)) for a, b in zip(rng.integers(3000, 3400, 300), rng.integers(3000, 3400, 300), strict=True)
    ]
    edges = pl.DataFrame([*shuffled_chain, *star, *cycle, *pairs], schema={"u": pl.Int64, "v": pl.Int64}, orient="row")
    spark.conf.set(LOCAL_EDGES, local_edges)
    try:
        found = collect_polars(connected_components(from_polars(spark, edges)))
    finally:
        spark.conf.unset(LOCAL_EDGES)
    # Reference: union-find.
    expected = union_find_labels(edges.get_column("u").to_numpy(), edges.get_column("v").to_numpy())
    assert dict(found.iter_rows()) == expected
