"""Failure records: one JSON file per failed run, readable by people (Vietnamese summary) and by tools.

Written under ``{state_dir}/failures/`` by the run-failure sensor; pure (no Dagster) so it can be tested alone.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from records.files import atomic_write_text

__all__ = ["FailedStep", "FailureRecord", "write_failure_record"]

VIETNAM: Final = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class FailedStep:
    step: str
    error: str


@dataclass(frozen=True)
class FailureRecord:
    run_id: str
    job: str
    night: str | None
    failed_at: dt.datetime
    message: str
    trigger: str | None = None
    failed_steps: tuple[FailedStep, ...] = ()
    extract_files: tuple[str, ...] = ()
    retry_of: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One Vietnamese paragraph an operator reads first thing in the morning."""
        night = self.night or "(không phân vùng)"
        when = self.failed_at.astimezone(VIETNAM).strftime("%H:%M ngày %d/%m/%Y")
        lines = [f"Lượt chạy {self.job} cho đêm {night} thất bại lúc {when} (run {self.run_id})."]
        if self.failed_steps:
            lines.append("Bước lỗi: " + "; ".join(f"{step.step}: {step.error}" for step in self.failed_steps))
        else:
            lines.append(f"Lỗi: {self.message}")
        if self.extract_files:
            lines.append("Tệp trích xuất của đêm: " + ", ".join(self.extract_files))
        if self.retry_of:
            lines.append(f"Đây là lượt chạy lại của {self.retry_of}.")
        lines.append(
            "Các kết quả đêm trước vẫn nguyên vẹn. Sửa nguyên nhân rồi chạy lại đêm này (Dagster: Re-execute)."
        )
        return " ".join(lines)

    def to_json(self) -> str:
        data = asdict(self)
        data["failed_at"] = self.failed_at.astimezone(VIETNAM).isoformat()
        data["summary_vi"] = self.summary()
        return json.dumps(data, ensure_ascii=False, indent=2)


def write_failure_record(record: FailureRecord, state_dir: Path) -> Path:
    """Write ``{state_dir}/failures/{night}__{run_id}.json`` atomically and return its path."""
    folder = state_dir / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record.night or 'unpartitioned'}__{record.run_id}.json"
    atomic_write_text(path, record.to_json() + "\n")
    return path
