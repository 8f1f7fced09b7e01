"""The audit log: who did what, when and from where; for data officers and admins."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from console.deps import ConsoleDep, CurrentViewer
from console.pages import not_found, render
from corrections import audit

__all__ = ["PAGE_SIZE", "TEMPLATES", "router"]

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 100

router = APIRouter(prefix="/audit")


@router.get("", response_class=HTMLResponse)
def audit_log(request: Request, viewer: CurrentViewer, console: ConsoleDep, page: int = 1, actor: str = "") -> Response:
    if not viewer.actor.is_reviewer:
        return not_found(request, viewer, "Trang này dành cho cán bộ quản lý dữ liệu và quản trị.")
    page = max(1, page)
    with console.db() as session:
        entries = audit.recent(session, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, actor=actor.strip() or None)
    return render(request, "audit.html", viewer, entries=entries, page=page, actor_filter=actor)
