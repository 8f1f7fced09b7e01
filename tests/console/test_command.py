"""``dancu console``: serves the store on 127.0.0.1, prints the demo accounts (never in production), creates
accounts (strong password, explicit scope)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import uvicorn
from sqlalchemy import select

from corrections.db import session_scope
from corrections.models import User
from pipelines import cli
from tests.console.conftest import Scenario, free_port

ROOT = Path(__file__).resolve().parents[2]


def console_start(
    store: Scenario,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
    env: str = "embedded",
) -> str:
    """``dancu console`` run in this process up to the moment it would serve: what it printed (its accounts work is
    done by then)."""
    monkeypatch.setenv("DANCU_ENV", env)
    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_options: served.append(app))
    assert cli.main(["console", "--database-url", store.url, *args]) == 0
    assert served
    return capsys.readouterr().out


def add_user(
    store: Scenario, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, password: str
) -> tuple[int, str]:
    """``dancu console --add-user ...`` in this process: (exit status, error output)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    status = cli.main(["console", "--database-url", store.url, "--add-user", *args])
    return status, capsys.readouterr().err


def accounts(store: Scenario) -> dict[str, tuple[bool, bool, str]]:
    """username -> (demo, active, password hash)."""
    with session_scope(store.engine) as session:
        return {u.username: (u.demo, u.active, u.password_hash) for u in session.scalars(select(User))}


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


def test_console_creates_accounts(
    store: Scenario, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def add(*args: str) -> tuple[int, str]:
        return add_user(store, monkeypatch, capsys, *args, password="mat-khau-rat-dai")

    assert add("CongAn.Moi", "--role", "ward_officer", "--ward", store.ward_b) == (0, "")
    with session_scope(store.engine) as session:
        user = session.scalar(select(User).where(User.username == "congan.moi"))
        assert user is not None and user.ward_code == store.ward_b and user.province_code == store.province
    status, error = add("congan.moi", "--ward", store.ward_b)
    assert status == 2 and "đã tồn tại" in error
    status, error = add("x", "--ward", "99999")
    assert status == 2 and "99999" in error


# ---- finding 1: production never creates, resets or accepts demo accounts -----------------------------------------


def test_production_never_creates_or_resets_demo_accounts(
    store: Scenario, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hardened = accounts(store)["quantri"]  # a real admin that happens to carry the demo admin's name
    production = console_start(store, monkeypatch, capsys, env="production")
    assert "dancu-demo-2025" not in production and "mode: production" in production
    after = accounts(store)
    assert after["quantri"] == hardened and not any(demo for demo, _active, _hash in after.values())
    # Outside production the seeding leaves the real "quantri" alone and creates the others as demo accounts.
    embedded = console_start(store, monkeypatch, capsys)
    seeded = accounts(store)
    assert "dancu-demo-2025" in embedded and seeded["quantri"] == hardened
    demo_names = {name for name, (demo, active, _hash) in seeded.items() if demo and active}
    assert demo_names == {f"dulieu.{store.province}", f"congan.{store.ward_a}", f"congan.{store.ward_b}"}
    # Back in production (or with --no-demo-accounts) they are disabled, not left active.
    console_start(store, monkeypatch, capsys, env="production")
    assert not any(accounts(store)[name][1] for name in demo_names)
    console_start(store, monkeypatch, capsys)
    assert all(accounts(store)[name][1] for name in demo_names)
    output = console_start(store, monkeypatch, capsys, "--no-demo-accounts")
    assert not any(accounts(store)[name][1] for name in demo_names) and "demo accounts disabled" in output


def test_production_needs_a_real_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DANCU_OUTPUT_DIR", str(tmp_path))
    monkeypatch.delenv("DANCU_DATABASE_URL", raising=False)
    monkeypatch.setenv("DANCU_ENV", "production")
    assert cli.main(["console"]) == 2 and "DANCU_DATABASE_URL" in capsys.readouterr().err
    monkeypatch.setenv("DANCU_ENV", "prod")  # a typo must not mean "demo"
    assert cli.main(["console"]) == 2 and "DANCU_ENV" in capsys.readouterr().err


# ---- finding 12: strong passwords and an explicit scope -----------------------------------------------------------


def test_accounts_need_a_strong_password_and_an_explicit_scope(
    store: Scenario, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    strong = "Cay-tre-xanh-ven-song-Hong"

    def add(*args: str, password: str = strong) -> tuple[int, str]:
        return add_user(store, monkeypatch, capsys, *args, password=password)

    status, error = add("quantri.2", "--role", "admin", password="12345678")
    assert status == 2 and "16 ký tự" in error
    status, error = add("quantri.2", "--role", "admin", password="password1234567890")
    assert status == 2 and "dễ đoán" in error
    status, error = add("congan.moi", "--ward", store.ward_b, password="congan.moi-2025-2026")
    assert status == 2 and "tên đăng nhập" in error
    status, error = add("dulieu.moi", "--role", "data_officer")
    assert status == 2 and "--national" in error
    assert add("dulieu.moi", "--role", "data_officer", "--province", store.province, "--national")[0] == 2
    assert add("dulieu.moi", "--role", "data_officer", "--national")[0] == 0
    assert add("dulieu.tinh", "--role", "data_officer", "--province", store.province)[0] == 0
    assert add("quantri.2", "--role", "admin", password="Ngua-o-nhu-tho-song-nui-Tan-Vien")[0] == 0
    with session_scope(store.engine) as session:
        names = ("dulieu.moi", "dulieu.tinh", "quantri.2")
        created = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    assert created["dulieu.moi"].national and created["dulieu.moi"].province_code is None
    assert not created["dulieu.tinh"].national and created["dulieu.tinh"].province_code == store.province
    assert created["quantri.2"].national and created["quantri.2"].password_hash.startswith("$argon2id$")
