"""Data Docs for the GX validation results, browsable offline and in Vietnamese.

Each validated suite gets ``<suite>.json`` (our summary + the raw GX results) and ``<suite>.html``; ``index.html``
lists every suite whose JSON is in the folder. Checks of one night run in parallel processes, so the index is
rebuilt under a lock from the JSON files, never from memory.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from checks.expectations import ValidationSummary, slug
from checks.report import render_template
from records.files import atomic_write_text, locked

__all__ = ["rebuild_index", "write_data_docs"]


def write_data_docs(folder: Path, summary: ValidationSummary, night: date) -> Path:
    """Write one suite's page and JSON into ``folder`` and refresh the index; returns the suite page."""
    name = slug(summary.suite)
    payload = summary.to_json()
    atomic_write_text(folder / f"{name}.json", json.dumps(payload, ensure_ascii=False, indent=1, default=str))
    page = folder / f"{name}.html"
    atomic_write_text(
        page,
        render_template(
            "datadocs_suite.html.j2",
            title=f"Kiểm định dữ liệu — {summary.suite} — đêm {night:%d/%m/%Y}",
            subtitle="Kết quả kiểm định bằng thư viện GX",
            links=[
                {"href": "index.html", "text": "Tất cả bộ kỳ vọng"},
                {"href": "../bao-cao-chat-luong.html", "text": "Báo cáo chất lượng"},
            ],
            suite=payload,
            json_name=f"{name}.json",
        ),
    )
    rebuild_index(folder, night)
    return page


def rebuild_index(folder: Path, night: date) -> Path:
    index = folder / "index.html"
    with locked(index):
        suites: list[dict[str, Any]] = []
        for path in sorted(folder.glob("*.json")):
            payload = json.loads(path.read_text(encoding="utf-8"))
            outcomes = payload["outcomes"]
            suites.append(
                {
                    "suite": payload["suite"],
                    "page": path.with_suffix(".html").name,
                    "success": payload["success"],
                    "rows": payload["rows"],
                    "total": len(outcomes),
                    "passed": sum(o["success"] for o in outcomes),
                    "failed": sum(not o["success"] for o in outcomes),
                    "blocking": sum((not o["success"]) and o["blocking"] for o in outcomes),
                    "run_at": payload["run_at"],
                }
            )
        atomic_write_text(
            index,
            render_template(
                "datadocs_index.html.j2",
                title=f"Kiểm định dữ liệu (GX) — đêm {night:%d/%m/%Y}",
                subtitle="Các bộ kỳ vọng kiểm tra dữ liệu ở từng bước của luồng xử lý hằng đêm",
                links=[{"href": "../bao-cao-chat-luong.html", "text": "Báo cáo chất lượng"}],
                suites=suites,
            ),
        )
    return index
