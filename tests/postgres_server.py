"""A throwaway PostgreSQL server for tests: initdb in a temp dir, pg_ctl start on 127.0.0.1, stop at the end.

Tests that need PostgreSQL use the ``postgres_url`` fixture (defined in ``tests/conftest.py``); they never skip:
CI installs the server binaries (``scripts/system-deps.sh``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        found = shutil.which("initdb")
        if not found:
            raise RuntimeError("PostgreSQL server binaries not found: run scripts/system-deps.sh")
        return Path(found).parent
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as_postgres_user(command: list[str]) -> list[str]:
    # initdb refuses to run as root; CI runs as root, so drop to the 'postgres' system user there.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a fresh cluster and yield a SQLAlchemy URL of an empty database ``dancu`` owned by ``dancu``."""
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="dancu-pg-"))
    data = root / "data"
    port = _free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(
        _run_as_postgres_user(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c max_connections=200"
    subprocess.run(
        _run_as_postgres_user(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        for sql in ("CREATE ROLE dancu LOGIN PASSWORD 'dancu'", "CREATE DATABASE dancu OWNER dancu"):
            subprocess.run(
                [str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c", sql],
                check=True,
                capture_output=True,
            )
        yield f"postgresql+psycopg2://dancu:dancu@127.0.0.1:{port}/dancu"
    finally:
        subprocess.run(
            _run_as_postgres_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
