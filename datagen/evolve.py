"""The next night's base snapshot: the national system's export a day later, a small share of it changed.

Ward police and the civil-status officers fix records every day: a person re-verified, a card issued or renewed, an
address moved, a name corrected, a death recorded, a household head changed; births add records and removals
(deaths purged, people moved out of the province) drop some. ``evolve_base`` applies such edits to a canonical base
frame, deterministically from a seed, so benchmarks and tests can run a province over several nights.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

__all__ = ["BaseEdits", "evolve_base"]

_KINDS = ("verified", "card", "moved", "name", "death", "head")
_KIND_SHARE = np.array([0.40, 0.20, 0.20, 0.10, 0.05, 0.05])


@dataclass(frozen=True)
class BaseEdits:
    """Record ids edited, added and removed by one ``evolve_base`` call."""

    changed: list[str]
    added: list[str]
    removed: list[str]


def _iso(day: date) -> str:
    return day.isoformat()


def evolve_base(
    base: pl.DataFrame,
    night: date,
    *,
    seed: int,
    changed: float = 0.005,
    added: float = 0.0005,
    removed: float = 0.0002,
    id_prefix: str = "N",
) -> tuple[pl.DataFrame, BaseEdits]:
    """``base`` (canonical columns) as exported the day before ``night``: ``changed`` of its records edited,
    ``added`` new records (births, numbered ``{id_prefix}{night}…``), ``removed`` records gone. Row order is kept
    for the rest (a removed row shifts the ones after it, as in a real export)."""
    rng = np.random.default_rng([seed, night.toordinal()])
    n = base.height
    order = rng.permutation(n)
    n_removed = round(n * removed)
    n_changed = round(n * changed)
    gone = np.sort(order[:n_removed])
    edited = order[n_removed : n_removed + n_changed]
    kinds = rng.choice(len(_KINDS), size=edited.size, p=_KIND_SHARE)
    yesterday = night - timedelta(days=1)
    frame = base.with_row_index("_i")
    donors = rng.integers(0, n, size=edited.size)
    donor_addresses = base.get_column("permanent_address").gather(pl.Series(donors))
    donor_names = base.get_column("full_name").gather(pl.Series(donors))
    edits = pl.DataFrame(
        {
            "_i": pl.Series(edited, dtype=pl.UInt32),
            "_kind": pl.Series([_KINDS[k] for k in kinds], dtype=pl.String),
            "_address": donor_addresses,
            "_donor_name": donor_names,
        }
    )
    frame = frame.join(edits, on="_i", how="left", maintain_order="left")
    kind = pl.col("_kind")
    given = pl.col("_donor_name").str.split(" ").list.last()
    renamed = pl.concat_str(
        [pl.col("full_name").str.split(" ").list.slice(0, pl.col("full_name").str.split(" ").list.len() - 1)
         .list.join(" "), given], separator=" ")  # fmt: skip
    frame = frame.with_columns(
        pl.when(kind.is_not_null()).then(pl.lit(_iso(yesterday))).otherwise(pl.col("last_verified_date"))
        .alias("last_verified_date"),
        pl.when(kind == "card").then(pl.coalesce("card_number", "person_id")).otherwise(pl.col("card_number"))
        .alias("card_number"),
        pl.when(kind == "card").then(pl.lit(_iso(yesterday))).otherwise(pl.col("card_issue_date"))
        .alias("card_issue_date"),
        pl.when(kind == "card").then(pl.lit(None, dtype=pl.String)).otherwise(pl.col("card_expiry_date"))
        .alias("card_expiry_date"),
        pl.when(kind == "moved").then(pl.col("_address")).otherwise(pl.col("permanent_address"))
        .alias("permanent_address"),
        pl.when(kind == "name").then(renamed).otherwise(pl.col("full_name")).alias("full_name"),
        pl.when(kind == "death").then(pl.lit(_iso(yesterday - timedelta(days=3)))).otherwise(pl.col("death_date"))
        .alias("death_date"),
        pl.when(kind == "head").then(pl.lit("Chủ hộ")).otherwise(pl.col("relation_to_head"))
        .alias("relation_to_head"),
    )  # fmt: skip
    kept = frame.filter(~pl.col("_i").is_in(pl.Series(gone, dtype=pl.UInt32).implode()))
    n_added = round(n * added)
    parents = base.sample(n_added, seed=int(rng.integers(0, 2**31)), with_replacement=True) if n_added else base.head(0)
    stamp = night.strftime("%Y%m%d")
    births = parents.with_columns(
        (pl.lit(f"{id_prefix}{stamp}") + pl.int_range(pl.len()).cast(pl.String).str.zfill(7)).alias("record_id"),
        pl.lit(None, dtype=pl.String).alias("person_id"),
        pl.lit(None, dtype=pl.String).alias("old_id_number"),
        pl.lit(_iso(yesterday - timedelta(days=20))).alias("birth_date"),
        pl.col("full_name").str.split(" ").list.first().alias("_family"),
        pl.lit(None, dtype=pl.String).alias("card_number"),
        pl.lit(None, dtype=pl.String).alias("card_issue_date"),
        pl.lit(None, dtype=pl.String).alias("card_expiry_date"),
        pl.lit(None, dtype=pl.String).alias("card_issue_place"),
        pl.lit(None, dtype=pl.String).alias("spouse_name"),
        pl.lit(None, dtype=pl.String).alias("death_date"),
        pl.lit("Con").alias("relation_to_head"),
        pl.lit(_iso(yesterday)).alias("last_verified_date"),
    ).with_columns(
        (pl.col("_family") + pl.lit(" ") + pl.col("full_name").str.split(" ").list.last()).alias("full_name"),
    )
    columns = base.columns
    result = pl.concat([kept.select(columns), births.select(columns)], how="vertical")
    ids = base.get_column("record_id")
    return result, BaseEdits(
        changed=ids.gather(pl.Series(np.sort(edited))).to_list(),
        added=births.get_column("record_id").to_list(),
        removed=ids.gather(pl.Series(gone)).to_list(),
    )
