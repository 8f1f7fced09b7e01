"""``checks.findings.sorted_unique`` gives what ``.list.unique().list.sort()`` gives (it replaced it in the findings
and the task drafts, where a finding's related records and a task's records are fingerprinted): nulls, empty and
null lists, duplicates, non-ASCII text in either normal form, random lists."""

from __future__ import annotations

import random
import unicodedata

import polars as pl

from checks.findings import sorted_unique

_NAMES = ["Nguyễn", "Nguyen", "Đặng", "Ðặng", "a", "B", "b", "", "37-0000012", "37-0000002", "37-N000001", "Ω", "z"]


def _former(column: pl.Expr) -> pl.Expr:
    return column.list.unique().list.sort()


def _lists() -> list[list[str | None] | None]:
    rows: list[list[str | None] | None] = [None, [], [None], [None, None, "b", "a", None], ["x"], ["b", "a", "b", "a"]]
    rows.append([unicodedata.normalize("NFD", "Nguyễn"), "Nguyễn", "Nguyen", unicodedata.normalize("NFD", "Nguyễn")])
    generator = random.Random(12)
    for _ in range(2000):
        size = generator.choice([0, 0, 1, 1, 2, 3, 5, 9, 40])
        rows.append([generator.choice([*_NAMES, None]) for _ in range(size)])
        if generator.random() < 0.05:
            rows.append(None)
    return rows


def test_equals_unique_then_sort() -> None:
    frame = pl.DataFrame({"ids": _lists()}, schema={"ids": pl.List(pl.String)})
    got = frame.select(sorted_unique(pl.col("ids")).alias("ids"))
    expected = frame.select(_former(pl.col("ids")).alias("ids"))
    assert got.schema == expected.schema
    assert got.equals(expected, null_equal=True)
    # Not vacuous: the input is neither sorted nor free of duplicates, and nulls and null lists are kept.
    assert not frame.equals(expected, null_equal=True)
    assert got.get_column("ids").null_count() > 0
    assert got.get_column("ids").list.eval(pl.element().is_null().any()).explode().any()


def test_on_a_sliced_frame_of_several_chunks() -> None:
    lists = _lists()
    frame = pl.concat(
        [pl.DataFrame({"ids": lists[i : i + 300]}, schema={"ids": pl.List(pl.String)}) for i in range(0, 1800, 300)],
        rechunk=False,
    ).slice(17, 1500)
    assert frame.n_chunks() > 1
    got = frame.select(sorted_unique(pl.col("ids")))
    assert got.equals(frame.select(_former(pl.col("ids"))), null_equal=True)
