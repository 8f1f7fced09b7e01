"""What every rule sees: tonight's normalized base and extracts, the match results, the night and the settings.

Derived views several rules share (all records with their routing ward, extract→base links, ages) are computed
once per context and cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Final

import polars as pl

from normalize import units

__all__ = ["ROUTING_COLUMNS", "CheckContext", "CheckSettings"]

ROUTING_COLUMNS: Final = ("permanent_address_ward_code", "current_address_ward_code")
"""The ward that must fix a record: where the person is registered, else where they live now."""


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """Thresholds of the rules; the defaults follow the law where there is one.

    verification_max_age_days: a base record not verified (last_verified_date) for longer is not "live".
    card_age: age from which a citizen must hold an ID card (Law on Identification 2023, art. 19).
    renewal_ages: ages at which a card must be renewed; a card issued within ``renewal_grace_years`` before one of
        them stays valid until the next (art. 21).
    reflection_grace_days: an event registered fewer days than this before the night is not yet expected in the base
        (the base snapshot is refreshed from the sources with some delay).
    name_similarity_floor: below this rapidfuzz ratio (0-100) two names sharing one ID are different people.
    """

    verification_max_age_days: int = 3 * 365
    card_age: int = 14
    renewal_ages: tuple[int, ...] = (25, 40, 60)
    renewal_grace_years: int = 2
    reflection_grace_days: int = 0
    name_similarity_floor: float = 60.0


@dataclass(frozen=True)
class CheckContext:
    """The inputs of one night's checks.

    base, extracts: normalized frames (canonical columns + ``normalize.columns``); pairs: scored pairs (left_id,
    right_id, match_probability, decision, kind, ...); clusters: record_id, cluster_id; night: the extract date,
    which is "today" for every date rule.
    """

    base: pl.DataFrame
    extracts: pl.DataFrame
    night: date
    pairs: pl.DataFrame | None = None
    clusters: pl.DataFrame | None = None
    settings: CheckSettings = field(default_factory=CheckSettings)

    @cached_property
    def records(self) -> pl.DataFrame:
        """Base and extract rows in one frame, with ``ward_code`` (routing), ``province_code`` (current) and
        ``cluster_id`` (the person the match stage assigned, null when unclustered)."""
        frames = [f for f in (self.base, self.extracts) if f.height or f.width]
        combined = pl.concat(frames, how="diagonal_relaxed") if frames else self.base
        if self.clusters is not None and "cluster_id" not in combined.columns:
            combined = combined.join(
                self.clusters.select("record_id", pl.col("cluster_id").cast(pl.String)).unique("record_id"),
                on="record_id",
                how="left",
                maintain_order="left",
            )
        elif "cluster_id" not in combined.columns:
            combined = combined.with_columns(pl.lit(None, dtype=pl.String).alias("cluster_id"))
        return with_routing(combined)

    @cached_property
    def base_records(self) -> pl.DataFrame:
        records = self.records
        base = records.get_column("source") == "base"
        # Every row a base row (the register's checks: no extracts): the frame itself, not a filtered copy of it.
        return records if base.all() and not base.has_nulls() else records.filter(base)

    @cached_property
    def extract_records(self) -> pl.DataFrame:
        return self.records.filter(pl.col("source") != "base")

    @cached_property
    def links(self) -> pl.DataFrame:
        """extract_id → base_id for every extract record the match stage (or an agreeing personal ID) ties to a base
        record. Columns: extract_id, base_id, via ("pair" / "cluster" / "person_id")."""
        base_ids = self.base_records.select(pl.col("record_id").alias("base_id"))
        extract_ids = self.extract_records.select(pl.col("record_id").alias("extract_id"))
        parts: list[pl.DataFrame] = []
        if self.pairs is not None and self.pairs.height:
            matched = self.pairs.filter(pl.col("decision") == "match").select("left_id", "right_id")
            both_ways = pl.concat(
                [
                    matched.select(pl.col("left_id").alias("extract_id"), pl.col("right_id").alias("base_id")),
                    matched.select(pl.col("right_id").alias("extract_id"), pl.col("left_id").alias("base_id")),
                ]
            )
            parts.append(both_ways.with_columns(pl.lit("pair").alias("via")))
        if self.clusters is not None and self.clusters.height:
            members = self.clusters.select("record_id", "cluster_id")
            # Only extract members can start a link: joining every member with every other would be quadratic in
            # the size of a cluster (a base repeating one person thousands of times).
            extract_members = members.join(extract_ids, left_on="record_id", right_on="extract_id", how="semi")
            parts.append(
                extract_members.rename({"record_id": "extract_id"})
                .join(members.rename({"record_id": "base_id"}), on="cluster_id")
                .select("extract_id", "base_id", pl.lit("cluster").alias("via"))
            )
        # A personal ID alone may be the very defect being hunted (one ID, two people), so it links only when the
        # given name or the birth date agrees as well.
        id_cols = ["record_id", "person_id_norm", "given_key", "birth_date_value"]
        # Lazily: only the ID columns are filtered (filtering the records copies every column of the rows kept).
        valid = pl.col("person_id_valid").fill_null(False)
        extract_side = self.extract_records.lazy().filter(valid).select(id_cols).collect(engine="in-memory")
        base_side = self.base_records.lazy().filter(valid).select(id_cols).collect(engine="in-memory")
        by_id = extract_side.join(base_side, on="person_id_norm", suffix="_base").filter(
            (pl.col("given_key") == pl.col("given_key_base"))
            | (pl.col("birth_date_value") == pl.col("birth_date_value_base"))
        )
        parts.append(
            by_id.select(
                pl.col("record_id").alias("extract_id"),
                pl.col("record_id_base").alias("base_id"),
                pl.lit("person_id").alias("via"),
            )
        )
        links = pl.concat(parts, how="vertical_relaxed")
        return (
            links.join(extract_ids, on="extract_id", how="semi")
            .join(base_ids, on="base_id", how="semi")
            .unique(subset=["extract_id", "base_id"], keep="first", maintain_order=True)
        )


def with_routing(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``ward_code`` (first resolved routing address) and ``province_code`` (its current province)."""
    present = [pl.col(c) for c in ROUTING_COLUMNS if c in frame.columns]
    ward = pl.coalesce(present) if present else pl.lit(None, dtype=pl.String)
    provinces = units.current_wards().select(
        pl.col("ward_code").alias("_ward"), pl.col("province_code").alias("province_code")
    )
    routed = frame.with_columns(ward.cast(pl.String).alias("ward_code"))
    # Only the key goes through the join, and its result is put beside the frame's columns: joining the frame itself
    # copies every column of it (a whole province's records, a hundred and more columns).
    province = routed.select("ward_code").join(
        provinces, left_on="ward_code", right_on="_ward", how="left", maintain_order="left"
    )
    if province.height != routed.height:  # a ward listed twice: the join's own rows, as joining the frame gives
        return routed.join(provinces, left_on="ward_code", right_on="_ward", how="left", maintain_order="left")
    return routed.with_columns(province.get_column("province_code"))
