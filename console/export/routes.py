"""Excel export of a ward's open tasks (a ward officer: always their own ward)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.deps import ConsoleDep, CurrentViewer
from console.pages import not_found, render
from console.security import client_address
from corrections import audit
from corrections.access import can_see
from corrections.export import export_ward_tasks

__all__ = ["router"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter()


@router.get("/export")
def export(request: Request, viewer: CurrentViewer, console: ConsoleDep, ward: str = "") -> Response:
    actor = viewer.actor
    ward_code = actor.ward_code if actor.role == "ward_officer" else ward
    if not ward_code:
        return render(
            request,
            "error.html",
            viewer,
            status_code=400,
            title="Thiếu xã/phường",
            message="Hãy chọn một xã/phường để xuất danh sách việc.",
        )
    if not can_see(actor, ward_code, console.wards.ward_provinces.get(ward_code)):
        return not_found(request, viewer, "Không tìm thấy xã/phường này trong phạm vi của bạn.")
    today = console.today()
    with console.db(write=True) as session:
        content = export_ward_tasks(session, ward_code, console.wards.ward_names.get(ward_code, ward_code), today=today)
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
