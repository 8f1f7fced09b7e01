"""The Excel export (``console/export``)."""

from __future__ import annotations

import io

import openpyxl

from tests.console.conftest import LiveServer, Scenario
from tests.console.helpers import login


def test_ward_officer_exports_only_their_ward(live: LiveServer, store: Scenario) -> None:
    client = login(live, "congan.a")
    workbook = client.get(f"{live.base_url}/export?ward={store.ward_b}")
    assert workbook.status_code == 200
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    ids = {row[8] for row in sheet.iter_rows(min_row=5, values_only=True)}
    assert ids == {"B-001", "B-003", "B-004"}  # own ward only, whatever the URL asked for
    officer = login(live, "dulieu")
    assert officer.get(f"{live.base_url}/export?ward={store.ward_b}").status_code == 200
