"""The population base snapshot rendered from the truth, with the base's defects injected and logged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np
import polars as pl

from datagen.defects import DEFECT_RATES, DUPLICATE_VARIATIONS, DefectLog
from datagen.geography import ProvinceGeo, address_text, legacy_place_text
from datagen.names import render_name
from datagen.text import LegacyScheme, encode_legacy, strip_diacritics, to_old_tone
from datagen.variations import reissue_id
from normalize import units

__all__ = ["INVALID_ETHNICITIES", "BaseState", "add_duplicates", "date_text", "render_base", "typo"]

INVALID_ETHNICITIES: Final = ("Việt Nam", "Khác", "Không rõ", "Việt Kiều", "Hoa Kiều", "Người Việt", "Kinh Mường")
_KEYBOARD_NEIGHBOURS: Final = {
    "a": "sq", "n": "bm", "h": "gj", "g": "fh", "u": "yi", "y": "tu", "i": "uo", "o": "ip", "t": "ry", "m": "n",
    "c": "xv", "l": "k", "e": "wr", "d": "sf", "v": "cb", "b": "vn", "s": "ad", "p": "o", "q": "w", "r": "et",
}  # fmt: skip


@dataclass
class BaseState:
    """The base frame (canonical columns + ``_pi`` person index + ``_ward`` true current ward) and what the
    extracts need to know about it."""

    frame: pl.DataFrame
    no_card: np.ndarray  # person indices aged 14+ without a card in the base
    expired: np.ndarray  # person indices whose base card is expired
    household_ids: pl.Series  # per household index


def date_text(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m-%d")


def typo(name: str, rng: np.random.Generator) -> str:
    """One keyboard slip in the last word: a neighbouring key, a doubled or a dropped letter."""
    words = name.split(" ")
    word = words[-1]
    if len(word) < 2:
        return name + "h"
    pos = int(rng.integers(1, len(word)))
    kind = int(rng.integers(0, 3))
    letter = word[pos].lower()
    if kind == 0 and letter in _KEYBOARD_NEIGHBOURS:
        options = _KEYBOARD_NEIGHBOURS[letter]
        word = word[:pos] + options[int(rng.integers(0, len(options)))] + word[pos + 1 :]
    elif kind == 1:
        word = word[:pos] + word[pos] + word[pos:]
    else:
        word = word[:pos] + word[pos + 1 :]
    words[-1] = word
    return " ".join(words)


def _pick(rng: np.random.Generator, eligible: np.ndarray, rate: float, free: np.ndarray) -> np.ndarray:
    """Row indices drawn among eligible & free rows at ``rate`` of the eligible ones; marks them used."""
    candidates = np.flatnonzero(eligible & free)
    k = min(candidates.size, round(rate * int(eligible.sum())))
    chosen = np.sort(rng.choice(candidates, size=k, replace=False)) if k else np.array([], dtype=np.int64)
    free[chosen] = False
    return chosen


FRESH_MARGIN_DAYS = 120


def render_base(
    rng: np.random.Generator, pop: pl.DataFrame, geo: ProvinceGeo, night_first: date, log: DefectLog
) -> BaseState:
    """Render every true person as a base record, then inject the base defects."""
    n = pop.height
    snapshot = night_first - timedelta(days=1)
    households = int(pop["hh"].to_numpy().max()) + 1
    household_ids = pl.Series(rng.permutation(households) + 1).cast(pl.String).str.zfill(8)
    household_ids = (geo.province_code + household_ids).alias("household_id")
    form_of_household = rng.choice(4, size=households, p=[0.45, 0.15, 0.25, 0.15])
    record_numbers = rng.permutation(n) + 1
    birth_names = units.legacy_provinces().select(
        pl.col("legacy_province_code").alias("birth_province"), pl.col("province_name").alias("birth_place")
    )
    hh = pop["hh"].to_numpy()
    frame = pop.with_columns(
        pl.Series("_form", form_of_household[hh]),
        pl.Series("_variant", rng.integers(0, 6, n)),
        pl.Series("_home_form", rng.choice([2, 3], size=n, p=[0.7, 0.3])),
    )
    permanent = address_text(frame, street="street", legacy="legacy_ward_code", current="current_ward_code",
                             form="_form", variant="_variant")  # fmt: skip
    hometown = legacy_place_text(frame, legacy="hometown_ward", form="_home_form", variant="_variant")
    # Clean records were verified within the 3-year limit with room to spare, so none goes stale during the nights
    # of a run (up to FRESH_MARGIN_DAYS of them): a stale record is always an injected one.
    verified = pl.Series((rng.integers(0, 3 * 365 - FRESH_MARGIN_DAYS, n)).astype(np.int64))
    snapshot_expr = pl.lit(snapshot)
    ward_names = units.current_wards().select(pl.col("ward_code").alias("current_ward_code"), "ward_name")
    base = (
        frame.with_columns(permanent.alias("permanent_address"), hometown.alias("hometown"))
        .join(birth_names, on="birth_province", how="left")
        .join(ward_names, on="current_ward_code", how="left")
        .select(
            (pl.lit("B") + pl.Series(record_numbers).cast(pl.String).str.zfill(9)).alias("record_id"),
            "person_id",
            "full_name",
            date_text("birth").alias("birth_date"),
            "sex",
            "permanent_address",
            pl.lit(None, dtype=pl.String).alias("current_address"),
            "hometown",
            "father_name",
            "mother_name",
            "spouse_name",
            "ethnicity",
            "old_id_number",
            pl.lit("base").alias("source"),
            pl.lit(None, dtype=pl.String).alias("event_type"),
            "birth_place",
            pl.lit(None, dtype=pl.String).alias("death_date"),
            pl.lit(None, dtype=pl.String).alias("death_place"),
            "card_number",
            date_text("card_issue").alias("card_issue_date"),
            date_text("card_expiry").alias("card_expiry_date"),
            pl.col("card_place").alias("card_issue_place"),
            pl.concat_str(pl.lit("Công an "), "ward_name").alias("registration_place"),
            pl.lit(None, dtype=pl.String).alias("registration_date"),
            pl.lit("Thường trú").alias("residence_type"),
            pl.lit(household_ids).gather(pl.col("hh")).alias("household_id"),
            pl.col("relation").alias("relation_to_head"),
            (snapshot_expr - pl.duration(days=pl.lit(verified))).dt.strftime("%Y-%m-%d").alias("last_verified_date"),
            pl.lit(None, dtype=pl.String).alias("source_file"),
            pl.lit(None, dtype=pl.String).alias("source_row"),
            pl.col("person_index").alias("_pi"),
            pl.col("current_ward_code").alias("_ward"),
            pl.col("_form"),
        )
    )
    state = BaseState(frame=base, no_card=np.array([], dtype=np.int64), expired=np.array([], dtype=np.int64),
                      household_ids=household_ids)  # fmt: skip
    _inject(rng, state, pop, geo, night_first, log)
    return state


def _inject(
    rng: np.random.Generator, state: BaseState, pop: pl.DataFrame, geo: ProvinceGeo, night_first: date, log: DefectLog
) -> None:
    base = state.frame
    n = base.height
    free = np.ones(n, dtype=bool)
    rid = base["record_id"]
    birth = pop["birth"]
    birth_year = birth.dt.year().to_numpy()
    snapshot = night_first - timedelta(days=1)
    age = _age_at(birth, snapshot)
    has_card = base["card_number"].is_not_null().to_numpy()
    updates: dict[str, pl.Series] = {}

    def put(column: str, rows: np.ndarray, values: pl.Series | Sequence[str | None] | np.ndarray) -> None:
        series = updates.get(column, base[column])
        replacement = values if isinstance(values, pl.Series) else pl.Series(list(values), dtype=pl.String)
        updates[column] = series.scatter(rows, replacement.cast(pl.String))

    def current(column: str) -> pl.Series:
        return updates.get(column, base[column])

    # Partial birth dates of the elderly (natural in old registers, still a completeness defect).
    rows = _pick(rng, birth_year < 1950, DEFECT_RATES["partial_birth_date"], free.copy())
    month_known = rng.random(rows.size) < 0.3
    true_dates = base["birth_date"].gather(rows)
    partial: pl.Series = pl.select(
        pl.when(pl.lit(pl.Series(month_known))).then(pl.lit(true_dates).str.slice(0, 7))
        .otherwise(pl.lit(true_dates).str.slice(0, 4)).alias("d")
    )["d"]  # fmt: skip
    put("birth_date", rows, partial)
    log.add(rid.gather(rows), "base", "partial_birth_date", "birth_date", true_dates)

    # ID numbers that contradict the record (birth year or sex). The card number is the same number.
    for defect, kind in (("id_contradicts_birth_year", "year"), ("id_contradicts_sex", "sex")):
        rows = _pick(rng, has_card, DEFECT_RATES[defect], free)
        original_ids: list[str] = current("person_id").gather(rows).to_list()
        changed = [_contradict(pid, kind, int(rng.integers(1, 10))) for pid in original_ids]
        existing = set(current("person_id").drop_nulls().to_list())
        keep = [i for i, c in enumerate(changed) if c not in existing]
        rows, changed = rows[keep], [changed[i] for i in keep]
        original_ids = [original_ids[i] for i in keep]
        put("person_id", rows, changed)
        put("card_number", rows, changed)
        field_detail = [f"true_id={orig}" for orig in original_ids]
        log.add(rid.gather(rows), "base", defect, "person_id", field_detail)

    # One ID held by two people: the second person of a pair (same sex and birth year) carries the first's ID.
    rows = _pick(rng, has_card, DEFECT_RATES["shared_id"], free)
    if rows.size:
        ids = current("person_id")
        groups = (
            pl.DataFrame({"sex": base["sex"], "year": birth_year, "row": np.arange(n), "ok": free & has_card})
            .filter(pl.col("ok"))
            .group_by("sex", "year", maintain_order=True)
            .agg("row")
        )
        pool = {(s, int(y)): r for s, y, r in groups.select("sex", "year", "row").iter_rows()}
        owners: list[int] = []
        holders: list[int] = []
        for row in rows.tolist():
            options = pool.get((base["sex"][row], int(birth_year[row])), [])
            if not options:
                free[row] = True
                continue
            owner = int(options[int(rng.integers(0, len(options)))])
            if not free[owner]:
                free[row] = True
                continue
            free[owner] = False
            owners.append(owner)
            holders.append(row)
        if holders:
            holder_rows = np.array(holders)
            put("person_id", holder_rows, ids.gather(owners))
            put("card_number", holder_rows, ids.gather(owners))
            log.add(rid.gather(holder_rows), "base", "shared_id", "person_id",
                    [f"shares_with={r}" for r in rid.gather(owners).to_list()])  # fmt: skip

    # Expired cards: the renewal at 25/40/60 was missed (expiry < first night).
    expiry_candidates, expired_issue, expired_expiry = _expired_cards(rng, birth, snapshot)
    holders_25 = has_card & (age >= 25)
    rate = DEFECT_RATES["expired_card"] * int(holders_25.sum()) / max(int((expiry_candidates & has_card).sum()), 1)
    rows = _pick(rng, expiry_candidates & has_card, min(rate, 1.0), free)
    put("card_issue_date", rows, expired_issue.gather(rows))
    put("card_expiry_date", rows, expired_expiry.gather(rows))
    put("card_issue_place", rows, ["Cục Cảnh sát ĐKQL cư trú và DLQG về dân cư"] * rows.size)
    log.add(rid.gather(rows), "base", "expired_card", "card_expiry_date", expired_expiry.gather(rows))
    state.expired = base["_pi"].gather(rows).to_numpy()

    # People aged 14+ without a card.
    rows = _pick(rng, age >= 14, DEFECT_RATES["no_card"], free)
    for column in ("card_number", "card_issue_date", "card_expiry_date", "card_issue_place"):
        put(column, rows, [None] * rows.size)
    log.add(rid.gather(rows), "base", "no_card", "card_number", [f"age={a}" for a in age[rows].tolist()])
    state.no_card = base["_pi"].gather(rows).to_numpy()

    # Impossible dates.
    rows = _pick(rng, np.ones(n, dtype=bool), DEFECT_RATES["impossible_date"], free)
    kinds = rng.integers(0, 3, rows.size)
    kinds = np.where((kinds == 2) & ~has_card[rows], 1, kinds)
    for kind_index, detail in enumerate(("birth_in_future", "death_before_birth", "card_before_birth")):
        sub = rows[kinds == kind_index]
        if not sub.size:
            continue
        births = birth.gather(sub)
        if kind_index == 0:
            # A typo in the century: 1985 typed as 2085; the ID's century digit then contradicts it too.
            future = births.dt.offset_by("100y")
            future = pl.select(pl.when(pl.lit(future) > pl.lit(night_first)).then(pl.lit(future))
                               .otherwise(pl.lit(future).dt.offset_by("100y")).alias("d"))["d"]  # fmt: skip
            put("birth_date", sub, future.dt.strftime("%Y-%m-%d"))
            log.add(rid.gather(sub), "base", "impossible_date", "birth_date", detail)
            log.add(rid.gather(sub), "base", "id_contradicts_birth_year", "person_id", "caused_by=birth_in_future")
        elif kind_index == 1:
            death = births - pl.Series(rng.integers(1, 3650, sub.size)).cast(pl.Duration("ms")) * 86_400_000
            put("death_date", sub, death.dt.strftime("%Y-%m-%d"))
            log.add(rid.gather(sub), "base", "impossible_date", "death_date", detail)
        else:
            issued = births - pl.Series(rng.integers(30, 2000, sub.size)).cast(pl.Duration("ms")) * 86_400_000
            put("card_issue_date", sub, issued.dt.strftime("%Y-%m-%d"))
            log.add(rid.gather(sub), "base", "impossible_date", "card_issue_date", detail)

    # Missing required fields.
    rows = _pick(rng, np.ones(n, dtype=bool), DEFECT_RATES["missing_required_field"], free)
    fields = rng.choice(["full_name", "birth_date", "sex", "permanent_address", "ethnicity"], size=rows.size,
                        p=[0.1, 0.25, 0.25, 0.25, 0.15])  # fmt: skip
    for field in np.unique(fields).tolist():
        sub = rows[fields == field]
        original = current(field).gather(sub)
        put(field, sub, [None] * sub.size)
        log.add(rid.gather(sub), "base", "missing_required_field", field, original)

    # Ethnicity outside the 54 groups.
    rows = _pick(rng, np.ones(n, dtype=bool), DEFECT_RATES["invalid_ethnicity"], free)
    values = [INVALID_ETHNICITIES[i] for i in rng.integers(0, len(INVALID_ETHNICITIES), rows.size)]
    log.add(rid.gather(rows), "base", "invalid_ethnicity", "ethnicity", current("ethnicity").gather(rows))
    put("ethnicity", rows, values)

    # Names migrated from legacy-font systems.
    rows = _pick(rng, np.ones(n, dtype=bool), DEFECT_RATES["legacy_encoding_base"], free)
    schemes: list[LegacyScheme] = ["tcvn3" if s else "vni" for s in (rng.random(rows.size) < 0.6)]
    names = current("full_name").gather(rows).to_list()
    encoded = [encode_legacy(name, scheme) for name, scheme in zip(names, schemes, strict=True)]
    put("full_name", rows, encoded)
    # A name already without diacritics is the same in every legacy font: nothing was damaged, nothing to log.
    damaged = np.array([e != name for e, name in zip(encoded, names, strict=True)], dtype=bool)
    log.add(rid.gather(rows[damaged]), "base", "legacy_encoding", "full_name",
            [s for s, d in zip(schemes, damaged, strict=True) if d])  # fmt: skip

    # Records not verified for a long time (any record, on top of other defects).
    rows = _pick(rng, np.ones(n, dtype=bool), DEFECT_RATES["stale_verification"], np.ones(n, dtype=bool))
    stale = pl.Series(rng.integers(0, 11 * 365, rows.size)).cast(pl.Int32) + (date(2011, 1, 1) - date(1970, 1, 1)).days
    put("last_verified_date", rows, stale.cast(pl.Date).dt.strftime("%Y-%m-%d"))
    log.add(rid.gather(rows), "base", "stale_verification", "last_verified_date", None)

    # Households without a head: the head's record names the head's relation to the spouse instead.
    relation = pop["relation"]
    spouse_present = pop["spouse_index"].to_numpy() >= 0
    heads = (relation == "Chủ hộ").to_numpy() & spouse_present
    rows = _pick(rng, heads, DEFECT_RATES["household_without_head"], np.ones(n, dtype=bool))
    put("relation_to_head", rows, np.where(base["sex"].gather(rows).to_numpy() == "Nam", "Chồng", "Vợ"))
    log.add(rid.gather(rows), "base", "household_without_head", "relation_to_head",
            base["household_id"].gather(rows))  # fmt: skip

    state.frame = base.with_columns(*(series.alias(name) for name, series in updates.items()))
    del geo


def _age_at(birth: pl.Series, when: date) -> np.ndarray:
    years = when.year - birth.dt.year().to_numpy()
    before = (birth.dt.month().to_numpy() * 100 + birth.dt.day().to_numpy()) > when.month * 100 + when.day
    return years - before


def _contradict(person_id: str, kind: str, shift: int) -> str:
    if kind == "sex":
        digit = int(person_id[3])
        return person_id[:3] + str(digit ^ 1) + person_id[4:]
    year = (int(person_id[4:6]) + shift) % 100
    return person_id[:4] + f"{year:02d}" + person_id[6:]


def _expired_cards(
    rng: np.random.Generator, birth: pl.Series, snapshot: date
) -> tuple[np.ndarray, pl.Series, pl.Series]:
    """For each person: can the card be expired (a renewal age reached between 2017 and the snapshot), and the
    issue/expiry dates of that expired card."""
    n = birth.len()
    snapshot_days = (snapshot - date(1970, 1, 1)).days
    floor = (date(2017, 1, 1) - date(1970, 1, 1)).days
    start = (date(2016, 6, 1) - date(1970, 1, 1)).days
    milestones = {a: birth.dt.offset_by(f"{a}y").cast(pl.Int32).to_numpy().astype(np.int64) for a in (14, 25, 40, 60)}
    eligible = np.zeros(n, dtype=bool)
    issue = np.zeros(n, dtype=np.int64)
    expiry = np.zeros(n, dtype=np.int64)
    for previous, reached in ((14, 25), (25, 40), (40, 60)):
        hit = (milestones[reached] >= floor) & (milestones[reached] < snapshot_days - 30)
        lo = np.maximum(milestones[previous], start)
        ok = hit & (lo < milestones[reached] - 30)
        span = np.maximum(milestones[reached] - 30 - lo, 1)
        eligible |= ok
        issue = np.where(ok, lo + (rng.random(n) * span).astype(np.int64), issue)
        expiry = np.where(ok, milestones[reached], expiry)
    to_text = lambda days: pl.Series(days.astype(np.int32)).cast(pl.Date).dt.strftime("%Y-%m-%d")  # noqa: E731
    return eligible, to_text(issue), to_text(expiry)


def add_duplicates(
    rng: np.random.Generator, state: BaseState, pop: pl.DataFrame, log: DefectLog, next_number: int
) -> None:
    """Second records of some people, each with 1-3 typical variations (one defect row per variation)."""
    base = state.frame
    n = base.height
    k = round(DEFECT_RATES["duplicate_person"] * n)
    rows = np.sort(rng.choice(n, size=k, replace=False))
    source = base[rows]
    records = source.to_dicts()
    defect_ids: list[str] = []
    defect_fields: list[str] = []
    defect_details: list[str] = []
    new_ids = [f"B{next_number + i:09d}" for i in range(k)]
    forms = pop["legacy_ward_code"].gather(source["_pi"]).to_list()
    old_forms = address_text(
        pl.DataFrame({
            "street": pop["street"].gather(source["_pi"]), "legacy": forms,
            "current": pop["current_ward_code"].gather(source["_pi"]),
            "form": rng.choice([2, 3], size=k), "variant": rng.integers(0, 6, k),
        }),
        street="street", legacy="legacy", current="current", form="form", variant="variant",
    ).to_list()  # fmt: skip
    conventions = pop["name_convention"].gather(source["_pi"]).to_list()
    true_names = pop["full_name"].gather(source["_pi"]).to_list()
    for i, record in enumerate(records):
        original_id = record["record_id"]
        record["record_id"] = new_ids[i]
        record["household_id"] = None
        record["relation_to_head"] = None
        applicable = _applicable(record, old_forms[i], conventions[i], true_names[i], rng)
        count = min(len(applicable), int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15])))
        weights = np.array([_VARIATION_WEIGHTS.get(v, 1.0) for v in applicable])
        picked = rng.choice(len(applicable), size=count, replace=False, p=weights / weights.sum())
        chosen = [applicable[j] for j in sorted(picked)]
        chosen = _compatible(list(dict.fromkeys(chosen)))
        if "name_rendering" in chosen:
            # One change of the name at a time: the rendering is the record's spelling of it.
            chosen = [c for c in chosen if c not in ("no_diacritics", "old_tone_placement", "typo",
                                                     "dropped_middle_name", "reversed_name_order")]  # fmt: skip
        if "name_rendering" not in chosen:
            record.pop("_rendered", None)
        for variation in chosen:
            field = _apply_variation(record, variation, rng, old_forms[i])
            defect_ids.append(new_ids[i])
            defect_fields.append(field)
            defect_details.append(f"{variation}; original={original_id}")
    duplicates = pl.DataFrame(records, schema=base.schema, orient="row")
    log.add(defect_ids, "base", "duplicate_person", pl.Series(defect_fields), pl.Series(defect_details))
    state.frame = pl.concat([base, duplicates], how="vertical").sort("record_id")


# How often each variation makes a second record of a person: spelling slips far more often than a new ID.
_VARIATION_WEIGHTS: Final = {
    "no_diacritics": 3.0, "old_tone_placement": 2.0, "typo": 3.0, "dropped_middle_name": 2.0, "name_rendering": 6.0,
    "swapped_day_month": 1.0, "year_only_birth_date": 1.0, "birth_year_off_by_one": 1.0, "old_address_form": 2.0,
    "cmnd_instead_of_cccd": 1.0, "reissued_id": 0.6, "reversed_name_order": 0.5,
}  # fmt: skip
_EXCLUSIVE: Final = (
    ("year_only_birth_date", "swapped_day_month", "birth_year_off_by_one"),
    ("cmnd_instead_of_cccd", "reissued_id"),
    ("dropped_middle_name", "reversed_name_order"),
)


def _compatible(chosen: list[str]) -> list[str]:
    """At most one variation of each exclusive group (the first chosen): a record cannot have two birth dates."""
    kept: list[str] = []
    for variation in chosen:
        group = next((g for g in _EXCLUSIVE if variation in g), ())
        if not any(k in group for k in kept):
            kept.append(variation)
    return kept


def _applicable(
    record: dict[str, object], old_address: str, convention: str | None, true_name: str | None, rng: np.random.Generator
) -> list[str]:
    name = record["full_name"]
    birth = record["birth_date"]
    options: list[str] = []
    # Another officer writes the person's name from its real form, not from this record's spelling of it.
    if isinstance(name, str) and name and convention is not None and true_name is not None:
        other, kind = render_name(true_name, convention, rng)
        if kind and other != name:
            record["_rendered"] = other
            options.append("name_rendering")  # weighted up: minority names are written many ways
        words = name.split()
        if len(words) == 3 and words[1] in ("Văn", "Thị") and convention == "kinh":
            options.append("reversed_name_order")
    if isinstance(name, str) and name:
        if strip_diacritics(name) != name:
            options.append("no_diacritics")
        if to_old_tone(name) != name:
            options.append("old_tone_placement")
        options.append("typo")
        if len(name.split()) >= 3 and convention not in ("ede", "khmer_prefix"):
            options.append("dropped_middle_name")
    if isinstance(birth, str) and len(birth) == 10:
        day, month = int(birth[8:]), int(birth[5:7])
        if day <= 12 and day != month:
            options.append("swapped_day_month")
        options.append("year_only_birth_date")
        if birth[5:] != "02-29":
            options.append("birth_year_off_by_one")
    if record["person_id"] is not None:
        options.append("cmnd_instead_of_cccd")
        options.append("reissued_id")
    if isinstance(record["permanent_address"], str) and record["permanent_address"] != old_address:
        address = record["permanent_address"]
        if not any(part in address for part in ("Huyện", "Quận", "Thị xã", ", H.", ", Q.", ", TX.")):
            options.append("old_address_form")
    assert set(options) <= set(DUPLICATE_VARIATIONS)
    return options or ["typo"]


def _apply_variation(record: dict[str, object], variation: str, rng: np.random.Generator, old_address: str) -> str:
    name = str(record["full_name"]) if record["full_name"] is not None else ""
    birth = str(record["birth_date"]) if record["birth_date"] is not None else ""
    if variation == "no_diacritics":
        record["full_name"] = strip_diacritics(name)
        return "full_name"
    if variation == "old_tone_placement":
        record["full_name"] = to_old_tone(name)
        return "full_name"
    if variation == "typo":
        record["full_name"] = typo(name, rng) if name else None
        return "full_name"
    if variation == "dropped_middle_name":
        words = name.split()
        record["full_name"] = f"{words[0]} {words[-1]}"
        return "full_name"
    if variation == "swapped_day_month":
        record["birth_date"] = f"{birth[:4]}-{birth[8:]}-{birth[5:7]}"
        return "birth_date"
    if variation == "year_only_birth_date":
        record["birth_date"] = birth[:4]
        return "birth_date"
    if variation == "birth_year_off_by_one":
        record["birth_date"] = f"{int(birth[:4]) + (1 if rng.random() < 0.5 else -1)}{birth[4:]}"
        return "birth_date"
    if variation == "name_rendering":
        record["full_name"] = record.pop("_rendered")
        return "full_name"
    if variation == "reversed_name_order":
        words = name.split()
        record["full_name"] = f"{words[2]} {words[0]} {words[1]}"
        return "full_name"
    if variation == "reissued_id":
        new_id = reissue_id(str(record["person_id"]), rng)
        record["person_id"] = new_id
        if record["card_number"] is not None:
            record["card_number"] = new_id
        return "person_id"
    if variation == "cmnd_instead_of_cccd":
        if record["old_id_number"] is None:
            record["old_id_number"] = f"{int(rng.integers(10_000_000, 400_000_000)):09d}"
        for column in ("person_id", "card_number", "card_issue_date", "card_expiry_date", "card_issue_place"):
            record[column] = None
        return "person_id"
    record["permanent_address"] = old_address
    record["_form"] = 2
    return "permanent_address"


def reconcile_headless_households(state: BaseState, log: DefectLog) -> None:
    """The truth of households without a head, from the base as the nightly events left it.

    A head who died, moved out or moved to a household of their own (events the base reflects) leaves the household
    without one, just as the injected defect does: log it on the first living member. An injected head who has left
    the household no longer makes it headless: forget that row. (A death date before the birth date is no death.)
    """
    base = state.frame
    logged = log.frame()
    impossible_deaths = logged.filter(
        (pl.col("defect") == "impossible_date") & (pl.col("detail") == "death_before_birth")
    )["record_id"]
    living = base.filter(
        pl.col("household_id").is_not_null()
        & (pl.col("death_date").is_null() | pl.col("record_id").is_in(impossible_deaths.implode()))
    )
    households = living.group_by("household_id").agg(
        (pl.col("relation_to_head") == "Chủ hộ").any().alias("_has_head"), pl.col("record_id").min().alias("_first")
    )
    headless = households.filter(~pl.col("_has_head"))
    injected = logged.filter(pl.col("defect") == "household_without_head").select("record_id", "detail")
    still = (
        injected.join(living.select("record_id", "household_id"), on="record_id", how="inner")
        .filter(pl.col("household_id") == pl.col("detail"))
        .join(headless.select("household_id"), on="household_id", how="semi")
    )
    log.drop("household_without_head", sorted(set(injected["record_id"]) - set(still["record_id"])))
    uncovered = headless.join(still.select("household_id"), on="household_id", how="anti").sort("household_id")
    log.add(uncovered["_first"], "base", "household_without_head", "relation_to_head", uncovered["household_id"])
