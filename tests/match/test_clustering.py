from __future__ import annotations

import polars as pl

from matchers.engine.clustering import cluster_records, person_clusters, stable_cluster_ids
from matchers.engine.population import population_settings
from matchers.engine.settings import MatchSettings


def _records(rows: list[tuple[str, str | None, int | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": [r[0] for r in rows],
            "valid_person_id": [r[1] for r in rows],
            "birth_year": [r[2] for r in rows],
            "source": ["base"] * len(rows),
            "sex_norm": [None] * len(rows),
            "given_key": [None] * len(rows),
        },
        schema_overrides={"birth_year": pl.Int32, "sex_norm": pl.String, "given_key": pl.String},
    )


def _pairs(edges: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "left_id": [e[0] for e in edges],
            "right_id": [e[1] for e in edges],
            "match_probability": [e[2] for e in edges],
            "match_weight": [10.0 + e[2] for e in edges],
            "decision": ["match"] * len(edges),
        }
    )


def _settings() -> MatchSettings:
    settings = population_settings()
    return MatchSettings(
        name=settings.name,
        comparisons=settings.comparisons,
        blocking_rules=settings.blocking_rules,
        thresholds=settings.thresholds,
        conflicts=settings.conflicts,
    )


def _groups(frame: pl.DataFrame) -> set[frozenset[str]]:
    grouped = frame.group_by("group").agg(pl.col("record_id"))
    return {frozenset(ids) for ids in grouped.get_column("record_id").to_list()}


def test_two_valid_ids_never_share_a_cluster_through_a_chain() -> None:
    records = _records([("a", "001085000001", 1985), ("b", None, 1985), ("c", "001085000002", 1985)])
    groups, report = cluster_records(records, _pairs([("a", "b", 0.999), ("b", "c", 0.995)]), _settings())
    assert _groups(groups) == {frozenset({"a", "b"}), frozenset({"c"})}
    assert report.refused_conflict == 1


def test_contradicting_birth_years_stop_chaining_but_the_judged_pair_may_differ_by_a_typo() -> None:
    records = _records([("a", None, 1950), ("b", None, 1951), ("c", None, 1990)])
    groups, report = cluster_records(records, _pairs([("a", "b", 0.999), ("b", "c", 0.995)]), _settings())
    assert _groups(groups) == {frozenset({"a", "b"}), frozenset({"c"})}
    assert report.merged == 1


def test_a_weak_link_does_not_fuse_two_established_clusters() -> None:
    records = _records([(x, None, None) for x in "abcd"])
    edges = [("a", "b", 0.99999), ("c", "d", 0.99999), ("b", "c", 0.995)]
    groups, report = cluster_records(records, _pairs(edges), _settings())
    assert _groups(groups) == {frozenset("ab"), frozenset("cd")}
    assert report.refused_weak_link == 1
    strong = [*edges[:2], ("b", "c", 0.999999)]
    groups, _ = cluster_records(records, _pairs(strong), _settings())
    assert _groups(groups) == {frozenset("abcd")}


def test_cluster_ids_are_stable_across_nights_and_splits_get_fresh_ids() -> None:
    night1 = pl.DataFrame({"record_id": ["r1", "r2", "r3", "r4"], "group": ["r1", "r1", "r1", "r4"]})
    first = stable_cluster_ids(night1)
    assert first.equals(stable_cluster_ids(night1))
    # Night 2: new record r5 joins r4's person; r1 splits off from r2/r3; group labels change.
    night2 = pl.DataFrame({"record_id": ["r1", "r2", "r3", "r4", "r5"], "group": ["r1", "r2", "r2", "r4", "r4"]})
    second = dict(stable_cluster_ids(night2, first).iter_rows())
    before = dict(first.iter_rows())
    assert second["r2"] == second["r3"] == before["r1"]  # the larger part keeps the id
    assert second["r1"] not in set(before.values())
    assert second["r5"] == second["r4"] == before["r4"]


def test_person_clusters_cover_every_record() -> None:
    records = _records([("a", None, 1980), ("b", None, 1980), ("c", None, 1970)]).drop("valid_person_id")
    records = records.with_columns(
        pl.lit(None, dtype=pl.String).alias("person_id_norm"),
        pl.lit(False).alias("person_id_valid"),
        pl.lit(None, dtype=pl.Int32).alias("birth_day"),
        pl.lit(None, dtype=pl.Date).alias("birth_date_value"),
    )
    clusters, _ = person_clusters(records, _pairs([("a", "b", 0.999)]), population_settings())
    assert clusters.columns == ["record_id", "cluster_id", "source"]
    assert clusters.height == 3
    ids = dict(zip(clusters.get_column("record_id"), clusters.get_column("cluster_id"), strict=True))
    assert ids["a"] == ids["b"] != ids["c"]


def test_fresh_ids_derive_from_the_smallest_record_id() -> None:
    from matchers.engine.clustering import _fresh_id

    groups = pl.DataFrame({"record_id": ["b", "a", "c"], "group": ["a", "a", "c"]})
    ids = dict(stable_cluster_ids(groups).iter_rows())
    assert ids == {"a": _fresh_id("a"), "b": _fresh_id("a"), "c": _fresh_id("c")}
    # A fresh id already used by a previous night is salted, never reused.
    previous = pl.DataFrame({"record_id": ["z"], "cluster_id": [_fresh_id("c")]})
    again = dict(stable_cluster_ids(groups.filter(pl.col("record_id") == "c"), previous).iter_rows())
    assert again == {"c": _fresh_id("c#1")}


def _reference_clusters(records: pl.DataFrame, pairs: pl.DataFrame, settings: MatchSettings) -> dict[str, str]:
    """The clustering rules record by record, as plainly as they read: strongest edge first, refuse a weak link
    between two established clusters, a vetoed pair across them, or a broken conflict rule between two records
    that were not matched directly. Record → smallest record id of its cluster."""
    ids = records.get_column("record_id").to_list()
    values = {c: dict(zip(ids, records.get_column(c).to_list(), strict=True)) for c in records.columns}
    vetoed = pairs.filter(pl.col("level_veto") != "none")
    apart = {frozenset(p) for p in zip(vetoed.get_column("left_id"), vetoed.get_column("right_id"), strict=True)}
    edges = pairs.filter(pl.col("decision") == "match").sort(
        ["match_weight", "left_id", "right_id"], descending=[True, False, False]
    )
    direct = {frozenset(p) for p in zip(edges.get_column("left_id"), edges.get_column("right_id"), strict=True)}
    cluster = {i: frozenset([i]) for i in ids}

    def breaks(x: str, y: str) -> bool:
        for rule in settings.conflicts:
            pairs_of = [(values[c][x], values[c][y]) for c in rule.columns]
            if any(a is None or b is None for a, b in pairs_of):
                continue
            if all(
                (abs(a - b) > rule.tolerance) if rule.tolerance is not None and c == rule.column else a != b
                for (a, b), c in zip(pairs_of, rule.columns, strict=True)
            ):
                return True
        return False

    for left_id, right_id, probability in edges.select("left_id", "right_id", "match_probability").iter_rows():
        a, b = cluster[left_id], cluster[right_id]
        if a == b or (len(a) > 1 and len(b) > 1 and probability < settings.thresholds.strong_link):
            continue
        crossing = [(x, y) for x in a for y in b]
        if any(frozenset(p) in apart for p in crossing):
            continue
        if any(frozenset(p) not in direct and breaks(*p) for p in crossing):
            continue
        for record in a | b:
            cluster[record] = a | b
    return {record: min(members) for record, members in cluster.items()}


def test_clusters_agree_with_the_rules_applied_record_by_record() -> None:
    import random

    generator = random.Random(14)
    settings = _settings()
    for _ in range(30):
        size = generator.randint(2, 40)
        ids = [f"r{i:03d}" for i in range(size)]
        records = _records(
            [(i, generator.choice([None, "001085000001", "001085000002"]), generator.choice([1980, 1981, 1990]))
             for i in ids]
        ).with_columns(
            pl.Series("sex_norm", [generator.choice([None, "Nam", "Nữ"]) for _ in ids]),
            pl.Series("given_key", [generator.choice([None, "an", "binh"]) for _ in ids]),
        )  # fmt: skip
        chosen = {tuple(sorted(generator.sample(ids, 2))) for _ in range(generator.randint(1, 3 * size))}
        pairs = pl.DataFrame(
            {
                "left_id": [p[0] for p in chosen],
                "right_id": [p[1] for p in chosen],
                "match_probability": [generator.choice([0.995, 0.99995, 0.999999]) for _ in chosen],
                "decision": [generator.choice(["match", "match", "match", "non_match"]) for _ in chosen],
                "level_veto": [generator.choice(["none"] * 6 + ["two_people"]) for _ in chosen],
            }
        ).with_columns(pl.col("match_probability").alias("match_weight"))
        groups, _ = cluster_records(records, pairs, settings)
        assert dict(groups.iter_rows()) == _reference_clusters(records, pairs, settings)


def test_stable_ids_agree_with_a_plain_mapping() -> None:
    import random

    from matchers.engine.clustering import _fresh_id, claim_previous_ids, cluster_votes

    generator = random.Random(7)
    for _ in range(20):
        ids = [f"r{i:03d}" for i in range(generator.randint(1, 60))]
        groups = pl.DataFrame({"record_id": ids, "group": [min(generator.choice(ids), i) for i in ids]})
        previous = pl.DataFrame(
            {"record_id": ids, "cluster_id": [generator.choice(["P1", "P2", _fresh_id("r000")]) for _ in ids]}
        ).sample(fraction=generator.random(), seed=generator.randint(0, 99))
        for last_night in (None, previous):
            assigned: dict[str, str] = {}
            taken: set[str] = set()
            if last_night is not None and last_night.height:
                assigned = claim_previous_ids(cluster_votes(groups, last_night))
                taken = set(assigned.values()) | set(last_night.get_column("cluster_id").to_list())
            for group in sorted(set(groups.get_column("group").to_list()) - set(assigned)):
                candidate, salt = _fresh_id(group), 0
                while candidate in taken:
                    salt += 1
                    candidate = _fresh_id(f"{group}#{salt}")
                assigned[group] = candidate
                taken.add(candidate)
            expected = [assigned[g] for g in groups.get_column("group").to_list()]
            result = stable_cluster_ids(groups, last_night)
            assert result.get_column("record_id").to_list() == ids
            assert result.get_column("cluster_id").to_list() == expected
