"""Tasks only where a person is needed: the policy per rule, one task per rule and person, the golden record shown."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from checks.findings import FINDINGS_SCHEMA
from corrections.build import REGISTER_SOURCE, build_drafts, register_snapshot_id
from corrections.selection import Selection, TaskPolicy, load_task_policy, select_findings, task_policy
from register.quality import register_findings
from state.tasks import person_outcomes
from tests.register.factories import NIGHT, OLD_FORM, build, person

PAIRS = pl.DataFrame(
    schema={
        "left_id": pl.String,
        "right_id": pl.String,
        "match_probability": pl.Float64,
        "match_weight": pl.Float64,
        "decision": pl.String,
        "kind": pl.String,
    }
)


def _finding(record_id: str, rule: str, quality: str = "đủ", related: list[str] | None = None) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "source": "base",
        "rule": rule,
        "quality": quality,
        "severity": "error",
        "ward_code": "13420",
        "detail": f"{rule} on {record_id}",
        "related_record_ids": related or [],
    }


def _findings(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=FINDINGS_SCHEMA)


CLUSTERS = pl.DataFrame(
    {
        "record_id": ["B1", "B2", "CC1", "B3"],
        "cluster_id": ["P-1", "P-1", "P-1", "P-3"],
        "source": ["base", "base", "card", "base"],
    }
)


def test_each_action_of_the_policy() -> None:
    findings = _findings(
        _finding("B1", "address_legacy_form", "sạch"),  # register: settled
        _finding("B2", "adult_without_card"),  # unless_register, golden has a card: settled
        _finding("B3", "adult_without_card"),  # unless_register, golden still without card: task
        _finding("B3", "death_not_reflected", "sống", ["HT1"]),  # task
        _finding("B3", "some_new_rule", "đúng"),  # not in the policy: a task
    )
    golden = _findings(_finding("P-3", "adult_without_card"))
    selection = select_findings(findings, CLUSTERS, golden)
    kept = sorted(zip(selection.findings["rule"], selection.findings["record_id"], strict=True))
    assert kept == [("adult_without_card", "B3"), ("death_not_reflected", "B3"), ("some_new_rule", "B3")]
    assert selection.settled == {"address_legacy_form": 1, "adult_without_card": 1}
    death = selection.findings.filter(pl.col("rule") == "death_not_reflected")
    assert death["_persons"].to_list() == [["P-3", "record:HT1"]]


def test_a_conflict_task_is_superseded_by_the_merge_of_the_same_person() -> None:
    findings = _findings(
        _finding("B2", "duplicate_person", "sạch", ["B1"]),
        _finding("CC1", "cross_source_mismatch", "đúng", ["B2"]),
    )
    golden = _findings(_finding("P-1", "cross_source_mismatch", "đúng"))
    selection = select_findings(findings, CLUSTERS, golden)
    assert selection.findings["rule"].to_list() == ["duplicate_person"]
    assert selection.superseded == {"cross_source_mismatch": 1}


def test_one_task_per_rule_and_person_naming_all_its_base_records_and_showing_its_golden_record() -> None:
    result = build(
        [person("B1", last_verified_date="2015-01-01", permanent_address=OLD_FORM),
         person("B2", full_name="Nguyen Van An", last_verified_date="2015-02-02", household_id=None)],
    )  # fmt: skip
    findings = _findings(
        _finding("B1", "not_verified_recently", "sống"),
        _finding("B2", "not_verified_recently", "sống"),
        _finding("B2", "duplicate_person", "sạch", ["B1"]),
    )
    clusters = pl.DataFrame({"record_id": ["B1", "B2"], "cluster_id": ["P-B1", "P-B1"], "source": ["base", "base"]})
    drafts = build_drafts(
        NIGHT,
        findings,
        PAIRS,
        [result.records],
        clusters=clusters,
        register=result.register,
        register_findings=register_findings(result.golden, NIGHT),
    )
    by_rule = {t.rule: t for t in drafts.tasks}
    assert sorted(by_rule) == ["duplicate_person", "not_verified_recently"]
    stale = by_rule["not_verified_recently"]
    assert stale.record_ids == ["B1", "B2"] and stale.person_keys == ["P-B1"]
    assert stale.task_type == "update"
    assert "Sổ dân cư sạch hiện ghi (mã người P-B1, còn sống)" in stale.description
    assert "Phường Tam Chúc" in stale.description  # the register's post-2025 address
    source, golden = drafts.snapshots[register_snapshot_id("P-B1")]
    assert source == REGISTER_SOURCE
    assert golden["full_name"] == "Nguyễn Văn An" and golden["status"] == "alive"
    assert golden["sources"]["last_verified_date"] == "B2"


def test_without_the_register_every_finding_is_a_task_as_before() -> None:
    findings = _findings(_finding("B1", "address_legacy_form", "sạch"), _finding("B2", "adult_without_card"))
    drafts = build_drafts(NIGHT, findings, PAIRS, [])
    assert sorted(t.rule for t in drafts.tasks) == ["address_legacy_form", "adult_without_card"]
    assert drafts.settled == {} and all(t.person_keys == [] for t in drafts.tasks)


def test_the_policy_is_data_and_mistakes_in_it_are_errors(tmp_path: Path) -> None:
    policy = task_policy()
    assert policy.of("address_legacy_form").action == "register"
    assert policy.of("duplicate_person").action == "task"
    assert policy.of("not_a_rule").action == "task"
    for text, message in (
        ('format = 1\n[rules.x]\naction = "maybe"\n', "action must be"),
        ('format = 1\n[rules.x]\ntask_type = "chore"\n', "task_type must be"),
        ('format = 1\n[rules.x]\nsuperseded_by = ["y"]\n[rules.y]\nsuperseded_by = ["z"]\n', "itself superseded"),
    ):
        path = tmp_path / "rules.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            load_task_policy(path)


def test_the_register_findings_see_one_person_not_its_duplicate_records() -> None:
    """A duplicate record without the card its original holds is the duplicate's problem, not a missing card."""
    night = dt.date(2026, 3, 2)
    result = build([
        person("B1", birth_date="1980-01-01", card_number="037080001234", card_issue_date="2021-05-05",
               card_expiry_date="2040-01-01", person_id="037080001234"),
        person("B2", birth_date="1980-01-01", person_id=None, household_id=None),
    ])  # fmt: skip
    findings = register_findings(result.golden, night)
    assert "adult_without_card" not in findings["rule"].to_list()
    assert "required_field_missing" not in findings["rule"].to_list()
    conflicted = build([person("B1", sex="Nam"), person("CC1", "card", sex="Nữ")])
    conflict = register_findings(conflicted.golden, night).filter(pl.col("rule") == "cross_source_mismatch")
    assert conflict.height == 1 and conflict["related_record_ids"].to_list() == [["CC1"]]
    assert "Giới tính" in conflict["detail"][0]


def test_one_selection_gives_the_outcomes_of_two() -> None:
    """The outcomes count what supersession took from the selection the drafts were made from (``unsuperseded``):
    the same as selecting a second time under the policy without ``superseded_by``, as the outcomes once did."""
    findings = _findings(
        _finding("B2", "duplicate_person", "sạch", ["B1"]),
        _finding("CC1", "cross_source_mismatch", "đúng", ["B2"]),  # superseded by the duplicate of P-1
        _finding("B1", "address_legacy_form", "sạch"),  # settled by the register
        _finding("B3", "adult_without_card"),  # unless_register, still shown: a task
        _finding("B3", "cross_source_mismatch", "đúng"),  # no duplicate of P-3: a task
    )
    golden = _findings(_finding("P-1", "cross_source_mismatch", "đúng"), _finding("P-3", "adult_without_card"))
    policy = task_policy()
    keep_all = TaskPolicy({rule: dataclasses.replace(p, superseded_by=()) for rule, p in policy.rules.items()})
    selection = select_findings(findings, CLUSTERS, golden, policy)
    unsuperseded = select_findings(findings, CLUSTERS, golden, keep_all).findings
    assert selection.superseded == {"cross_source_mismatch": 1}
    assert selection.unsuperseded.equals(unsuperseded)
    assert unsuperseded.height == selection.findings.height + 1

    drafts = build_drafts(NIGHT, findings, PAIRS, [], clusters=CLUSTERS, register=None, register_findings=golden)
    assert drafts.selection is not None
    two_passes = Selection(selection.findings, selection.settled, selection.superseded, unsuperseded)
    quality = findings.head(4)
    reference = person_outcomes(quality, findings, CLUSTERS, golden, selection=two_passes)
    assert person_outcomes(quality, findings, CLUSTERS, golden, selection=drafts.selection).equals(reference)
    assert person_outcomes(quality, findings, CLUSTERS, golden).equals(reference)
    assert reference.filter(pl.col("rule") == "cross_source_mismatch")["superseded"].sum() == 1
    assert reference.filter(pl.col("rule") == "address_legacy_form")["settled"].sum() == 1
