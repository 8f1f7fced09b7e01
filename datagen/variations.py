"""The hard cases of matching, injected into the records of true persons (and logged as defects).

Each is what a data-entry officer really produces and what makes a matcher either miss a person or fuse two:

- ``name_rendering``: a minority name written another common way (H'Hen / H’Hen / H Hen / Hhen, Y-Blông, Ê Ban /
  Êban / Eban, the clan first: Niê H'Hen; Khmer Sa Ri / Sari; H'Mông without the middle A/Mí);
- ``dropped_middle_name``, ``swapped_day_month``, ``birth_year_off_by_one`` (same day and month);
- ``sibling_id``: the record carries the personal ID of a brother or sister (a twin most often) — one ID, two
  people, which the cleaning must report and never merge;
- ``reissued_id``: the person's ID was issued again under another number (same century/sex and year digits);
- ``missing_person_id``; ``reversed_name_order`` (An Nguyễn Văn, as foreign-format forms write it);
- ``name_title`` (Ông / Bà in front of an elderly person's name) and ``name_remark`` ("(đã chết)" after the name
  on a death registration).

The population carries ``sibling_index`` (the closest sibling, the twin for twins) and ``name_convention``.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import numpy as np
import polars as pl

from datagen.defects import DefectLog
from datagen.names import render_name
from normalize.units import id_province_codes

__all__ = ["BASE_RATES", "EXTRACT_RATES", "reissue_id", "vary_base", "vary_extract"]

EXTRACT_RATES: Final[dict[str, float]] = {
    "name_rendering": 0.30,  # of rows of people whose convention has other common spellings
    "dropped_middle_name": 0.03,
    "birth_year_off_by_one": 0.015,
    "swapped_day_month": 0.01,  # of rows with a day <= 12
    "sibling_id": 0.02,  # of rows of people with a brother or sister
    "reissued_id": 0.01,  # card rows: 0.03
    "missing_person_id": 0.02,  # residence and civil-status rows
    "reversed_name_order": 0.01,  # of rows of names starting with a family name that marks the order
    "name_title": 0.03,  # of rows of people aged 60+
    "name_remark": 0.10,  # of death registrations
}
BASE_RATES: Final[dict[str, float]] = {
    "name_rendering": 0.25,  # the base was typed by many officers too
    "sibling_id": 0.004,  # of base records of people with a brother or sister (twins: 4%)
    "sibling_id_twin": 0.04,
}
_ORDER_MARKERS: Final = frozenset(["Nguyễn", "Trần", "Lê", "Phạm", "Phan", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương"])
_RENDERED: Final = frozenset({"ede", "khmer", "khmer_prefix", "hmong"})


def reissue_id(person_id: str, rng: np.random.Generator) -> str:
    """Another valid number for the same person: a province prefix (the birth registered again elsewhere) and a new
    serial; the century/sex and year digits are kept."""
    prefixes = sorted(id_province_codes())
    prefix = prefixes[int(rng.integers(0, len(prefixes)))]
    return prefix + person_id[3:6] + f"{int(rng.integers(0, 1_000_000)):06d}"


def _rendered(
    names: list[str | None],
    conventions: list[str | None],
    true_names: list[str | None],
    rows: np.ndarray,
    rng: np.random.Generator,
) -> tuple[list[int], list[str]]:
    """Rows (among ``rows``) still spelled as the true name, written another common way instead."""
    changed: list[int] = []
    details: list[str] = []
    for i in rows.tolist():
        name, convention = names[i], conventions[i]
        if name is None or convention not in _RENDERED or name != true_names[i]:
            continue
        other, kind = render_name(name, convention, rng)
        if kind and other != name:
            names[i] = other
            changed.append(i)
            details.append(kind)
    return changed, details


def vary_base(rng: np.random.Generator, base: pl.DataFrame, pop: pl.DataFrame, log: DefectLog) -> pl.DataFrame:
    """Base renderings of minority names and records carrying a sibling's ID (``base``: rendered base, ``_pi``)."""
    pi = base["_pi"].to_numpy()
    conventions = pop["name_convention"].gather(pl.Series(pi)).to_list()
    names = base["full_name"].to_list()
    true_names = pop["full_name"].gather(pl.Series(pi)).to_list()
    candidates = np.flatnonzero(rng.random(base.height) < BASE_RATES["name_rendering"])
    changed, details = _rendered(names, conventions, true_names, candidates, rng)
    ids = base["record_id"]
    log.add(ids.gather(changed), "base", "name_rendering", "full_name", details)
    # A sibling's ID, only on records no other defect has touched (their ID stays readable as the sibling's).
    touched = log.frame().filter(pl.col("source") == "base")["record_id"]
    free = ~base["record_id"].is_in(touched.implode()).to_numpy() & base["person_id"].is_not_null().to_numpy()
    sibling = pop["sibling_index"].gather(pl.Series(pi)).to_numpy()
    twin = pop["twin"].gather(pl.Series(pi)).to_numpy()
    rate = np.where(twin, BASE_RATES["sibling_id_twin"], BASE_RATES["sibling_id"])
    row_of = np.full(pop.height, -1, dtype=np.int64)
    row_of[pi] = np.arange(base.height)
    holder = free & (sibling >= 0) & (rng.random(base.height) < rate)
    owner_rows = row_of[np.maximum(sibling, 0)]
    holder &= owner_rows >= 0
    holders = np.flatnonzero(holder)
    # The sibling keeps their own ID; a pair is never both holder and owner.
    holders = np.array([h for h in holders.tolist() if not holder[owner_rows[h]] or h < owner_rows[h]],
                       dtype=np.int64)  # fmt: skip
    person_id = base["person_id"].to_list()
    card = base["card_number"].to_list()
    owners = owner_rows[holders]
    for h, o in zip(holders.tolist(), owners.tolist(), strict=True):
        person_id[h] = person_id[o]
        card[h] = person_id[o] if card[h] is not None else None
    log.add(ids.gather(holders), "base", "sibling_id", "person_id",
            [f"shares_with={r}" for r in ids.gather(owners).to_list()])  # fmt: skip
    return base.with_columns(
        pl.Series("full_name", names, dtype=pl.String),
        pl.Series("person_id", person_id, dtype=pl.String),
        pl.Series("card_number", card, dtype=pl.String),
    )


def vary_extract(
    rng: np.random.Generator, rows: pl.DataFrame, pop: pl.DataFrame, source: str, night: date, log: DefectLog
) -> pl.DataFrame:
    """The hard cases on one night's extract rows (canonical columns, ``birth_date`` a Date, ``_pi``)."""
    n = rows.height
    if n == 0:
        return rows
    pi = rows["_pi"].to_numpy()
    known = pi < pop.height
    index = pl.Series(np.where(known, pi, 0))
    conventions = [c if k else None for c, k in zip(pop["name_convention"].gather(index).to_list(), known,
                                                    strict=True)]  # fmt: skip
    sibling = np.where(known, pop["sibling_index"].gather(index).to_numpy(), -1)
    twin = known & pop["twin"].gather(index).to_numpy()
    names = rows["full_name"].to_list()
    births: list[date | None] = rows["birth_date"].to_list()
    person_ids = rows["person_id"].to_list()
    cards = rows["card_number"].to_list() if "card_number" in rows.columns else [None] * n
    ids = rows["record_id"]
    events = rows["event_type"].to_list()
    draw = {kind: rng.random(n) for kind in EXTRACT_RATES}

    def logged(kind: str, field: str, changed: list[int], details: list[str] | None = None) -> None:
        log.add(ids.gather(changed), source, kind, field, details)

    true_names = [n if k else None for n, k in zip(pop["full_name"].gather(index).to_list(), known, strict=True)]
    changed, details = _rendered(names, conventions, true_names, np.flatnonzero(draw["name_rendering"] < EXTRACT_RATES[
        "name_rendering"]), rng)  # fmt: skip
    logged("name_rendering", "full_name", changed, details)

    dropped = []
    for i in np.flatnonzero(draw["dropped_middle_name"] < EXTRACT_RATES["dropped_middle_name"]).tolist():
        words = (names[i] or "").split()
        if len(words) >= 3 and conventions[i] not in ("ede", "khmer_prefix"):
            names[i] = f"{words[0]} {words[-1]}"
            dropped.append(i)
    logged("dropped_middle_name", "full_name", dropped)

    reversed_rows = []
    for i in np.flatnonzero(draw["reversed_name_order"] < EXTRACT_RATES["reversed_name_order"]).tolist():
        words = (names[i] or "").split()
        if len(words) == 3 and words[0] in _ORDER_MARKERS and words[1] in ("Văn", "Thị"):
            names[i] = f"{words[2]} {words[0]} {words[1]}"
            reversed_rows.append(i)
    logged("reversed_name_order", "full_name", reversed_rows)

    titled = []
    for i in np.flatnonzero(draw["name_title"] < EXTRACT_RATES["name_title"]).tolist():
        birth = births[i]
        if names[i] and birth is not None and (night - birth).days > 60 * 365 and conventions[i] == "kinh":
            names[i] = ("Ông " if rows["sex"][i] == "Nam" else "Bà ") + names[i]
            titled.append(i)
    logged("name_title", "full_name", titled)

    remarks = []
    for i in np.flatnonzero(draw["name_remark"] < EXTRACT_RATES["name_remark"]).tolist():
        if names[i] and events[i] == "Khai tử":
            names[i] = names[i] + str(rng.choice([" (chết)", " (đã chết)", " - đã mất"]))
            remarks.append(i)
    logged("name_remark", "full_name", remarks)

    off_by_one, swapped = [], []
    for i in range(n):
        birth = births[i]
        if birth is None:
            continue
        if draw["birth_year_off_by_one"][i] < EXTRACT_RATES["birth_year_off_by_one"]:
            shifted = _shift_year(birth, 1 if rng.random() < 0.5 else -1)
            if shifted is not None and shifted < night:
                births[i] = shifted
                off_by_one.append(i)
                continue
        if (
            draw["swapped_day_month"][i] < EXTRACT_RATES["swapped_day_month"]
            and birth.day <= 12
            and (birth.day != birth.month)
        ):
            births[i] = date(birth.year, birth.day, birth.month)
            swapped.append(i)
    logged("birth_year_off_by_one", "birth_date", off_by_one)
    logged("swapped_day_month", "birth_date", swapped)

    sibling_rows, sibling_details = [], []
    sibling_ids = pop["person_id"].gather(pl.Series(np.maximum(sibling, 0))).to_list()
    for i in range(n):
        if sibling[i] < 0 or person_ids[i] is None or sibling_ids[i] is None:
            continue
        rate = EXTRACT_RATES["sibling_id"] * (3 if twin[i] else 1)
        if draw["sibling_id"][i] < rate:
            person_ids[i] = sibling_ids[i]
            if cards[i] is not None:
                cards[i] = sibling_ids[i]
            sibling_rows.append(i)
            sibling_details.append(f"sibling_person=P{int(sibling[i]):09d}")
    logged("sibling_id", "person_id", sibling_rows, sibling_details)

    reissued, missing = [], []
    reissue_rate = EXTRACT_RATES["reissued_id"] * (3 if source == "card" else 1)
    carries_sibling_id = set(sibling_rows)
    for i in range(n):
        if person_ids[i] is None or i in carries_sibling_id:
            continue
        if draw["reissued_id"][i] < reissue_rate:
            person_ids[i] = reissue_id(person_ids[i], rng)
            if cards[i] is not None:
                cards[i] = person_ids[i]
            reissued.append(i)
        elif source != "card" and draw["missing_person_id"][i] < EXTRACT_RATES["missing_person_id"]:
            person_ids[i] = None
            missing.append(i)
    logged("reissued_id", "person_id", reissued)
    logged("missing_person_id", "person_id", missing)

    columns = [
        pl.Series("full_name", names, dtype=pl.String),
        pl.Series("birth_date", births, dtype=pl.Date),
        pl.Series("person_id", person_ids, dtype=pl.String),
    ]
    if "card_number" in rows.columns:
        columns.append(pl.Series("card_number", cards, dtype=pl.String))
    return rows.with_columns(columns)


def _shift_year(birth: date, years: int) -> date | None:
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 February
        return birth.replace(year=birth.year + years, day=28) if birth.month == 2 else None
