"""Who is called what, where: regional ethnic mixes, minority naming conventions, siblings, twins and the hard cases
of matching the generator injects (each checked in the files it writes)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from datagen import generate_province
from datagen.ethnic import REGIONAL_MIX, ethnic_mix
from datagen.geography import province_geo
from datagen.names import CONVENTIONS, ETHNIC_CONVENTION, name_pools
from datagen.population import build_population
from normalize.names import name_columns, parse_name
from records.ethnicities import ETHNIC_GROUPS
from tests.datagen.conftest import NIGHT, Province, load

SNAPSHOT = date(2025, 11, 1)


@pytest.fixture(scope="module")
def daklak(tmp_path_factory: pytest.TempPathFactory) -> Province:
    """Đắk Lắk (Ê Đê, M'Nông, Gia Rai and migrants from the north)."""
    return load(generate_province(8000, 5, tmp_path_factory.mktemp("daklak"), night=NIGHT, nights=4,
                                  province_code="66"))  # fmt: skip


def _population(code: str, people: int = 6000, seed: int = 3) -> pl.DataFrame:
    return build_population(np.random.default_rng(seed), people, province_geo(code), SNAPSHOT)


def test_regional_mixes_name_real_groups_and_sum_to_one() -> None:
    names = {g.name for g in ETHNIC_GROUPS}
    for code, mix in REGIONAL_MIX.items():
        assert set(mix) <= names, code
        groups, p = ethnic_mix(code)
        assert p.sum() == pytest.approx(1.0)
        assert groups[0] == "Kinh" and 0.0 <= p[0] <= 1 - sum(mix.values()) / 100 + 1e-9
        for group, share in mix.items():
            assert p[groups.index(group)] == pytest.approx(share / 100, rel=0.1), (code, group)
    assert set(ETHNIC_CONVENTION.values()) <= set(CONVENTIONS)


@pytest.mark.parametrize(
    ("code", "expected"),
    [("66", {"ede": 0.05, "tay_nung": 0.02}), ("14", {"thai": 0.4, "hmong": 0.1}), ("91", {"khmer": 0.03})],
)
def test_minority_heavy_provinces(code: str, expected: dict[str, float]) -> None:
    population = _population(code)
    counts = population.group_by("name_convention").len()
    shares = dict(counts.with_columns(pl.col("len") / population.height).iter_rows())
    for convention, least in expected.items():
        assert shares.get(convention, 0.0) > least, (code, convention, shares)


def test_each_convention_writes_names_the_normalizer_reads_in_its_layout() -> None:
    population = pl.concat([_population("66"), _population("14"), _population("91", seed=4)])
    parsed = name_columns(population["full_name"])
    renamed = {"name_convention": "parsed_convention", "given_name": "parsed_given", "family_name": "parsed_family"}
    frame = population.with_columns(parsed.select(list(renamed)).rename(renamed))
    ede = frame.filter(pl.col("name_convention") == "ede")
    assert ede.height > 100
    assert (ede["parsed_convention"] == "clan_last").mean() > 0.99  # type: ignore[operator]
    assert (ede["parsed_given"] == ede["given_name"]).mean() > 0.99  # type: ignore[operator]
    assert ede["full_name"].str.contains(r"^(Y |H')").all()
    khmer_prefix = frame.filter(pl.col("name_convention") == "khmer_prefix")
    assert khmer_prefix.height > 5
    assert khmer_prefix["full_name"].str.contains(r"^(Chau|Néang) ").all()
    hmong = frame.filter((pl.col("name_convention") == "hmong") & (pl.col("sex") == "Nam"))
    assert (hmong["full_name"].str.split(" ").list.get(1) == "A").mean() > 0.7  # type: ignore[operator]
    assert (hmong["family"] == hmong["parsed_family"]).all()


def test_matrilineal_children_carry_the_mothers_clan() -> None:
    population = _population("66", people=8000)
    children = population.filter((pl.col("name_convention") == "ede") & (pl.col("mother_index") >= 0))
    mothers = population.select(pl.col("person_index").alias("mother_index"), pl.col("family").alias("mother_family"),
                                pl.col("name_convention").alias("mother_convention"))  # fmt: skip
    joined = children.join(mothers, on="mother_index").filter(pl.col("mother_convention") == "ede")
    assert joined.height > 50
    assert (joined["family"] == joined["mother_family"]).all()
    # … and the father's name, invented or from the household, is his own clan.
    assert (joined["father_name"].str.split(" ").list.last() != joined["family"]).mean() > 0.5  # type: ignore[operator]


def test_the_base_holds_thousands_of_given_name_spellings() -> None:
    population = _population("37", people=20000)
    assert population["given_name"].n_unique() > 3000
    pools = name_pools(False)
    assert pools.rare[0].size > 20000 and pools.rare[1].size > 20000
    # Vy and Vi are both there: two spellings, two names.
    assert {"Vy", "Vi"} <= set(pools.one_word[1].tolist())


def test_twins_are_often_of_one_sex_and_share_a_middle_name_never_a_given_name() -> None:
    population = _population("37", people=40000)
    twins = population.filter(pl.col("twin"))
    partner = population.select(
        pl.col("person_index").alias("sibling_index"),
        pl.col("sex").alias("partner_sex"),
        pl.col("birth").alias("partner_birth"),
        pl.col("given_name").alias("partner_given"),
        pl.col("full_name").alias("partner_name"),
    )
    pairs = twins.join(partner, on="sibling_index")
    assert pairs.height > 100
    assert (pairs["birth"] == pairs["partner_birth"]).all()
    assert (pairs["given_name"] != pairs["partner_given"]).all()
    assert 0.55 < (pairs["sex"] == pairs["partner_sex"]).mean() < 0.8  # type: ignore[operator]
    same_sex = pairs.filter(pl.col("sex") == pl.col("partner_sex"))
    # The second word is the middle name, or the first word of a compound given name: twins mostly share it.
    middle = same_sex["full_name"].str.split(" ").list.get(1) == same_sex["partner_name"].str.split(" ").list.get(1)
    assert middle.mean() > 0.6  # type: ignore[operator]


def _extract_rows(province: Province) -> pl.DataFrame:
    frames = []
    for entry in province.manifest["files"]:  # type: ignore[attr-defined]
        frame = province.extracts[entry["path"]].select(pl.all().cast(pl.String))
        frames.append(frame.with_columns(pl.lit(entry["source"]).alias("source")))
    return pl.concat(frames, how="diagonal")


def _defects(province: Province, defect: str) -> pl.DataFrame:
    rows = province.defects.filter(pl.col("defect") == defect)
    assert rows.height > 0, f"no {defect} injected"
    return rows


def test_a_base_record_may_carry_a_siblings_id(daklak: Province) -> None:
    rows = _defects(daklak, "sibling_id").filter(pl.col("source") == "base")
    truth = dict(zip(daklak.persons["record_id"], daklak.persons["true_person"], strict=True))
    for record_id, detail in zip(rows["record_id"], rows["detail"], strict=True):
        owner = detail.removeprefix("shares_with=")
        pair = daklak.base.filter(pl.col("record_id").is_in([record_id, owner]))
        assert pair["person_id"].n_unique() == 1
        assert pair["household_id"].n_unique() == 1  # brothers and sisters of one household
        assert truth[record_id] != truth[owner]


def test_extract_rows_carry_the_hard_cases(daklak: Province) -> None:
    extracts = _extract_rows(daklak)
    base = daklak.base
    persons = daklak.persons
    truth_base = persons.filter(pl.col("source") == "base").select("true_person", pl.col("record_id").alias("base_id"))
    other_name_defects = set(
        daklak.defects.filter(pl.col("defect").is_in(["name_variant", "legacy_encoding"]))["record_id"].to_list()
    )
    for defect in ("birth_year_off_by_one", "reissued_id", "sibling_id", "name_rendering", "dropped_middle_name"):
        rows = _defects(daklak, defect).filter(pl.col("source") != "base")
        joined = (
            rows.join(persons, on=["record_id", "source"])
            .join(truth_base, on="true_person")
            .join(extracts, on=["record_id", "source"], suffix="_x")
            .join(base.select(pl.col("record_id").alias("base_id"), pl.all().name.suffix("_b")), on="base_id")
        )
        assert joined.height > 0, defect
        for row in joined.iter_rows(named=True):
            if defect == "birth_year_off_by_one":
                ours, theirs = row["birth_date"], row["birth_date_b"]
                if ours is None or len(ours) != 10 or theirs is None or len(theirs) != 10:
                    continue  # also made partial or malformed on the way
                assert ours[:5] == theirs[8:] + "/" + theirs[5:7] and abs(int(ours[6:]) - int(theirs[:4])) == 1
            elif defect in ("reissued_id", "sibling_id"):
                ours, theirs = row["person_id"] or row.get("card_number"), row["person_id_b"]
                if ours is None or theirs is None or len(ours) != 12:
                    continue  # a card file names the ID card_number; a malformed row cut a digit
                assert ours != theirs
                if defect == "reissued_id":
                    assert ours[3:6] == theirs[3:6]
            elif defect == "name_rendering":
                if row["record_id"] in other_name_defects:
                    continue
                ours, theirs = parse_name(row["full_name"]), parse_name(row["full_name_b"])
                assert ours.name_key_glued == theirs.name_key_glued or ours.given_key == theirs.given_key
    siblings = _defects(daklak, "sibling_id").filter(pl.col("source") != "base")
    held = (
        extracts.join(siblings, on=["record_id", "source"]).select(pl.coalesce("person_id", "card_number")).to_series()
    )
    assert held.is_in(base["person_id"].implode()).mean() > 0.8  # type: ignore[operator]


def test_birth_registrations_are_hard_negatives(daklak: Province) -> None:
    """A newborn has an ID of its own, and the parents (and household) of a brother or sister in the base."""
    unregistered = _defects(daklak, "birth_without_record")
    births = _extract_rows(daklak).join(unregistered, on=["record_id", "source"], how="semi")
    assert births.height > 0
    assert not births["person_id"].drop_nulls().is_in(daklak.base["person_id"].implode()).any()
    with_sibling = births.join(
        daklak.base.select("father_name", "mother_name", pl.col("record_id").alias("sibling")),
        on=["father_name", "mother_name"],
    )
    assert with_sibling.height > 0
