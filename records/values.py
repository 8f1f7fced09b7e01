"""Bringing single raw cell values into their canonical text form, or saying precisely why they cannot be.

Ingest uses these on each distinct value of a column (values repeat a lot), so they are plain functions that either
return the canonical text or raise ``ValueProblem`` with a Vietnamese reason.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

__all__ = ["EXCEL_EPOCH", "ValueProblem", "canonical_date", "canonical_digits", "excel_serial_to_date"]

EXCEL_EPOCH: Final = dt.date(1899, 12, 30)  # Excel's day 0, accounting for its 1900 leap-year bug.

_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_MY = re.compile(r"^(\d{1,2})[/.\-](\d{4})$")
_SERIAL = re.compile(r"^\d{4,5}(?:\.0+)?$")
_DATETIME_TAIL = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


class ValueProblem(ValueError):
    """A raw value that cannot be brought into canonical form; the message is the Vietnamese reason."""


def excel_serial_to_date(serial: float) -> dt.date:
    if not 1 <= serial < 2958466:
        raise ValueProblem(f"số ngày Excel ngoài phạm vi: {serial}")
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def _compose(year: int, month: int, day: int, raw: str) -> str:
    if not 1800 <= year <= 2200:
        raise ValueProblem(f"năm không hợp lệ trong '{raw}'")
    if month == 0:
        if day != 0:
            raise ValueProblem(f"có ngày nhưng thiếu tháng trong '{raw}'")
        return f"{year:04d}"
    if not 1 <= month <= 12:
        raise ValueProblem(f"tháng {month} không tồn tại trong '{raw}'")
    if day == 0:
        return f"{year:04d}-{month:02d}"
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        raise ValueProblem(f"ngày {day}/{month}/{year} không tồn tại") from None


def canonical_date(raw: str, *, allow_serial: bool = True) -> str:
    """Canonical date text ``YYYY-MM-DD`` / ``YYYY-MM`` / ``YYYY`` from the forms extracts use.

    Accepts ``15/03/1990`` (day first, as written in Vietnam), ``00/00/1950`` and ``1950`` (year only),
    ``03/1990`` and ``00/03/1990`` (month only), ISO text, datetimes with a time part, and Excel serial numbers.
    """
    text = _DATETIME_TAIL.sub("", raw.strip())
    if allow_serial and _SERIAL.match(text) and not _ISO.match(text):
        return excel_serial_to_date(float(text)).isoformat()
    if match := _ISO.match(text):
        year, month, day = match.groups()
        return _compose(int(year), int(month or 0), int(day or 0), raw)
    if match := _DMY.match(text):
        day, month, year = match.groups()
        return _compose(int(year), int(month), int(day), raw)
    if match := _MY.match(text):
        month, year = match.groups()
        return _compose(int(year), int(month), 0, raw)
    raise ValueProblem(f"không đọc được ngày '{raw}' (dạng hợp lệ: dd/mm/yyyy, mm/yyyy, yyyy)")


def canonical_digits(raw: str, lengths: tuple[int, ...], what: str) -> str:
    """An identifier made of digits only, with the usual separators removed; its length must be one of ``lengths``."""
    text = re.sub(r"[\s.\-]", "", raw)
    if not text.isdigit():
        raise ValueProblem(f"{what} chỉ được chứa chữ số: '{raw}'")
    if len(text) not in lengths:
        expected = " hoặc ".join(str(n) for n in lengths)
        raise ValueProblem(f"{what} phải có {expected} chữ số, có {len(text)}: '{raw}'")
    return text
