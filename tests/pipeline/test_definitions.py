"""The code location loads and holds the whole graph from ingest to correction tasks."""

from __future__ import annotations

import dagster as dg

from pipelines.definitions import defs
from pipelines.partitions import nightly_partitions

STAGE_ASSETS = {
    "ingest": {"population_base", "extract_records", "ingest_quarantine", "ingest_files"},
    "normalize": {"normalized_base", "normalized_extracts"},
    "match": {"candidate_pairs", "scored_pairs", "person_clusters"},
    "check": {"quality_findings", "quality_scores"},
    "register": {"register", "register_changes", "register_findings", "register_scores"},
    "report": {"quality_report", "match_report", "correction_tasks", "task_outcomes"},
}
REGISTER_CHECKS = {"one_row_per_person", "every_record_in_one_person", "lineage_present"}


def test_definitions_load_with_every_stage() -> None:
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    by_group: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        by_group.setdefault(node.group_name or "", set()).add(key.to_user_string())
    for group, expected in STAGE_ASSETS.items():
        assert expected <= by_group.get(group, set()), (group, by_group.get(group))


def test_every_asset_is_documented_partitioned_and_kinded() -> None:
    graph = defs.get_repository_def().asset_graph
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, f"{key.to_user_string()} has no docstring/description"
        assert node.partitions_def == nightly_partitions, key.to_user_string()
        assert node.kinds, f"{key.to_user_string()} has no kinds"


def test_flow_runs_from_ingest_to_tasks() -> None:
    graph = defs.get_repository_def().asset_graph
    upstream_of_tasks = {k.to_user_string() for k in graph.get(dg.AssetKey("correction_tasks")).parent_keys}
    assert upstream_of_tasks & {"quality_findings", "scored_pairs"}
    ancestors: set[str] = set()
    frontier = [dg.AssetKey("correction_tasks")]
    while frontier:
        for parent in graph.get(frontier.pop()).parent_keys:
            if parent.to_user_string() not in ancestors:
                ancestors.add(parent.to_user_string())
                frontier.append(parent)
    assert {"population_base", "normalized_base", "scored_pairs", "quality_findings"} <= ancestors


def test_register_sits_between_matching_and_tasks_with_its_checks() -> None:
    graph = defs.get_repository_def().asset_graph
    register = graph.get(dg.AssetKey("register"))
    assert {"normalized_base", "normalized_extracts", "person_clusters"} <= {
        k.to_user_string() for k in register.parent_keys
    }
    tasks_inputs = {k.to_user_string() for k in graph.get(dg.AssetKey("correction_tasks")).parent_keys}
    assert {"register", "register_findings", "person_clusters", "quality_findings"} <= tasks_inputs
    checks = {key.name for key in graph.asset_check_keys if key.asset_key == dg.AssetKey("register")}
    assert checks >= REGISTER_CHECKS
    for key in graph.asset_check_keys:
        if key.name in REGISTER_CHECKS:
            assert graph.get_check_spec(key).blocking, key.name
