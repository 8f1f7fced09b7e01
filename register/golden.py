"""The golden-record builder: one row per person (cluster) with a golden value per field, chosen by the survivorship
rules, and the lineage of every value.

Inputs are explicit so that any subset of person keys can be rebuilt on its own (an incremental night, one Spark
partition): the night's normalized records of those persons, the clusters (record_id → person key) and the
previous register rows of those persons. Everything is vectorized Polars over the records of the partition: one
sort per field, no Python loop over rows.

Values from events (a death, a move, a new card) persist across nights through the previous register: each such
golden value re-enters the next night as a candidate with its original record, source, date and night. Values of
the population base are taken from tonight's base only, so a base correction reaches the register the night it
arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import polars as pl

from normalize.columns import ADDRESS_COLUMNS
from normalize.frame import normalize_records
from records.schema import CANONICAL_SCHEMA
from register.fields import ANCHOR, carried_columns, kind_of, possible_death, prepare_kinds
from register.rules import FieldRule, SourceSpec, SurvivorshipRules, survivorship_rules
from register.types import LINEAGE, code_columns, source_column

__all__ = [
    "RegisterBuild",
    "assign_successors",
    "attach_person_keys",
    "build_golden",
    "register_columns",
    "renormalized",
]

_PSEUDO: Final = "_previous"
_HELPERS: Final = ("_ethnicity_value", "_ethnicity_key", "_ethnicity_valid", "_ethnicity_code")


@dataclass(frozen=True)
class RegisterBuild:
    """What one build produces.

    register: the documented columns of register.parquet. golden: the same rows with every normalized column of the
    golden values as well (what the quality checks of the register read). records: tonight's records with their
    person key and helper columns (what the change-set builder compares with).
    """

    register: pl.DataFrame
    golden: pl.DataFrame
    records: pl.DataFrame


def register_columns(rules: SurvivorshipRules | None = None) -> tuple[str, ...]:
    """The columns of register.parquet, in order."""
    rules = rules or survivorship_rules()
    golden = [c for rule in rules.fields for column in rule.columns for c in (column, *code_columns(column))]
    lineage = [source_column(c) for c in (*rules.columns, "status")]
    return (
        "person_key",
        "record_ids",
        "status",
        "in_base",
        *golden,
        "conflicts",
        "conflict_record_ids",
        "updated_night",
        *lineage,
    )


def attach_person_keys(records: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    """``records`` with ``person_key`` (the cluster id); every record must belong to a cluster."""
    keys = clusters.select(
        pl.col("record_id").cast(pl.String), pl.col("cluster_id").cast(pl.String).alias("person_key")
    )
    # Only the id column goes through the join: the records keep their columns (no copy of a wide frame).
    person_key = (
        records.select("record_id")
        .join(keys.unique("record_id", keep="first"), on="record_id", how="left", maintain_order="left")
        .get_column("person_key")
    )
    keyed = records.with_columns(person_key)
    missing = keyed.filter(pl.col("person_key").is_null())
    if missing.height:
        sample = ", ".join(missing["record_id"].head(5).to_list())
        raise ValueError(
            f"{missing.height} bản ghi không có mã người trong các cụm / records without a cluster: {sample}"
        )
    return keyed


def assign_successors(previous: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    """The previous register rows with ``successor``: tonight's person key of the cluster holding most of the row's
    records (ties: the row's own key, then the smallest key), or the row's own key when tonight's clusters still use
    it; null when none of its records is seen tonight (the row is carried over as it is)."""
    keys = clusters.select(pl.col("record_id").cast(pl.String), pl.col("cluster_id").cast(pl.String))
    exploded = previous.select("person_key", pl.col("record_ids").alias("record_id")).explode("record_id")
    votes = (
        exploded.join(keys, on="record_id", how="inner")
        .group_by("person_key", "cluster_id")
        .agg(pl.len().alias("_votes"))
        .with_columns((pl.col("cluster_id") == pl.col("person_key")).alias("_own"))
        .sort(["person_key", "_votes", "_own", "cluster_id"], descending=[False, True, True, False])
        .unique("person_key", keep="first", maintain_order=True)
        .select("person_key", pl.col("cluster_id").alias("_voted"))
    )
    live_keys = keys.select(pl.col("cluster_id").alias("_live")).unique()
    # The successor is worked out on the key column alone and added to the rows (no copy of the wide rows).
    successor = (
        previous.select("person_key")
        .join(votes, on="person_key", how="left", maintain_order="left")
        .join(live_keys, left_on="person_key", right_on="_live", how="left", maintain_order="left", coalesce=False)
        .select(pl.coalesce("_voted", "_live").alias("successor"))
        .get_column("successor")
    )
    if previous.n_chunks("all") != [1] * previous.width:
        previous = previous.rechunk()
    return previous.with_columns(successor)


def _spec_match(spec: SourceSpec, prefix: str = "") -> pl.Expr:
    match = pl.col(f"{prefix}source") == spec.source
    if spec.event_type is not None:
        match = match & (pl.col(f"{prefix}event_type") == spec.event_type)
    return match.fill_null(False)


def _priority(specs: tuple[SourceSpec, ...]) -> pl.Expr:
    expression: pl.Expr = pl.lit(None, dtype=pl.Int16)
    for rank, spec in reversed(list(enumerate(specs))):
        expression = pl.when(_spec_match(spec)).then(pl.lit(rank, dtype=pl.Int16)).otherwise(expression)
    return expression


def _tier(rule: FieldRule) -> pl.Expr:
    """0 for a record of ``priority``, 1 for one of ``fallback`` (considered only when no priority record gives the
    value), null for any other record."""
    return (
        pl.when(_priority(rule.priority).is_not_null())
        .then(pl.lit(0, dtype=pl.Int8))
        .when(_priority(rule.fallback).is_not_null())
        .then(pl.lit(1, dtype=pl.Int8))
    )


def _rank(rule: FieldRule) -> pl.Expr:
    return pl.coalesce(_priority(rule.priority), _priority(rule.fallback) + len(rule.priority))


def _default_as_of(rules: SurvivorshipRules) -> pl.Expr:
    expression: pl.Expr = pl.lit(None, dtype=pl.Date)
    for source, columns in rules.as_of.items():
        dates = [pl.col(f"{c}_value") for c in columns]
        expression = pl.when(pl.col("source") == source).then(pl.coalesce(dates)).otherwise(expression)
    return expression


def _prepare(records: pl.DataFrame, rules: SurvivorshipRules, night: date) -> pl.DataFrame:
    prepared = prepare_kinds(records, rules.columns)
    return prepared.with_columns(
        _default_as_of(rules).alias("_as_of"),
        pl.lit(night, dtype=pl.Date).alias("_night"),
        pl.lit(False).alias(_PSEUDO),
    )


def _previous_candidates(assigned: pl.DataFrame, rules: SurvivorshipRules, night: date) -> pl.DataFrame | None:
    """Golden values of earlier nights that came from an event (not the base) as candidate records of tonight."""
    parts: list[pl.DataFrame] = []
    for rule in rules.fields:
        lineage = pl.col(source_column(rule.columns[0]))
        keep = lineage.is_not_null() & (lineage.struct.field("source") != "base") & pl.col("successor").is_not_null()
        part = assigned.select("successor", lineage, *rule.columns).filter(keep)
        if part.height == 0:
            continue
        parts.append(
            part.select(
                pl.col("successor").alias("person_key"),
                lineage.struct.field("record_id").alias("record_id"),
                lineage.struct.field("source").alias("source"),
                lineage.struct.field("event_type").alias("event_type"),
                lineage.struct.field("as_of").alias("_as_of"),
                lineage.struct.field("night").alias("_night"),
                *(pl.col(c) for c in rule.columns),
            )
        )
    if not parts:
        return None
    merged = pl.concat(parts, how="diagonal_relaxed")
    value_columns = [
        c for c in merged.columns if c in CANONICAL_SCHEMA and c not in ("record_id", "source", "event_type")
    ]
    merged = merged.group_by("person_key", "record_id", maintain_order=True).agg(
        pl.col("source", "event_type", "_as_of", "_night").first(),
        *(pl.col(c).drop_nulls().first() for c in value_columns),
    )
    canonical = merged.with_columns(
        [pl.lit(None, dtype=pl.String).alias(c) for c in CANONICAL_SCHEMA if c not in merged.columns]
    )
    normalized = normalize_records(canonical.select(list(CANONICAL_SCHEMA)), as_of=night)
    return prepare_kinds(normalized, rules.columns).with_columns(
        canonical["person_key"], canonical["_as_of"], canonical["_night"], pl.lit(True).alias(_PSEUDO)
    )


def _agree_columns(column: str) -> list[str]:
    kind = kind_of(column)
    if kind.key is not None:
        return [f"_key_{column}"]
    if kind.name == "date":
        return [column, f"{column}_value", f"{column}_precision"]
    return [f"{column}_norm", f"_streetkey_{column}", f"{column}_ward_code", f"{column}_candidates"]


def _helper_columns(column: str) -> list[str]:
    kind = kind_of(column)
    if kind.name == "text":
        return [f"_text_{column}", f"_textkey_{column}"]
    if kind.name == "ethnicity":
        return list(_HELPERS)
    if kind.name == "address":
        return [f"_streetkey_{column}"]
    return []


def _valid(rule: FieldRule) -> pl.Expr:
    if rule.name == "death":
        return possible_death()
    return pl.any_horizontal([kind_of(c).valid(c) for c in rule.present]).fill_null(False)


def _candidates(rule: FieldRule, pools: list[pl.DataFrame]) -> pl.DataFrame:
    """The records that can give ``rule``'s value, with ranking columns, values and what travels with them.

    pools: tonight's records and, on later nights, the earlier nights' event values; each is narrowed to this rule's
    columns before they are put together (a wide frame is never concatenated)."""
    frames = [_rule_columns(rule, pool) for pool in pools]
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    present = pl.any_horizontal(
        [pl.col(f"_value_{c}").is_not_null() & (pl.col(f"_value_{c}") != "") for c in rule.present]
    )
    frame = frame.filter(present)
    if len(rule.columns) == 1:
        column = rule.columns[0]
        frame = frame.with_columns(kind_of(column).quality(column).alias("_quality"))
    return frame.with_row_index("_row")


def _rule_columns(rule: FieldRule, records: pl.DataFrame) -> pl.DataFrame:
    value_columns = {c: kind_of(c).value(c) for c in rule.columns}
    as_of = pl.coalesce([pl.col(f"{c}_value") for c in rule.as_of]) if rule.as_of else pl.col("_as_of")
    wanted = {"record_id", "source", "event_type", "person_key", "_night", "birth_date_value", "legacy_encoded_columns"}
    for column in rule.columns:
        wanted.update([column, *carried_columns(column), *_helper_columns(column)])
    kept = [c for c in records.columns if c in wanted]
    return records.select(
        *kept,
        as_of.alias("_as_of"),
        _tier(rule).alias("_tier"),
        _rank(rule).alias("_priority"),
        _valid(rule).alias("_valid"),
        *(expression.alias(f"_value_{c}") for c, expression in value_columns.items()),
        *(kind_of(c).key(c).alias(f"_key_{c}") for c in rule.columns if kind_of(c).key is not None),  # type: ignore[misc]
        pl.col(_PSEUDO),
    )


def _ranking(rule: FieldRule, *, quality_first: bool) -> tuple[list[pl.Expr], list[bool]]:
    # The better form first among agreeing candidates (whatever their source); otherwise priority records before
    # fallback records.
    keys: list[pl.Expr] = [pl.col("_quality"), pl.col("_tier")] if quality_first else [pl.col("_tier")]
    descending: list[bool] = [True, False] if quality_first else [False]
    for criterion in rule.order:
        if criterion == "valid":
            keys.append(pl.col("_valid"))
            descending.append(True)
        elif criterion == "priority":
            keys.append(pl.col("_priority"))
            descending.append(False)
        elif criterion == "recency":
            keys += [pl.col("_as_of"), pl.col("_night")]
            descending += [True, True]
        elif criterion == "latest":
            keys.append(pl.col(f"{rule.columns[0]}_value"))
            descending.append(True)
    keys.append(pl.col("record_id"))
    descending.append(False)
    return keys, descending


def _best(frame: pl.DataFrame, rule: FieldRule, *, quality_first: bool = False) -> pl.DataFrame:
    """The first candidate of each person by the rule's ranking. Only the ranking columns are sorted (a candidate
    carries dozens of columns; moving them all through a sort costs more than the sort)."""
    keys, descending = _ranking(rule, quality_first=quality_first)
    ranked = frame.group_by("person_key").agg(
        pl.col("_row").sort_by(keys, descending=descending, nulls_last=True).first()
    )
    return frame.filter(pl.col("_row").is_in(ranked["_row"].implode()))


def _with_anchor(frame: pl.DataFrame, anchor: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    renamed = anchor.select(
        "person_key",
        pl.col("_row").alias(f"_row{ANCHOR}"),
        pl.col("source").alias(f"source{ANCHOR}"),
        *(pl.col(c).alias(f"{c}{ANCHOR}") for c in columns),
    )
    return frame.join(renamed, on="person_key", how="inner")


def _lineage() -> pl.Expr:
    return pl.struct(
        pl.col("record_id"),
        pl.col("source"),
        pl.col("event_type"),
        pl.col("_as_of").alias("as_of"),
        pl.col("_night").alias("night"),
    ).cast(LINEAGE)


def _select(rule: FieldRule, records: list[pl.DataFrame]) -> pl.DataFrame:
    """One row per person that has a candidate: the golden values of ``rule``, what travels with them, their
    lineage and, for ``on_conflict = "task"``, the records that hold a different value from another source."""
    candidates = _candidates(rule, records)
    eligible = candidates.filter(pl.col("_priority").is_not_null())
    winner = _best(eligible, rule)
    single = len(rule.columns) == 1
    column = rule.columns[0]
    agree_columns = _agree_columns(column) if single else []
    if single and rule.upgrade:
        joined = _with_anchor(candidates, winner, agree_columns)
        same = kind_of(column).agrees(column) | (pl.col("_row") == pl.col(f"_row{ANCHOR}"))
        winner = _best(joined.filter(same), rule, quality_first=True).select(candidates.columns)
    outputs: list[pl.Expr] = [pl.col("person_key")]
    for name in rule.columns:
        value = pl.col(f"_value_{name}")
        outputs.append(value.alias(name))
        outputs.extend(pl.col(c) for c in (*carried_columns(name), *_helper_columns(name)) if c in candidates.columns)
        if kind_of(name).key is not None:
            outputs.append(pl.col(f"_key_{name}"))
        outputs.append(pl.when(value.is_not_null()).then(_lineage()).alias(source_column(name)))
    selected = winner.select(outputs)
    if single and rule.on_conflict == "task":
        anchored = agree_columns + (["_value_birth_date"] if column == "birth_date" else [])
        others = _with_anchor(candidates.filter(pl.col("_valid")), winner, anchored)
        differing = others.filter(~kind_of(column).agrees(column) & (pl.col("source") != pl.col(f"source{ANCHOR}")))
        if column == "birth_date":
            # Day and month typed the other way round (dd/mm vs mm/dd) is the one disagreement that is plainly the
            # same date: the ranked value stands, without a task (and the change set does not carry the swap).
            swapped = (pl.col("birth_date_swapped") == pl.col(f"_value_birth_date{ANCHOR}")).fill_null(False)
            differing = differing.filter(~swapped)
        conflicts = differing.group_by("person_key").agg(
            pl.col("record_id").unique().sort().alias(f"_conflict_{rule.name}")
        )
        selected = selected.join(conflicts, on="person_key", how="left")
    return selected


def _status(golden: pl.DataFrame, records: pl.DataFrame, rules: SurvivorshipRules, previous: pl.DataFrame | None
            ) -> pl.DataFrame:  # fmt: skip
    """status (alive / deceased / moved_out) and its lineage."""
    deceased = possible_death()
    address_as_of = pl.col(source_column("permanent_address")).struct.field("as_of")
    parts: list[pl.DataFrame] = []
    if rules.deregistration:
        matches = pl.any_horizontal([_spec_match(spec) for spec in rules.deregistration])
        events = records.filter(matches & ~pl.col(_PSEUDO)).select(
            "person_key",
            "record_id",
            "source",
            "event_type",
            "_as_of",
            "_night",
            *_agree_columns("permanent_address"),
        )
        at_golden = golden.select(
            "person_key",
            *(pl.col(c).alias(f"{c}{ANCHOR}") for c in _agree_columns("permanent_address")),
            address_as_of.alias("_address_as_of"),
        )
        joined = events.join(at_golden, on="person_key", how="inner")
        # At the golden address, or anywhere when the register knows no permanent address for the person.
        here = (
            kind_of("permanent_address").agrees("permanent_address")
            | pl.col(f"permanent_address_norm{ANCHOR}").is_null()
        )
        later = pl.col("_address_as_of").is_null() | (pl.col("_as_of") >= pl.col("_address_as_of"))
        parts.append(joined.filter(here & later).select("person_key", _lineage().alias("_moved_out")))
    if previous is not None:
        # A move-out of an earlier night holds until a permanent registration more recent than it.
        carried = previous.filter((pl.col("status") == "moved_out") & pl.col("successor").is_not_null()).select(
            pl.col("successor").alias("person_key"), pl.col(source_column("status")).alias("_moved_out")
        )
        parts.append(carried)
    moved = (
        pl.concat(parts, how="vertical_relaxed")
        .sort("person_key", pl.col("_moved_out").struct.field("as_of"), descending=[False, True], nulls_last=True)
        .unique("person_key", keep="first", maintain_order=True)
        if parts
        else pl.DataFrame(schema={"person_key": pl.String, "_moved_out": LINEAGE})
    )
    needed = [
        "person_key",
        "death_date_value",
        "death_date_precision",
        "death_date_valid",
        "birth_date_value",
        *(source_column(c) for c in ("permanent_address", "full_name", "person_id", "death_date", "death_place")),
        "_any_source",
    ]
    with_moves = golden.select(needed).join(moved, on="person_key", how="left", maintain_order="left")
    moved_out = pl.col("_moved_out").is_not_null() & (
        address_as_of.is_null() | (pl.col("_moved_out").struct.field("as_of") >= address_as_of)
    )
    alive_lineage = pl.coalesce(
        pl.col(source_column("permanent_address")),
        pl.col(source_column("full_name")),
        pl.col(source_column("person_id")),
        pl.col("_any_source"),
    )
    status = with_moves.select(
        pl.when(deceased).then(pl.lit("deceased")).when(moved_out).then(pl.lit("moved_out")).otherwise(pl.lit("alive"))
        .alias("status"),
        pl.when(deceased)
        .then(pl.coalesce(pl.col(source_column("death_date")), pl.col(source_column("death_place"))))
        .when(moved_out)
        .then(pl.col("_moved_out"))
        .otherwise(alive_lineage)
        .alias(source_column("status")),
    )  # fmt: skip
    return golden.with_columns(status.get_columns())


def _contradiction() -> pl.Expr:
    """person_id_contradiction recomputed on the golden values (the ID and the birth date may come from different
    records)."""
    valid = pl.col("person_id_valid").fill_null(False)
    year = valid & (pl.col("person_id_birth_year") != pl.col("birth_year")).fill_null(False)
    sex = valid & (pl.col("person_id_sex") != pl.col("sex_norm")).fill_null(False)
    return (
        pl.when(year & sex)
        .then(pl.lit("birth_year,sex"))
        .when(year)
        .then(pl.lit("birth_year"))
        .when(sex)
        .then(pl.lit("sex"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _keep_lineage_nights(golden: pl.DataFrame, previous: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    """A value kept from the same record as last night keeps the night it was first taken."""
    # Of several rows handed to one person, the row that had the person's own key (sorted on the keys alone).
    chosen = (
        previous.select("person_key", "successor")
        .filter(pl.col("successor").is_not_null())
        .sort(pl.col("person_key") != pl.col("successor"), "person_key")
        .unique("successor", keep="first")
        .select("person_key")
    )
    renamed = (
        previous.select(
            "person_key",
            "successor",
            *(pl.col(c).alias(f"{c}_before") for c in columns),
            *(pl.col(source_column(c)).alias(f"{source_column(c)}_before") for c in columns),
        )
        .join(chosen, on="person_key", how="semi")
        .drop("person_key")
        .rename({"successor": "person_key"})
    )
    joined = golden.select("person_key", *columns, *(source_column(c) for c in columns)).join(
        renamed, on="person_key", how="left", maintain_order="left"
    )
    updates = []
    for column in columns:
        lineage, earlier = pl.col(source_column(column)), pl.col(f"{source_column(column)}_before")
        same = (
            (pl.col(column) == pl.col(f"{column}_before"))
            & (lineage.struct.field("record_id") == earlier.struct.field("record_id"))
        ).fill_null(False)
        night = pl.when(same).then(earlier.struct.field("night")).otherwise(lineage.struct.field("night"))
        updates.append(
            pl.when(lineage.is_not_null())
            .then(lineage.struct.with_fields(night.alias("night")))
            .alias(source_column(column))
        )
    return golden.with_columns(joined.select(updates).get_columns())


def build_golden(
    records: pl.DataFrame,
    clusters: pl.DataFrame,
    night: date,
    *,
    previous: pl.DataFrame | None = None,
    rules: SurvivorshipRules | None = None,
    normalize_carried: bool = True,
) -> RegisterBuild:
    """The register of ``night`` for the persons of ``records``.

    records: normalized records (canonical + ``normalize.columns``) of tonight, every source. clusters: record_id →
    cluster_id for at least those records. previous: the previous register version's rows (register.parquet
    columns) of the same persons, or None on the first night; rows none of whose records is seen tonight are carried
    over unchanged. normalize_carried: give the carried rows their normalized columns in ``golden`` too (what the
    checks of the whole register read); an incremental night that checks only the persons it rebuilt can skip it.
    """
    rules = rules or survivorship_rules()
    # Contiguous columns once: adding a column to a frame read in several chunks copies every column of it.
    if records.n_chunks("all") != [1] * records.width:
        records = records.rechunk()
    keyed = _prepare(attach_person_keys(records, clusters), rules, night)
    # Successors among the persons of these records only: a partition never hands a row to a person it lacks.
    here = clusters.join(keyed.select("record_id"), on="record_id", how="semi")
    assigned = assign_successors(previous, here) if previous is not None else None
    pools = [keyed]
    if assigned is not None:
        earlier = _previous_candidates(assigned, rules, night)
        if earlier is not None:
            pools.append(earlier)

    persons = keyed.group_by("person_key", maintain_order=True).agg(
        pl.col("record_id").unique().sort().alias("_tonight_ids"),
        (pl.col("source") == "base").any().alias("in_base"),
    )
    name_rule = rules.field("full_name")
    first_record = _best(
        keyed.select(
            "person_key", "record_id", "source", "event_type", "_as_of", "_night",
            _tier(name_rule).fill_null(2).alias("_tier"), _rank(name_rule).alias("_priority"),
            pl.lit(True).alias("_valid"),
        ).with_row_index("_row"),
        name_rule,
    ).select("person_key", _lineage().alias("_any_source"))  # fmt: skip
    persons = persons.join(first_record, on="person_key", how="left", maintain_order="left").sort("person_key")
    keys = persons.select("person_key")
    # Each rule's values aligned on the persons (a narrow join each), then side by side: joining every rule onto a
    # frame that grows to a hundred columns would copy it a dozen times.
    parts = [persons]
    conflict_columns: list[str] = []
    for rule in rules.fields:
        selected = _select(rule, pools)
        parts.append(keys.join(selected, on="person_key", how="left", maintain_order="left").drop("person_key"))
        if f"_conflict_{rule.name}" in selected.columns:
            conflict_columns.append(f"_conflict_{rule.name}")
    golden = pl.concat(parts, how="horizontal")
    # A person none of whose candidates holds a column still gets the column (null), with its normalized columns.
    for column in rules.columns:
        for name in (column, *carried_columns(column), source_column(column)):
            if name not in golden.columns:
                dtype = LINEAGE if name == source_column(column) else records.schema.get(name, pl.String())
                golden = golden.with_columns(pl.lit(None, dtype=dtype).alias(name))
    golden = golden.with_columns(
        pl.concat_list(
            [pl.when(pl.col(c).list.len() > 0).then(pl.lit(c.removeprefix("_conflict_"))) for c in conflict_columns]
            or [pl.lit(None, dtype=pl.String)]
        ).list.drop_nulls().alias("conflicts"),
        pl.concat_list(
            [pl.col(c).fill_null(pl.lit([], dtype=pl.List(pl.String))) for c in conflict_columns]
            or [pl.lit([], dtype=pl.List(pl.String))]
        )
        .list.unique()
        .list.sort()
        .alias("conflict_record_ids"),
        pl.col("_ethnicity_code").alias("ethnicity_code") if "_ethnicity_code" in golden.columns
        else pl.lit(None, dtype=pl.String).alias("ethnicity_code"),
    ).drop(conflict_columns)  # fmt: skip
    golden = _status(golden, keyed, rules, assigned)
    if assigned is not None:
        # The status too: an unchanged status from the same record keeps the night it was first set.
        golden = _keep_lineage_nights(golden, assigned, (*rules.columns, "status"))
    golden = golden.with_columns(
        _contradiction().alias("person_id_contradiction"),
        # A resolved golden address is written in the post-2025 form: no old unit is left in it.
        *(
            pl.when(pl.col(f"{c}_status") == "resolved")
            .then(pl.lit(None, dtype=pl.String))
            .otherwise(pl.col(f"{c}_legacy_ward_code"))
            .alias(f"{c}_legacy_ward_code")
            for c in ADDRESS_COLUMNS
            if f"{c}_legacy_ward_code" in golden.columns
        ),
    )

    # Record ids: tonight's, plus the earlier records of the rows each person succeeds that are not seen tonight.
    if assigned is not None:
        # Every record seen tonight, in this partition or another, stays with tonight's cluster.
        tonight_ids = clusters.select(pl.col("record_id").cast(pl.String))
        inherited = (
            assigned.filter(pl.col("successor").is_not_null())
            .select(pl.col("successor").alias("person_key"), pl.col("record_ids").alias("record_id"))
            .explode("record_id")
            .join(tonight_ids, on="record_id", how="anti")
            .group_by("person_key")
            .agg(pl.col("record_id").alias("_inherited"))
        )
        ids = (
            golden.select("person_key", "_tonight_ids")
            .join(inherited, on="person_key", how="left", maintain_order="left")
            .select(
                pl.when(pl.col("_inherited").is_null())
                .then(pl.col("_tonight_ids"))
                .otherwise(pl.concat_list("_tonight_ids", "_inherited").list.unique().list.sort())
                .alias("record_ids")
            )
        )
        golden = golden.with_columns(ids.get_columns())
    else:
        golden = golden.with_columns(pl.col("_tonight_ids").alias("record_ids"))
    golden = golden.drop("_tonight_ids", "_any_source")

    compared = [*rules.columns, "status"]
    if assigned is not None:
        before = assigned.select("successor", *compared, "updated_night").filter(pl.col("successor").is_not_null())
        single = before.group_by("successor").agg(pl.len().alias("_rows"), pl.col("updated_night").first())
        unchanged_rows = (
            before.join(single.filter(pl.col("_rows") == 1).select("successor"), on="successor", how="semi")
            .select(pl.col("successor").alias("person_key"), *(pl.col(c).alias(f"{c}_before") for c in compared),
                    pl.col("updated_night").alias("_updated_before"))
        )  # fmt: skip
        compare = golden.select("person_key", *compared).join(
            unchanged_rows, on="person_key", how="left", maintain_order="left"
        )
        same = pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"{c}_before")) for c in compared])
        updated = compare.select(
            pl.when(pl.col("_updated_before").is_not_null() & same)
            .then(pl.col("_updated_before"))
            .otherwise(pl.lit(night, dtype=pl.Date))
            .alias("updated_night")
        )
        golden = golden.with_columns(updated.get_columns())
    else:
        golden = golden.with_columns(pl.lit(night, dtype=pl.Date).alias("updated_night"))

    columns = register_columns(rules)
    register = golden.select(columns)
    if assigned is not None:
        carried = assigned.filter(pl.col("successor").is_null()).select(columns).cast(register.schema)
        if carried.height:
            carried = carried.sort("person_key")
            register = register.merge_sorted(carried, key="person_key")
            if normalize_carried:
                again = renormalized(carried, night, rules)
                golden = pl.concat([golden, again.select([c for c in golden.columns if c in again.columns])],
                                   how="diagonal_relaxed").sort("person_key")  # fmt: skip
    return RegisterBuild(register=register, golden=golden, records=keyed)


def renormalized(register: pl.DataFrame, night: date, rules: SurvivorshipRules | None = None) -> pl.DataFrame:
    """Register rows (register.parquet columns) with every normalized column of their golden values, computed
    again from the golden display values (for rows a build carried over without rebuilding them)."""
    rules = rules or survivorship_rules()
    canonical = register.select(
        pl.col("person_key").alias("record_id"),
        pl.lit("base").alias("source"),
        *(pl.col(c) if c in register.columns else pl.lit(None, dtype=pl.String).alias(c)
          for c in CANONICAL_SCHEMA if c not in ("record_id", "source")),
    ).select(list(CANONICAL_SCHEMA))  # fmt: skip
    normalized = prepare_kinds(normalize_records(canonical, as_of=night), rules.columns)
    added = [c for c in normalized.columns if c not in register.columns and c not in CANONICAL_SCHEMA]
    extra = normalized.select(added).with_columns(pl.lit([], dtype=pl.List(pl.String)).alias("legacy_encoded_columns"))
    return pl.concat([register, extra], how="horizontal")
