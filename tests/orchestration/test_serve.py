"""``dancu serve`` starts the Dagster webserver and daemon on 127.0.0.1, and one Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines.commands import serve
from pipelines.errors import CommandError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 (after the parenthesised command, which may hold spaces) is the parent pid.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_managed_home_gets_the_sqlite_template(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(serve, "PROJECT_ROOT", tmp_path)
    home = serve.prepare_home({}, "sqlite")
    assert home == tmp_path / ".dagster_home"
    assert (home / "dagster.yaml").read_text() == serve.INSTANCE_TEMPLATES["sqlite"].read_text()


def test_an_operators_own_home_is_kept(tmp_path: Path) -> None:
    own = tmp_path / "home"
    own.mkdir()
    (own / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    assert serve.prepare_home({"DAGSTER_HOME": str(own)}, "sqlite") == own
    assert (own / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"


def test_postgres_needs_its_variables(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="DANCU_DAGSTER_PG_PASSWORD"):
        serve.prepare_home(
            {"DAGSTER_HOME": str(tmp_path), "DANCU_DAGSTER_PG_HOST": "db", "DANCU_DAGSTER_PG_PORT": "5432"}, "postgres"
        )


@pytest.mark.slow
def test_serve_runs_webserver_and_daemon_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    port = free_port()
    home = tmp_path / "dagster_home"
    environment = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DANCU_INPUT_DIR": str(tmp_path / "in"),
        "DANCU_OUTPUT_DIR": str(tmp_path / "out"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    children: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        info = None
        while time.monotonic() < deadline and info is None:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as response:
                    info = response.read().decode()
            except OSError:
                time.sleep(1)
        assert info is not None and "dagster_webserver_version" in info, "webserver did not come up"
        children = children_of(process.pid)
        commands = {" ".join((Path("/proc") / str(pid) / "cmdline").read_text().split("\0")) for pid in children}
        assert any("dagster-webserver" in c and f"-p {port}" in c and "-h 127.0.0.1" in c for c in commands)
        assert any("dagster-daemon run" in c for c in commands)
        assert (home / "dagster.yaml").exists()
        # Ctrl-C reaches only the foreground process: the children live in sessions of their own.
        os.kill(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output.decode()
        assert "đã dừng" in output.decode()
        assert not [pid for pid in children if alive(pid)]
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in children:
            if alive(pid):
                os.killpg(pid, signal.SIGKILL)
