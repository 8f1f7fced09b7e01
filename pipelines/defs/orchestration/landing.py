"""The landing folder: where extract files arrive, and how each one is handed to exactly one night.

Pure file handling (no Dagster): the sensor in ``sensors.py`` calls :func:`scan_landing` once per tick, keeps the
returned cursor, and turns the accepted files into run requests.

Rules, in order:
- hidden files, and names ending in ``.part``/``.tmp``/``.partial``/``.crdownload``/``.filepart`` are still being
  written and are never looked at (senders that can rename should upload under such a name, then rename);
- any other file is only taken once its size and modification time are unchanged across two ticks, so a file
  still growing is left alone;
- a file is processed once: its key (name, size, mtime, SHA-256) is remembered in the cursor;
- a file that cannot be ingested at all (empty, unsupported type, date outside the nightly partitions, seen before)
  is moved to ``_rejected/`` beside a ``.reason.txt`` and reported, never retried; the sender fixes and resends it;
- an accepted file is moved into ``{input_dir}/extracts/{night}/`` (same-filesystem rename, otherwise copy to a
  temporary name then rename, so ingest never reads half a file). A file with the same name already there is moved
  to ``{input_dir}/superseded/{night}/`` first: nothing is ever overwritten.

The night of a file: a dated sub-folder (``landing/2025-07-14/…``), else a date in the file name
(``cu_tru_2025-07-14.csv``, ``ho_tich_20250714.xlsx``), else the Vietnam calendar day of its modification time.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

__all__ = [
    "ACCEPTED_SUFFIXES",
    "LANDING_DIR_ENV",
    "REJECTED_DIRNAME",
    "AcceptedFile",
    "LandingCursor",
    "LandingTick",
    "RejectedFile",
    "landing_dir_for",
    "night_of",
    "scan_landing",
]

LANDING_DIR_ENV: Final = "DANCU_LANDING_DIR"
REJECTED_DIRNAME: Final = "_rejected"
ACCEPTED_SUFFIXES: Final = frozenset({".csv", ".txt", ".xlsx", ".xls"})
IN_PROGRESS_SUFFIXES: Final = frozenset({".part", ".tmp", ".partial", ".crdownload", ".filepart", ".swp"})
VIETNAM: Final = ZoneInfo("Asia/Ho_Chi_Minh")

# Keys of processed files kept in the cursor. Files leave the landing folder once handled, so the memory only needs
# to outlast a resend of the same file; a few thousand keys is weeks of nights at three files a night.
PROCESSED_MEMORY: Final = 5000

_DATED_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A date in a file name, ISO or compact; not part of a longer digit run (IDs are 12 digits).
_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})-?(\d{2})-?(\d{2})(?!\d)")
_HASH_CHUNK = 1 << 20


def landing_dir_for(input_dir: str | Path, environ: Mapping[str, str] | None = None) -> Path:
    """``$DANCU_LANDING_DIR`` when set, else ``{input_dir}/landing``."""
    environ = os.environ if environ is None else environ
    configured = environ.get(LANDING_DIR_ENV, "").strip()
    return Path(configured) if configured else Path(input_dir) / "landing"


def night_of(relative: Path, mtime_ns: int) -> str | None:
    """The extract date a landed file belongs to (see the module docstring); None when a stated date is impossible."""
    if len(relative.parts) > 1 and _DATED_DIR.match(relative.parts[0]):
        return _valid_date(relative.parts[0])
    found = _DATE_IN_NAME.search(relative.name)
    if found:
        return _valid_date("-".join(found.groups()))
    return dt.datetime.fromtimestamp(mtime_ns / 1e9, tz=VIETNAM).date().isoformat()


def _valid_date(text: str) -> str | None:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


@dataclass
class LandingCursor:
    """What the sensor remembers between ticks (serialized as the Dagster sensor cursor)."""

    pending: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Relative path → (size, mtime_ns) seen on the previous tick, for files not yet taken."""
    processed: dict[str, str] = field(default_factory=dict)
    """File key → night it went to (or ``rejected``), oldest first."""

    @classmethod
    def from_json(cls, text: str | None) -> LandingCursor:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(
            pending={name: (int(size), int(mtime)) for name, (size, mtime) in data.get("pending", {}).items()},
            processed={str(key): str(night) for key, night in data.get("processed", [])},
        )

    def to_json(self) -> str:
        processed = list(self.processed.items())[-PROCESSED_MEMORY:]
        return json.dumps(
            {"pending": {name: list(value) for name, value in sorted(self.pending.items())}, "processed": processed},
            ensure_ascii=False,
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class AcceptedFile:
    name: str
    night: str
    key: str
    destination: Path
    superseded: Path | None


@dataclass(frozen=True)
class RejectedFile:
    name: str
    reason: str
    moved_to: Path


@dataclass
class LandingTick:
    """The outcome of one look at the landing folder."""

    cursor: LandingCursor
    accepted: list[AcceptedFile] = field(default_factory=list)
    rejected: list[RejectedFile] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    """Files identical to one already in place for their night: removed from landing, no new run."""
    waiting: list[str] = field(default_factory=list)
    """Files seen for the first time or still changing: looked at again next tick."""

    def nights(self) -> dict[str, list[AcceptedFile]]:
        grouped: dict[str, list[AcceptedFile]] = {}
        for accepted in self.accepted:
            grouped.setdefault(accepted.night, []).append(accepted)
        return grouped


def scan_landing(
    landing_dir: Path,
    input_dir: Path,
    cursor: LandingCursor,
    *,
    first_night: str,
    now: dt.datetime,
    journal: Path | None = None,
) -> LandingTick:
    """Take every landed file that is complete, hand it to its night, and return what happened.

    ``first_night`` and ``now`` bound the valid nights (the nightly partitions: ``first_night`` up to today in
    Vietnam). ``journal``, when given, receives one JSON line per accepted, duplicate or rejected file.
    """
    tick = LandingTick(cursor=LandingCursor(pending={}, processed=dict(cursor.processed)))
    if not landing_dir.is_dir():
        return tick
    today = now.astimezone(VIETNAM).date().isoformat()
    emptied: set[Path] = set()
    for path, relative in _landed_files(landing_dir):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # taken away by the sender between listing and stat
        name = relative.as_posix()
        observed = (stat.st_size, stat.st_mtime_ns)
        if cursor.pending.get(name) != observed:
            tick.cursor.pending[name] = observed
            tick.waiting.append(name)
            continue
        digest = _sha256(path)
        key = f"{name}|{stat.st_size}|{stat.st_mtime_ns}|{digest}"
        night = night_of(relative, stat.st_mtime_ns)
        reason = _rejection_reason(relative, stat.st_size, night, key, tick.cursor, first_night, today)
        if reason is not None or night is None:
            reason = reason or "không xác định được ngày / no night for this file"
            moved_to = _reject(landing_dir, path, relative, reason)
            emptied.add(path.parent)
            tick.rejected.append(RejectedFile(name=name, reason=reason, moved_to=moved_to))
            tick.cursor.processed[key] = "rejected"
            _journal(journal, now, "rejected", name, key, reason=reason, moved_to=str(moved_to))
            continue
        destination = input_dir / "extracts" / night / relative.name
        if destination.exists() and _sha256(destination) == digest:
            path.unlink()
            emptied.add(path.parent)
            tick.duplicates.append(name)
            tick.cursor.processed[key] = night
            _journal(journal, now, "duplicate", name, key, night=night, destination=str(destination))
            continue
        superseded = None
        if destination.exists():
            stamp = now.astimezone(VIETNAM).strftime("%Y%m%dT%H%M%S")
            superseded = _free_path(input_dir / "superseded" / night / f"{stamp}_{relative.name}")
            _move_atomic(destination, superseded)
        _move_atomic(path, destination)
        emptied.add(path.parent)
        tick.accepted.append(AcceptedFile(name, night, key, destination, superseded))
        tick.cursor.processed[key] = night
        _journal(
            journal,
            now,
            "accepted",
            name,
            key,
            night=night,
            destination=str(destination),
            superseded=str(superseded) if superseded else None,
        )
    for folder in emptied - {landing_dir}:
        # Only dated folders this tick emptied: a sender may be about to fill a folder it just made.
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return tick


def _landed_files(landing_dir: Path) -> list[tuple[Path, Path]]:
    """Files directly in the landing folder and in its dated sub-folders, in name order."""
    found: list[tuple[Path, Path]] = []
    for entry in sorted(landing_dir.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir():
            if _DATED_DIR.match(entry.name):
                found.extend(
                    (child, Path(entry.name) / child.name)
                    for child in sorted(entry.iterdir())
                    if child.is_file() and not _in_progress(child.name)
                )
            continue
        if entry.is_file() and not _in_progress(entry.name):
            found.append((entry, Path(entry.name)))
    return found


def _in_progress(name: str) -> bool:
    return name.startswith(".") or Path(name).suffix.lower() in IN_PROGRESS_SUFFIXES


def _rejection_reason(
    relative: Path,
    size: int,
    night: str | None,
    key: str,
    cursor: LandingCursor,
    first_night: str,
    today: str,
) -> str | None:
    if key in cursor.processed:
        return "tệp này đã được xử lý trước đó / this exact file was already processed"
    if relative.suffix.lower() not in ACCEPTED_SUFFIXES:
        allowed = ", ".join(sorted(ACCEPTED_SUFFIXES))
        return f"loại tệp không được hỗ trợ (chỉ nhận {allowed}) / unsupported file type"
    if size == 0:
        return "tệp rỗng / the file is empty"
    if night is None:
        return "ngày trong tên tệp hoặc thư mục không hợp lệ / the date in the file or folder name is impossible"
    if night < first_night:
        return f"ngày {night} trước ngày bắt đầu {first_night} / date {night} is before the first night"
    if night > today:
        return f"ngày {night} nằm trong tương lai / date {night} is in the future"
    return None


def _reject(landing_dir: Path, path: Path, relative: Path, reason: str) -> Path:
    target = _free_path(landing_dir / REJECTED_DIRNAME / relative.name)
    _move_atomic(path, target)
    target.with_name(target.name + ".reason.txt").write_text(
        f"Tệp: {relative.as_posix()}\nLý do từ chối / reason: {reason}\n"
        "Sửa tệp rồi gửi lại vào thư mục landing / fix the file and drop it into the landing folder again.\n",
        encoding="utf-8",
    )
    return target


def _free_path(path: Path) -> Path:
    """``path``, or ``name.1.ext``, ``name.2.ext``… when taken: earlier files are kept, never overwritten."""
    candidate = path
    counter = 0
    while candidate.exists():
        counter += 1
        candidate = path.with_name(f"{path.stem}.{counter}{path.suffix}")
    return candidate


def _move_atomic(source: Path, target: Path) -> None:
    """Move ``source`` to ``target`` so that ``target`` appears complete or not at all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(source, target)
        return
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
    # Across filesystems: copy under a hidden temporary name next to the target, flush, then rename into place.
    temporary = target.with_name(f".{target.name}.incoming")
    try:
        with source.open("rb") as reader, temporary.open("wb") as writer:
            shutil.copyfileobj(reader, writer, _HASH_CHUNK)
            writer.flush()
            os.fsync(writer.fileno())
        shutil.copystat(source, temporary)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    source.unlink()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        for chunk in iter(lambda: reader.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _journal(journal: Path | None, now: dt.datetime, action: str, name: str, key: str, **details: object) -> None:
    if journal is None:
        return
    journal.parent.mkdir(parents=True, exist_ok=True)
    record = {"at": now.astimezone(VIETNAM).isoformat(), "action": action, "file": name, "key": key, **details}
    with journal.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
