"""Excel export of a ward's open tasks (a ward officer: always their own ward).

Scope rule: the ward must be a current ward within the viewer's scope (``corrections.access.Scope``), and the rows
are the ward's tasks *within that scope* (its SQL condition), so a ward code the unit table does
not know, or a task routed elsewhere, never reaches another province's officer. Personal IDs are masked, in the ID
column and in the descriptions.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.deps import ConsoleDep, CurrentViewer, ViewerScope, audit_event
from console.pages import not_found, render
from console.security import client_address
from corrections import audit
from corrections.export import export_ward_tasks
from corrections.models import Task

__all__ = ["router"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_IN_SCOPE = "Không tìm thấy xã/phường này trong phạm vi của bạn."

router = APIRouter()


@router.get("/export")
def export(
    request: Request, viewer: CurrentViewer, scope: ViewerScope, console: ConsoleDep, ward: str = ""
) -> Response:
    actor = viewer.actor
    ward_code = (actor.ward_code if actor.role == "ward_officer" else ward.strip()) or ""
    if not ward_code:
        return render(
            request,
            "error.html",
            viewer,
            status_code=400,
            title="Thiếu xã/phường",
            message="Hãy chọn một xã/phường để xuất danh sách việc.",
        )
    province = console.wards.ward_provinces.get(ward_code)
    if province is None or not scope.sees(ward_code, province):
        audit_event(console, request, actor, "access_denied", object_type="ward", object_id=ward_code[:64])
        return not_found(request, viewer, NOT_IN_SCOPE)
    today = console.today()
    with console.db(write=True) as session:
        content = export_ward_tasks(
            session,
            ward_code,
            console.wards.ward_names[ward_code],
            today=today,
            scope=scope.condition(Task.ward_code, Task.province_code),
        )
        audit.record(
            session,
            actor.username,
            "export",
            object_type="ward",
            object_id=ward_code,
            ward_code=ward_code,
            client=client_address(request),
        )
    filename = f"viec-can-xu-ly-{ward_code}-{today.isoformat()}.xlsx"
    return Response(content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
