"""Fixtures of the match tests: one small synthetic population shared by the session."""

from __future__ import annotations

import polars as pl
import pytest

from tests.match.synthetic import Person, make_base, make_extract, make_people


@pytest.fixture(scope="session")
def people() -> list[Person]:
    return make_people(3000, seed=11)


@pytest.fixture(scope="session")
def base(people: list[Person]) -> pl.DataFrame:
    return make_base(people, duplicate_rate=0.08, seed=12)


@pytest.fixture(scope="session")
def extract(people: list[Person]) -> pl.DataFrame:
    strangers = make_people(3100, seed=99)[3000:]
    return make_extract(people, 600, seed=13, unknown=strangers)
