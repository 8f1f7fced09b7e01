"""``generate_province``: the whole demo province, its nightly extracts and the ground truth, on disk."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from datagen.base import add_duplicates, reconcile_headless_households, render_base
from datagen.defects import DEFECT_RATES, DefectLog
from datagen.extracts import EVENT_RATES, build_extracts, vary_rows
from datagen.geography import province_geo
from datagen.mappings import FILE_STEMS
from datagen.population import build_population
from datagen.text import LegacyScheme
from datagen.variations import BASE_RATES, EXTRACT_RATES, vary_base, vary_extract
from datagen.writers import write_extract_file
from records.progress import Progress, no_progress, tracked
from records.schema import CANONICAL_SCHEMA

__all__ = ["DEFAULT_NIGHT", "DEFAULT_PROVINCE", "GENERATOR_VERSION", "GeneratedProvince", "generate_province"]

DEFAULT_NIGHT: Final = date(2025, 11, 3)
DEFAULT_PROVINCE: Final = "37"  # Ninh Bình: a mid-size merged province (old Hà Nam, Nam Định, Ninh Bình)
GENERATOR_VERSION: Final = "5"  # 5: IDs that lost their leading zeros in CSV files, ethnicity written long

# Independent random streams, so changing one part does not reshuffle the others.
(
    _STREAM_POPULATION,
    _STREAM_BASE,
    _STREAM_EVENTS,
    _STREAM_DUPLICATES,
    _STREAM_FILES,
    _STREAM_VARIATIONS,
    _STREAM_EXTRACT_VARIATIONS,
) = range(7)


@dataclass(frozen=True)
class GeneratedProvince:
    """What ``generate_province`` wrote, with row counts."""

    out_dir: Path
    base_path: Path
    extract_paths: dict[str, list[Path]]  # night (YYYY-MM-DD) -> files
    persons_path: Path
    defects_path: Path
    manifest_path: Path
    people: int
    base_rows: int
    extract_rows: dict[str, int] = field(default_factory=dict)  # path relative to out_dir -> data rows
    defect_rows: int = 0

    @property
    def nights(self) -> list[str]:
        return sorted(self.extract_paths)


def _file_plan(rng: np.random.Generator, index: int, source: str) -> tuple[str, str, LegacyScheme | None]:
    """(format, encoding, legacy scheme) of one file. The first night always shows each kind once."""
    if index == 0:
        first: dict[str, tuple[str, str, LegacyScheme | None]] = {
            "residence": ("csv", "utf-8-sig", "tcvn3"),
            "civil_status": ("xlsx", "utf-8", "vni"),
            "card": ("csv", "cp1258", None),
        }
        return first[source]
    default_xlsx = source == "civil_status"
    fmt = "xlsx" if (rng.random() < 0.7) == default_xlsx else "csv"
    encoding = "utf-8" if fmt == "xlsx" else str(rng.choice(["utf-8", "utf-8-sig", "cp1258"], p=[0.5, 0.3, 0.2]))
    # Legacy-font text cannot be stored in a Windows-1258 file (its gibberish letters are not in the code page).
    if encoding == "cp1258" or rng.random() < 0.6:
        return fmt, encoding, None
    # A file re-saved after being opened as Windows-1252 carries UTF-8 text read byte by byte ("Nguyá»…n").
    scheme = rng.random()
    return fmt, encoding, "tcvn3" if scheme < 0.5 else "vni" if scheme < 0.85 else "utf8_as_cp1252"


def generate_province(
    people: int,
    seed: int,
    out_dir: Path,
    *,
    night: date = DEFAULT_NIGHT,
    nights: int = 1,
    province_code: str = DEFAULT_PROVINCE,
    progress: Progress = no_progress,
) -> GeneratedProvince:
    """Generate a province of ``people`` true persons: the base snapshot (taken the day before the first night),
    ``nights`` nights of extracts ending on ``night``, and the ground truth. Same arguments, same bytes."""
    if people < 50:
        raise ValueError("cần ít nhất 50 người / at least 50 people are needed")
    if nights < 1:
        raise ValueError("số đêm phải >= 1 / nights must be >= 1")
    geo = province_geo(province_code)
    out_dir = Path(out_dir)
    night_dates = [night - timedelta(days=nights - 1 - i) for i in range(nights)]
    snapshot = night_dates[0] - timedelta(days=1)

    def stream(k: int) -> np.random.Generator:
        return np.random.default_rng([seed, k])

    log = DefectLog()
    # Progress counts people through the generation steps (each step handles the whole population at once).
    steps = ("dân số / population", "cơ sở / base records", "biến thể / variations", "sự kiện / events",
             "bản ghi trùng / duplicates")  # fmt: skip
    progress(steps[0], 0, people)
    pop = build_population(stream(_STREAM_POPULATION), people, geo, snapshot)
    progress(steps[0], people, people)
    progress(steps[1], 0, people)
    state = render_base(stream(_STREAM_BASE), pop, geo, night_dates[0], log)
    progress(steps[1], people, people)
    progress(steps[2], 0, people)
    state.frame = vary_base(stream(_STREAM_VARIATIONS), state.frame, pop, log)
    progress(steps[2], people, people)
    progress(steps[3], 0, people)
    extracts, outsiders = build_extracts(stream(_STREAM_EVENTS), pop, state, geo, night_dates, log)
    progress(steps[3], people, people)
    progress(steps[4], 0, people)
    add_duplicates(stream(_STREAM_DUPLICATES), state, pop, log, next_number=people + 1)
    reconcile_headless_households(state, log)
    progress(steps[4], people, people)

    base = state.frame
    split = pop["is_split"].to_numpy()
    ambiguous = base.filter(pl.Series(split[base["_pi"].to_numpy()]) & (pl.col("_form") >= 2))
    log.add(ambiguous["record_id"], "base", "ambiguous_split_ward", "permanent_address", ambiguous["_ward"])

    out_dir.mkdir(parents=True, exist_ok=True)
    base_path = out_dir / "population_base.parquet"
    base.select(list(CANONICAL_SCHEMA)).write_parquet(base_path, compression="zstd", statistics=True)

    files_rng = stream(_STREAM_FILES)
    variations_rng = stream(_STREAM_EXTRACT_VARIATIONS)
    conventions = pop.select(pl.col("person_index").alias("_pi"), "name_convention")
    truth_parts = [_truth(base, "base", conventions)]
    extract_paths: dict[str, list[Path]] = {d.isoformat(): [] for d in night_dates}
    extract_rows: dict[str, int] = {}
    files_manifest: list[dict[str, object]] = []
    for extract in tracked(progress, "tệp trích xuất / extract files", extracts, [e.rows.height for e in extracts]):
        index = night_dates.index(extract.night)
        fmt, encoding, scheme = _file_plan(files_rng, index, extract.source)
        extract.fmt, extract.encoding, extract.legacy_scheme = fmt, encoding, scheme
        extract.rows = vary_extract(variations_rng, extract.rows, pop, extract.source, extract.night, log)
        rows = vary_rows(files_rng, extract, log, legacy_ok=encoding != "cp1258")
        directory = out_dir / "extracts" / extract.night.isoformat()
        path, headers = write_extract_file(files_rng, directory, extract.source, FILE_STEMS[extract.source], rows,
                                           fmt, encoding)  # fmt: skip
        extract_paths[extract.night.isoformat()].append(path)
        relative = path.relative_to(out_dir).as_posix()
        extract_rows[relative] = rows.height
        files_manifest.append({"path": relative, "source": extract.source, "night": extract.night.isoformat(),
                               "format": fmt, "encoding": encoding if fmt == "csv" else None,
                               "legacy_scheme": scheme, "rows": rows.height, "headers": headers})  # fmt: skip
        truth_parts.append(_truth(extract.rows, extract.source, conventions))
        split_rows = extract.rows.filter(pl.col("is_split").fill_null(False) & (pl.col("_form").fill_null(0) >= 2))
        log.add(split_rows["record_id"], extract.source, "ambiguous_split_ward", "permanent_address",
                split_rows["_ward"])  # fmt: skip

    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    persons = pl.concat(truth_parts).sort("source", "record_id")
    persons_path = truth_dir / "persons.parquet"
    persons.write_parquet(persons_path, compression="zstd")
    _people(pop).write_parquet(truth_dir / "people.parquet", compression="zstd")
    defects = log.frame().join(persons.select("record_id", "source"), on=["record_id", "source"], how="semi")
    defects = defects.sort(["source", "record_id", "defect", "field"], nulls_last=True)
    defects_path = truth_dir / "defects.parquet"
    defects.write_parquet(defects_path, compression="zstd")

    manifest = {
        "generator_version": GENERATOR_VERSION,
        "parameters": {"people": people, "seed": seed, "date": night.isoformat(), "nights": nights,
                       "province": province_code, "province_name": geo.province_name,
                       "snapshot_date": snapshot.isoformat(),
                       "night_dates": [d.isoformat() for d in night_dates]},
        "defect_rates": DEFECT_RATES,
        "variation_rates": {"base": BASE_RATES, "extracts": EXTRACT_RATES},
        "distinct_given_names": int(pop.join(base.select("_pi").unique(), left_on="person_index", right_on="_pi",
                                             how="semi")["given_name"].n_unique()),
        "name_conventions": dict(sorted(pop.group_by("name_convention").len().iter_rows())),
        "event_rates_per_night": EVENT_RATES,
        "rows": {"population_base.parquet": base.height, **extract_rows, "truth/persons.parquet": persons.height,
                 "truth/defects.parquet": defects.height},
        "defect_counts": dict(sorted(defects.group_by("defect").len().iter_rows())),
        "people_outside_base": int(outsiders.height),
        "files": files_manifest,
    }  # fmt: skip
    manifest_path = truth_dir / "manifest.json"
    manifest_path.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    return GeneratedProvince(
        out_dir=out_dir, base_path=base_path, extract_paths=extract_paths, persons_path=persons_path,
        defects_path=defects_path, manifest_path=manifest_path, people=people, base_rows=base.height,
        extract_rows=extract_rows, defect_rows=defects.height,
    )  # fmt: skip


def _person_key(column: str) -> pl.Expr:
    return pl.when(pl.col(column) >= 0).then(pl.lit("P") + pl.col(column).cast(pl.String).str.zfill(9))


def _people(pop: pl.DataFrame) -> pl.DataFrame:
    """One row per true person of the province: family ties (household, father, mother, spouse, closest sibling,
    twin), sex, birth date and naming convention, for telling twins, siblings and namesakes apart in evaluations."""
    return pop.select(
        _person_key("person_index").alias("true_person"),
        pl.col("hh").alias("household"),
        "relation",
        "sex",
        pl.col("birth").alias("birth_date"),
        "ethnicity",
        "name_convention",
        "full_name",
        "given_name",
        _person_key("father_index").alias("father"),
        _person_key("mother_index").alias("mother"),
        _person_key("spouse_index").alias("spouse"),
        _person_key("sibling_index").alias("sibling"),
        "twin",
    )


def _truth(frame: pl.DataFrame, source: str, conventions: pl.DataFrame) -> pl.DataFrame:
    """Truth rows; ``name_convention`` of the true person (null for visitors from other provinces)."""
    return (
        frame.select(
            "record_id",
            pl.lit(source).alias("source"),
            (pl.lit("P") + pl.col("_pi").cast(pl.String).str.zfill(9)).alias("true_person"),
            pl.col("_ward").alias("true_ward_code"),
            pl.col("_pi").cast(pl.Int64),
        )
        .join(conventions, on="_pi", how="left", maintain_order="left")
        .drop("_pi")
    )
