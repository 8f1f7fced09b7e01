"""Progress of long work: on a terminal a line per stage with records done, records/s and the time left; quiet
everywhere else (CI, the schedule's logs), including the commands run without a terminal."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from pipelines.progress import reporter, terminal_progress
from records.progress import no_progress, tracked


def test_a_terminal_shows_stage_records_rate_and_time_left() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160, color_system=None)
    with terminal_progress("dancu normalize: ", console=console) as progress:
        assert reporter() is progress  # assets running inside the command report to the same display
        for _ in tracked(progress, "chuẩn hóa / normalizing", list(range(4)), [25_000] * 4):
            time.sleep(0.03)  # a rate is shown once a stage has run long enough to measure one
    assert reporter() is no_progress
    shown = screen.getvalue()
    assert "dancu normalize: chuẩn hóa / normalizing" in shown
    assert "100000/100000" in shown
    assert "bản ghi/s" in shown
    assert "còn / left" in shown


def test_no_terminal_no_progress() -> None:
    log = io.StringIO()
    with terminal_progress(console=Console(file=log)) as progress:
        assert progress is no_progress and reporter() is no_progress
        progress("chuẩn hóa / normalizing", 10, 100)
    assert log.getvalue() == ""


def test_a_command_without_a_terminal_prints_no_progress(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pipelines.cli", "generate", "--people", "200", "--out", str(tmp_path / "p")]
    result = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert "dancu generate:" not in result.stderr + result.stdout
    assert "Đã sinh dữ liệu tỉnh mẫu" in result.stdout
