"""The groups a rule declares (``Rule.groups``, ``Rule.columns``) are the truth about what it reads.

Whoever runs the rules on part of the records (the register's checks range by range, the nightly checks of what
changed) hands the declared groups whole to the rules that declare them, with only their columns, and runs every
other rule on any part alone. So a rule that declares no groups must find on disjoint parts of the records what it
finds on all of them, and a group rule must find on its ``read_columns`` what it finds on every column. The records
are a small generated province (base and several nights of extracts), clustered by valid personal ID.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks import CheckContext
from checks.groups import HOUSEHOLD, PERSON_ID, group_key, in_a_group_of
from checks.registry import RULES, Rule, rule
from datagen import generate_province
from normalize.frame import normalize_records
from records.ingest import ingest_night

PEOPLE, SEED, NIGHTS = 1000, 7, 4
UNGROUPED = [r for r in RULES.values() if not r.groups]
GROUPED = [r for r in RULES.values() if r.groups]


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> CheckContext:
    """Every record of a generated province: the base and the extracts of all its nights, checked on the last."""
    root = tmp_path_factory.mktemp("province")
    generate_province(PEOPLE, SEED, root, nights=NIGHTS)
    folders = sorted((root / "extracts").iterdir())
    night = dt.date.fromisoformat(folders[-1].name)
    ingested = [ingest_night(root / "population_base.parquet", folder, as_of=night) for folder in folders]
    base = normalize_records(ingested[0].base.accepted, as_of=night)
    extracts = normalize_records(pl.concat([i.extracts.accepted for i in ingested]), as_of=night)
    records = pl.concat([base, extracts], how="diagonal_relaxed")
    # One person per valid personal ID (and per record without one): clusters of several records, some of them
    # linking extracts to the base.
    clusters = records.select("record_id", pl.coalesce(group_key(PERSON_ID), "record_id").alias("cluster_id"))
    return CheckContext(base=base, extracts=extracts, night=night, clusters=clusters)


def _found(item: Rule, context: CheckContext) -> pl.DataFrame:
    return item.run(context).sort("record_id", "rule", "detail", nulls_last=True)


def _part(context: CheckContext, records: pl.Series) -> CheckContext:
    """The context of some of the records only (their base rows, extract rows and clusters)."""
    wanted = records.implode()
    assert context.clusters is not None
    return CheckContext(
        base=context.base.filter(pl.col("record_id").is_in(wanted)),
        extracts=context.extracts.filter(pl.col("record_id").is_in(wanted)),
        night=context.night,
        clusters=context.clusters.filter(pl.col("record_id").is_in(wanted)),
        settings=context.settings,
    )


def _parts(context: CheckContext, parts: int, salt: int) -> list[CheckContext]:
    """The records split at random into ``parts`` disjoint parts, each a context of its own."""
    ids = context.records.select("record_id", (pl.col("record_id").hash(salt) % parts).alias("_part"))
    return [_part(context, ids.filter(pl.col("_part") == k).get_column("record_id")) for k in range(parts)]


def _in_parts(item: Rule, parts: list[CheckContext]) -> pl.DataFrame:
    found = pl.concat([item.run(part) for part in parts], how="vertical")
    return found.sort("record_id", "rule", "detail", nulls_last=True)


@settings(max_examples=10, deadline=None)
@given(parts=st.integers(2, 5), salt=st.integers(0, 2**32))
def test_a_rule_without_groups_finds_on_parts_of_the_records_what_it_finds_on_all(
    province: CheckContext, parts: int, salt: int
) -> None:
    """Every rule that declares no groups judges each record alone: on disjoint parts of the records, put together,
    its findings are those on all of them (so the register may run it range by range and the nightly checks on the
    records that changed)."""
    split = _parts(province, parts, salt)
    for item in UNGROUPED:
        whole = _found(item, province)
        assert _in_parts(item, split).equals(whole, null_equal=True), item.id


def test_the_split_into_parts_separates_groups_and_group_rules_notice(province: CheckContext) -> None:
    """The test above would catch a group rule declared without its groups: splitting the records separates
    households and ID groups, and the rules that judge those groups find otherwise on the parts."""
    split = _parts(province, 3, 1)
    part_of = pl.concat(
        [part.records.select("record_id", pl.lit(k).alias("_part")) for k, part in enumerate(split)]
    ).join(
        province.records.select("record_id", *(group_key(g).alias(g) for g in (HOUSEHOLD, PERSON_ID))), on="record_id"
    )
    for group in (HOUSEHOLD, PERSON_ID):
        spread = part_of.filter(pl.col(group).is_not_null()).group_by(group).agg(pl.col("_part").n_unique())
        assert spread.get_column("_part").max() > 1, group  # type: ignore[operator]
    for item in (RULES["household_without_head"], RULES["shared_person_id"]):
        assert not _in_parts(item, split).equals(_found(item, province), null_equal=True), item.id


def _only(context: CheckContext, columns: tuple[str, ...]) -> CheckContext:
    def select(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select([c for c in columns if c in frame.columns])

    return CheckContext(base=select(context.base), extracts=select(context.extracts), night=context.night,
                        clusters=context.clusters, settings=context.settings)  # fmt: skip


def test_a_group_rule_finds_on_its_declared_columns_what_it_finds_on_every_column(province: CheckContext) -> None:
    """A group rule given only its ``read_columns`` of the records (what the register hands the other ranges'
    members of a group) finds what it finds on every column: it reads no column it does not declare."""
    found = set()
    for item in GROUPED:
        whole = _found(item, province)
        assert _found(item, _only(province, item.read_columns)).equals(whole, null_equal=True), item.id
        if whole.height:
            found.add(item.id)
    # The province gives the comparison something to compare: findings of the group rules of every kind of group.
    assert {"household_without_head", "shared_person_id", "duplicate_person", "adult_without_card"} <= found


def test_a_rule_declares_known_groups_and_columns_only_with_groups() -> None:
    def body(context: CheckContext) -> pl.DataFrame:
        raise AssertionError("never run")

    with pytest.raises(ValueError, match="unknown groups"):
        rule("test_unknown_group", quality="đủ", severity="error", title="", description="",
             groups=("village",), columns=("village",))(body)  # fmt: skip
    with pytest.raises(ValueError, match="no groups"):
        rule("test_columns_alone", quality="đủ", severity="error", title="", description="", columns=("x",))(body)
    assert "test_unknown_group" not in RULES and "test_columns_alone" not in RULES


def test_in_a_group_of_finds_members_of_present_households_and_valid_ids_only() -> None:
    records = pl.DataFrame(
        {
            "record_id": ["a", "b", "c", "d", "e", "f", "g"],
            "household_id": ["H1", "H1", " ", " ", None, None, "H2"],
            "person_id_norm": ["001", None, None, None, "777", "777", "888"],
            "person_id_valid": [True, None, None, None, False, False, True],
        }
    )
    seeds = [records.filter(pl.col("record_id").is_in(["a", "c", "e"])), records.filter(pl.col("record_id") == "g")]
    found = records.filter(in_a_group_of(seeds, (HOUSEHOLD, PERSON_ID))).get_column("record_id").to_list()
    # a's household H1 (b too), g itself; a blank household (c, d) and an invalid ID (e, f) are no group.
    assert found == ["a", "b", "g"]
    assert records.filter(in_a_group_of([], (HOUSEHOLD,))).height == 0
    assert records.filter(in_a_group_of(seeds, ())).height == 0
