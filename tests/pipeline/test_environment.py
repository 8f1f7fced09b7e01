"""Whole-number settings from the environment: default when unset, a clear error naming the variable otherwise."""

from __future__ import annotations

import pytest

from pipelines.defs.orchestration.checks import max_base_age_nights
from pipelines.environment import environment_int
from pipelines.nightstate import keep_nights_from_environment


def test_unset_or_blank_gives_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DANCU_TEST_INT", raising=False)
    assert environment_int("DANCU_TEST_INT", 14, minimum=1) == 14
    monkeypatch.setenv("DANCU_TEST_INT", "  ")
    assert environment_int("DANCU_TEST_INT", None, minimum=1) is None
    monkeypatch.setenv("DANCU_TEST_INT", " 3 ")
    assert environment_int("DANCU_TEST_INT", 14, minimum=1) == 3


@pytest.mark.parametrize(("text", "message"), [("abc", "whole number, not 'abc'"), ("0", "at least 1, not 0")])
def test_a_wrong_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, text: str, message: str) -> None:
    monkeypatch.setenv("DANCU_KEEP_NIGHTS", text)
    with pytest.raises(ValueError, match=f"DANCU_KEEP_NIGHTS must be .*{message}"):
        keep_nights_from_environment()


def test_the_base_may_be_used_on_the_night_it_was_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANCU_BASE_MAX_AGE_NIGHTS", "0")
    assert max_base_age_nights() == 0
    monkeypatch.setenv("DANCU_BASE_MAX_AGE_NIGHTS", "-1")
    with pytest.raises(ValueError, match="DANCU_BASE_MAX_AGE_NIGHTS must be at least 0"):
        max_base_age_nights()
