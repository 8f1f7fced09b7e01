"""Error pages (``console/app.py``): malformed or huge numbers are refused cleanly (404/422, never 500), and every
response, a 500 included, carries the security headers."""

from __future__ import annotations

import pytest
import requests

from corrections import queries
from tests.console.conftest import LiveServer
from tests.console.helpers import csrf_of, login

HUGE = "99999999999999999999"
SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy")


# ---- finding 11 ---------------------------------------------------------------------------------------------------


def test_huge_and_odd_numbers_are_refused_not_crashes(live: LiveServer) -> None:
    officer = login(live, "dulieu")
    token = csrf_of(officer, f"{live.base_url}/tasks")
    answers = {
        url: officer.get(f"{live.base_url}{url}", allow_redirects=False).status_code
        for url in (
            f"/audit?page={HUGE}",
            f"/tasks/{HUGE}",
            f"/tasks/{2**31}",
            "/tasks/0",
            f"/reviews/{HUGE}",
            f"/reviews?page={HUGE}",
            "/audit?page=-1",
        )
    }
    assert all(status in (404, 422) for status in answers.values()), answers
    for url in ("/tasks?page=²", "/tasks?page=١٢", f"/tasks?page={HUGE}", "/tasks?after=1.2025-07-09.١"):
        page = officer.get(f"{live.base_url}{url}")
        assert page.status_code == 200 and "Hàng việc cần xử lý" in page.text
    posted = officer.post(f"{live.base_url}/tasks/{HUGE}/claim", data={"csrf_token": token})
    assert posted.status_code in (404, 422)
    decided = officer.post(f"{live.base_url}/reviews/1", data={"csrf_token": token, "decision": "same", "next_id": "²"})
    assert decided.status_code == 200
    refused = officer.get(f"{live.base_url}/tasks/{HUGE}")
    assert "Yêu cầu không hợp lệ" in refused.text and all(h in refused.headers for h in SECURITY_HEADERS)


def test_server_errors_carry_the_security_headers(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    officer = login(live, "congan.a")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(queries, "queue_page", broken)
    response = officer.get(f"{live.base_url}/tasks")
    assert response.status_code == 500
    assert all(h in response.headers for h in SECURITY_HEADERS) and response.headers["cache-control"] == "no-store"
    assert "Lỗi hệ thống" in response.text and "database went away" not in response.text
    anonymous = requests.get(f"{live.base_url}/khong-co-trang-nay")
    assert anonymous.status_code == 404 and all(h in anonymous.headers for h in SECURITY_HEADERS)
