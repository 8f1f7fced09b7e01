"""The console driven in Debian's Chromium through Playwright, as a ward officer and a data officer would use it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from corrections.db import session_scope
from corrections.models import Task
from corrections.reviews import load_labels
from tests.console.conftest import PASSWORD, LiveServer, Scenario

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/lib/chromium/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="vi-VN", viewport={"width": 1366, "height": 900})
    yield context.new_page()
    context.close()


def log_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(f"{server.base_url}/tasks")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def test_ward_officer_filters_claims_and_resolves(
    page: Page, live: LiveServer, store: Scenario, tmp_path: Path
) -> None:
    log_in(page, live, "congan.a")
    expect(page.get_by_role("heading", name="Hàng việc cần xử lý")).to_be_visible()
    expect(page.locator("table.queue tbody tr")).to_have_count(4)
    screenshot = Path(os.environ.get("DANCU_SCREENSHOT_DIR", str(tmp_path)))
    screenshot.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot / "hang-viec.png"), full_page=True)

    page.locator("#filter-quality").select_option("sống")
    page.get_by_role("button", name="Lọc").click()
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Lê Thị Hoa")

    rows.first.locator("a").first.click()
    expect(page.locator("#task-state")).to_have_text("Chưa xử lý")
    expect(page.locator("tr.problem", has_text="Ngày hết hạn thẻ")).to_have_count(1)
    page.locator("#claim").click()
    expect(page.locator("#task-state")).to_have_text("Đang xử lý")

    page.get_by_label("Đã sửa trên hệ thống nguồn").check()
    page.get_by_label("Ghi chú (bắt buộc)").fill("Công dân đã làm thủ tục cấp đổi thẻ ngày 03/07/2025")
    page.locator("#resolve").click()
    expect(page.locator("#task-state")).to_have_text("Đã đóng")
    expect(page.locator("ol.history")).to_contain_text("đóng việc")

    with session_scope(store.engine) as session:
        task = session.scalar(select(Task).where(Task.rule == "card_expired"))
        assert task is not None
        assert (task.state, task.resolution, task.resolved_by) == ("resolved", "fixed_at_source", "congan.a")
        assert task.resolution_note == "Công dân đã làm thủ tục cấp đổi thẻ ngày 03/07/2025"


def test_ward_officer_cannot_open_another_wards_task(page: Page, live: LiveServer, store: Scenario) -> None:
    with session_scope(store.engine) as session:
        other = session.scalar(select(Task.id).where(Task.ward_code == store.ward_b))
    log_in(page, live, "congan.a")
    expect(page.get_by_role("heading", name="Hàng việc cần xử lý")).to_be_visible()
    response = page.goto(f"{live.base_url}/tasks/{other}")
    assert response is not None and response.status == 404
    expect(page.get_by_text("Không tìm thấy việc này trong phạm vi của bạn.")).to_be_visible()
    expect(page.locator("#claim")).to_have_count(0)


def test_data_officer_decides_a_pair(page: Page, live: LiveServer, store: Scenario) -> None:
    log_in(page, live, "dulieu")
    page.get_by_role("link", name="Đối chiếu trùng").click()
    expect(page.get_by_role("heading", name="Cặp bản ghi cần đối chiếu")).to_be_visible()
    page.get_by_role("link", name="Xem xét", exact=True).click()
    expect(page.get_by_role("heading", name="Hai bản ghi này có phải cùng một người?")).to_be_visible()
    expect(page.locator("table.explain tbody tr")).to_have_count(2)
    expect(page.locator("table.compare")).to_contain_text("Trần Thị Bính")
    page.get_by_label("Ghi chú").fill("Khác số định danh, khác nơi thường trú")
    page.locator("#decide-different").click()
    expect(page.get_by_role("heading", name="Cặp bản ghi cần đối chiếu")).to_be_visible()
    page.get_by_role("link", name="Đã quyết định").click()
    expect(page.locator("table.queue tbody")).to_contain_text("Hai người khác nhau")
    labels = load_labels(store.url)
    assert labels.select("left_id", "right_id", "same_person", "decided_by").rows() == [
        ("B-005", "X-007", False, "dulieu")
    ]
