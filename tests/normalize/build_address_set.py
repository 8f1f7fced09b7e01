"""Build the labelled address set used by the accuracy test (``tests/normalize/data``).

Two files, both labelled from the official unit tables by exact code, never by the resolver under test:

- ``addresses_generated.csv``: units sampled from ``normalize.units`` (old wards that map to one current ward, old
  wards that were split, current wards) rendered with the corruptions extracts really carry: abbreviations
  (P., Q., TX., TT., TP., T.), no diacritics, lower or upper case, missing province, misspelt type words
  ("Phuờng", "Phưong"), province nicknames (HN, tp hcm, TP.HCM), reversed order, old tone placement, no space
  after the abbreviation dot, a house/hamlet part in front, and one-letter typos in the unit name.
- ``addresses_handwritten.csv``: addresses written by hand the way clerks type them; each names its unit by
  (ward, district, province) or (ward, province) and the label is looked up from those names.

    .venv/bin/python -m tests.normalize.build_address_set

Output is deterministic (fixed seed); the files are committed so the test reads a fixed set.
"""

from __future__ import annotations

import csv
import random
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Final

import polars as pl
from unidecode import unidecode

from datagen.text import to_old_tone
from normalize import units

DATA: Final = Path(__file__).parent / "data"
GENERATED: Final = DATA / "addresses_generated.csv"
HANDWRITTEN: Final = DATA / "addresses_handwritten.csv"
HANDWRITTEN_SOURCE: Final = DATA / "addresses_handwritten_source.csv"
FIELDS: Final = ("address", "expected_status", "expected_ward_code", "expected_candidates", "kind", "corruption")

_WARD_ABBREV: Final = {"Phường": "P.", "Xã": "X.", "Thị trấn": "TT.", "Đặc khu": "Đặc khu"}
_DISTRICT_ABBREV: Final = {"Quận": "Q.", "Huyện": "H.", "Thị xã": "TX.", "Thành phố": "TP."}
_PROVINCE_NICKNAMES: Final = {"Thành phố Hà Nội": ("HN", "Ha Noi"), "Thành phố Hồ Chí Minh": ("TP.HCM", "tp hcm")}
_STREETS: Final = (
    "Số 12 Lê Lợi",
    "25 Trần Hưng Đạo",
    "Số 7 ngõ 34 Khâm Thiên",
    "Thôn Đông",
    "Tổ 5",
    "Ấp 3",
    "Xóm 2",
    "45/2 Nguyễn Trãi",
    "Số 101 ngách 3 ngõ 12 Phố Huế",
    "Khu phố 4",
)


def _typo(name: str, rng: random.Random) -> str:
    """Drop or double one letter of a long word (a slip of the keyboard)."""
    words = name.split()
    long_words = [i for i, w in enumerate(words) if len(w) >= 5]
    if not long_words:
        return name
    i = rng.choice(long_words)
    word = words[i]
    j = rng.randrange(1, len(word) - 1)
    words[i] = word[:j] + word[j + 1 :] if rng.random() < 0.5 else word[:j] + word[j] + word[j:]
    return " ".join(words)


def _plain(short: str) -> str:
    return re.sub(r"\s*\([^)]*\)$", "", short)


def _key(text: str) -> str:
    return "".join(ch for ch in unidecode(text).lower() if ch.isalnum())


def _render_legacy(row: dict[str, object], corruption: str, rng: random.Random) -> str:
    ward, district, province = str(row["ward_name"]), str(row["district_name"]), str(row["province_name"])
    # The source tables tell apart same-named units with "(Huyện)" etc.; nobody writes that in an address.
    ward_short, district_short = _plain(str(row["ward_short"])), _plain(str(row["district_short"]))
    ward_abbrev = f"{_WARD_ABBREV[str(row['ward_type'])]} {ward_short}"
    district_abbrev = f"{_DISTRICT_ABBREV[str(row['district_type'])]} {district_short}"
    province_short = str(row["province_short"])
    if corruption == "official":
        parts = [ward, district, province]
    elif corruption == "abbreviated":
        parts = [ward_abbrev, district_abbrev, province_short]
    elif corruption == "no_diacritics":
        parts = [unidecode(ward), unidecode(district), unidecode(province_short)]
    elif corruption == "lowercase_ascii":
        parts = [unidecode(ward_abbrev).lower(), unidecode(district_abbrev).lower(), unidecode(province).lower()]
    elif corruption == "uppercase":
        parts = [ward.upper(), district.upper(), province.upper()]
    elif corruption == "missing_province":
        parts = [ward_abbrev, district_abbrev]
    elif corruption == "type_typo":
        ward_text = ward.replace("Phường", rng.choice(["Phuờng", "Phưong", "Phuong"])).replace("Xã", "Xa")
        parts = [ward_text, district.replace("Huyện", "Huyen").replace("Quận", "Quan"), province_short]
    elif corruption == "nickname":
        parts = [ward_abbrev, district_abbrev, rng.choice(_PROVINCE_NICKNAMES[province])]
    elif corruption == "reversed":
        parts = [province_short, district_short, ward]
    elif corruption == "old_tone":
        parts = [to_old_tone(ward), to_old_tone(district), to_old_tone(province)]
    elif corruption == "no_space":
        parts = [ward_abbrev.replace(". ", "."), district_abbrev.replace(". ", "."), province_short]
    elif corruption == "name_typo":
        typo_ward = str(row["ward_type"]) + " " + _typo(ward_short, rng)
        parts = [typo_ward, district, province]
    else:
        raise ValueError(corruption)
    text = ", ".join(parts)
    if rng.random() < 0.6:
        text = f"{rng.choice(_STREETS)}, {text}"
    return text


def _render_current(row: dict[str, object], corruption: str, rng: random.Random) -> str:
    ward, province, province_short = str(row["ward_name"]), str(row["province_name"]), str(row["province_short"])
    if corruption == "official":
        parts = [ward, province]
    elif corruption == "short_province":
        parts = [ward, province_short]
    elif corruption == "no_diacritics":
        parts = [unidecode(ward).lower(), unidecode(province)]
    elif corruption == "uppercase":
        parts = [ward.upper(), province_short.upper()]
    elif corruption == "abbreviated":
        parts = [f"{_WARD_ABBREV[str(row['ward_type'])]} {row['ward_short']}", province_short]
    elif corruption == "old_tone":
        parts = [to_old_tone(ward), to_old_tone(province)]
    elif corruption == "missing_province":
        parts = [ward]
    else:
        raise ValueError(corruption)
    text = ", ".join(parts)
    if rng.random() < 0.6:
        text = f"{rng.choice(_STREETS)}, {text}"
    return text


_LEGACY_CORRUPTIONS: Final = (
    "official",
    "abbreviated",
    "no_diacritics",
    "lowercase_ascii",
    "uppercase",
    "missing_province",
    "type_typo",
    "nickname",
    "reversed",
    "old_tone",
    "no_space",
    "name_typo",
)
_CURRENT_CORRUPTIONS: Final = (
    "official",
    "short_province",
    "no_diacritics",
    "uppercase",
    "abbreviated",
    "old_tone",
    "missing_province",
)


def _unique_without_province(legacy: pl.DataFrame) -> set[str]:
    """Old wards whose (district, ward) names occur in one province only: safe to render without the province."""
    pairs = Counter(zip(legacy["district_key"].to_list(), legacy["ward_key"].to_list(), strict=True))
    return {
        code
        for code, d, w in zip(
            legacy["legacy_ward_code"].to_list(), legacy["district_key"], legacy["ward_key"], strict=True
        )
        if pairs[(d, w)] == 1
    }


def _unique_in_district(legacy: pl.DataFrame) -> set[str]:
    """Old wards whose name, without diacritics, no other ward of the same district shares (typos stay decidable)."""
    keys = legacy.select("legacy_ward_code", "district_code", pl.col("ward_short").map_elements(_key, pl.String))
    counts = Counter(zip(keys["district_code"].to_list(), keys["ward_short"].to_list(), strict=True))
    return {
        code
        for code, d, k in zip(keys["legacy_ward_code"], keys["district_code"], keys["ward_short"], strict=True)
        if counts[(d, k)] == 1
    }


def build_generated(seed: int = 20250701) -> list[dict[str, str]]:
    rng = random.Random(seed)
    legacy = units.legacy_wards().filter(pl.col("current_ward_codes").list.len() > 0)
    safe_without_province = _unique_without_province(legacy)
    safe_typo = _unique_in_district(legacy)
    plain = legacy.filter(~pl.col("is_split")).sample(720, seed=seed, shuffle=True)
    split = legacy.filter(pl.col("is_split")).sample(200, seed=seed + 1, shuffle=True)
    current = units.current_wards()
    current_counts = Counter(_key(s) for s in current["ward_short"].to_list())
    current_pick = current.sample(240, seed=seed + 2, shuffle=True)
    rows: list[dict[str, str]] = []
    for kind, frame in (("legacy", plain), ("split", split)):
        for i, row in enumerate(frame.iter_rows(named=True)):
            corruption = _LEGACY_CORRUPTIONS[i % len(_LEGACY_CORRUPTIONS)]
            if corruption == "missing_province" and row["legacy_ward_code"] not in safe_without_province:
                corruption = "abbreviated"
            if corruption == "nickname" and row["province_name"] not in _PROVINCE_NICKNAMES:
                corruption = "no_space"
            if corruption == "name_typo" and (row["legacy_ward_code"] not in safe_typo or kind == "split"):
                corruption = "official"
            codes = sorted(row["current_ward_codes"])
            rows.append(
                {
                    "address": _render_legacy(row, corruption, rng),
                    "expected_status": "ambiguous" if len(codes) > 1 else "resolved",
                    "expected_ward_code": codes[0] if len(codes) == 1 else "",
                    "expected_candidates": "|".join(codes),
                    "kind": kind,
                    "corruption": corruption,
                }
            )
    for i, row in enumerate(current_pick.iter_rows(named=True)):
        corruption = _CURRENT_CORRUPTIONS[i % len(_CURRENT_CORRUPTIONS)]
        if corruption == "missing_province" and current_counts[_key(row["ward_short"])] > 1:
            corruption = "official"
        rows.append(
            {
                "address": _render_current(row, corruption, rng),
                "expected_status": "resolved",
                "expected_ward_code": row["ward_code"],
                "expected_candidates": row["ward_code"],
                "kind": "current",
                "corruption": corruption,
            }
        )
    return rows


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def build_handwritten() -> list[dict[str, str]]:
    """Label the hand-written addresses of ``addresses_handwritten_source.csv`` from the unit tables.

    Source columns: address, ward, district (empty for new-form addresses), province: the official names the
    writer meant. The label is found by exact official name, so a wrong name in the source fails loudly here.
    """
    legacy = units.legacy_wards()
    current = units.current_wards()
    rows: list[dict[str, str]] = []
    with HANDWRITTEN_SOURCE.open(encoding="utf-8", newline="") as handle:
        for source in csv.DictReader(handle):
            ward, district, province = _norm(source["ward"]), _norm(source["district"]), _norm(source["province"])
            if district:
                found = legacy.filter(
                    (pl.col("ward_name") == ward)
                    & (pl.col("district_name") == district)
                    & (pl.col("province_name") == province)
                )
                if found.height != 1:
                    raise ValueError(f"no unique old ward {ward}, {district}, {province}: {found.height}")
                codes = sorted(found["current_ward_codes"][0].to_list())
                kind = "split" if len(codes) > 1 else "legacy"
            else:
                found = current.filter((pl.col("ward_name") == ward) & (pl.col("province_name") == province))
                if found.height != 1:
                    raise ValueError(f"no unique current ward {ward}, {province}: {found.height}")
                codes = [found["ward_code"][0]]
                kind = "current"
            rows.append(
                {
                    "address": source["address"],
                    "expected_status": "ambiguous" if len(codes) > 1 else "resolved",
                    "expected_ward_code": codes[0] if len(codes) == 1 else "",
                    "expected_candidates": "|".join(codes),
                    "kind": kind,
                    "corruption": "handwritten",
                }
            )
    return rows


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    generated = build_generated()
    handwritten = build_handwritten()
    _write(GENERATED, generated)
    _write(HANDWRITTEN, handwritten)
    print(f"{GENERATED.name}: {len(generated)} rows; {HANDWRITTEN.name}: {len(handwritten)} rows")


if __name__ == "__main__":
    main()
