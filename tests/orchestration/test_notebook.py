"""The exploration notebook executes on a generated province's night and draws its charts."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.orchestration.nightly_graph import NightRun

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "night_explorer.ipynb"


@pytest.mark.slow
def test_notebook_executes_on_a_generated_night(uninterrupted_night: NightRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANCU_OUTPUT_DIR", str(uninterrupted_night.output_dir))
    monkeypatch.setenv("DANCU_NIGHT", uninterrupted_night.province.night)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.get("output_type") == "error"]
    charts = [output for output in outputs if "image/svg+xml" in output.get("data", {})]
    # Decisions, probability histogram, cluster sizes, quality scores, top rules, top wards.
    assert len(charts) == 6, [o.get("data", {}).keys() for o in outputs]
    text = "\n".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", "")) for output in outputs
    )
    assert f"Đêm {uninterrupted_night.province.night}" in text
    for asset in ("scored_pairs", "person_clusters", "quality_findings", "quality_scores"):
        assert asset in text
    # The stored notebook carries no outputs: it is executed fresh by whoever opens it.
    assert all(
        not cell.get("outputs") for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code"
    )
