"""``dancu nightly --date D`` for a night with no extract folder warns instead of finishing silently."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import pipelines.commands.nightly as command
from pipelines.defs.ingest.assets import missing_night_folder
from pipelines.errors import CommandError
from pipelines.nightly import NightlyOutcome


def test_missing_night_folder_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "extracts" / "2026-11-19").mkdir(parents=True)
    warning = missing_night_folder(tmp_path, "2026-11-20")
    assert warning is not None and "2026-11-20" in warning and "2026-11-19" in warning
    assert missing_night_folder(tmp_path, "2026-11-19") is None
    flat = tmp_path / "flat"
    flat.mkdir()
    assert missing_night_folder(flat, "2026-11-20") is not None  # no dated folders and no extract file
    (flat / "cu_tru.csv").write_text("x", encoding="utf-8")
    assert missing_night_folder(flat, "2026-11-20") is None  # extracts in the input folder itself


def test_the_command_warns_and_says_so_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "extracts" / "2026-11-19").mkdir(parents=True)
    (tmp_path / "population_base.parquet").write_bytes(b"")
    monkeypatch.setattr(
        command,
        "run_nightly",
        lambda *args, **kwargs: NightlyOutcome(night="2026-11-20", success=True, materialized={}),
    )
    assert command.run_and_report(tmp_path, tmp_path / "out", "2026-11-20") == 0
    captured = capsys.readouterr()
    assert "CẢNH BÁO" in captured.err and "extracts/2026-11-20" in captured.err
    assert "không có tệp trích xuất nào cho đêm 2026-11-20" in captured.out


@pytest.mark.parametrize(("night", "words"), [("2026-12-04", "chưa tới"), ("2025-06-30", "trước đêm đầu tiên")])
def test_a_night_outside_the_schedule_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, night: str, words: str
) -> None:
    """Dagster answers a partition it does not have with a traceback; the command names the night and why."""
    (tmp_path / "population_base.parquet").write_bytes(b"")
    monkeypatch.setattr(command, "today_in_vietnam", lambda: dt.date(2026, 12, 3))

    def never(*args: object, **kwargs: object) -> NightlyOutcome:
        raise AssertionError("the night must be refused before the run")

    monkeypatch.setattr(command, "run_nightly", never)
    with pytest.raises(CommandError, match=words):
        command.run_and_report(tmp_path, tmp_path / "out", night)
    command.check_night("2026-12-03")  # today in Vietnam is a night (end_offset=1)
