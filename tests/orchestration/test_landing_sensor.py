"""The landing-folder sensor: a complete file starts its night once; partial files wait; bad files are set aside."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
from pathlib import Path

import dagster as dg
import pytest

from pipelines.defs.orchestration import landing as landing_module
from pipelines.defs.orchestration.landing import LandingCursor, night_of, scan_landing
from pipelines.defs.orchestration.sensors import landing_run_requests, landing_sensor
from pipelines.resources import DancuPaths

CSV = "Họ và tên,Ngày sinh\nNguyễn Văn An,1990-01-02\n".encode()
NOW = dt.datetime(2025, 7, 20, 21, 0, tzinfo=dt.UTC)


class Sensor:
    """Ticks the real sensor the way the daemon does: the cursor of one tick is handed to the next."""

    def __init__(self, paths: DancuPaths, definitions: dg.Definitions) -> None:
        self.paths = paths
        self.repository = definitions.get_repository_def()
        self.cursor: str | None = None

    def tick(self) -> list[dg.RunRequest]:
        context = dg.build_sensor_context(
            cursor=self.cursor, resources={"paths": self.paths}, repository_def=self.repository
        )
        result = landing_sensor.evaluate_tick(context)
        self.cursor = result.cursor
        return list(result.run_requests or [])


@pytest.fixture
def landing(paths: DancuPaths) -> Path:
    folder = Path(paths.input_dir) / "landing"
    folder.mkdir()
    return folder


@pytest.fixture
def sensor(paths: DancuPaths, definitions: dg.Definitions) -> Sensor:
    return Sensor(paths, definitions)


def drop(folder: Path, name: str, content: bytes = CSV) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_a_new_file_starts_its_night_exactly_once(sensor: Sensor, landing: Path, paths: DancuPaths) -> None:
    drop(landing, "cu_tru_2025-07-14.csv")
    assert sensor.tick() == []  # first sight: wait one tick to be sure it is complete
    requests = sensor.tick()
    assert len(requests) == 1
    assert requests[0].partition_key == "2025-07-14"
    assert requests[0].tags["dancu/trigger"] == "landing"
    assert requests[0].tags["dancu/files"] == "cu_tru_2025-07-14.csv"
    moved = Path(paths.input_dir) / "extracts" / "2025-07-14" / "cu_tru_2025-07-14.csv"
    assert moved.read_bytes() == CSV
    assert not (landing / "cu_tru_2025-07-14.csv").exists()
    assert sensor.tick() == []
    assert sensor.tick() == []
    journal = [json.loads(line) for line in (paths.state_dir / "landing" / "journal.jsonl").read_text().splitlines()]
    assert [(entry["action"], entry["night"]) for entry in journal] == [("accepted", "2025-07-14")]


def test_files_of_one_night_in_one_tick_make_one_run(sensor: Sensor, landing: Path) -> None:
    for name in ("cu_tru.csv", "ho_tich.xlsx", "cap_the.csv"):
        drop(landing / "2025-07-15", name)
    sensor.tick()
    requests = sensor.tick()
    assert [request.partition_key for request in requests] == ["2025-07-15"]
    assert requests[0].tags["dancu/files"] == "2025-07-15/cap_the.csv, 2025-07-15/cu_tru.csv, 2025-07-15/ho_tich.xlsx"
    assert not (landing / "2025-07-15").exists()


def test_the_run_key_is_stable_so_a_replayed_tick_is_a_no_op(
    paths: DancuPaths, definitions: dg.Definitions, tmp_path: Path
) -> None:
    keys = []
    for attempt in range(2):
        folder = Path(paths.input_dir) / f"landing{attempt}"
        path = drop(folder, "cu_tru_2025-07-14.csv")
        os.utime(path, ns=(1_752_500_000_000_000_000, 1_752_500_000_000_000_000))
        cursor = LandingCursor()
        cursor = scan_landing(folder, tmp_path / f"in{attempt}", cursor, first_night="2025-07-01", now=NOW).cursor
        tick = scan_landing(folder, tmp_path / f"in{attempt}", cursor, first_night="2025-07-01", now=NOW)
        keys.append(landing_run_requests(tick)[0].run_key)
    assert keys[0] == keys[1]


def test_a_partial_upload_is_ignored(sensor: Sensor, landing: Path) -> None:
    drop(landing, "the_2025-07-14.csv.part")
    drop(landing, ".ho_tich_2025-07-14.csv")
    drop(landing, "cap_the_2025-07-14.tmp")
    for _ in range(3):
        assert sensor.tick() == []
    assert {p.name for p in landing.iterdir()} == {
        "the_2025-07-14.csv.part",
        ".ho_tich_2025-07-14.csv",
        "cap_the_2025-07-14.tmp",
    }
    # The sender renames the finished upload: now it is a candidate.
    (landing / "the_2025-07-14.csv.part").rename(landing / "the_2025-07-14.csv")
    assert sensor.tick() == []
    assert [r.partition_key for r in sensor.tick()] == ["2025-07-14"]


def test_a_file_still_growing_waits_until_it_is_stable(sensor: Sensor, landing: Path) -> None:
    path = drop(landing, "cu_tru_2025-07-14.csv", CSV[:10])
    assert sensor.tick() == []
    with path.open("ab") as handle:
        handle.write(CSV[10:20])
    assert sensor.tick() == []  # size changed since the last tick: still being written
    with path.open("ab") as handle:
        handle.write(CSV[20:])
    assert sensor.tick() == []
    requests = sensor.tick()
    assert [r.partition_key for r in requests] == ["2025-07-14"]


def test_bad_files_are_set_aside_with_a_reason_and_not_retried(
    sensor: Sensor, landing: Path, paths: DancuPaths
) -> None:
    drop(landing, "empty_2025-07-14.csv", b"")
    drop(landing, "photo_2025-07-14.jpg", b"\xff\xd8")
    drop(landing, "future_2099-01-01.csv")
    drop(landing, "impossible_2025-02-30.csv")
    sensor.tick()
    assert sensor.tick() == []
    rejected = landing / "_rejected"
    reasons = {p.name: p.read_text(encoding="utf-8") for p in rejected.glob("*.reason.txt")}
    assert set(reasons) == {
        "empty_2025-07-14.csv.reason.txt",
        "photo_2025-07-14.jpg.reason.txt",
        "future_2099-01-01.csv.reason.txt",
        "impossible_2025-02-30.csv.reason.txt",
    }
    assert "rỗng" in reasons["empty_2025-07-14.csv.reason.txt"]
    assert "không được hỗ trợ" in reasons["photo_2025-07-14.jpg.reason.txt"]
    assert "tương lai" in reasons["future_2099-01-01.csv.reason.txt"]
    assert "không hợp lệ" in reasons["impossible_2025-02-30.csv.reason.txt"]
    assert not (Path(paths.input_dir) / "extracts").exists()
    for _ in range(2):
        assert sensor.tick() == []
    assert len(list(rejected.glob("*.reason.txt"))) == 4


def test_an_identical_resend_is_not_run_again(sensor: Sensor, landing: Path, paths: DancuPaths) -> None:
    drop(landing, "cu_tru_2025-07-14.csv")
    sensor.tick()
    assert len(sensor.tick()) == 1
    drop(landing, "cu_tru_2025-07-14.csv")  # same bytes, new modification time
    sensor.tick()
    assert sensor.tick() == []
    assert not (landing / "cu_tru_2025-07-14.csv").exists()
    assert not (Path(paths.input_dir) / "superseded").exists()


def test_a_corrected_resend_supersedes_without_losing_the_first(
    sensor: Sensor, landing: Path, paths: DancuPaths
) -> None:
    drop(landing, "cu_tru_2025-07-14.csv")
    sensor.tick()
    first = sensor.tick()
    corrected = CSV + "Trần Thị Bình,1991-02-03\n".encode()
    drop(landing, "cu_tru_2025-07-14.csv", corrected)
    sensor.tick()
    second = sensor.tick()
    assert [r.partition_key for r in second] == ["2025-07-14"]
    assert second[0].run_key != first[0].run_key
    night_dir = Path(paths.input_dir) / "extracts" / "2025-07-14"
    assert (night_dir / "cu_tru_2025-07-14.csv").read_bytes() == corrected
    kept = list((Path(paths.input_dir) / "superseded" / "2025-07-14").iterdir())
    assert [p.read_bytes() for p in kept] == [CSV]


def test_landing_folder_comes_from_the_environment(
    sensor: Sensor, paths: DancuPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "sftp-drop"
    monkeypatch.setenv("DANCU_LANDING_DIR", str(elsewhere))
    drop(elsewhere, "cu_tru_2025-07-16.csv")
    sensor.tick()
    assert [r.partition_key for r in sensor.tick()] == ["2025-07-16"]
    assert (Path(paths.input_dir) / "extracts" / "2025-07-16" / "cu_tru_2025-07-16.csv").exists()


def test_a_move_across_filesystems_copies_then_renames(
    landing: Path, paths: DancuPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop(landing, "cu_tru_2025-07-14.csv")
    real_rename = os.rename

    def cross_device(source: os.PathLike[str], target: os.PathLike[str]) -> None:
        if "extracts" in str(target):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_rename(source, target)

    monkeypatch.setattr(landing_module.os, "rename", cross_device)
    cursor = scan_landing(landing, Path(paths.input_dir), LandingCursor(), first_night="2025-07-01", now=NOW).cursor
    tick = scan_landing(landing, Path(paths.input_dir), cursor, first_night="2025-07-01", now=NOW)
    assert [a.night for a in tick.accepted] == ["2025-07-14"]
    night_dir = Path(paths.input_dir) / "extracts" / "2025-07-14"
    assert [p.name for p in night_dir.iterdir()] == ["cu_tru_2025-07-14.csv"]
    assert (night_dir / "cu_tru_2025-07-14.csv").read_bytes() == CSV
    assert not (landing / "cu_tru_2025-07-14.csv").exists()


def test_night_of_a_file() -> None:
    late_evening_utc = int(dt.datetime(2025, 7, 14, 20, 30, tzinfo=dt.UTC).timestamp() * 1e9)
    assert night_of(Path("2025-07-10/cu_tru.csv"), late_evening_utc) == "2025-07-10"
    assert night_of(Path("ho_tich_20250711.xlsx"), late_evening_utc) == "2025-07-11"
    assert night_of(Path("the_2025-07-12_v2.csv"), late_evening_utc) == "2025-07-12"
    # 20:30 UTC is 03:30 the next morning in Vietnam.
    assert night_of(Path("cu_tru.csv"), late_evening_utc) == "2025-07-15"
    # A 12-digit personal ID in a name is not a date.
    assert night_of(Path("bo_sung_001090012345.csv"), late_evening_utc) == "2025-07-15"
    assert night_of(Path("cu_tru_2025-13-01.csv"), late_evening_utc) is None


def test_cursor_round_trips_and_stays_bounded() -> None:
    cursor = LandingCursor(
        pending={"a.csv": (10, 20)},
        processed={f"k{i}": "2025-07-14" for i in range(landing_module.PROCESSED_MEMORY + 7)},
    )
    restored = LandingCursor.from_json(cursor.to_json())
    assert restored.pending == {"a.csv": (10, 20)}
    assert len(restored.processed) == landing_module.PROCESSED_MEMORY
    assert "k0" not in restored.processed and f"k{landing_module.PROCESSED_MEMORY + 6}" in restored.processed
