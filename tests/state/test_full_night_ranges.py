"""A full night builds the register one range of person keys at a time (``state.register._full_night``): the
register, change set, golden records and register findings are those of one build of every person, row for row and
type for type, on a first night (nothing before it) and on a ``--full`` night that starts from a previous version
(previous rows handed to the range of their successor, rows none of whose records is seen tonight carried)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from checks.context import CheckSettings
from register.store import RegisterStore
from state.register import (
    GOLDEN_TABLE,
    REGISTER_FINDINGS_TABLE,
    REGISTER_FOLDER,
    RegisterNight,
    _checked_columns,
    _partition_starts,
    _sorted_findings,
    golden_store,
    register_night,
)
from state.tables import TableStore, TableVersion
from tests.register.factories import NEXT_NIGHT, NIGHT, clusters, person, records
from tests.state.nights import Night, province, run_night, small_block_settings


def _state_before(state: Path, target: Path, night: str) -> Path:
    """A copy of ``state`` whose register, golden records and register findings stop before ``night``."""
    shutil.copytree(state, target)
    store = RegisterStore(target / REGISTER_FOLDER)
    store.rollback(night)
    for name in (GOLDEN_TABLE, REGISTER_FINDINGS_TABLE):
        table = TableStore(target / name)
        earlier = [n for n in table.nights() if n < night]
        if earlier:
            table.rollback(earlier[-1])
        else:
            shutil.rmtree(target / name)
    return target


def _stored(built: RegisterNight, state: Path) -> dict[str, pl.DataFrame]:
    return {
        "register": built.frame(),
        "changes": built.store.read_changes(built.night),
        "golden": golden_store(state).version(built.night).read(),
        "findings": built.findings.read(),
    }


def _assert_same(one: dict[str, pl.DataFrame], other: dict[str, pl.DataFrame]) -> None:
    for name, frame in one.items():
        assert frame.height > 0, name
        assert frame.schema == other[name].schema, name
        assert frame.equals(other[name], null_equal=True), name


def _rebuilt(night: Night, extracts: pl.DataFrame, state: Path, copy: Path, persons: int) -> dict[str, pl.DataFrame]:
    copy = _state_before(state, copy, night.register.night)
    built = register_night(night.base, extracts, night.clusters.clusters, copy, night.register.night, full=True,
                           partition_persons=persons)  # fmt: skip
    assert built.full and built.rows == night.register.rows
    return _stored(built, copy)


@pytest.mark.slow
def test_a_full_night_in_ranges_of_persons_equals_one_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.state.nights as nights

    kept: list[pl.DataFrame] = []
    real = nights.register_night

    def keeping(base, extracts, clusters, state, night, **options):  # type: ignore[no-untyped-def]
        kept.append(extracts)
        return real(base, extracts, clusters, state, night, **options)

    monkeypatch.setattr(nights, "register_night", keeping)
    where = province(tmp_path / "province", 1500, 21)
    output = tmp_path / "out"
    first = run_night(where, where.nights[0], output, full=True, settings=small_block_settings())
    second = run_night(where, where.nights[1], output, full=False, settings=small_block_settings())
    state = output / "state"
    for night, extracts in zip((first, second), kept, strict=True):  # without a previous version, then from one
        whole = _rebuilt(night, extracts, state, tmp_path / f"whole-{night.register.night}", 10**9)
        ranges = _rebuilt(night, extracts, state, tmp_path / f"ranges-{night.register.night}", 40)
        _assert_same(whole, ranges)
    # The second night's full build equals its incremental build (the register and change set it stored).
    assert whole["register"].equals(second.register.frame(), null_equal=True)


def test_ranges_cover_every_key_once() -> None:
    assert _partition_starts(10, 3) == [0, 2, 5, 7]
    assert _partition_starts(10, 10) == [0]
    assert _partition_starts(0, 7) == [0]
    assert _partition_starts(5, 1) == [0, 1, 2, 3, 4]


def _night_tables(root: Path, night: dt.date, rows: list[dict[str, Any]], groups: list[tuple[str, ...]]
                  ) -> tuple[TableVersion, pl.DataFrame, TableVersion]:  # fmt: skip
    frame = records(*rows, night=night)
    base = frame.filter(pl.col("source") == "base")
    members = clusters(*groups).join(frame.select("record_id", "source"), on="record_id", how="left")
    return (
        TableStore(root / "base").commit(night.isoformat(), base=None, added=base),
        frame.filter(pl.col("source") != "base"),
        TableStore(root / "clusters").commit(night.isoformat(), base=None, added=members),
    )


def test_a_row_handed_to_a_person_of_another_range_goes_to_that_range(tmp_path: Path) -> None:
    """Last night's person P-Z1 (Z1, A1, A2 and a death registered for them) is split tonight: A1 and A2 are P-A1,
    Z1 alone is P-Z1. The row's successor is P-A1 (two of its records), whose range is not P-Z1's: the death must
    reach P-A1 in ranges of one person as in one build."""
    first_rows = [person("Z1"), person("A1"), person("A2"), person("M1", person_id="037090009999", full_name="Lê Mai"),
                  person("HT1", "civil_status", event_type="Khai tử", death_date="2026-02-01")]  # fmt: skip
    state = tmp_path / "state"
    register_night(*_night_tables(tmp_path / "n1", NIGHT, first_rows, [("Z1", "A1", "A2", "HT1"), ("M1",)]), state,
                   NIGHT.isoformat())  # fmt: skip
    tonight = _night_tables(tmp_path / "n2", NEXT_NIGHT, first_rows[:4], [("A1", "A2"), ("M1",), ("Z1",)])
    built = {}
    for name, persons in (("whole", 10**9), ("ranges", 1)):
        shutil.copytree(state, tmp_path / name)
        night = register_night(*tonight, tmp_path / name, NEXT_NIGHT.isoformat(), full=True, partition_persons=persons)
        built[name] = _stored(night, tmp_path / name)
    _assert_same(built["whole"], built["ranges"])
    statuses = dict(built["ranges"]["register"].select("person_key", "status").iter_rows())
    assert statuses == {"P-A1": "deceased", "P-M1": "alive", "P-Z1": "alive"}


def test_the_checks_in_ranges_see_households_and_id_groups_across_ranges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The register's checks run range by range with the other ranges' members of each household and valid ID
    group: in ranges of one person, a household whose members (and head) are in other ranges, and one ID held by
    two different people of two ranges, give exactly the findings of one check of everyone, each once."""
    import state.register as state_register

    def member(record_id: str, serial: int, **values: Any) -> dict[str, Any]:
        return person(record_id, person_id=f"0370900{serial:05d}", **{"relation_to_head": "Con", **values})

    rows = [
        # H1: no head, members in three ranges: one finding, on its first member (P-A1), naming the others.
        member("A1", 1, household_id="3700000101"),
        member("M1", 2, household_id="3700000101"),
        member("Z1", 3, household_id="3700000101"),
        # H2: its head is in the last range; the first range alone would see a household without head.
        member("B2", 4, household_id="3700000102"),
        person("Z2", person_id="037090000005", household_id="3700000102", relation_to_head="Chủ hộ"),
        # H3: its first member died, so the finding is on the first living member, in the middle range.
        member("A3", 6, household_id="3700000103", death_date="2020-01-01"),
        member("M3", 7, household_id="3700000103"),
        member("Z3", 8, household_id="3700000103"),
        # One valid ID for two different people (sex), and one for two records of one person's profile.
        member("C4", 9, household_id="3700000104", relation_to_head="Chủ hộ"),
        member("Y4", 9, household_id="3700000105", relation_to_head="Chủ hộ", full_name="Trần Thị Bình", sex="Nữ"),
        member("D5", 10, household_id="3700000106", relation_to_head="Chủ hộ"),
        member("X5", 10, household_id="3700000107", relation_to_head="Chủ hộ"),
        # No household: blank ids are no group.
        member("E6", 11, household_id=""),
        member("W6", 12, household_id=""),
    ]
    groups = [(row["record_id"],) for row in rows]
    calls: list[int] = []
    real = state_register._findings_of

    def counted(golden_rows: pl.DataFrame, *args: Any, **options: Any) -> pl.DataFrame:
        calls.append(golden_rows.height)
        return real(golden_rows, *args, **options)

    monkeypatch.setattr(state_register, "_findings_of", counted)
    found = {}
    for name, persons in (("whole", 10**9), ("ranges", 1)):
        calls.clear()
        tables = _night_tables(tmp_path / name / "in", NIGHT, rows, groups)
        built = register_night(*tables, tmp_path / name / "state", NIGHT.isoformat(), partition_persons=persons)
        found[name] = built.findings.read()
        # Per range the rules on one record, then the group rules (one range of everyone, or one per person).
        assert len(calls) == 2 * (1 if name == "whole" else len(rows))
    # Both equal one check of every golden record at once (what a full night did before it checked in ranges).
    golden = golden_store(tmp_path / "whole" / "state").version(NIGHT.isoformat())
    everyone = golden.read(_checked_columns(golden.scan().collect_schema()))
    at_once = _sorted_findings(real(everyone, NIGHT, CheckSettings()))
    for name in ("whole", "ranges"):
        assert found[name].schema == at_once.schema
        assert found[name].equals(at_once, null_equal=True), name
    grouped = found["ranges"].filter(pl.col("rule").is_in(["household_without_head", "shared_person_id"]))
    assert grouped.select("record_id", "rule", "related_record_ids").rows() == [
        ("P-A1", "household_without_head", ["P-M1", "P-Z1"]),
        ("P-C4", "shared_person_id", ["P-Y4"]),
        ("P-M3", "household_without_head", ["P-Z3"]),
        ("P-Y4", "shared_person_id", ["P-C4"]),
    ]
