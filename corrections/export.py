"""Excel export of a ward's open tasks, for officers who work from a printed list.

Every cell that comes from data is written as text (``records.excel.text_only_workbook``: a name such as
``=HYPERLINK(...)`` stays a name), and personal IDs are masked wherever they appear: the ID column and the IDs that
descriptions quote (``corrections.text.mask_ids_in``); the full IDs are on the (audited) task page only.
"""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session

from corrections.models import Task
from corrections.text import PRIORITY_NAMES, QUALITY_NAMES, STATE_NAMES, TASK_TYPE_NAMES, mask_id, mask_ids_in
from records.excel import text_only_workbook

__all__ = ["EXPORT_HEADERS", "export_ward_tasks"]

EXPORT_HEADERS = (
    "Mã việc",
    "Mức ưu tiên",
    "Hạn xử lý",
    "Trạng thái",
    "Người xử lý",
    "Chất lượng",
    "Loại việc",
    "Vấn đề",
    "Mã bản ghi",
    "Họ và tên",
    "Số định danh (che một phần)",
    "Các bản ghi liên quan",
    "Mô tả và cách xử lý",
    "Phát hiện từ đêm",
)


def export_ward_tasks(
    session: Session, ward_code: str, ward_name: str, *, today: date, scope: ColumnElement[bool] | None = None
) -> bytes:
    """An .xlsx workbook of the ward's open and in-progress tasks, most urgent first; only those within ``scope``
    (``corrections.access.task_scope`` of the reader)."""
    tasks = session.scalars(
        select(Task)
        .where(Task.ward_code == ward_code, Task.state.in_(("open", "in_progress")), true() if scope is None else scope)
        .order_by(Task.priority, Task.due_date, Task.id)
    ).all()
    buffer = io.BytesIO()
    workbook = text_only_workbook(buffer, remove_timezone=True)
    sheet = workbook.add_worksheet("Việc cần xử lý")
    title = workbook.add_format({"bold": True, "font_size": 14})
    header = workbook.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1, "text_wrap": True, "valign": "top"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    dated = workbook.add_format({"num_format": "dd/mm/yyyy", "valign": "top"})
    overdue = workbook.add_format({"num_format": "dd/mm/yyyy", "valign": "top", "font_color": "#B00020", "bold": True})
    sheet.write(0, 0, f"Danh sách việc cần xử lý — {ward_name} (mã {ward_code})", title)
    sheet.write(1, 0, f"Ngày xuất: {today.strftime('%d/%m/%Y')} — {len(tasks)} việc chưa đóng", wrap)
    sheet.write_row(3, 0, EXPORT_HEADERS, header)
    for offset, task in enumerate(tasks):
        row = 4 + offset
        sheet.write_number(row, 0, task.id, wrap)
        sheet.write(row, 1, PRIORITY_NAMES.get(task.priority, str(task.priority)), wrap)
        sheet.write_datetime(row, 2, task.due_date, overdue if task.due_date < today else dated)
        sheet.write(row, 3, STATE_NAMES.get(task.state, task.state), wrap)
        sheet.write(row, 4, task.assignee or "", wrap)
        sheet.write(row, 5, QUALITY_NAMES.get(task.quality, task.quality), wrap)
        sheet.write(row, 6, TASK_TYPE_NAMES.get(task.task_type, task.task_type), wrap)
        sheet.write(row, 7, mask_ids_in(task.title), wrap)
        sheet.write(row, 8, task.subject_record_id, wrap)
        sheet.write(row, 9, task.subject_name or "", wrap)
        sheet.write(row, 10, mask_id(task.subject_person_id), wrap)
        sheet.write(row, 11, ", ".join(task.record_ids), wrap)
        sheet.write(row, 12, mask_ids_in(task.description), wrap)
        sheet.write_datetime(row, 13, task.first_seen_night, dated)
    widths = (8, 11, 11, 12, 16, 10, 16, 32, 18, 24, 18, 26, 70, 12)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(4, 0)
    if tasks:
        sheet.autofilter(3, 0, 3 + len(tasks), len(EXPORT_HEADERS) - 1)
    workbook.close()
    return buffer.getvalue()
