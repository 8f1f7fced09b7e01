"""The audit log page (``console/audit``)."""

from __future__ import annotations

from tests.console.conftest import LiveServer, Scenario
from tests.console.helpers import login


def test_actions_appear_in_the_audit_log(live: LiveServer, store: Scenario) -> None:
    client = login(live, "congan.a")
    assert client.get(f"{live.base_url}/export").status_code == 200
    admin = login(live, "quantri")
    log = admin.get(f"{live.base_url}/audit")
    assert log.status_code == 200 and "xuất Excel" in log.text and "congan.a" in log.text
