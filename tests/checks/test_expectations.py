"""``validate_frame`` (one stored suite per run, one validation per column) gives the outcomes of the reference: the
whole suite added expectation by expectation to a stored suite and validated on one frame of every column (how it
ran before), on frames where expectations pass, fail and hit nulls."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from checks import expectations as ex
from checks.expectations import SUITES, Expect, validate_frame


def _reference_gx(frame: pl.DataFrame, name: str, expectations: list[Expect]) -> list[dict[str, Any]]:
    """The former ``_run_gx``: expectations added one by one to a stored suite."""
    gx, context, batch = ex.gx_context(name)
    suite = context.suites.add(gx.ExpectationSuite(name=name))
    for expect in expectations:
        suite.add_expectation(ex._gx_expectation(expect))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
    result = definition.run(batch_parameters={"dataframe": frame.to_pandas()}, result_format="SUMMARY")
    return [r.to_json_dict() for r in result.results]


def _reference_validate(frame: pl.DataFrame, name: str, expectations: tuple[Expect, ...]) -> tuple[Any, ...]:
    """The former ``validate_frame``'s outcomes: the value part as one validation of every column it reads."""
    schema_part = [e for e in expectations if e.kind == "exists"]
    value_part = [e for e in expectations if e.kind != "exists" and e.column in frame.columns]
    results = _reference_gx(frame.head(0), f"{name}_columns", schema_part) if schema_part else []
    if value_part:
        columns = sorted({e.column for e in value_part})
        values = frame.select(
            pl.col(c).cast(pl.String)
            if frame.schema[c] in (pl.Date, pl.Datetime) or isinstance(frame.schema[c], pl.List)
            else pl.col(c)
            for c in columns
        )
        results += _reference_gx(values, name, value_part)
    by_key = {}
    for result in results:
        kwargs = result["expectation_config"]["kwargs"]
        detail = repr(
            kwargs.get("value_set") or kwargs.get("regex") or (kwargs.get("min_value"), kwargs.get("max_value"))
        )
        by_key[(result["expectation_config"]["type"], kwargs.get("column", ""), detail)] = result
    outcomes = []
    for expect in expectations:
        if expect.kind != "exists" and expect.column not in frame.columns:
            outcomes.append(ex.ExpectationOutcome(expect, success=False, error=f'không có cột "{expect.column}"'))
            continue
        detail = repr(list(expect.value_set) or expect.regex or (expect.min_value, expect.max_value))
        outcomes.append(ex._outcome(expect, by_key.get((ex._GX_TYPES[expect.kind], expect.column, detail))))
    return tuple(outcomes)


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": ["a", "b", "b", None, "e", "f"],
            "source": ["base", "base", "hospital", "base", None, "base"],
            "sex": ["M", "F", "X", None, "F", "M"],
            "person_id": ["012345678901", "1234", None, "999999999999", "abc", "012345678901"],
            "birth_date": [dt.date(2001, 1, 2), None, dt.date(1950, 12, 31), None, None, dt.date(2020, 5, 5)],
            "score": [0.1, 1.5, None, 0.0, 1.0, -0.2],
            "tags": [1, 2, None, 4, None, None],
        }
    )


_SUITE = (
    Expect("exists", "record_id", blocking=True),
    Expect("exists", "missing_column"),
    Expect("not_null", "record_id", blocking=True),
    Expect("unique", "record_id", blocking=True),
    Expect("in_set", "source", blocking=True, value_set=("base",)),
    Expect("in_set", "sex", value_set=("M", "F"), mostly=0.5),
    Expect("regex", "person_id", regex=r"^\d{12}$"),
    Expect("regex", "birth_date", regex=r"^\d{4}-\d{2}-\d{2}$"),
    Expect("between", "score", min_value=0.0, max_value=1.0),
    Expect("not_null", "tags", mostly=0.9),
    Expect("not_null", "record_id"),  # the same GX expectation as a blocking one above: GX keeps one
    Expect("not_null", "absent_value_column"),
)


def test_outcomes_equal_the_single_validation_reference() -> None:
    frame = _frame()
    before = frame.clone()
    new, reference = validate_frame(frame, "t", _SUITE), _reference_validate(frame, "t", _SUITE)
    assert new.outcomes == reference
    assert [(o.success, o.unexpected_count) for o in new.outcomes] == [
        (True, None), (False, None), (False, 1), (False, 2), (False, 1), (True, 1), (False, 2), (True, 0), (False, 2),
        (False, 3), (False, 1), (False, None),
    ]  # fmt: skip
    assert new.outcomes[6].sample == ("1234", "abc")
    assert frame.equals(before)


@pytest.mark.parametrize("suite", ["population_base", "scored_pairs", "quality_findings"])
def test_declared_suites_equal_the_reference(suite: str) -> None:
    columns = sorted({e.column for e in SUITES[suite]})
    rows = 50
    frame = pl.DataFrame(
        {
            c: [None if i % 7 == 0 else ("0123456789012" if i % 5 else f"{c}{i % 3}") for i in range(rows)]
            for c in columns
        }
    )
    new, reference = validate_frame(frame, suite, SUITES[suite]), _reference_validate(frame, suite, SUITES[suite])
    assert new.outcomes == reference
    assert not new.success
