"""The nightly quality report data officers read each morning: one self-contained HTML file and an Excel workbook.

Everything a page needs is inside it (CSS, the small sorting script, SVG charts), so it opens from ``file://`` on an
office machine without network. All visible text is Vietnamese.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Final

import jinja2
import polars as pl

from checks import charts
from checks.findings import QUALITIES, QUALITY_LABELS
from checks.registry import rules_table
from checks.scores import OVERALL, SCORE_DEFINITION
from normalize import units
from records.excel import EXCEL_SHOWN_ROWS, text_only_workbook
from records.files import atomic_write, atomic_write_text

__all__ = [
    "DATA_DOCS_DIR",
    "MATCH_REPORT_HTML",
    "QUALITY_REPORT_HTML",
    "QUALITY_REPORT_XLSX",
    "SOURCE_LABELS",
    "QualityReportInput",
    "RegisterSummary",
    "fmt_int",
    "fmt_pct",
    "render_template",
    "write_quality_report",
]

QUALITY_REPORT_HTML: Final = "bao-cao-chat-luong.html"
QUALITY_REPORT_XLSX: Final = "bao-cao-chat-luong.xlsx"
MATCH_REPORT_HTML: Final = "bao-cao-ghep-noi.html"
DATA_DOCS_DIR: Final = "kiem-dinh-gx"

SOURCE_LABELS: Final = {
    "base": "CSDL dân cư",
    "residence": "Cư trú",
    "civil_status": "Hộ tịch",
    "card": "Cấp thẻ căn cước",
}
SEVERITY_LABELS: Final = {"error": "Lỗi", "warning": "Cảnh báo"}
UNRESOLVED_WARD: Final = "(chưa xác định xã/phường)"
MIN_WARD_RECORDS: Final = 20
SAMPLE_PER_RULE: Final = 10


def fmt_int(value: Any) -> str:
    return f"{int(value or 0):,}".replace(",", ".")


def fmt_pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%".replace(".", ",")


def _score_class(value: Any) -> str:
    if value is None:
        return ""
    return "score-good" if value >= 0.98 else "score-mid" if value >= 0.9 else "score-bad"


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(
        fmt_int=fmt_int,
        fmt_pct=fmt_pct,
        score_class=_score_class,
        severity_label=lambda s: SEVERITY_LABELS.get(s, s),
        source_label=lambda s: SOURCE_LABELS.get(s, s),
    )
    return environment


def render_template(name: str, **context: Any) -> str:
    context.setdefault("generated_at", datetime.now().strftime("%H:%M %d/%m/%Y"))
    context.setdefault("links", [])
    return _environment().get_template(name).render(**context)


@dataclass(frozen=True)
class RegisterSummary:
    """The clean register's side of the report: before → after scores, the change set, findings → tasks.

    scores: ``register.quality.STAGE_SCORES_SCHEMA`` (stage "base" = the raw population base, "register" = the
    cleaned register). changes_by_rule: rule, label, changes, tonight, records; changes_by_ward: ward_code,
    changes, tonight, persons (``register.changes``). outcomes: per rule findings, tasks, settled, superseded,
    action and why (the task policy), or None. excel: link to the change set workbook, relative to the report.
    """

    scores: pl.DataFrame
    changes_by_rule: pl.DataFrame
    changes_by_ward: pl.DataFrame
    changes: int
    changes_tonight: int
    changed_records: int
    excel: str | None = None
    outcomes: pl.DataFrame | None = None


@dataclass(frozen=True)
class QualityReportInput:
    """What one night's quality report shows.

    findings: the night's findings; scores: tonight's scores (``checks.scores``); history: every night's scores,
    tonight included; records_by_source: how many records of each source were checked; input_files: the night's
    ``ingest_files`` (files quarantined whole and files with warnings are listed, so nothing is lost unseen).
    """

    night: date
    findings: pl.DataFrame
    scores: pl.DataFrame
    history: pl.DataFrame
    records_by_source: dict[str, int]
    match_report: str | None = MATCH_REPORT_HTML
    data_docs: str | None = f"{DATA_DOCS_DIR}/index.html"
    register: RegisterSummary | None = None
    input_files: pl.DataFrame | None = None


def _input_file_rows(files: pl.DataFrame | None) -> list[dict[str, object]]:
    """Files quarantined whole first, then files ingested with warnings (the others need no one's attention)."""
    if files is None or files.height == 0:
        return []
    noteworthy = files.filter(pl.col("error").is_not_null() | pl.col("warnings").is_not_null())
    return noteworthy.sort(pl.col("error").is_null(), "source_file").to_dicts()


def _ward_names() -> pl.DataFrame:
    return units.current_wards().select("ward_code", "ward_name", "province_code", "province_name")


def _wide(scores: pl.DataFrame, level: str) -> pl.DataFrame:
    """One row per unit with a column per quality (score), plus records, errors and warnings."""
    rows = scores.filter(pl.col("level") == level)
    keys = ["province_code", "ward_code"] if level == "ward" else ["province_code"]
    wide = rows.pivot(on="quality", index=[*keys, "records"], values="score")
    counts = rows.filter(pl.col("quality") == OVERALL).select(*keys, pl.col("failing").alias("errors"), "warnings")
    for quality in (*QUALITIES, OVERALL):
        if quality not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(quality))
    return wide.join(counts, on=keys, how="left", nulls_equal=True)


def _ward_table(scores: pl.DataFrame) -> pl.DataFrame:
    names = _ward_names()
    provinces = units.current_provinces().select("province_code", pl.col("province_name").alias("_province_name"))
    return (
        _wide(scores, "ward")
        .join(names.select("ward_code", "ward_name"), on="ward_code", how="left")
        .join(provinces, on="province_code", how="left")
        .with_columns(
            pl.col("ward_name").fill_null(UNRESOLVED_WARD),
            pl.col("_province_name").fill_null("—").alias("province_name"),
        )
        .drop("_province_name")
        .sort(OVERALL, "records", descending=[False, True], nulls_last=True)
    )


def _province_table(scores: pl.DataFrame) -> pl.DataFrame:
    provinces = units.current_provinces().select("province_code", "province_name")
    return (
        _wide(scores, "province")
        .join(provinces, on="province_code", how="left")
        .with_columns(pl.col("province_name").fill_null("(chưa xác định)"))
        .sort(OVERALL, nulls_last=True)
    )


STAGES: Final = ("base", "register")
"""Before (the raw population base) and after (the cleaned register)."""


def _stage_table(scores: pl.DataFrame, level: str) -> pl.DataFrame:
    """One row per unit: records of each stage and the score of each quality before and after
    (``records_base``, ``records_register``, ``<quality>_base``, ``<quality>_register``)."""
    keys = ["province_code", "ward_code"] if level == "ward" else ["province_code"]
    rows = scores.filter(pl.col("level") == level)
    wide = rows.with_columns(pl.format("{}_{}", "quality", "stage").alias("_column")).pivot(
        on="_column", index=keys, values="score"
    )
    counts = (
        rows.filter(pl.col("quality") == OVERALL)
        .pivot(on="stage", index=keys, values="records")
        .rename({stage: f"records_{stage}" for stage in STAGES if stage in rows["stage"].unique().to_list()})
    )
    table = wide.join(counts, on=keys, how="left", nulls_equal=True)
    for quality in (*QUALITIES, OVERALL):
        for stage in STAGES:
            if f"{quality}_{stage}" not in table.columns:
                table = table.with_columns(pl.lit(None, dtype=pl.Float64).alias(f"{quality}_{stage}"))
    for stage in STAGES:
        if f"records_{stage}" not in table.columns:
            table = table.with_columns(pl.lit(0, dtype=pl.Int64).alias(f"records_{stage}"))
    table = table.with_columns(
        (pl.col(f"{OVERALL}_register") - pl.col(f"{OVERALL}_base")).alias("gain"),
        pl.col("records_base", "records_register").fill_null(0),
    )
    names = _ward_names().select("ward_code", "ward_name")
    provinces = units.current_provinces().select("province_code", "province_name")
    if level == "ward":
        table = table.join(names, on="ward_code", how="left")
        table = table.with_columns(pl.col("ward_name").fill_null(UNRESOLVED_WARD))
    return (
        table.join(provinces, on="province_code", how="left")
        .with_columns(pl.col("province_name").fill_null("(chưa xác định)"))
        .sort("records_base", descending=True, nulls_last=True)
    )


def _stage_cards(scores: pl.DataFrame) -> list[dict[str, str]]:
    overall = scores.filter(pl.col("level") == "all")
    value = {(r["stage"], r["quality"]): r["score"] for r in overall.iter_rows(named=True)}
    cards = []
    for quality in (*QUALITIES, OVERALL):
        before, after = value.get(("base", quality)), value.get(("register", quality))
        change = None if before is None or after is None else (after - before) * 100
        trend = "same" if change is None or abs(change) < 0.05 else "up" if change > 0 else "down"
        delta = "—" if change is None else f"{change:+.1f} điểm %".replace(".", ",")
        cards.append(
            {"label": f"Điểm {quality}: gốc → sổ sạch", "value": f"{fmt_pct(before)} → {fmt_pct(after)}",
             "delta": delta, "trend": trend}
        )  # fmt: skip
    return cards


def _register_context(summary: RegisterSummary | None) -> dict[str, Any]:
    if summary is None:
        return {"register": None}
    outcomes = summary.outcomes
    titles = dict(rules_table().select("rule", "title").iter_rows())
    outcome_rows = []
    if outcomes is not None:
        outcome_rows = outcomes.with_columns(
            pl.col("rule").replace_strict(titles, default=pl.col("rule")).alias("title")
        ).to_dicts()
    counted = ("findings", "tasks", "settled", "superseded")
    totals = {k: int(outcomes[k].sum()) for k in counted} if outcomes is not None else {}
    ward_names = dict(_ward_names().select("ward_code", "ward_name").iter_rows())
    by_ward = summary.changes_by_ward.head(30).with_columns(
        pl.col("ward_code").replace_strict(ward_names, default=UNRESOLVED_WARD).alias("ward_name")
    )
    return {
        "register": {
            "cards": _stage_cards(summary.scores),
            "province_rows": _stage_table(summary.scores, "province").to_dicts(),
            "ward_rows": _stage_table(summary.scores, "ward").to_dicts(),
            "changes": summary.changes,
            "changes_tonight": summary.changes_tonight,
            "changed_records": summary.changed_records,
            "by_rule": summary.changes_by_rule.to_dicts(),
            "by_ward": by_ward.to_dicts(),
            "wards_with_changes": summary.changes_by_ward.height,
            "excel": summary.excel,
            "outcomes": outcome_rows,
            "totals": totals,
        }
    }


def _rule_table(findings: pl.DataFrame) -> pl.DataFrame:
    counts = findings.group_by("rule").agg(
        pl.len().cast(pl.Int64).alias("findings"),
        pl.col("ward_code").drop_nulls().n_unique().cast(pl.Int64).alias("wards"),
    )
    return (
        rules_table()
        .join(counts, on="rule", how="left")
        .with_columns(pl.col("findings", "wards").fill_null(0))
        .sort("findings", "rule", descending=[True, False])
    )


def _trend(history: pl.DataFrame) -> tuple[list[str], dict[str, list[float | None]]]:
    overall = history.filter(pl.col("level") == "all")
    nights = sorted(overall["night"].unique().to_list())
    series: dict[str, list[float | None]] = {}
    for quality in (*QUALITIES, OVERALL):
        by_night = dict(overall.filter(pl.col("quality") == quality).select("night", "score").iter_rows())
        series[quality.capitalize()] = [by_night.get(n) for n in nights]
    return [n.strftime("%d/%m") for n in nights], series


def _score_cards(scores: pl.DataFrame, history: pl.DataFrame, night: date) -> list[dict[str, str]]:
    overall = scores.filter(pl.col("level") == "all")
    earlier = history.filter((pl.col("level") == "all") & (pl.col("night") < night))
    previous_night = earlier["night"].max() if earlier.height else None
    previous = (
        dict(earlier.filter(pl.col("night") == previous_night).select("quality", "score").iter_rows())
        if previous_night is not None
        else {}
    )
    cards = []
    for quality in (*QUALITIES, OVERALL):
        row = overall.filter(pl.col("quality") == quality)
        value = row["score"][0] if row.height else None
        before = previous.get(quality)
        if value is None or before is None:
            delta, trend = "chưa có đêm trước để so sánh", "same"
        else:
            change = (value - before) * 100
            trend = "up" if change > 0.05 else "down" if change < -0.05 else "same"
            arrow = {"up": "▲", "down": "▼", "same": "■"}[trend]
            when = previous_night.strftime("%d/%m") if isinstance(previous_night, date) else str(previous_night)
            delta = f"{arrow} {change:+.1f} điểm % so với {when}".replace(".", ",")
        cards.append({"label": f"Điểm {quality}", "value": fmt_pct(value), "delta": delta, "trend": trend})
    return cards


def _samples(findings: pl.DataFrame) -> pl.DataFrame:
    names = _ward_names().select("ward_code", "ward_name")
    return (
        findings.sort("rule", "ward_code", "record_id", nulls_last=True)
        .group_by("rule", maintain_order=True)
        .head(SAMPLE_PER_RULE)
        .join(names, on="ward_code", how="left", maintain_order="left")
        .with_columns(
            pl.col("ward_name").fill_null(UNRESOLVED_WARD),
            pl.col("related_record_ids").list.join(", ").alias("related"),
        )
    )


def build_quality_html(data: QualityReportInput) -> str:
    ward_table = _ward_table(data.scores)
    rule_table = _rule_table(data.findings)
    overall = data.scores.filter(pl.col("level") == "all")
    score_of = dict(overall.select("quality", "score").iter_rows())
    # Tiny wards swing wildly on one record; leave them out unless no ward is big enough.
    large = ward_table.filter(pl.col("records") >= MIN_WARD_RECORDS)
    worst = (large if large.height else ward_table).sort(OVERALL).head(15)
    x_labels, series = _trend(data.history)
    fired = rule_table.filter(pl.col("findings") > 0)
    rules = rules_table()
    chart_svgs = {
        "scores": charts.bar_chart(
            [q.capitalize() for q in (*QUALITIES, OVERALL)],
            [score_of.get(q) or 0.0 for q in (*QUALITIES, OVERALL)],
            title="Điểm theo tiêu chí đêm " + data.night.strftime("%d/%m/%Y"),
            percent=True,
        ),
        "trend": charts.line_chart(x_labels, series, title="Xu hướng điểm qua các đêm"),
        "worst": charts.hbar_chart(
            [f"{r['ward_name']} ({r['ward_code'] or '—'})" for r in worst.iter_rows(named=True)],
            [r[OVERALL] or 0.0 for r in worst.iter_rows(named=True)],
            title="Xã/phường có điểm tổng thấp nhất",
            percent=True,
            color=charts.PALETTE[3],
        ),
        "rules": charts.hbar_chart(
            fired["title"].to_list(), [float(v) for v in fired["findings"].to_list()], title="Số phát hiện theo quy tắc"
        ),
    }
    links = []
    if data.match_report:
        links.append({"href": data.match_report, "text": "Báo cáo ghép nối bản ghi"})
    if data.data_docs:
        links.append({"href": data.data_docs, "text": "Kết quả kiểm định dữ liệu (GX)"})
    links.append({"href": QUALITY_REPORT_XLSX, "text": "Tải bảng tính Excel"})
    if data.register is not None and data.register.excel:
        links.append({"href": data.register.excel, "text": "Bộ thay đổi của sổ dân cư sạch (Excel)"})
    province_table = _province_table(data.scores)
    return render_template(
        "quality_report.html.j2",
        title=f"Báo cáo chất lượng dữ liệu dân cư — đêm {data.night:%d/%m/%Y}",
        subtitle="Bốn tiêu chí của Đề án 06: đúng, đủ, sạch, sống",
        links=links,
        night=data.night.strftime("%d/%m/%Y"),
        total_records=sum(data.records_by_source.values()),
        sources=[{"label": SOURCE_LABELS.get(s, s), "count": n} for s, n in data.records_by_source.items()],
        error_count=data.findings.filter(pl.col("severity") == "error").height,
        warning_count=data.findings.filter(pl.col("severity") == "warning").height,
        score_cards=_score_cards(data.scores, data.history, data.night),
        charts=chart_svgs,
        trend_note=(
            f"{len(x_labels)} đêm có dữ liệu."
            if len(x_labels) > 1
            else "Mới có một đêm; xu hướng hiện khi có từ hai đêm."
        ),
        min_ward_records=MIN_WARD_RECORDS,
        qualities=QUALITIES,
        qualities_and_overall=(*QUALITIES, OVERALL),
        ward_rows=ward_table.to_dicts(),
        province_rows=province_table.to_dicts(),
        rule_rows=rule_table.to_dicts(),
        sample_rows=_samples(data.findings).to_dicts(),
        sample_per_rule=SAMPLE_PER_RULE,
        score_definition=SCORE_DEFINITION,
        input_file_rows=_input_file_rows(data.input_files),
        quality_definitions=[
            {"label": QUALITY_LABELS[q], "rules": rules.filter(pl.col("quality") == q).to_dicts()} for q in QUALITIES
        ],
        **_register_context(data.register),
    )


def _excel_sheets(data: QualityReportInput) -> dict[str, pl.DataFrame]:
    quality_names = {q: f"Điểm {q}" for q in (*QUALITIES, OVERALL)}
    wards = _ward_table(data.scores).select(
        pl.col("ward_code").alias("Mã xã/phường"),
        pl.col("ward_name").alias("Xã/phường"),
        pl.col("province_name").alias("Tỉnh/thành phố"),
        pl.col("records").alias("Số bản ghi"),
        *(pl.col(q).alias(quality_names[q]) for q in (*QUALITIES, OVERALL)),
        pl.col("errors").alias("Bản ghi có lỗi"),
        pl.col("warnings").alias("Bản ghi có cảnh báo"),
    )
    provinces = _province_table(data.scores).select(
        pl.col("province_code").alias("Mã tỉnh"),
        pl.col("province_name").alias("Tỉnh/thành phố"),
        pl.col("records").alias("Số bản ghi"),
        *(pl.col(q).alias(quality_names[q]) for q in (*QUALITIES, OVERALL)),
    )
    trend = (
        data.history.filter(pl.col("level") == "all")
        .pivot(on="quality", index="night", values="score")
        .sort("night")
        .select(
            pl.col("night").alias("Đêm"),
            *(pl.col(q).alias(quality_names[q]) for q in (*QUALITIES, OVERALL) if q in data.history["quality"]),
        )
    )
    rules = _rule_table(data.findings).select(
        pl.col("rule").alias("Mã quy tắc"),
        pl.col("title").alias("Nội dung"),
        pl.col("quality").alias("Tiêu chí"),
        pl.col("severity").replace_strict(SEVERITY_LABELS).alias("Mức"),
        pl.col("findings").alias("Số phát hiện"),
        pl.col("wards").alias("Số xã/phường"),
        pl.col("description").alias("Mô tả"),
    )
    names = _ward_names().select("ward_code", "ward_name")
    findings = (
        data.findings.head(EXCEL_SHOWN_ROWS)
        .join(names, on="ward_code", how="left", maintain_order="left")
        .select(
            pl.col("record_id").alias("Mã bản ghi"),
            pl.col("source").replace_strict(SOURCE_LABELS, default=pl.col("source")).alias("Nguồn"),
            pl.col("rule").alias("Quy tắc"),
            pl.col("quality").alias("Tiêu chí"),
            pl.col("severity").replace_strict(SEVERITY_LABELS, default=pl.col("severity")).alias("Mức"),
            pl.col("ward_code").alias("Mã xã/phường"),
            pl.col("ward_name").fill_null(UNRESOLVED_WARD).alias("Xã/phường"),
            pl.col("detail").alias("Chi tiết"),
            pl.col("related_record_ids").list.join(", ").alias("Bản ghi liên quan"),
        )
    )
    overall = data.scores.filter(pl.col("level") == "all")
    summary = pl.DataFrame(
        {
            "Chỉ tiêu": [
                "Đêm xử lý",
                *(f"Số bản ghi {SOURCE_LABELS.get(s, s)}" for s in data.records_by_source),
                "Phát hiện mức lỗi",
                "Phát hiện mức cảnh báo",
                *(quality_names[q] for q in (*QUALITIES, OVERALL)),
                "Định nghĩa điểm",
            ],
            "Giá trị": [
                data.night.strftime("%d/%m/%Y"),
                *(fmt_int(n) for n in data.records_by_source.values()),
                fmt_int(data.findings.filter(pl.col("severity") == "error").height),
                fmt_int(data.findings.filter(pl.col("severity") == "warning").height),
                *(fmt_pct(dict(overall.select("quality", "score").iter_rows()).get(q)) for q in (*QUALITIES, OVERALL)),
                SCORE_DEFINITION,
            ],
        }
    )
    sheets = {
        "Tổng quan": summary,
        "Điểm theo xã phường": wards,
        "Điểm theo tỉnh": provinces,
        "Xu hướng": trend,
        "Theo quy tắc": rules,
        "Phát hiện": findings,
    }
    if data.input_files is not None and data.input_files.height:
        sheets["Tệp đầu vào"] = data.input_files.select(
            pl.col("source_file").alias("Tệp"),
            pl.col("source").replace_strict(SOURCE_LABELS, default=pl.col("source")).alias("Nguồn"),
            pl.col("encoding").alias("Bảng mã"),
            pl.col("rows_read").alias("Số dòng đọc"),
            pl.col("rows_accepted").alias("Số dòng nhận"),
            pl.col("rows_quarantined").alias("Số dòng cách ly"),
            pl.col("error").alias("Lỗi (cả tệp bị cách ly)"),
            pl.col("warnings").alias("Cảnh báo"),
        )
    if data.register is not None:
        sheets.update(_register_sheets(data.register))
    return sheets


def _register_sheets(summary: RegisterSummary) -> dict[str, pl.DataFrame]:
    def stage_columns() -> list[pl.Expr]:
        return [
            pl.col(f"{q}_{stage}").alias(f"Điểm {q} {'gốc' if stage == 'base' else 'sổ sạch'}")
            for q in (*QUALITIES, OVERALL)
            for stage in STAGES
        ]

    wards = _stage_table(summary.scores, "ward").select(
        pl.col("ward_code").alias("Mã xã/phường"),
        pl.col("ward_name").alias("Xã/phường"),
        pl.col("province_name").alias("Tỉnh/thành phố"),
        pl.col("records_base").alias("Bản ghi CSDL gốc"),
        pl.col("records_register").alias("Người trong sổ sạch"),
        *stage_columns(),
    )
    provinces = _stage_table(summary.scores, "province").select(
        pl.col("province_code").alias("Mã tỉnh"),
        pl.col("province_name").alias("Tỉnh/thành phố"),
        pl.col("records_base").alias("Bản ghi CSDL gốc"),
        pl.col("records_register").alias("Người trong sổ sạch"),
        *stage_columns(),
    )
    by_rule = summary.changes_by_rule.select(
        pl.col("label").alias("Căn cứ sửa"),
        pl.col("rule").alias("Mã quy tắc"),
        pl.col("changes").alias("Số thay đổi"),
        pl.col("tonight").alias("Áp dụng lần đầu đêm nay"),
        pl.col("records").alias("Số bản ghi CSDL"),
    )
    sheets = {
        "Trước sau theo tỉnh": provinces,
        "Trước sau theo xã phường": wards,
        "Sổ sạch thay đổi": by_rule,
    }
    if summary.outcomes is not None:
        sheets["Phát hiện thành việc"] = summary.outcomes.select(
            pl.col("rule").alias("Mã quy tắc"),
            pl.col("findings").alias("Số phát hiện"),
            pl.col("tasks").alias("Số việc giao"),
            pl.col("settled").alias("Sổ sạch đã tự sửa"),
            pl.col("superseded").alias("Gộp vào việc khác"),
            pl.col("why").alias("Lý do"),
        )
    return sheets


def write_excel(path: Path, data: QualityReportInput) -> None:
    """The same figures as the HTML report, one sheet per table; scores formatted as percentages."""
    sheets = _excel_sheets(data)

    def write(temporary: Path) -> None:
        with text_only_workbook(temporary, constant_memory=False) as workbook:
            workbook.set_properties(
                {"title": f"Báo cáo chất lượng dữ liệu dân cư {data.night:%d/%m/%Y}", "author": "dancu"}
            )
            workbook.set_calc_mode("auto")
            percent = workbook.add_format({"num_format": "0.0%"})
            for name, frame in sheets.items():
                formats = {c: percent for c in frame.columns if c.startswith("Điểm ")} if name != "Tổng quan" else {}
                frame.write_excel(
                    workbook=workbook,
                    worksheet=name,
                    column_formats=formats or None,  # type: ignore[arg-type]
                    autofit=frame.height < 50_000,
                    table_style="Table Style Light 9",
                    dtype_formats={pl.Date: "dd/mm/yyyy"},
                )
            if data.findings.height > EXCEL_SHOWN_ROWS:
                note = workbook.get_worksheet_by_name("Tổng quan")
                if note is not None:
                    note.write(
                        len(sheets["Tổng quan"]) + 2,
                        0,
                        f'Sheet "Phát hiện" chỉ chứa {fmt_int(EXCEL_SHOWN_ROWS)} trên {fmt_int(data.findings.height)} '
                        "phát hiện; đủ các dòng có trong tệp quality_findings.parquet của đêm.",
                    )

    atomic_write(path, write)


def write_quality_report(folder: Path, data: QualityReportInput) -> tuple[Path, Path]:
    """Write ``bao-cao-chat-luong.html`` and ``bao-cao-chat-luong.xlsx`` into ``folder``; returns their paths."""
    html_path, xlsx_path = folder / QUALITY_REPORT_HTML, folder / QUALITY_REPORT_XLSX
    atomic_write_text(html_path, build_quality_html(data))
    write_excel(xlsx_path, data)
    return html_path, xlsx_path
