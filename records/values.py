"""Bringing single raw cell values into their canonical text form, or saying precisely why they cannot be.

Ingest uses these on each distinct value of a column (values repeat a lot), so they are plain functions that either
return the canonical text or raise ``ValueProblem`` with a Vietnamese reason. They agree with the normalizer by
construction: dates are read by :func:`normalize.dates.parse_date` and identifiers by :func:`normalize.ids.clean_id`,
so what ingest accepts the normalizer reads the same way, and what the normalizer documents ingest accepts.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from normalize.dates import EXCEL_EPOCH, parse_date
from normalize.ids import PAD_FROM, clean_id

__all__ = [
    "EXCEL_EPOCH",
    "ValueProblem",
    "canonical_date",
    "canonical_digits",
    "excel_serial_to_date",
    "number_as_id",
]

_DATE_FORMS: Final = "dd/mm/yyyy, mm/yyyy, yyyy, yyyy-mm-dd, yyyymmdd, 'ngày 5 tháng 3 năm 1990'"


class ValueProblem(ValueError):
    """A raw value that cannot be brought into canonical form; the message is the Vietnamese reason."""


def excel_serial_to_date(serial: float) -> dt.date:
    if not 1 <= serial < 2958466:
        raise ValueProblem(f"số ngày Excel ngoài phạm vi: {serial}")
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def canonical_date(raw: str, *, as_of: dt.date | None = None) -> str:
    """Canonical date text ``YYYY-MM-DD`` / ``YYYY-MM`` / ``YYYY`` from every form :func:`parse_date` reads.

    A date in the future is accepted here (a card expiry lies ahead; a future birth is a finding of the checks,
    not a reason to refuse the record). ``as_of`` decides the century of a two-digit year ("1/1/90").
    """
    parsed = parse_date(raw, as_of=as_of, allow_future=True)
    if parsed.iso is not None:
        return parsed.iso
    if parsed.issue == "too_old":
        raise ValueProblem(f"năm quá xa trong '{raw}' (trước 1850)")
    if parsed.issue == "impossible":
        raise ValueProblem(f"ngày '{raw}' không tồn tại (ngày, tháng hoặc năm sai)")
    raise ValueProblem(f"không đọc được ngày '{raw}' (dạng hợp lệ: {_DATE_FORMS})")


def canonical_digits(raw: str, lengths: tuple[int, ...], what: str) -> str:
    """An identifier made of digits only; its length must be one of ``lengths``.

    Separators, invisible characters and full-width digits are undone; a value in number form must be a whole
    number (see :func:`normalize.ids.clean_id`), a fraction is refused rather than turned into other digits.
    """
    digits, problem = clean_id(raw, lengths)
    expected = " hoặc ".join(str(n) for n in lengths)
    if problem == "digits":
        if re.fullmatch(r"[0-9.]+[eE]\+?[0-9]+", digits):
            raise ValueProblem(
                f"{what} '{raw}' ở dạng số khoa học: các chữ số đã mất khi cột bị đổi thành số (định dạng cột là "
                "Văn bản/Text khi xuất tệp)"
            )
        if any(ch.isdigit() for ch in digits) and "." in digits:
            raise ValueProblem(
                f"{what} '{raw}' là số thập phân, không phải mã số (cột đã bị đổi thành số: "
                "định dạng cột là Văn bản/Text khi xuất tệp)"
            )
        raise ValueProblem(f"{what} chỉ được chứa chữ số: '{raw}'")
    if problem == "length":
        hint = ""
        if max(lengths) - len(digits) in (1, 2) and not digits.startswith("0"):
            hint = " (có thể số 0 ở đầu đã mất khi cột bị đổi thành số: định dạng cột là Văn bản/Text khi xuất tệp)"
        raise ValueProblem(f"{what} phải có {expected} chữ số, có {len(digits)}: '{raw}'{hint}")
    return digits


def number_as_id(value: float, lengths: tuple[int, ...]) -> str:
    """The text of an identifier that arrived as a number (an Excel number cell, a numeric Parquet column).

    A number has lost the identifier's leading zeros; they are put back only when the length leaves no doubt
    (``normalize.ids.PAD_FROM``). A number that is not whole is returned as it is, for the caller to refuse.
    """
    try:
        whole = int(value)
    except (ValueError, OverflowError):  # NaN, infinity
        return repr(value)
    if whole != value:
        return repr(value) if isinstance(value, float) else str(value)
    digits = str(whole)
    for length in lengths:
        if len(digits) in PAD_FROM.get(length, ()):
            return digits.zfill(length)
    return digits
