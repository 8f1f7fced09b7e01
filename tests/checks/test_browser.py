"""The reports open in Debian's Chromium from file:// with the network cut, render their charts, speak Vietnamese."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checks.report import DATA_DOCS_DIR, MATCH_REPORT_HTML, QUALITY_REPORT_HTML
from tests.checks.conftest import NIGHTS

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]  # fmt: skip
# Words that would betray English UI text; identifiers (rule ids, column names) are inside <code> and excluded.
ENGLISH = re.compile(r"\b(the|and|of|report|score|scores|total|error|errors|warning|warnings|rule|rules|records?|"
                     r"download|trend|ward|province|match|review|pairs?|details?|source|passed|failed|expectations?)\b",
                     re.IGNORECASE)  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/lib/chromium/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open_offline(browser: Any, path: Path) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    requested: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith("file://"):
            request_route.continue_()
        else:
            requested.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, requested


def _colours(page: Any, png: bytes) -> set[str]:
    data = "data:image/png;base64," + base64.b64encode(png).decode()
    found = page.evaluate(
        """async (data) => { const img = new Image(); img.src = data; await img.decode();
             const canvas = document.createElement('canvas'); canvas.width = img.width; canvas.height = img.height;
             const ctx = canvas.getContext('2d'); ctx.drawImage(img, 0, 0);
             const px = ctx.getImageData(0, 0, img.width, img.height).data; const seen = new Set();
             for (let i = 0; i < px.length; i += 4) {
               seen.add(((1 << 24) + (px[i] << 16) + (px[i + 1] << 8) + px[i + 2]).toString(16).slice(1)); }
             return Array.from(seen); }""",
        data,
    )
    return set(found)


def _visible_text_without_code(page: Any) -> str:
    return str(
        page.evaluate(
            """() => { const clone = document.body.cloneNode(true);
                 clone.querySelectorAll('code, svg, script, style').forEach(e => e.remove());
                 return clone.innerText; }"""
        )
    )


def _assert_vietnamese(page: Any) -> None:
    assert page.evaluate("document.documentElement.lang") == "vi"
    text = _visible_text_without_code(page)
    english = sorted({m.group(0).lower() for m in ENGLISH.finditer(text)})
    assert english == [], f"English words on the page: {english}"
    assert re.search(r"[ăâđêôơưạảấầẩậắằẳặẹẻẽếềểệỉịọỏốồổộớờởợụủứừửữựỳỵỷỹ]", text)


def test_quality_report_renders_offline_in_chromium(
    browser: Any, two_nights: tuple[Path, list[Any]], tmp_path: Path
) -> None:
    output, _ = two_nights
    report = output / "reports" / NIGHTS[1] / QUALITY_REPORT_HTML
    page, requested = _open_offline(browser, report)
    assert requested == []
    charts = page.locator("svg.chart")
    assert charts.count() == 4
    for i in range(4):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 30
    assert page.locator("svg.chart rect.bar").count() >= 5
    assert page.locator("svg.chart circle.point").count() == 10  # 5 series × 2 nights
    _assert_vietnamese(page)
    # Sorting works: clicking "Bản ghi" twice puts the ward with most records first.
    header = page.locator("#tbl-wards th", has_text="Bản ghi")
    header.click()
    header.click()
    first = page.locator("#tbl-wards tbody tr").first.locator("td").nth(3).inner_text()
    assert first.replace(".", "") == str(
        max(int(v.replace(".", "")) for v in page.locator("#tbl-wards tbody tr td:nth-child(4)").all_inner_texts())
    )
    shot = page.locator("#diem-tieu-chi svg").screenshot(path=str(tmp_path / "quality.png"))
    # The screenshot holds the bar colours, so the chart was really drawn (decoded by the browser's own PNG reader).
    assert {"1f6fb2", "2e9e5b", "d98c1f", "b23b3b"} <= _colours(page, shot)
    page.screenshot(path=str(tmp_path / "quality_full.png"), full_page=True)
    page.close()


def test_match_report_and_data_docs_render_offline(browser: Any, two_nights: tuple[Path, list[Any]]) -> None:
    output, _ = two_nights
    folder = output / "reports" / NIGHTS[1]
    page, requested = _open_offline(browser, folder / MATCH_REPORT_HTML)
    assert requested == []
    assert page.locator("svg.chart rect.bar").count() == 20
    assert page.locator("h3", has_text="↔").count() == 2  # both review pairs, side by side
    _assert_vietnamese(page)
    page.locator("a", has_text="Báo cáo chất lượng dữ liệu").click()
    assert page.url.endswith(QUALITY_REPORT_HTML)
    page.close()
    page, requested = _open_offline(browser, folder / DATA_DOCS_DIR / "index.html")
    assert requested == []
    _assert_vietnamese(page)
    page.locator("a", has_text="extract_records").click()
    assert page.locator("#tbl-outcomes tbody tr").count() > 30
    _assert_vietnamese(page)
    page.close()
