"""The nightly extracts: residence registrations, civil-status events and card issuance, drawn from the true
population, with realistic variation and the extract defects logged.

Events are planned for all nights at once so that one person takes part in at most one event; events that the
base has already absorbed ("reflected") patch the base, the others are logged as not reflected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

import numpy as np
import polars as pl

from datagen.base import BaseState, _age_at, typo
from datagen.defects import DEFECT_RATES, DefectLog
from datagen.geography import ProvinceGeo, address_text, draw_residences, legacy_place_text, province_geo
from datagen.mappings import source_mapping
from datagen.population import build_population
from datagen.text import LegacyScheme, encode_legacy, strip_diacritics, to_old_tone
from normalize import units
from records.ethnicities import ETHNIC_GROUPS

__all__ = ["EVENT_RATES", "EXTRACT_COLUMNS", "NightExtract", "build_extracts"]

# Events per night as a fraction of the population (about 1.5% of the base per night in total).
EVENT_RATES: Final[dict[str, float]] = {
    "move_in": 0.0025,
    "move_out": 0.0008,
    "temporary": 0.0025,
    "correction": 0.001,
    "birth": 0.001,
    "death": 0.0008,
    "marriage": 0.0005,  # couples: two rows each
    "divorce": 0.0001,
    "card_new": 0.0008,
    "card_renewal": 0.0025,
    "card_replacement": 0.0012,
}

EXTRACT_COLUMNS: Final = (
    "record_id", "person_id", "full_name", "birth_date", "sex", "permanent_address", "current_address", "hometown",
    "father_name", "mother_name", "spouse_name", "ethnicity", "old_id_number", "event_type", "residence_type",
    "household_id", "relation_to_head", "registration_date", "registration_place", "birth_place", "death_date",
    "death_place", "card_number", "card_issue_date", "card_expiry_date", "card_issue_place",
)  # fmt: skip
_DATE_COLUMNS: Final = ("birth_date", "death_date", "card_issue_date", "card_expiry_date", "registration_date")
_TEXT_COLUMNS: Final = (
    "full_name", "permanent_address", "current_address", "hometown", "father_name", "mother_name", "spouse_name",
    "birth_place", "death_place", "registration_place",
)  # fmt: skip
_PREFIX: Final = {"residence": "CT", "civil_status": "HT", "card": "CC"}


@dataclass
class NightExtract:
    """The rows of one source for one night (canonical column names, dates as Date) and their truth."""

    night: date
    source: str
    rows: pl.DataFrame  # EXTRACT_COLUMNS subset + _true_person, _ward
    legacy_scheme: LegacyScheme | None = None  # rows in legacy font text come from this scheme
    encoding: str = "utf-8"
    fmt: str = "csv"
    notes: dict[str, int] = field(default_factory=dict)


class _Picker:
    """Draws disjoint sets of people for events."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.rng = rng
        self.free = np.ones(n, dtype=bool)

    def take(self, eligible: np.ndarray, k: int, weights: np.ndarray | None = None) -> np.ndarray:
        candidates = np.flatnonzero(eligible & self.free)
        k = min(k, candidates.size)
        if k <= 0:  # a count drawn smaller than what an earlier draw already took (small provinces)
            return np.array([], dtype=np.int64)
        p = None
        if weights is not None:
            w = weights[candidates].astype(float)
            p = w / w.sum()
        chosen = self.rng.choice(candidates, size=k, replace=False, p=p)
        self.free[chosen] = False
        return chosen


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _dates(values: np.ndarray) -> pl.Series:
    return pl.Series(values.astype(np.int32)).cast(pl.Date)


def _person_frame(rng: np.random.Generator, pop: pl.DataFrame, idx: np.ndarray, new_form_share: float) -> pl.DataFrame:
    """True data of people for an extract row, with addresses rendered in the form an extract uses."""
    k = idx.size
    sub = pop[idx].with_columns(
        pl.Series("_form", rng.choice(4, size=k, p=[new_form_share, 0.3 * (1 - new_form_share),
                                                    0.4 * (1 - new_form_share), 0.3 * (1 - new_form_share)])),
        pl.Series("_variant", rng.integers(0, 6, k)),
        pl.Series("_home_form", rng.choice([2, 3], size=k, p=[0.7, 0.3])),
    )  # fmt: skip
    permanent = address_text(sub, street="street", legacy="legacy_ward_code", current="current_ward_code",
                             form="_form", variant="_variant")  # fmt: skip
    home = legacy_place_text(sub, legacy="hometown_ward", form="_home_form", variant="_variant")
    return sub.select(
        "person_index", "full_name", "birth", "sex", "person_id", "old_id_number", "ethnicity", "father_name",
        "mother_name", "spouse_name", "card_number", "card_issue", "card_expiry", "current_ward_code", "is_split",
        "_form",
        permanent.alias("permanent_address"), home.alias("hometown"),
    )  # fmt: skip


def _ward_names() -> pl.DataFrame:
    return units.current_wards().select(pl.col("ward_code").alias("current_ward_code"), "ward_name")


def _next_milestone_expiry(birth: pl.Series, issued: date) -> pl.Series:
    """Expiry of a card issued on ``issued``: the next renewal age after the age a year later; none after 60."""
    age = _age_at(birth, issued + timedelta(days=365))
    expiry = pl.Series([None] * birth.len(), dtype=pl.Date)
    for milestone in (60, 40, 25):
        target = birth.dt.offset_by(f"{milestone}y")
        expiry = pl.select(pl.when(pl.lit(pl.Series(age < milestone))).then(pl.lit(target))
                           .otherwise(pl.lit(expiry)).alias("e"))["e"]  # fmt: skip
    return expiry


def build_extracts(
    rng: np.random.Generator, pop: pl.DataFrame, state: BaseState, geo: ProvinceGeo, nights: list[date], log: DefectLog
) -> tuple[list[NightExtract], pl.DataFrame]:
    """All nights' extracts, and the truth of people who appear only in extracts (true_person, ward)."""
    n = pop.height
    first = nights[0]
    snapshot = first - timedelta(days=1)
    picker = _Picker(rng, n)
    birth = pop["birth"]
    age = _age_at(birth, snapshot)
    relation = pop["relation"].to_numpy()
    base = state.frame
    base_row_of = np.full(n, -1, dtype=np.int64)
    base_row_of[base["_pi"].to_numpy()] = np.arange(base.height)
    base_ids = base["record_id"]
    # Newborns (born in the last two months, not yet registered) are kept out of every other event.
    newborn = (birth.cast(pl.Int32).to_numpy() >= _days(snapshot) - 60) & np.isin(relation, ["Con", "Cháu"])
    picker.free[newborn] = False
    base_patch: dict[str, dict[int, str | None]] = {}
    remove_from_base: list[int] = []
    outsiders: list[pl.DataFrame] = []
    counters = {"residence": 0, "civil_status": 0, "card": 0}
    extracts: list[NightExtract] = []
    newborn_pool = np.flatnonzero(newborn)
    rng.shuffle(newborn_pool)
    no_card_pool = np.array(state.no_card, dtype=np.int64)
    expired_pool = np.array(state.expired, dtype=np.int64)
    picker.free[no_card_pool] = False
    picker.free[expired_pool] = False
    no_card_pool = rng.permutation(no_card_pool)
    expired_pool = rng.permutation(expired_pool)
    extra_person = n

    def patch(column: str, person: int, value: str | None) -> None:
        base_patch.setdefault(column, {})[int(base_row_of[person])] = value

    def count(rate: float) -> int:
        return int(rng.poisson(rate * n)) if n * rate < 20 else round(rate * n * rng.uniform(0.9, 1.1))

    for night in nights:
        parts: dict[str, list[pl.DataFrame]] = {"residence": [], "civil_status": [], "card": []}

        # --- residence: moves inside the province ---
        movers = picker.take(age >= 18, count(EVENT_RATES["move_in"]))
        if movers.size:
            frame = _person_frame(rng, pop, movers, 0.85)
            home = draw_residences(rng, movers.size, geo).with_columns(
                pl.Series("_form", rng.choice([0, 1, 3], size=movers.size, p=[0.8, 0.1, 0.1])),
                pl.Series("_variant", rng.integers(0, 6, movers.size)),
            )
            new_address = address_text(home, street="street", legacy="legacy_ward_code",
                                       current="current_ward_code", form="_form", variant="_variant")  # fmt: skip
            household = pl.Series(rng.integers(90_000_000, 99_999_999, movers.size)).cast(pl.String)
            rows = frame.with_columns(
                new_address.alias("permanent_address"),
                home["current_ward_code"].alias("current_ward_code"),
                home["is_split"].alias("is_split"), home["_form"].alias("_form"),
                pl.lit("Đăng ký thường trú").alias("event_type"),
                pl.lit("Thường trú").alias("residence_type"),
                (pl.lit(geo.province_code) + household).alias("household_id"),
                pl.lit("Chủ hộ").alias("relation_to_head"),
            ).join(_ward_names(), on="current_ward_code", how="left", maintain_order="left").with_columns(
                pl.concat_str(pl.lit("Công an "), "ward_name").alias("registration_place")
            ).drop("ward_name")  # fmt: skip
            reflected = rng.random(movers.size) >= DEFECT_RATES["move_not_reflected"]
            rows = rows.with_columns(pl.Series("_reflected", reflected))
            parts["residence"].append(rows)
        # --- residence: moves out of the province ---
        leavers = picker.take(age >= 18, count(EVENT_RATES["move_out"]))
        if leavers.size:
            rows = _person_frame(rng, pop, leavers, 0.7).with_columns(
                pl.lit("Xóa đăng ký thường trú").alias("event_type"),
                pl.lit("Thường trú").alias("residence_type"),
            ).join(_ward_names(), on="current_ward_code", how="left", maintain_order="left").with_columns(
                pl.concat_str(pl.lit("Công an "), "ward_name").alias("registration_place")
            ).drop("ward_name")  # fmt: skip
            reflected = rng.random(leavers.size) >= DEFECT_RATES["move_not_reflected"]
            parts["residence"].append(rows.with_columns(pl.Series("_reflected", reflected)))
        # --- residence: temporary residence, half of it people from other provinces ---
        k = count(EVENT_RATES["temporary"])
        locals_ = picker.take(age >= 16, k // 2)
        stay = draw_residences(rng, k, geo).with_columns(
            pl.Series("_form", rng.choice([0, 1], size=k, p=[0.85, 0.15])),
            pl.Series("_variant", rng.integers(0, 6, k)),
        )
        stay_text = address_text(stay, street="street", legacy="legacy_ward_code", current="current_ward_code",
                                 form="_form", variant="_variant")  # fmt: skip
        stay = stay.with_columns(stay_text.alias("current_address")).join(
            _ward_names(), on="current_ward_code", how="left", maintain_order="left"
        )
        if locals_.size:
            rows = _person_frame(rng, pop, locals_, 0.7)
            stay_local = stay[: locals_.size]
            parts["residence"].append(rows.with_columns(
                stay_local["current_address"],
                pl.concat_str(pl.lit("Công an "), pl.lit(stay_local["ward_name"])).alias("registration_place"),
                pl.lit("Đăng ký tạm trú").alias("event_type"), pl.lit("Tạm trú").alias("residence_type"),
            ))  # fmt: skip
        k_out = k - locals_.size
        if k_out:
            other = _other_province(rng, geo)
            visitors = build_population(rng, max(k_out * 3, 30), province_geo(other), snapshot)
            visitors = visitors.filter(_age_at(visitors["birth"], snapshot) >= 16).head(k_out)
            # Numbered after everyone seen so far: the filter above leaves gaps, and gaps would let two nights'
            # visitors share a number (and the truth call two strangers one person).
            visitors = visitors.with_columns(pl.int_range(extra_person, extra_person + pl.len()).alias("person_index"))
            extra_person += visitors.height
            outsiders.append(visitors.select("person_index", "current_ward_code"))
            rows = _person_frame(rng, visitors, np.arange(visitors.height), 0.75)
            stay_out = stay[locals_.size : locals_.size + visitors.height]
            parts["residence"].append(rows.with_columns(
                stay_out["current_address"],
                pl.concat_str(pl.lit("Công an "), pl.lit(stay_out["ward_name"])).alias("registration_place"),
                pl.lit("Đăng ký tạm trú").alias("event_type"), pl.lit("Tạm trú").alias("residence_type"),
            ))  # fmt: skip
        # --- residence: information corrections (the true data) ---
        fixed = picker.take(np.ones(n, dtype=bool), count(EVENT_RATES["correction"]))
        if fixed.size:
            rows = _person_frame(rng, pop, fixed, 0.8).join(
                _ward_names(), on="current_ward_code", how="left", maintain_order="left"
            )
            parts["residence"].append(rows.with_columns(
                pl.lit("Điều chỉnh thông tin").alias("event_type"), pl.lit("Thường trú").alias("residence_type"),
                pl.concat_str(pl.lit("Công an "), "ward_name").alias("registration_place"),
            ).drop("ward_name"))  # fmt: skip

        # --- civil status: births of this night ---
        k = min(count(EVENT_RATES["birth"]), newborn_pool.size)
        babies, newborn_pool = newborn_pool[:k], newborn_pool[k:]
        if babies.size:
            rows = _person_frame(rng, pop, babies, 0.95).join(
                _ward_names(), on="current_ward_code", how="left", maintain_order="left"
            )
            hospital = rng.random(babies.size) < 0.6
            rows = rows.with_columns(
                pl.when(pl.lit(pl.Series(hospital))).then(pl.lit(f"Bệnh viện Đa khoa {geo.province_name}"))
                .otherwise(pl.concat_str(pl.lit("Trạm Y tế "), "ward_name", pl.lit(f", {geo.province_name}")))
                .alias("birth_place"),
                pl.lit("Khai sinh").alias("event_type"),
                pl.concat_str(pl.lit("UBND "), "ward_name").alias("registration_place"),
                pl.Series("_unregistered", rng.random(babies.size) < DEFECT_RATES["birth_without_record"]),
            ).drop("ward_name")  # fmt: skip
            parts["civil_status"].append(rows)
        # --- civil status: deaths (older people far more often) ---
        weights = np.exp(np.clip(age - 60, -30, 40) / 8.0)
        dead = picker.take(age >= 30, count(EVENT_RATES["death"]), weights)
        if dead.size:
            died = _dates(np.full(dead.size, _days(first)) - rng.integers(2, 31, dead.size))
            rows = _person_frame(rng, pop, dead, 0.8).join(
                _ward_names(), on="current_ward_code", how="left", maintain_order="left"
            )
            at_home = rng.random(dead.size) < 0.7
            rows = rows.with_columns(
                died.alias("death_date"),
                pl.when(pl.lit(pl.Series(at_home))).then(pl.col("permanent_address"))
                .otherwise(pl.lit(f"Bệnh viện Đa khoa {geo.province_name}")).alias("death_place"),
                pl.lit("Khai tử").alias("event_type"),
                pl.concat_str(pl.lit("UBND "), "ward_name").alias("registration_place"),
                pl.Series("_reflected", rng.random(dead.size) >= DEFECT_RATES["death_not_reflected"]),
            ).drop("ward_name")  # fmt: skip
            parts["civil_status"].append(rows)
        # --- civil status: marriages and divorces (one row per party) ---
        single = (pop["spouse_index"].to_numpy() < 0) & (age >= 20) & (age <= 40) & np.isin(relation, ["Con"])
        k = count(EVENT_RATES["marriage"])
        grooms = picker.take(single & (pop["sex"] == "Nam").to_numpy(), k)
        brides = picker.take(single & (pop["sex"] == "Nữ").to_numpy(), grooms.size)
        grooms = grooms[: brides.size]
        divorcing_heads = picker.take((relation == "Chủ hộ") & (pop["spouse_index"].to_numpy() >= 0),
                                      count(EVENT_RATES["divorce"]))  # fmt: skip
        partners = pop["spouse_index"].to_numpy()[divorcing_heads]
        ok = picker.free[partners]
        divorcing_heads, partners = divorcing_heads[ok], partners[ok]
        picker.free[partners] = False
        for left, right, event in ((grooms, brides, "Kết hôn"), (divorcing_heads, partners, "Ly hôn")):
            if not left.size:
                continue
            both = np.concatenate([left, right])
            partner_of = np.concatenate([right, left])
            rows = _person_frame(rng, pop, both, 0.8).join(
                _ward_names(), on="current_ward_code", how="left", maintain_order="left"
            )
            parts["civil_status"].append(rows.with_columns(
                pop["full_name"].gather(partner_of).alias("spouse_name"),
                pl.lit(event).alias("event_type"),
                pl.concat_str(pl.lit("UBND "), "ward_name").alias("registration_place"),
            ).drop("ward_name"))  # fmt: skip

        # --- card issuance ---
        k = min(count(EVENT_RATES["card_new"]), no_card_pool.size)
        new_cards, no_card_pool = no_card_pool[:k], no_card_pool[k:]
        k = min(count(EVENT_RATES["card_renewal"]) // 3, expired_pool.size)
        renew_expired, expired_pool = expired_pool[:k], expired_pool[k:]
        milestone_soon = np.zeros(n, dtype=bool)
        for m in (25, 40, 60):
            day = birth.dt.offset_by(f"{m}y").cast(pl.Int32).to_numpy()
            milestone_soon |= (day > _days(night)) & (day <= _days(night) + 365)
        renew_early = picker.take(milestone_soon & pop["card_number"].is_not_null().to_numpy(),
                                  count(EVENT_RATES["card_renewal"]) - renew_expired.size)  # fmt: skip
        replaced = picker.take(pop["card_number"].is_not_null().to_numpy(), count(EVENT_RATES["card_replacement"]))
        for people, kind in ((new_cards, "Cấp mới"), (np.concatenate([renew_expired, renew_early]), "Cấp đổi"),
                             (replaced, "Cấp lại")):  # fmt: skip
            if not people.size:
                continue
            rows = _person_frame(rng, pop, people, 0.75)
            expiry = rows["card_expiry"] if kind == "Cấp lại" else _next_milestone_expiry(rows["birth"], night)
            parts["card"].append(rows.with_columns(
                pl.col("person_id").alias("card_number"),
                pl.lit(night).alias("card_issue_date"),
                expiry.alias("card_expiry_date"),
                pl.lit("Bộ Công an").alias("card_issue_place"),
                pl.lit(kind).alias("event_type"),
                pl.when(pl.lit(pl.Series(rng.random(people.size) < 0.6))).then(pl.col("old_id_number"))
                .alias("old_id_number"),
            ))  # fmt: skip

        for source, frames in parts.items():
            if not frames:
                continue
            rows = pl.concat([_conform(f, night) for f in frames], how="diagonal_relaxed")
            order = rng.permutation(rows.height)
            rows = rows[order]
            start = counters[source]
            counters[source] += rows.height
            ids = pl.Series([f"{_PREFIX[source]}{start + i + 1:09d}" for i in range(rows.height)])
            rows = rows.with_columns(ids.alias("record_id"))
            extracts.append(NightExtract(night=night, source=source, rows=rows))

    # Consequences for the base: reflected events patch it, the others are logged as defects.
    for extract in extracts:
        rows = extract.rows
        if "_reflected" in rows.columns:
            for row in rows.filter(pl.col("_reflected").is_not_null()).iter_rows(named=True):
                person = row["_pi"]
                base_row = int(base_row_of[person]) if person < n else -1
                if base_row < 0:
                    continue
                kind = row["event_type"]
                if row["_reflected"]:
                    if kind == "Khai tử":
                        patch("death_date", person, row["death_date"].isoformat())
                        patch("death_place", person, row["death_place"])
                    elif kind == "Đăng ký thường trú":
                        patch("permanent_address", person, row["permanent_address"])
                        patch("household_id", person, row["household_id"])
                        patch("relation_to_head", person, "Chủ hộ")
                        patch("_ward", person, row["_ward"])
                        patch("_form", person, str(row["_form"]))
                    elif kind == "Xóa đăng ký thường trú":
                        remove_from_base.append(base_row)
                else:
                    defect = "death_not_reflected" if kind == "Khai tử" else "move_not_reflected"
                    log.add([base_ids[base_row]], "base", defect,
                            "death_date" if kind == "Khai tử" else "permanent_address",
                            [f"{extract.source}={row['record_id']}"])  # fmt: skip
        if "_unregistered" in rows.columns:
            unregistered = rows.filter(pl.col("_unregistered").fill_null(False))
            for row in unregistered.iter_rows(named=True):
                remove_from_base.append(int(base_row_of[row["_pi"]]))
            log.add(unregistered["record_id"], extract.source, "birth_without_record", "person_id", None)

    _apply_patches(state, base_patch, remove_from_base)
    extra = (
        pl.concat(outsiders)
        if outsiders
        else pl.DataFrame(schema={"person_index": pl.Int64, "current_ward_code": pl.String})
    )
    return extracts, extra


def _apply_patches(state: BaseState, patches: dict[str, dict[int, str | None]], remove: list[int]) -> None:
    frame = state.frame
    updates = []
    for column, values in patches.items():
        rows = np.array(list(values.keys()), dtype=np.int64)
        series = frame[column]
        if column == "_form":
            updates.append(series.scatter(rows, pl.Series([int(v or 0) for v in values.values()])))
        else:
            updates.append(series.scatter(rows, pl.Series(list(values.values()), dtype=pl.String)))
    frame = frame.with_columns(updates)
    if remove:
        keep = np.ones(frame.height, dtype=bool)
        keep[np.array(remove, dtype=np.int64)] = False
        frame = frame.filter(pl.Series(keep))
    state.frame = frame


def _other_province(rng: np.random.Generator, geo: ProvinceGeo) -> str:
    codes = [c for c in units.current_provinces()["province_code"].to_list() if c != geo.province_code]
    return codes[int(rng.integers(0, len(codes)))]


def _conform(frame: pl.DataFrame, night: date) -> pl.DataFrame:
    """Extract columns (dates still as Date) plus the truth columns."""
    columns: list[pl.Expr] = []
    renames = {"birth": "birth_date", "person_index": "_pi", "current_ward_code": "_ward"}
    for source_name, target in renames.items():
        columns.append(pl.col(source_name).alias(target))
    for name in EXTRACT_COLUMNS:
        if name in ("record_id", "birth_date"):
            continue
        if name == "registration_date":
            columns.append(pl.lit(night).alias(name))
        elif name in frame.columns:
            columns.append(pl.col(name))
        else:
            dtype = pl.Date if name in _DATE_COLUMNS else pl.String
            columns.append(pl.lit(None, dtype=dtype).alias(name))
    for extra in ("_reflected", "_unregistered", "_form", "is_split"):
        if extra in frame.columns:
            columns.append(pl.col(extra))
    return frame.select(columns)


_MONTH_ABBREVIATIONS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# Date shapes of real exports: most "dd/mm/yyyy"; Oracle's DD-MON-YYYY; in words; a US-locale date-time (month
# first); ddmmyyyy without separators.
_DATE_STYLES: Final[tuple[Callable[[date], str], ...]] = (
    lambda d: d.strftime("%d/%m/%Y"),
    lambda d: f"{d.day:02d}-{_MONTH_ABBREVIATIONS[d.month - 1]}-{d.year}",
    lambda d: f"ngày {d.day:02d} tháng {d.month:02d} năm {d.year}",
    lambda d: f"{d.month}/{d.day}/{d.year} 12:00:00 AM",
    lambda d: f"{d.day:02d}{d.month:02d}{d.year}",
)
_DATE_STYLE_SHARES: Final = (0.75, 0.08, 0.06, 0.06, 0.05)
_NUMERIC_ID_FILE_SHARE: Final = 0.15  # of CSV files
_ETHNICITY_LONG_RATE: Final = 0.04  # of rows
_ETHNICITY_PREFIXES: Final = ("Người", "Dân tộc", "DT", "dân tộc")
_SUBGROUPS: Final[dict[str, tuple[str, ...]]] = {
    "Thái": ("đen", "trắng", "Đen", "Trắng"),
    "Dao": ("đỏ", "tiền", "quần chẹt", "thanh y", "Đỏ"),
    "Mông": ("trắng", "đen", "xanh", "Hoa"),
}
_ETHNIC_NAMES: Final = frozenset(group.name for group in ETHNIC_GROUPS)


def vary_rows(rng: np.random.Generator, extract: NightExtract, log: DefectLog, legacy_ok: bool) -> pl.DataFrame:
    """Turn an extract's clean rows into what the file holds: dates as text, name variants, partial dates,
    malformed rows and legacy-font text; every change that is a defect is logged."""
    rows = extract.rows
    source = extract.source
    n = rows.height
    ids = rows["record_id"]
    text: dict[str, list[str | None]] = {}
    # The system that exported the file writes all its dates one way (a stream of its own: the other draws of
    # this file stay as they were).
    style = _DATE_STYLES[int(rng.spawn(1)[0].choice(len(_DATE_STYLES), p=_DATE_STYLE_SHARES))]
    for column in _DATE_COLUMNS:
        text[column] = [None if day is None else style(day) for day in rows[column].to_list()]
    names = rows["full_name"].to_list()
    # Name variants: ALL CAPS (card exports especially), no diacritics, Ð for Đ, old tone placement, typos.
    caps_rate = 0.35 if source == "card" else 0.0
    variant_rows = np.flatnonzero(rng.random(n) < DEFECT_RATES["name_variant"] + caps_rate)
    v_ids: list[str] = []
    v_details: list[str | None] = []
    for i in variant_rows.tolist():
        name = names[i]
        if name is None:
            continue
        kinds = ["all_caps", "no_diacritics", "typo"]
        # Windows-1258 has no "Ð" (its byte 0xD0 is "Đ"), so that slip only survives in Unicode files.
        if "Đ" in name and legacy_ok:
            kinds.append("eth_for_d")
        if to_old_tone(name) != name:
            kinds.append("old_tone_placement")
        kind = "all_caps" if source == "card" and rng.random() < 0.7 else kinds[int(rng.integers(0, len(kinds)))]
        if kind == "all_caps":
            changed = name.upper()
        elif kind == "no_diacritics":
            changed = strip_diacritics(name)
        elif kind == "eth_for_d":
            changed = name.replace("Đ", "\u00d0")
        elif kind == "old_tone_placement":
            changed = to_old_tone(name)
        else:
            changed = typo(name, rng)
        if changed != name:
            names[i] = changed
            v_ids.append(ids[i])
            v_details.append(kind)
    log.add(v_ids, source, "name_variant", "full_name", v_details)
    # Partial birth dates of the elderly as "00/00/1950" or "1950".
    births = rows["birth_date"]
    elderly = births.dt.year().to_numpy() < 1950
    old = np.flatnonzero(elderly & (rng.random(n) < DEFECT_RATES["partial_birth_date_extract"]))
    for i in old.tolist():
        year = births[i].year
        text["birth_date"][i] = f"00/00/{year}" if rng.random() < 0.6 else str(year)
    log.add(ids.gather(old), source, "partial_birth_date", "birth_date", births.gather(old).dt.strftime("%Y-%m-%d"))
    columns: dict[str, list[str | None]] = {c: rows[c].to_list() for c in EXTRACT_COLUMNS if c not in text}
    columns.update(text)
    columns["full_name"] = names
    # Malformed rows for ingest's quarantine.
    bad = np.flatnonzero(rng.random(n) < DEFECT_RATES["malformed_row"])
    if bad.size == 0 and n >= 10:
        # Every file of some size carries at least one row for ingest's quarantine, so each demo night shows one.
        bad = np.array([int(rng.integers(0, n))])
    id_column = "card_number" if source == "card" else "person_id"
    m_ids: list[str] = []
    m_fields: list[str] = []
    m_details: list[str | None] = []
    for i in bad.tolist():
        choice = int(rng.integers(0, 3))
        if choice == 0:
            year = births[i].year
            month = int(rng.choice([2, 4, 6, 9, 11]))
            day = 31 if month != 2 else int(rng.choice([30, 31]))
            value = f"{day:02d}/{month:02d}/{year}"
            field_name = "birth_date"
        elif choice == 1:
            value = str(rng.choice(["X", "K", "0", "Khác"]))
            field_name = "sex"
        else:
            current_id = columns[id_column][i]
            if current_id is None:
                continue
            value = current_id[:-1]
            field_name = id_column
        columns[field_name][i] = value
        m_ids.append(ids[i])
        m_fields.append(field_name)
        m_details.append(value)
    log.add(m_ids, source, "malformed_row", pl.Series(m_fields, dtype=pl.String), m_details)
    # Ethnicity as officers write it beside the official name: "Người Tày", "Dân tộc Mường", "DT Nùng", and the
    # local subgroups of the Thái, Dao and Mông ("Thái đen", "Dao đỏ"). The same group, no task.
    if "ethnicity" in columns:
        long_rng = rng.spawn(1)[0]
        values = columns["ethnicity"]
        long_rows = np.flatnonzero(long_rng.random(n) < _ETHNICITY_LONG_RATE)
        e_ids: list[str] = []
        e_details: list[str] = []
        record_list = ids.to_list()
        for i in long_rows.tolist():
            group = values[i]
            if group is None or group not in _ETHNIC_NAMES:
                continue
            subgroups = _SUBGROUPS.get(group, ())
            if subgroups and long_rng.random() < 0.6:
                spelled = f"{group} {subgroups[int(long_rng.integers(0, len(subgroups)))]}"
            else:
                spelled = f"{_ETHNICITY_PREFIXES[int(long_rng.integers(0, len(_ETHNICITY_PREFIXES)))]} {group}"
            values[i] = spelled
            e_ids.append(record_list[i])
            e_details.append(spelled)
        log.add(e_ids, source, "ethnicity_written_long", "ethnicity", e_details)
    # A CSV whose ID columns went through a spreadsheet as numbers: the leading zeros are gone ("37304203655").
    # Drawn from a stream of its own, so the other draws of this file stay as they were.
    if extract.fmt == "csv" and rng.spawn(1)[0].random() < _NUMERIC_ID_FILE_SHARE:
        malformed = set(zip(m_ids, m_fields, strict=True))
        record_ids = ids.to_list()
        for column in ("person_id", "card_number"):
            if column not in columns:
                continue
            values = columns[column]
            n_ids: list[str] = []
            for i, cell in enumerate(values):
                if cell is None or (record_ids[i], column) in malformed or not cell.startswith("0"):
                    continue
                values[i] = cell.lstrip("0")
                n_ids.append(record_ids[i])
            log.add(n_ids, source, "id_as_number", column, None)
    # Legacy-font text: a share of the rows of this file were typed with a TCVN3 or VNI font.
    if legacy_ok and extract.legacy_scheme is not None:
        scheme = extract.legacy_scheme
        legacy_rows = np.flatnonzero(rng.random(n) < DEFECT_RATES["legacy_encoding_rows"])
        l_ids: list[str] = []
        l_fields: list[str] = []
        written = source_mapping(source).columns
        for column in (c for c in _TEXT_COLUMNS if c in written):
            values = columns[column]
            for i in legacy_rows.tolist():
                cell = values[i]
                if cell is None:
                    continue
                encoded = encode_legacy(cell, scheme)
                if encoded != cell:
                    values[i] = encoded
                    l_ids.append(ids[i])
                    l_fields.append(column)
        log.add(l_ids, source, "legacy_encoding", pl.Series(l_fields, dtype=pl.String), scheme)
    return pl.DataFrame({c: pl.Series(columns[c], dtype=pl.String) for c in EXTRACT_COLUMNS})
