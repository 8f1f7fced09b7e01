"""Dates as extracts carry them: text in many shapes, Excel serial numbers, datetime cells, partial dates.

Elderly people often have only a birth year or month ("00/00/1950", "1950", "03/1950"): the precision is kept
(``day`` / ``month`` / ``year``) and the value is the first day of the known period. Vietnamese dates are day
first; a day and month that were swapped somewhere upstream are exposed as an alternative for matching, never
applied. Impossible dates (30/02, month 13, a birth in the future) are flagged, not repaired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Final

__all__ = ["EXCEL_EPOCH", "PRECISIONS", "ParsedDate", "parse_date"]

PRECISIONS: Final = ("day", "month", "year")
# Excel's day 0 is 1899-12-30 once its fictitious 1900-02-29 is accounted for.
EXCEL_EPOCH: Final = date(1899, 12, 30)
_MIN_YEAR: Final = 1850
_MAX_YEAR: Final = 2200

_ISO: Final = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_ISO_MONTH: Final = re.compile(r"^(\d{4})-(\d{1,2})$")
_YMD_SLASH: Final = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_DMY: Final = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_MY: Final = re.compile(r"^(\d{1,2})[/.\-](\d{4})$")
_YEAR: Final = re.compile(r"^(\d{4})$")
_COMPACT: Final = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# A bare 4-digit number is always a year; a serial is 5+ digits or carries Excel's decimal part.
_SERIAL: Final = re.compile(r"^(?:\d{5,6}|\d{1,6}\.\d+)$")
# "ngày 5 tháng 3 năm 1990", "05 tháng 3 năm 1990", "tháng 3/1990", "tháng 3 năm 1990" (marks or none).
_WORDS: Final = re.compile(
    r"^(?:(?:ngày|ngay)?\s*(\d{1,2})\s+)?(?:(?:tháng|thang)\s*(\d{1,2})\s*[/,]?\s*)?(?:(?:năm|nam)\s*)?(\d{4})$",
    re.IGNORECASE,
)
_DAY_WORD: Final = re.compile(r"^(?:ngày|ngay)\s+(?=\d)", re.IGNORECASE)
# Spaces typed around a separator: "01 / 02 / 1990".
_SPACED_SEPARATOR: Final = re.compile(r"(?<=\d)\s*([/.\-])\s*(?=\d)")
# A date-time exported with an English (US) locale puts the month first: "2/1/1990 12:00:00 AM" is 1 February.
_US_DATETIME: Final = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})\s+\d{1,2}:\d{2}(?::\d{2})?\s*[AaPp]\.?[Mm]\.?$")
# English month names (Oracle's DD-MON-YYYY, "1 Feb 1990", "Feb 1, 1990", "February 1, 1990").
_MONTHS: Final = {name: i for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}  # fmt: skip
_MONTH_NAME: Final = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DAY_MONTH_NAME: Final = re.compile(rf"^(\d{{1,2}})[\s\-/.]*{_MONTH_NAME}[\s\-/.,]*(\d{{2}}|\d{{4}})$", re.IGNORECASE)
_MONTH_NAME_DAY: Final = re.compile(rf"^{_MONTH_NAME}\s*(\d{{1,2}})(?:st|nd|rd|th)?,?\s*(\d{{4}})$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """One parsed date. ``valid`` is None for an empty value, False when present but impossible or unreadable."""

    original: object
    value: date | None
    precision: str | None
    valid: bool | None
    swapped: date | None  # the same day with day and month exchanged, when that is a valid date
    issue: str | None  # "unreadable" / "impossible" / "future" / "too_old"

    @property
    def iso(self) -> str | None:
        """Canonical partial text: YYYY-MM-DD, YYYY-MM or YYYY."""
        if self.value is None:
            return None
        if self.precision == "year":
            return f"{self.value.year:04d}"
        if self.precision == "month":
            return f"{self.value.year:04d}-{self.value.month:02d}"
        return self.value.isoformat()


def _swap(year: int, day: int, month: int) -> date | None:
    if day == month or day > 12:
        return None
    try:
        return date(year, day, month)
    except ValueError:
        return None


def _finish(original: object, year: int, month: int, day: int, today: date, allow_future: bool) -> ParsedDate:
    """Build a result from parts where 0 means "unknown" (00/00/1950)."""
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return ParsedDate(original, None, None, False, None, "too_old" if year < _MIN_YEAR else "impossible")
    if month == 0:
        if day:
            return ParsedDate(original, None, None, False, None, "impossible")
        value, precision, swapped = date(year, 1, 1), "year", None
    elif day == 0:
        if month > 12:
            return ParsedDate(original, None, None, False, None, "impossible")
        value, precision, swapped = date(year, month, 1), "month", None
    else:
        swapped = _swap(year, day, month)
        try:
            value, precision = date(year, month, day), "day"
        except ValueError:
            return ParsedDate(original, None, None, False, swapped, "impossible")
    if not allow_future and value > today:
        return ParsedDate(original, value, precision, False, swapped, "future")
    return ParsedDate(original, value, precision, True, swapped, None)


def _two_digit_year(year: int, today: date) -> int:
    return 2000 + year if 2000 + year <= today.year else 1900 + year


def parse_date(value: object, *, as_of: date | None = None, allow_future: bool = False) -> ParsedDate:
    """Parse a date from text ("15/03/1990", "1990-03-15", "00/00/1950", "03/1950", "1950", "ngày 5 tháng 3 năm
    1990", "tháng 3/1990", "19900315", "15031990", "15-Mar-1990", "Mar 15, 1990", a US export's "3/15/1990 12:00:00
    AM"), an Excel serial (33000 or "33000.0"), or a ``date``/``datetime`` cell.

    ``allow_future`` is for dates that may lie ahead (card expiry); otherwise a date after ``as_of`` (default:
    today) is not valid.
    """
    today = as_of or date.today()
    if value is None:
        return ParsedDate(None, None, None, None, None, None)
    if isinstance(value, datetime):
        return _finish(value, value.year, value.month, value.day, today, allow_future)
    if isinstance(value, date):
        return _finish(value, value.year, value.month, value.day, today, allow_future)
    if isinstance(value, bool):
        return ParsedDate(value, None, None, False, None, "unreadable")
    if isinstance(value, int | float):
        return _from_serial(value, value, today, allow_future)
    return _parse_text(str(value), today, allow_future)


def _from_serial(original: object, serial: float, today: date, allow_future: bool) -> ParsedDate:
    if not 1 <= serial < 200000:
        return ParsedDate(original, None, None, False, None, "unreadable")
    day = EXCEL_EPOCH + timedelta(days=int(serial))
    return _finish(original, day.year, day.month, day.day, today, allow_future)


@lru_cache(maxsize=262144)
def _parse_text(text: str, today: date, allow_future: bool) -> ParsedDate:
    stripped = " ".join(text.split())
    if not stripped:
        return ParsedDate(text, None, None, None, None, None)
    stripped = _SPACED_SEPARATOR.sub(r"\1", stripped)
    if _DAY_WORD.match(stripped) and _DMY.match(_DAY_WORD.sub("", stripped)):
        stripped = _DAY_WORD.sub("", stripped)  # "ngày 01/02/1990"
    if (match := _US_DATETIME.match(stripped)) and int(match[1]) <= 12:
        return _finish(text, int(match[3]), int(match[1]), int(match[2]), today, allow_future)
    if match:
        return _finish(text, int(match[3]), int(match[2]), int(match[1]), today, allow_future)  # "13/1/1990 …"
    if match := _DAY_MONTH_NAME.match(stripped):
        year = int(match[3]) if len(match[3]) == 4 else _two_digit_year(int(match[3]), today)
        return _finish(text, year, _MONTHS[match[2].lower()[:3]], int(match[1]), today, allow_future)
    if match := _MONTH_NAME_DAY.match(stripped):
        return _finish(text, int(match[3]), _MONTHS[match[1].lower()[:3]], int(match[2]), today, allow_future)
    if match := _ISO.match(stripped) or _YMD_SLASH.match(stripped):
        return _finish(text, int(match[1]), int(match[2]), int(match[3]), today, allow_future)
    if match := _DMY.match(stripped):
        year = int(match[3])
        if len(match[3]) == 2:
            year = _two_digit_year(year, today)
        return _finish(text, year, int(match[2]), int(match[1]), today, allow_future)
    if match := _ISO_MONTH.match(stripped):
        return _finish(text, int(match[1]), int(match[2]), 0, today, allow_future)
    if match := _MY.match(stripped):
        return _finish(text, int(match[2]), int(match[1]), 0, today, allow_future)
    if match := _YEAR.match(stripped):
        return _finish(text, int(match[1]), 0, 0, today, allow_future)
    if match := _COMPACT.match(stripped):
        if not _MIN_YEAR <= int(match[1]) <= _MAX_YEAR and _MIN_YEAR <= int(stripped[4:]) <= _MAX_YEAR:
            # "01021990": day, month, year typed without separators (no year starts with 01).
            return _finish(text, int(stripped[4:]), int(stripped[2:4]), int(stripped[:2]), today, allow_future)
        return _finish(text, int(match[1]), int(match[2]), int(match[3]), today, allow_future)
    if match := _SERIAL.match(stripped):
        return _from_serial(text, float(stripped), today, allow_future)
    if match := _WORDS.match(stripped):
        day, month = int(match[1] or 0), int(match[2] or 0)
        return _finish(text, int(match[3]), month, day, today, allow_future)
    return ParsedDate(text, None, None, False, None, "unreadable")
