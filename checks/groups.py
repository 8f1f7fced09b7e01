"""The groups of records a rule may judge a record together with (``Rule.groups``).

Most rules judge one record alone; the others read the records of a group whole, and whoever runs the rules on part
of the records (the nightly checks of what changed, the register's checks range by range) must hand them every
member of the groups they read. The group kinds are named after the column that keys them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from checks.rules._common import present

__all__ = [
    "CLUSTER",
    "EXTRACTS",
    "GROUPS",
    "GROUP_COLUMNS",
    "HOUSEHOLD",
    "PERSON_ID",
    "RECORD_GROUPS",
    "group_key",
    "in_a_group_of",
]

HOUSEHOLD: Final = "household_id"
"""The records of one household id that is present (not blank: a blank id is no household)."""
PERSON_ID: Final = "person_id_norm"
"""The records holding one valid personal ID (``person_id_valid``)."""
CLUSTER: Final = "cluster_id"
"""The records of one person the match stage found (its cluster, or without clusters its matched dedupe pairs)."""
EXTRACTS: Final = "extracts"
"""Tonight's extract records with the base records they are linked to (``CheckContext.links``: a matched pair, a
cluster or an agreeing personal ID), and with tonight's other extract records of one person."""
GROUPS: Final = (HOUSEHOLD, PERSON_ID, CLUSTER, EXTRACTS)

RECORD_GROUPS: Final = (HOUSEHOLD, PERSON_ID)
"""The groups a record's own columns define: the only ones among golden records, which come without extracts,
pairs or clusters."""

GROUP_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    HOUSEHOLD: ("household_id",),
    PERSON_ID: ("person_id_norm", "person_id_valid"),
    CLUSTER: ("cluster_id",),
    EXTRACTS: ("person_id_norm", "person_id_valid", "given_key", "birth_date_value"),
}
"""The columns of a record that place it in a group (for ``EXTRACTS``: those ``CheckContext.links`` ties an extract
record to a base record by; the cluster id comes from the match stage's clusters when the records lack it)."""


def group_key(group: str) -> pl.Expr:
    """A record's key in one of the ``RECORD_GROUPS``: null when the record is in no group of that kind."""
    if group == HOUSEHOLD:
        return pl.when(present("household_id")).then(pl.col("household_id"))
    if group == PERSON_ID:
        return pl.when(pl.col("person_id_valid").fill_null(False)).then(pl.col("person_id_norm"))
    raise ValueError(f"{group!r} is not a group of a record's own columns")


def in_a_group_of(rows: pl.DataFrame | Sequence[pl.DataFrame], groups: Sequence[str]) -> pl.Expr:
    """True for a record in a group of ``groups`` (of the ``RECORD_GROUPS``) that a record of ``rows`` is in (each
    frame with the groups' ``GROUP_COLUMNS``): how a check of part of the records finds the other members of the
    groups its rules read."""
    frames = [rows] if isinstance(rows, pl.DataFrame) else list(rows)
    if not frames:
        return pl.lit(False)
    shared = []
    for group in groups:
        keys = pl.concat([frame.select(group_key(group).alias("key")) for frame in frames]).get_column("key")
        shared.append(group_key(group).is_in(keys.drop_nulls().unique().implode()))
    return pl.any_horizontal(shared).fill_null(False) if shared else pl.lit(False)
