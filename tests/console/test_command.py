"""``dancu console``: serves the store on 127.0.0.1, prints the demo accounts, creates accounts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import select

from corrections.db import session_scope
from corrections.models import User
from tests.console.conftest import Scenario, free_port

ROOT = Path(__file__).resolve().parents[2]


def dancu(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_console_prints_demo_accounts_and_serves(store: Scenario) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "console", "--database-url", store.url, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not any("127.0.0.1" in line and "http://" in line for line in lines):
            line = process.stdout.readline()
            assert line, "\n".join(lines)
            lines.append(line)
        output = "".join(lines)
        assert "quantri" in output and f"congan.{store.ward_a}" in output and f"dulieu.{store.province}" in output
        assert "dancu-demo-2025" in output
        deadline = time.monotonic() + 30
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    with session_scope(store.engine) as session:
        demo = session.scalar(select(User).where(User.username == f"congan.{store.ward_a}"))
        assert demo is not None and demo.role == "ward_officer" and demo.ward_code == store.ward_a


def test_console_creates_accounts(store: Scenario) -> None:
    created = dancu(
        "console",
        "--database-url",
        store.url,
        "--add-user",
        "CongAn.Moi",
        "--role",
        "ward_officer",
        "--ward",
        store.ward_b,
        stdin="mat-khau-rat-dai\n",
    )
    assert created.returncode == 0, created.stderr
    with session_scope(store.engine) as session:
        user = session.scalar(select(User).where(User.username == "congan.moi"))
        assert user is not None and user.ward_code == store.ward_b and user.province_code == store.province
    again = dancu(
        "console",
        "--database-url",
        store.url,
        "--add-user",
        "congan.moi",
        "--ward",
        store.ward_b,
        stdin="mat-khau-rat-dai\n",
    )
    assert again.returncode == 2 and "đã tồn tại" in again.stderr
    unknown = dancu("console", "--database-url", store.url, "--add-user", "x", "--ward", "99999", stdin="12345678\n")
    assert unknown.returncode == 2 and "99999" in unknown.stderr
