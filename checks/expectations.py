"""Great Expectations 1.x, run from our own wrapper (dagster-ge does not support GX 1.x).

Suites are declared here as plain data (``Expect``) so that importing this module stays cheap; GX itself is imported
only when a suite runs. Each suite runs as two GX validations: the schema part (column existence) on a zero-row
frame with every column, the value part on just the columns it reads, so a 1M-row frame is never copied whole.
GX's own Data Docs pull Bootstrap and jQuery from CDNs and are in English, so ``checks.datadocs`` renders the
validation results itself (offline, Vietnamese); the raw GX result JSON is kept beside it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

import polars as pl

from checks.findings import FINDINGS_SCHEMA, QUALITIES, SEVERITIES
from normalize.columns import ADDRESS_COLUMNS, ADDRESS_STATUSES, DATE_COLUMNS, NORMALIZED_COLUMNS
from records.schema import CANONICAL_SCHEMA, MINIMAL_COLUMNS, SEX_VALUES, SOURCES

__all__ = [
    "SUITES",
    "Expect",
    "ExpectationOutcome",
    "ValidationSummary",
    "load_gx",
    "validate_frame",
    "validate_suite",
]

Kind = Literal["exists", "not_null", "unique", "in_set", "regex", "between"]


@dataclass(frozen=True, slots=True)
class Expect:
    """One expectation. ``blocking``: when it fails the data must not flow on to the next stage."""

    kind: Kind
    column: str
    blocking: bool = False
    value_set: tuple[Any, ...] = ()
    regex: str | None = None
    min_value: float | None = None
    max_value: float | None = None
    mostly: float = 1.0

    def describe(self) -> str:
        """The expectation in Vietnamese, naming its column and values (for the check metadata)."""
        values = self.values()
        return f'{self.short()} — cột "{self.column}"' + (f": {values}" if values else "")

    def values(self) -> str:
        """The value set, pattern or range the expectation compares against (data codes, shown as code)."""
        match self.kind:
            case "in_set":
                return ", ".join(str(v) for v in self.value_set)
            case "regex":
                return self.regex or ""
            case "between":
                return f"[{self.min_value}, {self.max_value}]"
        return ""

    def short(self) -> str:
        """The expectation in Vietnamese without identifiers, for the Data Docs table (column shown beside it)."""
        share = "" if self.mostly >= 1.0 else f" (ít nhất {self.mostly:.0%} số dòng)"
        match self.kind:
            case "exists":
                return "Có cột"
            case "not_null":
                return f"Không để trống{share}"
            case "unique":
                return "Giá trị không trùng nhau"
            case "in_set":
                return f"Chỉ nhận các giá trị cho phép{share}"
            case "regex":
                return f"Đúng định dạng{share}"
            case "between":
                return f"Nằm trong khoảng cho phép{share}"
        raise ValueError(self.kind)


_DATE_TEXT: Final = r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$"


def _canonical_suite(sources: tuple[str, ...]) -> tuple[Expect, ...]:
    return (
        *(Expect("exists", c, blocking=c in MINIMAL_COLUMNS or c == "source") for c in CANONICAL_SCHEMA),
        Expect("not_null", "record_id", blocking=True),
        Expect("unique", "record_id", blocking=True),
        Expect("in_set", "source", blocking=True, value_set=sources),
        Expect("in_set", "sex", value_set=SEX_VALUES),
        Expect("regex", "person_id", regex=r"^\d{12}$"),
        Expect("regex", "card_number", regex=r"^\d{12}$"),
        *(Expect("regex", c, regex=_DATE_TEXT) for c in DATE_COLUMNS),
        Expect("not_null", "full_name", mostly=0.99),
    )


def _normalized_suite(sources: tuple[str, ...]) -> tuple[Expect, ...]:
    return (
        *_canonical_suite(sources)[: len(CANONICAL_SCHEMA)],
        *(Expect("exists", c, blocking=True) for c in NORMALIZED_COLUMNS),
        Expect("not_null", "record_id", blocking=True),
        Expect("unique", "record_id", blocking=True),
        Expect("in_set", "sex_norm", value_set=SEX_VALUES),
        *(Expect("in_set", f"{c}_status", value_set=ADDRESS_STATUSES) for c in ADDRESS_COLUMNS),
        Expect("in_set", "permanent_address_status", value_set=("resolved",), mostly=0.9),
        Expect("regex", "person_id_norm", regex=r"^\d{12}$"),
    )


_EXTRACT_SOURCES: Final = tuple(s for s in SOURCES if s != "base")

SUITES: Final[dict[str, tuple[Expect, ...]]] = {
    "population_base": _canonical_suite(("base",)),
    "extract_records": _canonical_suite(_EXTRACT_SOURCES),
    "normalized_base": _normalized_suite(("base",)),
    "normalized_extracts": _normalized_suite(_EXTRACT_SOURCES),
    "scored_pairs": (
        *(Expect("exists", c, blocking=True) for c in ("left_id", "right_id", "match_probability", "decision", "kind")),
        Expect("not_null", "left_id", blocking=True),
        Expect("not_null", "right_id", blocking=True),
        Expect("between", "match_probability", blocking=True, min_value=0.0, max_value=1.0),
        Expect("in_set", "decision", blocking=True, value_set=("match", "review", "non_match")),
        Expect("in_set", "kind", value_set=("dedupe", "link")),
    ),
    "person_clusters": (
        Expect("exists", "record_id", blocking=True),
        Expect("exists", "cluster_id", blocking=True),
        Expect("unique", "record_id", blocking=True),
        Expect("not_null", "cluster_id", blocking=True),
    ),
    "quality_findings": (
        *(Expect("exists", c, blocking=True) for c in FINDINGS_SCHEMA),
        Expect("not_null", "record_id", blocking=True),
        Expect("not_null", "rule", blocking=True),
        Expect("in_set", "quality", blocking=True, value_set=QUALITIES),
        Expect("in_set", "severity", blocking=True, value_set=SEVERITIES),
    ),
}


@dataclass(frozen=True, slots=True)
class ExpectationOutcome:
    expect: Expect
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    sample: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class ValidationSummary:
    """The outcome of one suite on one frame."""

    suite: str
    rows: int
    outcomes: tuple[ExpectationOutcome, ...]
    run_at: str
    gx_results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def blocking_failures(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if o.expect.blocking and not o.success)

    @property
    def failures(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.success)

    def metadata(self) -> dict[str, Any]:
        """A compact summary for Dagster check metadata (plain JSON types)."""
        return {
            "suite": self.suite,
            "rows": self.rows,
            "evaluated_expectations": len(self.outcomes),
            "successful_expectations": sum(o.success for o in self.outcomes),
            "success_percent": round(100.0 * sum(o.success for o in self.outcomes) / max(len(self.outcomes), 1), 2),
            "failed_expectations": [
                f"{o.expect.describe()}: {o.unexpected_count if o.unexpected_count is not None else 'thiếu'}"
                + (f" dòng sai ({o.unexpected_percent:.2f}%)" if o.unexpected_percent is not None else "")
                for o in self.failures
            ],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "rows": self.rows,
            "run_at": self.run_at,
            "success": self.success,
            "outcomes": [
                {
                    "kind": o.expect.kind,
                    "column": o.expect.column,
                    "blocking": o.expect.blocking,
                    "description": o.expect.short(),
                    "values": o.expect.values(),
                    "success": o.success,
                    "element_count": o.element_count,
                    "unexpected_count": o.unexpected_count,
                    "unexpected_percent": o.unexpected_percent,
                    "sample": list(o.sample),
                    "error": o.error,
                }
                for o in self.outcomes
            ],
            "gx_results": self.gx_results,
        }


def load_gx() -> Any:
    """Import Great Expectations (seconds of CPU the first time: it brings pandas, pydantic models, Spark's
    compatibility layer), with no usage statistics leaving this machine. A long-running process (``dancu nightly``)
    imports it before the night, with its other long-lived objects (``pipelines.timing.freeze_long_lived``)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every pandas batch below this size (``hash_pandas_object`` of every value, then MD5) for the
    # batch markers of a suite's result: half of a 1,000,000-row suite's time. We keep the per-expectation results
    # only, never the markers, so no batch is fingerprinted.
    if hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        pandas_execution_engine.HASH_THRESHOLD = 0
    return gx


def _gx_expectation(expect: Expect) -> Any:
    load_gx()
    import great_expectations.expectations as gxe

    match expect.kind:
        case "exists":
            return gxe.ExpectColumnToExist(column=expect.column)
        case "not_null":
            return gxe.ExpectColumnValuesToNotBeNull(column=expect.column, mostly=expect.mostly)
        case "unique":
            return gxe.ExpectColumnValuesToBeUnique(column=expect.column)
        case "in_set":
            return gxe.ExpectColumnValuesToBeInSet(
                column=expect.column, value_set=list(expect.value_set), mostly=expect.mostly
            )
        case "regex":
            return gxe.ExpectColumnValuesToMatchRegex(
                column=expect.column, regex=expect.regex or "", mostly=expect.mostly
            )
        case "between":
            return gxe.ExpectColumnValuesToBeBetween(
                column=expect.column, min_value=expect.min_value, max_value=expect.max_value, mostly=expect.mostly
            )
    raise ValueError(expect.kind)


def gx_context(name: str) -> tuple[Any, Any, Any]:
    """GX, an in-memory context and a whole-dataframe batch definition named ``name``. No usage statistics leave
    this machine, and no progress bars in the run logs."""
    gx = load_gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    batch = (
        context.data_sources.add_pandas("dancu").add_dataframe_asset(name).add_batch_definition_whole_dataframe("night")
    )
    return gx, context, batch


def _run_gx(frame: pl.DataFrame, name: str, expectations: list[Expect]) -> list[dict[str, Any]]:
    gx, context, batch = gx_context(name)
    # Expectations are added to the suite before it is stored: added to a stored suite, each one re-reads and
    # re-writes the whole suite in the store (quadratic: 2.3 s of CPU for the 119 of a normalized suite). An unsaved
    # suite's ``add_expectation`` skips the same duplicates, and the suite is stored once.
    suite = gx.ExpectationSuite(name=name)
    for expect in expectations:
        suite.add_expectation(_gx_expectation(expect))
    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
    result = definition.run(batch_parameters={"dataframe": frame.to_pandas()}, result_format="SUMMARY")
    # GX returns results in its own order; map them back to our expectations by (type, column).
    return [r.to_json_dict() for r in result.results]


def _outcome(expect: Expect, result: dict[str, Any] | None) -> ExpectationOutcome:
    if result is None:
        return ExpectationOutcome(expect, success=False, error="GX không trả kết quả cho kỳ vọng này")
    detail = result.get("result") or {}
    exception = result.get("exception_info") or {}
    error = exception.get("exception_message") if exception.get("raised_exception") else None
    return ExpectationOutcome(
        expect,
        success=bool(result.get("success")),
        element_count=detail.get("element_count"),
        unexpected_count=detail.get("unexpected_count"),
        unexpected_percent=detail.get("unexpected_percent"),
        sample=tuple(str(v) for v in (detail.get("partial_unexpected_list") or [])[:10]),
        error=error,
    )


_GX_TYPES: Final = {
    "exists": "expect_column_to_exist",
    "not_null": "expect_column_values_to_not_be_null",
    "unique": "expect_column_values_to_be_unique",
    "in_set": "expect_column_values_to_be_in_set",
    "regex": "expect_column_values_to_match_regex",
    "between": "expect_column_values_to_be_between",
}


def validate_frame(frame: pl.DataFrame, name: str, expectations: tuple[Expect, ...]) -> ValidationSummary:
    """Run ``expectations`` on ``frame`` through GX and summarize. Value expectations on a missing column fail."""
    schema_part = [e for e in expectations if e.kind == "exists"]
    value_part = [e for e in expectations if e.kind != "exists" and e.column in frame.columns]
    results: list[dict[str, Any]] = []
    if schema_part:
        results += _run_gx(frame.head(0), f"{name}_columns", schema_part)
    if value_part:
        columns = sorted({e.column for e in value_part})
        # Nested and date types are compared as text: the expectations here only read text, numbers and flags.
        values = frame.select(
            pl.col(c).cast(pl.String)
            if frame.schema[c] in (pl.Date, pl.Datetime) or isinstance(frame.schema[c], pl.List)
            else pl.col(c)
            for c in columns
        )
        # One validation per column, on that column alone: GX's pandas engine filters the whole frame it is given
        # for every expectation (each column's null mask), so a frame of every column copied every column once per
        # expectation (at 1,000,000 rows most of the suite's time). Each expectation reads its own column only.
        for column in columns:
            results += _run_gx(values.select(column), name, [e for e in value_part if e.column == column])
    by_key: dict[tuple[str, str, str], dict[str, Any]] = {}
    for result in results:
        config = result["expectation_config"]
        kwargs = config["kwargs"]
        detail = repr(
            kwargs.get("value_set") or kwargs.get("regex") or (kwargs.get("min_value"), kwargs.get("max_value"))
        )
        by_key[(config["type"], kwargs.get("column", ""), detail)] = result
    outcomes = []
    for expect in expectations:
        if expect.kind != "exists" and expect.column not in frame.columns:
            outcomes.append(ExpectationOutcome(expect, success=False, error=f'không có cột "{expect.column}"'))
            continue
        detail = repr(list(expect.value_set) or expect.regex or (expect.min_value, expect.max_value))
        outcomes.append(_outcome(expect, by_key.get((_GX_TYPES[expect.kind], expect.column, detail))))
    return ValidationSummary(
        suite=name,
        rows=frame.height,
        outcomes=tuple(outcomes),
        run_at=datetime.now(UTC).isoformat(timespec="seconds"),
        gx_results=results,
    )


def validate_suite(frame: pl.DataFrame, suite: str) -> ValidationSummary:
    """Run one of the declared ``SUITES`` (named after the asset it guards)."""
    return validate_frame(frame, suite, SUITES[suite])


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", name.lower())
