"""The true population of the province: households with consistent families, names, ages, IDs and cards.

Everything is vectorized over households and roles (numpy + Polars): a million people take seconds. The result is
the *truth* (one row per real person); the base snapshot and the extracts are rendered from it, with defects.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import numpy as np
import polars as pl

from datagen.ethnic import draw_ethnicities
from datagen.geography import ProvinceGeo, draw_legacy_wards, draw_residences
from datagen.names import CONVENTIONS, NamePools, compose_names, convention_of, draw_families, draw_given, name_pools
from datagen.text import strip_diacritics
from normalize import units

__all__ = ["CARD_MILESTONES", "HOUSEHOLD_TYPES", "RELATIONS", "build_population"]

YEAR: Final = 365.2425
CARD_MILESTONES: Final = (14, 25, 40, 60)

# Household types and their shares: (name, share).
HOUSEHOLD_TYPES: Final = (
    ("nuclear", 0.50),  # head, spouse, children
    ("three_generations_up", 0.10),  # head, spouse, children, head's parents
    ("three_generations_down", 0.10),  # elderly head, spouse, married son, daughter-in-law, grandchildren
    ("elderly_couple", 0.08),
    ("elderly_single", 0.06),
    ("single", 0.07),
    ("single_parent", 0.06),
    ("young_couple", 0.03),
)
_NUCLEAR, _UP, _DOWN, _ELDER_COUPLE, _ELDER_SINGLE, _SINGLE, _SINGLE_PARENT, _YOUNG = range(8)

# Slots inside a household; children and grandchildren take consecutive slots from their base.
_HEAD, _SPOUSE, _FATHER, _MOTHER, _SON, _DIL = 0, 1, 2, 3, 4, 5
_CHILD0, _GRAND0 = 10, 20
RELATIONS: Final = ("Chủ hộ", "Vợ", "Chồng", "Bố", "Mẹ", "Con", "Con dâu", "Cháu")


def _text(values: np.ndarray | list[str | None]) -> pl.Series:
    """Object arrays with leading nulls cannot go straight into a Polars String series; lists can."""
    return pl.Series(list(values), dtype=pl.String)


def _years(values: np.ndarray) -> np.ndarray:
    return np.round(values * YEAR).astype(np.int64)


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _household_plan(rng: np.random.Generator, n_candidates: int, snapshot: int) -> dict[str, np.ndarray]:
    """Per candidate household: type, head sex/birth, spouse, counts of children, parents, grandchildren."""
    shares = np.array([share for _, share in HOUSEHOLD_TYPES])
    kind = rng.choice(len(HOUSEHOLD_TYPES), size=n_candidates, p=shares / shares.sum())
    h = n_candidates
    low = np.array([25, 28, 52, 60, 65, 19, 24, 20])[kind]
    high = np.array([60, 52, 78, 88, 96, 45, 55, 32])[kind]
    mode = np.array([38, 38, 62, 68, 76, 27, 38, 26])[kind]
    head_age = rng.triangular(low, mode, high)
    head_birth = snapshot - _years(head_age) - rng.integers(0, 365, h)
    couple = np.isin(kind, [_NUCLEAR, _UP, _ELDER_COUPLE, _YOUNG]) | ((kind == _DOWN) & (rng.random(h) < 0.8))
    female_head = np.where(
        kind == _ELDER_SINGLE,
        rng.random(h) < 0.75,
        np.where(
            kind == _SINGLE,
            rng.random(h) < 0.45,
            np.where(kind == _SINGLE_PARENT, rng.random(h) < 0.85, rng.random(h) < 0.08),
        ),
    )
    gap = rng.normal(2.5, 3.0, h)
    spouse_birth = head_birth + _years(np.where(female_head, -gap, gap))
    spouse_birth = np.minimum(spouse_birth, snapshot - _years(np.full(h, 18.0)))
    mother_birth = np.where(couple & ~female_head, spouse_birth, head_birth)
    mother_age = (snapshot - mother_birth) / YEAR
    n_children = np.where(
        np.isin(kind, [_NUCLEAR, _UP]),
        rng.choice(5, size=h, p=[0.06, 0.27, 0.45, 0.17, 0.05]),
        np.where(
            kind == _SINGLE_PARENT,
            rng.choice([1, 2, 3], size=h, p=[0.5, 0.38, 0.12]),
            np.where(kind == _YOUNG, rng.choice([0, 1], size=h, p=[0.6, 0.4]), 0),
        ),
    )
    n_children = np.where(mother_age < 19.5, 0, n_children)
    # Head's parents (three generations up): both, father only, or mother only; nobody older than ~98.
    father_birth = head_birth - _years(rng.uniform(24, 36, h))
    mother_of_head_birth = father_birth + _years(rng.uniform(0, 7, h))
    parents = rng.choice(3, size=h, p=[0.6, 0.1, 0.3])
    has_father = (kind == _UP) & (parents != 2) & ((snapshot - father_birth) / YEAR < 98)
    has_mother = (kind == _UP) & (parents != 1) & ((snapshot - mother_of_head_birth) / YEAR < 99)
    # Married son, daughter-in-law and grandchildren (three generations down).
    son_birth = np.minimum(head_birth + _years(rng.uniform(22, 36, h)), snapshot - _years(np.full(h, 21.0)))
    dil_birth = np.minimum(son_birth + _years(rng.normal(2.0, 2.5, h)), snapshot - _years(np.full(h, 19.0)))
    has_son = kind == _DOWN
    dil_age = (snapshot - dil_birth) / YEAR
    n_grand = np.where(has_son & (dil_age >= 20), rng.choice(4, size=h, p=[0.1, 0.35, 0.4, 0.15]), 0)
    size = 1 + couple + n_children + has_father + has_mother + 2 * has_son + n_grand
    return {
        "kind": kind, "head_birth": head_birth, "female_head": female_head, "couple": couple,
        "spouse_birth": spouse_birth, "mother_birth": mother_birth, "n_children": n_children,
        "has_father": has_father, "has_mother": has_mother, "father_birth": father_birth,
        "mother_of_head_birth": mother_of_head_birth, "has_son": has_son, "son_birth": son_birth,
        "dil_birth": dil_birth, "n_grand": n_grand, "size": size.astype(np.int64),
    }  # fmt: skip


def _select(plan: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, np.ndarray]:
    return {key: value[keep] for key, value in plan.items()}


def _plan_exact(rng: np.random.Generator, people: int, snapshot: int) -> dict[str, np.ndarray]:
    """Households whose sizes add up to exactly ``people`` (the remainder is filled with one-person households)."""
    candidates = int(people / 3.2 * 1.15) + 16
    plan = _household_plan(rng, candidates, snapshot)
    fits = np.cumsum(plan["size"]) <= people
    chosen = _select(plan, fits)
    remainder = people - int(chosen["size"].sum())
    singles = np.flatnonzero((plan["size"] == 1) & ~fits)[:remainder]
    tails = [_select(plan, singles)]
    missing = remainder - singles.size
    while missing > 0:
        extra = _household_plan(rng, 8 * missing + 16, snapshot)
        more = np.flatnonzero(extra["size"] == 1)[:missing]
        tails.append(_select(extra, more))
        missing -= more.size
    return {key: np.concatenate([chosen[key], *(t[key] for t in tails)]) for key in plan}


def _children(
    rng: np.random.Generator,
    hh: np.ndarray,
    counts: np.ndarray,
    parent_birth: np.ndarray,
    snapshot: int,
    base_slot: int,
    min_age: float,
    max_age: float,
) -> dict[str, np.ndarray]:
    """Children of each household: born when the mother was ``min_age``..``max_age`` (and before the snapshot)."""
    rows = np.repeat(np.arange(hh.size), counts)
    order = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    mother_birth = parent_birth[rows]
    mother_age_now = (snapshot - mother_birth) / YEAR
    top = np.minimum(max_age, mother_age_now - 0.02)
    at_birth = min_age + rng.random(rows.size) * np.maximum(top - min_age, 0.01)
    # Brothers and sisters are born at least ~10 months apart (twins aside): ages sorted within the family, then
    # each pushed to 0.85 years after the previous one (a cumulative maximum of age - 0.85 * rank).
    spaced = (
        pl.DataFrame({"family": rows, "age": at_birth, "rank": order})
        .with_columns(pl.col("age").sort().over("family"))
        .with_columns((pl.col("age") - 0.85 * pl.col("rank")).cum_max().over("family").alias("age"))
        .select(pl.col("age") + 0.85 * pl.col("rank"))
        .to_series()
        .to_numpy()
    )
    at_birth = np.minimum(spaced, np.maximum(top, min_age))
    birth = np.minimum(mother_birth + _years(at_birth), snapshot - 1)
    # Twins: the second child of some families shares the first one's birth date.
    first_of_family = np.repeat(np.cumsum(counts) - counts, counts)
    twins = (order == 1) & np.repeat(rng.random(hh.size) < 0.03, counts)
    birth = np.where(twins, birth[first_of_family], birth)
    return {"hh": hh[rows], "slot": base_slot + order, "birth": birth, "twin": twins}


def build_population(rng: np.random.Generator, people: int, geo: ProvinceGeo, snapshot_date: date) -> pl.DataFrame:
    """The true population: one row per person, ordered by household, with consistent family relations."""
    snapshot = _days(snapshot_date)
    plan = _plan_exact(rng, people, snapshot)
    h = plan["kind"].size
    hh = np.arange(h)
    male = 0
    frames: list[dict[str, np.ndarray]] = []

    def role(
        mask: np.ndarray,
        slot: int,
        sex: np.ndarray | int,
        birth: np.ndarray,
        relation: np.ndarray | str,
        spouse: int,
        father: int,
        mother: int,
    ) -> None:
        idx = np.flatnonzero(mask)
        n = idx.size
        frames.append({
            "hh": idx, "slot": np.full(n, slot), "sex": np.broadcast_to(np.asarray(sex), (h,))[idx].astype(np.int8),
            "birth": birth[idx], "relation": np.broadcast_to(np.asarray(relation, dtype=object), (h,))[idx],
            "spouse_slot": np.full(n, spouse), "father_slot": np.full(n, father), "mother_slot": np.full(n, mother),
            "twin": np.zeros(n, dtype=bool),
        })  # fmt: skip

    female_head = plan["female_head"]
    couple = plan["couple"]
    up = plan["has_father"] | plan["has_mother"]
    head_father = np.where(plan["has_father"], _FATHER, -1)
    head_mother = np.where(plan["has_mother"], _MOTHER, -1)
    role(np.ones(h, bool), _HEAD, female_head.astype(np.int8), plan["head_birth"], "Chủ hộ", -1, -1, -1)
    frames[-1]["spouse_slot"] = np.where(couple, _SPOUSE, -1)
    frames[-1]["father_slot"] = head_father
    frames[-1]["mother_slot"] = head_mother
    role(
        couple,
        _SPOUSE,
        (~female_head).astype(np.int8),
        plan["spouse_birth"],
        np.where(female_head, "Chồng", "Vợ"),
        _HEAD,
        -1,
        -1,
    )
    role(plan["has_father"], _FATHER, male, plan["father_birth"], "Bố", -1, -1, -1)
    frames[-1]["spouse_slot"] = np.where(plan["has_mother"], _MOTHER, -1)[plan["has_father"]]
    role(plan["has_mother"], _MOTHER, 1, plan["mother_of_head_birth"], "Mẹ", -1, -1, -1)
    frames[-1]["spouse_slot"] = np.where(plan["has_father"], _FATHER, -1)[plan["has_mother"]]
    role(plan["has_son"], _SON, male, plan["son_birth"], "Con", _DIL, np.where(female_head, -1, _HEAD)[0], -1)
    son_rows = plan["has_son"]
    frames[-1]["father_slot"] = np.where(female_head | ~couple, np.where(female_head, -1, _HEAD), _HEAD)[son_rows]
    frames[-1]["mother_slot"] = np.where(female_head, _HEAD, np.where(couple, _SPOUSE, -1))[son_rows]
    role(plan["has_son"], _DIL, 1, plan["dil_birth"], "Con dâu", _SON, -1, -1)

    # Children of the head: the father is the male partner present, the mother the female one.
    father_slot = np.where(couple, np.where(female_head, _SPOUSE, _HEAD), np.where(female_head, -1, _HEAD))
    mother_slot = np.where(couple, np.where(female_head, _HEAD, _SPOUSE), np.where(female_head, _HEAD, -1))
    kids = _children(rng, hh, plan["n_children"], plan["mother_birth"], snapshot, _CHILD0, 19.0, 42.0)
    n_kids = kids["hh"].size
    frames.append({
        "hh": kids["hh"], "slot": kids["slot"], "sex": (rng.random(n_kids) < 0.485).astype(np.int8),
        "birth": kids["birth"], "relation": np.full(n_kids, "Con", dtype=object), "spouse_slot": np.full(n_kids, -1),
        "father_slot": father_slot[kids["hh"]], "mother_slot": mother_slot[kids["hh"]], "twin": kids["twin"],
    })  # fmt: skip
    grand = _children(rng, hh, plan["n_grand"], plan["dil_birth"], snapshot, _GRAND0, 19.0, 40.0)
    n_grand = grand["hh"].size
    frames.append({
        "hh": grand["hh"], "slot": grand["slot"], "sex": (rng.random(n_grand) < 0.485).astype(np.int8),
        "birth": grand["birth"], "relation": np.full(n_grand, "Cháu", dtype=object),
        "spouse_slot": np.full(n_grand, -1), "father_slot": np.full(n_grand, _SON),
        "mother_slot": np.full(n_grand, _DIL), "twin": grand["twin"],
    })  # fmt: skip
    del up

    columns = {key: np.concatenate([f[key] for f in frames]) for key in frames[0]}
    order = np.lexsort((columns["slot"], columns["hh"]))
    columns = {key: value[order] for key, value in columns.items()}
    n = columns["hh"].size
    if n != people:
        raise RuntimeError(f"population size {n} != {people}")
    # Resolve slots to row indices: rows are sorted by (hh, slot) and slots are small, so a dense lookup works.
    lookup = np.full((h, 32), -1, dtype=np.int64)
    lookup[columns["hh"], columns["slot"]] = np.arange(n)

    def resolve(slots: np.ndarray) -> np.ndarray:
        return np.where(slots >= 0, lookup[columns["hh"], np.maximum(slots, 0)], -1)

    # Twins are of one sex more often than two siblings (identical twins always are).
    twin_rows = np.flatnonzero(columns["twin"])
    same = twin_rows[rng.random(twin_rows.size) < 0.3]
    columns["sex"][same] = columns["sex"][same - 1]
    father_idx = resolve(columns["father_slot"])
    mother_idx = resolve(columns["mother_slot"])
    spouse_idx = resolve(columns["spouse_slot"])
    sex = columns["sex"]
    birth = columns["birth"]
    birth_year = (birth / YEAR + 1970).astype(np.int64)

    # Where each household lives decides its ethnic group (the mix of that legacy province), the group decides
    # how its members are named. A spouse may come from another group.
    residence = draw_residences(rng, h, geo)
    household_province = residence["legacy_province_code"].to_numpy()
    household_ethnicity = draw_ethnicities(rng, household_province)
    legacy_province = household_province[columns["hh"]]
    own_ethnicity = draw_ethnicities(rng, legacy_province)
    married_in = np.isin(columns["relation"], ["Vợ", "Chồng", "Con dâu"]) & (rng.random(n) < 0.05)
    ethnicity = np.where(married_in, own_ethnicity, household_ethnicity[columns["hh"]])
    convention = convention_of(ethnicity, legacy_province, rng.random(n))

    pools = name_pools(geo.southern)
    family = draw_families(rng, convention, ethnicity, pools)
    hometown = draw_legacy_wards(rng, n, geo, local_share=0.75).to_numpy()
    # Family name and hometown follow the father (the mother when the father is not in the household), the clan of
    # matrilineal groups (Ê Đê, Gia Rai, M'Nông) the mother; three passes reach grandchildren.
    follow = np.where(father_idx >= 0, father_idx, np.where(columns["relation"] != "Vợ", mother_idx, -1))
    follow = np.where(np.isin(columns["relation"], ["Vợ", "Chồng", "Con dâu"]), -1, follow)
    lineage = _lineage(convention, father_idx, mother_idx)
    for _ in range(3):
        family = np.where(lineage >= 0, family[np.maximum(lineage, 0)], family)
        hometown = np.where(follow >= 0, hometown[np.maximum(follow, 0)], hometown)
    # Brothers and sisters whose lineage parent is not in the household still share that parent: the eldest's
    # family name (and, below, the eldest's invented parent names) for all of them.
    eldest = _eldest_sibling(columns, lookup)
    absent = (eldest >= 0) & (lineage < 0) & (_lineage_kind(convention) != "none")
    absent &= convention == convention[np.maximum(eldest, 0)]
    family = np.where(absent, family[np.maximum(eldest, 0)], family)
    middle, given = draw_given(rng, pools, convention, sex, birth_year)
    middle, given = _family_resemblance(rng, pools, columns, lookup, convention, sex, birth_year, middle, given)
    full = compose_names(convention, family, middle, given, sex)
    father_name = _parent_names(rng, pools, full, father_idx, convention, ethnicity, family, 0, birth_year)
    mother_name = _parent_names(rng, pools, full, mother_idx, convention, ethnicity, family, 1, birth_year)
    father_name = np.where((eldest >= 0) & (father_idx < 0), father_name[np.maximum(eldest, 0)], father_name)
    mother_name = np.where((eldest >= 0) & (mother_idx < 0), mother_name[np.maximum(eldest, 0)], mother_name)
    spouse_name = np.where(spouse_idx >= 0, full[np.maximum(spouse_idx, 0)], np.full(n, None, dtype=object))

    frame = pl.DataFrame(
        {
            "person_index": np.arange(n, dtype=np.int64),
            "hh": columns["hh"].astype(np.int64),
            "relation": _text(columns["relation"]),
            "sex": pl.Series(np.where(sex == 0, "Nam", "Nữ"), dtype=pl.String),
            "birth": pl.Series(birth.astype(np.int32)).cast(pl.Date),
            "full_name": _text(full),
            "family": _text(family),
            "father_index": father_idx,
            "mother_index": mother_idx,
            "spouse_index": spouse_idx,
            "father_name": _text(father_name),
            "mother_name": _text(mother_name),
            "spouse_name": _text(spouse_name),
            "ethnicity": _text(ethnicity),
            "name_convention": _text(convention),
            "given_name": _text(given),
            "hometown_ward": _text(hometown),
            "twin": columns["twin"],
            "sibling_index": _closest_sibling(columns, lookup),
        }
    )
    frame = frame.with_columns(
        residence[columns["hh"]].select(
            "legacy_ward_code", "current_ward_code", "is_split", "legacy_province_code", "street"
        )
    )
    frame = _assign_ids(rng, frame, geo)
    return _assign_cards(rng, frame, snapshot_date)


def _eldest_sibling(columns: dict[str, np.ndarray], lookup: np.ndarray) -> np.ndarray:
    """Row of the eldest brother or sister of each younger child (children of the head, grandchildren), else -1."""
    slot, hh = columns["slot"], columns["hh"]
    child = slot >= _CHILD0
    first_slot = np.where(slot >= _GRAND0, _GRAND0, _CHILD0)
    first = np.where(child, lookup[hh, first_slot], -1)
    return np.where(first == np.arange(slot.size), -1, first).astype(np.int64)


def _closest_sibling(columns: dict[str, np.ndarray], lookup: np.ndarray) -> np.ndarray:
    """Row of each child's closest brother or sister (the twin for a twin: the next or previous child), else -1."""
    slot, hh = columns["slot"], columns["hh"]
    child = slot >= _CHILD0
    first_slot = np.where(slot >= _GRAND0, _GRAND0, _CHILD0)
    previous = np.where(child & (slot > first_slot), lookup[hh, np.maximum(slot - 1, 0)], -1)
    following = np.where(child & (slot + 1 < first_slot + 10), lookup[hh, np.minimum(slot + 1, 31)], -1)
    twin_next = np.where(following >= 0, columns["twin"][np.maximum(following, 0)], False)
    # A twin's sibling is the twin; the first of twins points at the second.
    return np.where(columns["twin"] & (previous >= 0), previous,
                    np.where(twin_next | (previous < 0), following, previous)).astype(np.int64)  # fmt: skip


def _lineage_kind(convention: np.ndarray) -> np.ndarray:
    lineage = {name: c.lineage for name, c in CONVENTIONS.items()}
    return pl.Series(convention.tolist(), dtype=pl.String).replace_strict(lineage).to_numpy().astype(object)


def _lineage(convention: np.ndarray, father_idx: np.ndarray, mother_idx: np.ndarray) -> np.ndarray:
    """Whose family name (clan) each person carries: the father's, the mother's (matrilineal groups) or none."""
    kind = _lineage_kind(convention)
    return np.where(kind == "mother", mother_idx, np.where(kind == "father", father_idx, -1))


def _family_resemblance(
    rng: np.random.Generator,
    pools: NamePools,
    columns: dict[str, np.ndarray],
    lookup: np.ndarray,
    convention: np.ndarray,
    sex: np.ndarray,
    birth_year: np.ndarray,
    middle: np.ndarray,
    given: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Siblings resemble each other: a brother (sister) often takes the middle name of the eldest brother (sister),
    a twin most often (Nguyễn Văn Phúc and Nguyễn Văn Lộc); no two siblings share a given name."""
    n = sex.size
    slot, hh = columns["slot"], columns["hh"]
    child = slot >= _CHILD0
    first_slot = np.where(slot >= _GRAND0, _GRAND0, _CHILD0)
    first = np.where(child, lookup[hh, first_slot], -1)
    previous = np.where(child & (slot > first_slot), lookup[hh, np.maximum(slot - 1, 0)], -1)
    sibling = child & (first >= 0) & (first != np.arange(n))
    same_sex = sibling & (sex == sex[np.maximum(first, 0)])
    share = np.where(columns["twin"], 0.8, 0.4)
    copy = same_sex & (rng.random(n) < share) & (convention == convention[np.maximum(first, 0)])
    elder = np.maximum(first, 0)
    middle = np.where(copy, middle[elder], middle)
    # Without a middle name the eldest's compound given name lends its first word ("Minh Anh", "Minh Châu").
    compound = copy & pl.Series(given[elder].tolist(), dtype=pl.String).str.contains(" ").fill_null(False).to_numpy()
    compound &= pl.Series(middle.tolist(), dtype=pl.String).is_null().to_numpy()
    rows = np.flatnonzero(compound)
    if rows.size:
        for s in (0, 1):
            of_sex = rows[sex[rows] == s]
            second = rng.choice(pools.one_word[s], size=of_sex.size, p=pools.one_word_p[s])
            given[of_sex] = [f"{g.split(' ')[0]} {w}" for g, w in zip(given[elder[of_sex]].tolist(), second.tolist(),
                                                                        strict=True)]  # fmt: skip
    for _ in range(8):
        # Parents do not give two children one name, nor "Pao" and "Páo": the last words differ without diacritics.
        last = pl.Series(given.tolist(), dtype=pl.String).str.split(" ").list.last().str.to_lowercase()
        key = last.map_elements(strip_diacritics, return_dtype=pl.String).to_numpy()
        clash = sibling & ((key == key[np.maximum(first, 0)]) | ((previous >= 0) & (key == key[np.maximum(
            previous, 0)])))  # fmt: skip
        rows = np.flatnonzero(clash)
        if rows.size == 0:
            break
        _, redraw = draw_given(rng, pools, convention[rows], sex[rows], birth_year[rows])
        given[rows] = redraw
    return middle, given


def _parent_names(
    rng: np.random.Generator,
    pools: NamePools,
    full: np.ndarray,
    parent_idx: np.ndarray,
    convention: np.ndarray,
    ethnicity: np.ndarray,
    family: np.ndarray,
    parent_sex: int,
    birth_year: np.ndarray,
) -> np.ndarray:
    """The parent's full name: from the household when present, else a plausible name in the child's
    convention (the parent of the child's lineage shares the child's family name or clan)."""
    n = full.size
    lineage = _lineage_kind(convention)
    shares_family = lineage == ("father" if parent_sex == 0 else "mother")
    other = draw_families(rng, convention, ethnicity, pools)
    fam = np.where(shares_family, family, other)
    sexes = np.full(n, parent_sex, dtype=np.int8)
    middle, given = draw_given(rng, pools, convention, sexes, birth_year - 28)
    invented = compose_names(convention, fam, middle, given, sexes)
    return np.where(parent_idx >= 0, full[np.maximum(parent_idx, 0)], invented)


def _assign_ids(rng: np.random.Generator, frame: pl.DataFrame, geo: ProvinceGeo) -> pl.DataFrame:
    """Personal IDs by the rule (province of birth registration + century/sex + 2-digit year + 6 random digits),
    unique; CMND numbers (9 digits) for part of the adults born before 1995."""
    n = frame.height
    hometown_province = frame.select("hometown_ward").join(
        units.legacy_wards().select(pl.col("legacy_ward_code").alias("hometown_ward"), "legacy_province_code"),
        on="hometown_ward",
        how="left",
    )["legacy_province_code"]
    # Children were registered where the family lives; adults often elsewhere (their hometown).
    is_child = frame["relation"].is_in(["Con", "Cháu"]).to_numpy() & (frame["birth"].dt.year() >= 1990).to_numpy()
    local = is_child | (rng.random(n) < 0.7)
    province = np.where(local, frame["legacy_province_code"].to_numpy(), hometown_province.to_numpy())
    year = frame["birth"].dt.year().to_numpy()
    female = (frame["sex"] == "Nữ").to_numpy()
    century = np.where(year >= 2000, 2, 0) + female
    serial = rng.integers(0, 1_000_000, n)
    prefix = _text(province)
    ids = _id_text(prefix, century, year, serial)
    for _ in range(20):
        dup = ids.is_duplicated().to_numpy() & ~ids.is_first_distinct().to_numpy()
        if not dup.any():
            break
        serial[dup] = rng.integers(0, 1_000_000, int(dup.sum()))
        ids = _id_text(prefix, century, year, serial)
    cmnd = pl.Series(rng.integers(10_000_000, 400_000_000, n)).cast(pl.String).str.zfill(9)
    has_cmnd = (year < 1995) & (rng.random(n) < 0.45)
    cmnd = pl.select(pl.when(pl.lit(pl.Series(has_cmnd))).then(cmnd).alias("c"))["c"]
    return frame.with_columns(
        ids.alias("person_id"), cmnd.alias("old_id_number"), _text(province).alias("birth_province")
    )


def _id_text(prefix: pl.Series, century: np.ndarray, year: np.ndarray, serial: np.ndarray) -> pl.Series:
    return pl.select(
        pl.concat_str(
            pl.lit("0"),
            pl.lit(prefix),
            pl.lit(pl.Series(century)).cast(pl.String),
            pl.lit(pl.Series(year % 100)).cast(pl.String).str.zfill(2),
            pl.lit(pl.Series(serial)).cast(pl.String).str.zfill(6),
        ).alias("id")
    )["id"]


def _assign_cards(rng: np.random.Generator, frame: pl.DataFrame, snapshot_date: date) -> pl.DataFrame:
    """A chip card for everyone aged 14+ at the snapshot: issued at or after the last renewal age (most in the
    2021-2024 campaign), valid until the next renewal age (25, 40, 60; none after 60)."""
    n = frame.height
    birth = frame["birth"]
    snapshot = _days(snapshot_date)
    campaign = np.where(
        rng.random(n) < 0.75,
        _days(date(2021, 1, 1)) + rng.integers(0, 3 * 365, n),
        _days(date(2016, 6, 1)) + rng.integers(0, 8 * 365, n),
    )
    milestone_days = {
        age: birth.dt.offset_by(f"{age}y").cast(pl.Int32).to_numpy().astype(np.int64) for age in CARD_MILESTONES
    }
    # A renewal age reached within ~13 months after the snapshot counts as reached: people renew up to a year
    # early, so no card of a clean record expires during the nights that follow the snapshot.
    horizon = snapshot + 400
    last = np.full(n, -1)
    for age in CARD_MILESTONES:
        last = np.where(milestone_days[age] <= horizon, age, last)
    last_day = np.zeros(n, dtype=np.int64)
    next_day = np.full(n, -1, dtype=np.int64)
    for i, age in enumerate(CARD_MILESTONES):
        last_day = np.where(last == age, milestone_days[age], last_day)
        if i + 1 < len(CARD_MILESTONES):
            next_day = np.where(last == age, milestone_days[CARD_MILESTONES[i + 1]], next_day)
    delay = rng.integers(0, 240, n)
    issue = np.minimum(np.maximum(last_day + delay, campaign), snapshot - rng.integers(1, 30, n))
    issue = np.maximum(issue, last_day)
    early = last_day > snapshot - 31
    issue = np.where(early, np.minimum(last_day - rng.integers(31, 330, n), snapshot - 1), issue)
    has_card = last >= 0
    issue_date = pl.Series(np.where(has_card, issue, 0).astype(np.int32)).cast(pl.Date)
    expiry_date = pl.Series(np.where(next_day >= 0, next_day, 0).astype(np.int32)).cast(pl.Date)
    place = np.where(
        issue >= _days(date(2024, 7, 1)),
        "Bộ Công an",
        np.where(
            issue >= _days(date(2021, 1, 1)),
            "Cục Cảnh sát quản lý hành chính về trật tự xã hội",
            "Cục Cảnh sát ĐKQL cư trú và DLQG về dân cư",
        ),
    )
    valid = pl.Series(has_card)
    return frame.with_columns(
        pl.when(pl.lit(valid)).then(pl.col("person_id")).alias("card_number"),
        pl.when(pl.lit(valid)).then(pl.lit(issue_date)).alias("card_issue"),
        pl.when(pl.lit(valid) & pl.lit(pl.Series(next_day >= 0))).then(pl.lit(expiry_date)).alias("card_expiry"),
        pl.when(pl.lit(valid)).then(pl.lit(_text(place))).alias("card_place"),
    )
