"""Benchmark of ``normalize.frame.normalize_records`` on generated person records.

Builds N canonical records (default 1,000,000) the way extracts look: names with and without diacritics, in
capitals, with old tone placement and some typed in TCVN3/VNI; old- and new-form addresses, abbreviated and
unaccented, with house numbers that make almost every address distinct; 12-digit IDs; dates as ISO text,
dd/mm/yyyy, year only, 00/00/yyyy and Excel serials. Then it normalizes them and prints records/s and the peak
memory of the process.

    .venv/bin/python benchmarks/bench_normalize.py [--rows 1000000] [--seed 7]

Target (issue 3): >= 50,000 records/s on the 2-core build machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from normalize import units  # noqa: E402
from normalize.frame import normalize_records, summarize  # noqa: E402
from normalize.text import _TCVN3, _VNI  # noqa: E402
from records.schema import conform  # noqa: E402

FAMILY = [
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9.5),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Huỳnh", 2),
    ("Phan", 4),
    ("Vũ", 3),
    ("Võ", 2),
    ("Đặng", 2),
    ("Bùi", 2),
    ("Đỗ", 1.5),
    ("Hồ", 1.3),
    ("Ngô", 1.3),
    ("Dương", 1),
    ("Lý", 0.5),
    ("Đinh", 1),
    ("Trịnh", 0.7),
    ("Đào", 0.7),
    ("Mai", 0.5),
]
_TCVN3_ENCODE = {v: k for k, v in _TCVN3.items() if k != "Ð"}
_VNI_ENCODE = {v: k for k, v in _VNI.items() if len(v) == 1}


def to_tcvn3(text: str) -> str:
    return "".join(_TCVN3_ENCODE.get(ch, _TCVN3_ENCODE.get(ch.lower(), ch)) for ch in text)


def to_vni(text: str) -> str:
    return "".join(_VNI_ENCODE.get(ch, ch) for ch in text)


def _given_names() -> list[str]:
    folder = ROOT / "data" / "vietnamese-namedb"
    names: list[str] = []
    for file in ("boy.txt", "girl.txt"):
        names.extend(line.strip().replace("Ð", "Đ") for line in (folder / file).read_text("utf-8").splitlines())
    return [n for n in names if n]


def _admin_pool(rng: np.random.Generator) -> list[str]:
    """Administrative parts of addresses, old and new form, in the usual spellings."""
    from unidecode import unidecode

    legacy = units.legacy_wards().sample(3000, seed=int(rng.integers(1 << 30)))
    current = units.current_wards().sample(1500, seed=int(rng.integers(1 << 30)))
    pool: list[str] = []
    for row in legacy.iter_rows(named=True):
        full = f"{row['ward_name']}, {row['district_name']}, {row['province_name']}"
        short = f"P. {row['ward_short']}, Q. {row['district_short']}, {row['province_short']}"
        pool.extend([full, short, unidecode(full), full.upper()])
    for row in current.iter_rows(named=True):
        full = f"{row['ward_name']}, {row['province_name']}"
        pool.extend([full, unidecode(full).lower(), f"{row['ward_name']}, {row['province_short']}"])
    return pool


def generate(rows: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    given = _given_names()
    family_names = [f for f, _ in FAMILY]
    weights = np.array([w for _, w in FAMILY])
    family = np.array(family_names)[rng.choice(len(FAMILY), rows, p=weights / weights.sum())]
    middle = np.array(["Văn", "Thị", "Đức", "Minh", "Ngọc", "Hữu", "Thanh"])[rng.integers(0, 7, rows)]
    given_pick = np.array(given)[rng.integers(0, len(given), rows)]
    frame = pl.DataFrame({"family": family, "middle": middle, "given": given_pick})
    full = pl.concat_str("family", "middle", "given", separator=" ")
    style = rng.integers(0, 100, rows)
    frame = frame.with_columns(full.alias("full_name"), pl.Series("style", style))
    from unidecode import unidecode

    distinct = frame["full_name"].unique(maintain_order=True).to_list()
    ascii_map = {n: unidecode(n) for n in distinct}
    legacy_pool = distinct[: max(1, len(distinct) // 50)]
    tcvn3_map = {n: to_tcvn3(n) for n in legacy_pool}
    vni_map = {n: to_vni(n) for n in legacy_pool}
    name = pl.col("full_name")
    frame = frame.with_columns(
        pl.when(pl.col("style") < 10)
        .then(name.replace_strict(ascii_map))
        .when(pl.col("style") < 15)
        .then(name.str.to_uppercase())
        .when((pl.col("style") < 17) & name.is_in(legacy_pool))
        .then(name.replace(tcvn3_map))
        .when((pl.col("style") < 19) & name.is_in(legacy_pool))
        .then(name.replace(vni_map))
        .when(pl.col("style") < 25)
        .then(name.str.replace_all("òa", "oà").str.replace_all("úy", "uý"))
        .otherwise(name)
        .alias("full_name")
    )

    admin = _admin_pool(rng)
    streets = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Khâm Thiên", "Hai Bà Trưng", "Lý Thường Kiệt"]
    house = rng.integers(1, 400, rows).astype(str)
    lane = rng.integers(1, 120, rows).astype(str)
    street = np.array(streets)[rng.integers(0, len(streets), rows)]
    admin_pick = np.array(admin)[rng.integers(0, len(admin), rows)]
    kind = rng.integers(0, 4, rows)
    prefix = np.where(
        kind == 0,
        "Số " + house + " ngõ " + lane + " " + street,
        np.where(kind == 1, house + " " + street, np.where(kind == 2, "Tổ " + lane, "Thôn " + lane)),
    )
    permanent = np.char.add(np.char.add(prefix.astype(str), ", "), admin_pick.astype(str))
    current_pick = np.array(admin)[rng.integers(0, len(admin), rows)]

    born = rng.integers(-25000, 19000, rows)  # days since 1970
    born_dates = pl.Series(born).cast(pl.Date)
    date_style = rng.integers(0, 100, rows)
    serial = (born + 25569).astype(str)
    birth = pl.DataFrame({"d": born_dates, "s": date_style, "serial": serial}).select(
        pl.when(pl.col("s") < 50)
        .then(pl.col("d").dt.strftime("%Y-%m-%d"))
        .when(pl.col("s") < 80)
        .then(pl.col("d").dt.strftime("%d/%m/%Y"))
        .when(pl.col("s") < 88)
        .then(pl.col("d").dt.strftime("%Y"))
        .when(pl.col("s") < 94)
        .then(pl.col("d").dt.strftime("00/00/%Y"))
        .otherwise(pl.col("serial"))
        .alias("birth_date")
    )["birth_date"]
    year = born_dates.dt.year().to_numpy()
    sex_male = rng.integers(0, 2, rows) == 0
    provinces = np.array(sorted(units.id_province_codes()))
    century_digit = ((year >= 2000).astype(int) * 2 + (~sex_male).astype(int)).astype(str)
    person_id = np.char.add(
        np.char.add(
            np.char.add(provinces[rng.integers(0, len(provinces), rows)], century_digit),
            np.char.zfill((year % 100).astype(str), 2),
        ),
        np.char.zfill(rng.integers(0, 1_000_000, rows).astype(str), 6),
    )
    canonical = pl.DataFrame(
        {
            "record_id": [f"B{i:07d}" for i in range(rows)],
            "person_id": person_id,
            "full_name": frame["full_name"],
            "birth_date": birth,
            "sex": np.where(sex_male, "Nam", "Nữ"),
            "permanent_address": permanent,
            "current_address": current_pick,
            "hometown": np.array([a.split(", ")[-1] for a in admin])[rng.integers(0, len(admin), rows)],
            "father_name": np.char.add(
                np.char.add(family.astype(str), " Văn "), np.array(given)[rng.integers(0, len(given), rows)]
            ),
        }
    )
    return conform(canonical, source="base")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    records = generate(args.rows, args.seed)
    generated = time.perf_counter() - started
    print(f"Sinh dữ liệu / generated {records.height:,} records in {generated:.1f} s")

    # Unit tables are loaded once per process; their cost is not per record.
    warm = time.perf_counter()
    normalize_records(records.head(1000), as_of=date(2025, 7, 2))
    print(f"Nạp bảng đơn vị / unit tables + warm-up: {time.perf_counter() - warm:.1f} s")

    load_before = f"{os.getloadavg()[0]:.2f}"
    started, cpu_started = time.perf_counter(), time.process_time()
    normalized = normalize_records(records, as_of=date(2025, 7, 2))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = summarize(normalized)
    print(f"Chuẩn hóa / normalized {normalized.height:,} records x {normalized.width} columns in {elapsed:.1f} s")
    print(f"records/s: {normalized.height / elapsed:,.0f}")
    # The build machine is shared: CPU seconds (all threads) and the load average tell how busy it was.
    print(f"CPU time: {cpu:.1f} s (all threads); load average before/after: {load_before} / {os.getloadavg()[0]:.2f}")
    print(f"peak memory (RSS): {peak_mib:,.0f} MiB")
    print("counts:", ", ".join(f"{k}={v:,}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
