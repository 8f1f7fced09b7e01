"""Small synthetic populations already in the normalized-column shape, with known truth, for engine tests.

Not a replacement for ``datagen``: just enough realistic structure (skewed family names, shared given names,
families, typical record errors) to exercise blocking, EM and clustering in seconds.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from unidecode import unidecode

_NAMES = Path(__file__).resolve().parents[2] / "data" / "vietnamese-namedb"
_FAMILIES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
_FAMILY_SHARES = np.array([38, 11, 9.5, 7, 3, 2, 2, 2, 2, 2, 1.5, 1.5, 1.3, 1.0])
_MALE_MIDDLE = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Xuân", "Thanh"]
_FEMALE_MIDDLE = ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Thị Thu", "Thị Minh"]
_STREETS = ["Lê Lợi", "Trần Phú", "Nguyễn Trãi", "Hai Bà Trưng", "Quang Trung", "Lý Thường Kiệt", "Điện Biên Phủ"]


def _given(file: str) -> list[str]:
    text = (_NAMES / file).read_text(encoding="utf-8")
    names = {unicodedata.normalize("NFC", line.strip().replace("\u00d0", "\u0110")) for line in text.splitlines()}
    return sorted(name for name in names if name)


def _key(text: str | None) -> str | None:
    if text is None:
        return None
    return " ".join(unidecode(text).lower().split()) or None


@dataclass
class Person:
    entity: str
    family: str
    middle: str
    given: str
    sex: str
    birth: dt.date
    person_id: str
    ward: str
    legacy_ward: str
    street: str
    father: str
    mother: str
    spouse: str | None


def make_people(n: int, seed: int) -> list[Person]:
    rng = np.random.default_rng(seed)
    boys, girls = _given("boy_one_word.txt"), _given("girl_one_word.txt")
    # Given names are Zipf-like: a few very common.
    boy_p = 1.0 / np.arange(1, len(boys) + 1) ** 0.9
    girl_p = 1.0 / np.arange(1, len(girls) + 1) ** 0.9
    family_p = _FAMILY_SHARES / _FAMILY_SHARES.sum()
    wards = [f"{26000 + 3 * i:05d}" for i in range(max(20, n // 400))]
    people = []
    used_ids: set[str] = set()
    for i in range(n):
        sex = "Nam" if rng.random() < 0.5 else "Nữ"
        family = _FAMILIES[rng.choice(len(_FAMILIES), p=family_p)]
        if sex == "Nam":
            middle = _MALE_MIDDLE[rng.integers(len(_MALE_MIDDLE))]
            given = boys[rng.choice(len(boys), p=boy_p / boy_p.sum())]
        else:
            middle = _FEMALE_MIDDLE[rng.integers(len(_FEMALE_MIDDLE))]
            given = girls[rng.choice(len(girls), p=girl_p / girl_p.sum())]
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 80)))
        century = (0 if birth.year < 2000 else 2) + (0 if sex == "Nam" else 1)
        while True:
            person_id = f"0{rng.integers(1, 97):02d}{century}{birth.year % 100:02d}{rng.integers(0, 1_000_000):06d}"
            if person_id not in used_ids:
                used_ids.add(person_id)
                break
        ward_index = int(rng.integers(len(wards)))
        father = f"{family} {_MALE_MIDDLE[rng.integers(len(_MALE_MIDDLE))]} {boys[rng.integers(len(boys))]}"
        mother_family = _FAMILIES[rng.choice(len(_FAMILIES), p=family_p)]
        mother = f"{mother_family} Thị {girls[rng.integers(len(girls))]}"
        spouse = None
        if birth.year < 1995 and rng.random() < 0.6:
            spouse = f"{_FAMILIES[rng.choice(len(_FAMILIES), p=family_p)]} {girls[rng.integers(len(girls))]}"
        people.append(
            Person(
                entity=f"E{i:07d}",
                family=family,
                middle=middle,
                given=given,
                sex=sex,
                birth=birth,
                person_id=person_id,
                ward=wards[ward_index],
                legacy_ward=f"{10000 + ward_index * 7:05d}",
                street=f"{rng.integers(1, 300)} {_STREETS[rng.integers(len(_STREETS))]}",
                father=father,
                mother=mother,
                spouse=spouse,
            )
        )
    return people


def _typo(text: str, rng: np.random.Generator) -> str:
    if len(text) < 3:
        return text + "a"
    i = int(rng.integers(1, len(text) - 1))
    if rng.random() < 0.5:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + "aeiouhn"[int(rng.integers(7))] + text[i + 1 :]


def record_of(person: Person, record_id: str, source: str, rng: np.random.Generator | None, noise: float) -> dict:
    """A normalized record of ``person``; with ``rng`` each field gets typical errors with probability ~``noise``."""
    family, middle, given = person.family, person.middle, person.given
    birth_value: dt.date | None = person.birth
    year, month, day = person.birth.year, person.birth.month, person.birth.day
    person_id: str | None = person.person_id
    ward, legacy, street = person.ward, person.legacy_ward, person.street
    father: str | None = person.father
    mother: str | None = person.mother
    spouse = person.spouse
    strip_marks = False
    given_key_override = None
    if rng is not None:

        def hit(scale: float = 1.0) -> bool:
            return bool(rng.random() < noise * scale)

        if hit(0.6):
            middle = ""
        if hit(0.5):
            given_key_override = _typo(_key(given) or "", rng)
        if hit(0.5):
            strip_marks = True
        if hit(0.4):
            swapped = (year, day, month)
            if day <= 12 and day != month:
                year, month, day = swapped
        elif hit(0.3):
            month, day = None, None  # type: ignore[assignment]
        elif hit(0.3):
            day = (day % 28) + 1
        if hit(1.5):
            person_id = None
        elif hit(0.2) and person_id is not None:
            digit = (int(person_id[-1]) + 1) % 10
            person_id = person_id[:-1] + str(digit)
        if hit(0.8):
            ward, legacy, street = None, None, None  # type: ignore[assignment]
        if hit(1.0):
            father = None
        if hit(1.0):
            mother = None
        if hit(1.0):
            spouse = None
    birth_value = dt.date(year, 1, 1) if month is None else dt.date(year, month, day)
    full = " ".join(part for part in (family, middle, given) if part)
    if strip_marks:
        full = unidecode(full).title()
    given_key = given_key_override or _key(given)
    family_key = _key(family)
    name_key = " ".join(k for k in (family_key, _key(middle), given_key) if k)
    swapped_text = None
    if day is not None and month is not None and day <= 12 and day != month:
        swapped_text = dt.date(year, day, month).isoformat()
    return {
        "record_id": record_id,
        "source": source,
        "entity": person.entity,
        "full_name_norm": full,
        "name_key": name_key,
        "name_key_glued": name_key.replace(" ", ""),
        "family_key": family_key,
        "middle_key": _key(middle) or "",
        "given_key": given_key,
        "given_name": _given_display(given, given_key_override, strip_marks),
        "name_key_no_middle": f"{family_key} {given_key}",
        "birth_date_value": birth_value,
        "birth_year": year,
        "birth_month": month,
        "birth_day": day,
        "birth_date_swapped": swapped_text,
        "sex_norm": person.sex,
        "person_id_norm": person_id,
        "person_id_valid": person_id is not None,
        "person_id_birth_year": _id_birth_year(person_id),
        "old_id_number": None,
        "permanent_address_ward_code": ward,
        "permanent_address_legacy_ward_code": legacy,
        "permanent_address_street": street,
        # As the normalizer gives them: the one current ward when resolved, none known otherwise.
        "permanent_address_candidates": [ward] if ward is not None else None,
        "father_name_key": _key(father),
        "mother_name_key": _key(mother),
        "spouse_name_key": _key(spouse),
    }


_SCHEMA = {
    "birth_year": pl.Int32,
    "birth_month": pl.Int32,
    "birth_day": pl.Int32,
    "birth_date_value": pl.Date,
    "old_id_number": pl.String,
    "spouse_name_key": pl.String,
    "person_id_norm": pl.String,
    "person_id_birth_year": pl.Int32,
    "birth_date_swapped": pl.String,
    "permanent_address_ward_code": pl.String,
    "permanent_address_legacy_ward_code": pl.String,
    "permanent_address_street": pl.String,
    "permanent_address_candidates": pl.List(pl.String),
    "father_name_key": pl.String,
    "mother_name_key": pl.String,
}


def _id_birth_year(person_id: str | None) -> int | None:
    """The birth year a 12-digit personal ID encodes (century/sex digit, then the year's last two digits)."""
    if person_id is None or len(person_id) != 12 or not person_id.isdigit():
        return None
    return 1900 + 100 * (int(person_id[3]) // 2) + int(person_id[4:6])


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema_overrides=_SCHEMA, infer_schema_length=None)


def make_base(people: list[Person], *, duplicate_rate: float, seed: int, noise: float = 0.3) -> pl.DataFrame:
    """One clean record per person, plus noisy duplicates of ``duplicate_rate`` of them (column ``entity``)."""
    rng = np.random.default_rng(seed)
    rows = [record_of(p, f"B{i:07d}", "base", None, 0.0) for i, p in enumerate(people)]
    for j, index in enumerate(rng.choice(len(people), size=int(len(people) * duplicate_rate), replace=False)):
        rows.append(record_of(people[int(index)], f"D{j:07d}", "base", rng, noise))
    return frame(rows)


def make_extract(
    people: list[Person], size: int, *, seed: int, noise: float = 0.3, unknown: list[Person] | None = None
) -> pl.DataFrame:
    """Noisy records of random known people, plus one record for each of ``unknown`` (not in the base)."""
    rng = np.random.default_rng(seed)
    sources = ("residence", "civil_status", "card")
    rows = [
        record_of(people[int(index)], f"X{j:07d}", sources[j % 3], rng, noise)
        for j, index in enumerate(rng.choice(len(people), size=size, replace=True))
    ]
    for k, person in enumerate(unknown or []):
        rows.append(record_of(person, f"U{k:07d}", "residence", rng, noise))
    return frame(rows)


def _given_display(given: str | None, typo: str | None, strip_marks: bool) -> str | None:
    """The given name as displayed: the typo'd key when a typo was made, without marks when they were stripped."""
    if not given:
        return None
    if typo is not None:
        return typo.title()
    return unidecode(given).title() if strip_marks else given


def pair_sides(records: pl.DataFrame, left_rows: np.ndarray, right_rows: np.ndarray) -> pl.DataFrame:
    """The two sides of pairs of prepared records by row positions, as the engine compares them (``c_l``, ``c_r``)."""
    columns = [c for c in records.columns if c != "record_id"]
    return pl.concat(
        [
            records.select(pl.col(c).gather(pl.Series(left_rows)).alias(f"{c}_l") for c in columns),
            records.select(pl.col(c).gather(pl.Series(right_rows)).alias(f"{c}_r") for c in columns),
        ],
        how="horizontal",
    )
