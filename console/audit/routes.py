"""The audit log: who did what, when and from where; for data officers and admins, within their scope.

Scope rule (``corrections.access.audit_scope``): a data officer reads the entries of their province (about its tasks,
pairs and wards, or by its users), a national reviewer all of them. Reading the log is itself audited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from console.deps import ConsoleDep, Reviewer, audit_event
from console.pages import render
from corrections import audit
from corrections.access import audit_scope

__all__ = ["ACTION_NAMES", "MAX_PAGE", "PAGE_SIZE", "TEMPLATES", "router"]

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 100
MAX_PAGE = 100_000
ACTION_NAMES: Final = {
    "login": "đăng nhập",
    "login_failed": "đăng nhập sai",
    "login_throttled": "bị hoãn đăng nhập",
    "login_demo_refused": "từ chối tài khoản thử nghiệm",
    "logout": "đăng xuất",
    "claim": "nhận việc",
    "release": "trả việc",
    "resolve": "đóng việc",
    "reopen": "mở lại việc",
    "view_task": "xem việc",
    "task_not_found": "việc ngoài phạm vi",
    "action_denied": "thao tác bị từ chối",
    "search_id": "tìm theo số định danh",
    "export": "xuất Excel",
    "view_reviews": "xem danh sách đối chiếu",
    "view_review": "xem cặp bản ghi",
    "review_not_found": "cặp ngoài phạm vi",
    "review_decision": "quyết định đối chiếu",
    "view_audit": "xem nhật ký",
    "access_denied": "truy cập bị từ chối",
    "csrf_failed": "yêu cầu giả mạo bị chặn",
    "demo_accounts_disabled": "khoá tài khoản thử nghiệm",
    "nightly_upsert": "cập nhật hằng đêm",
}

router = APIRouter(prefix="/audit")


@router.get("", response_class=HTMLResponse)
def audit_log(
    request: Request,
    viewer: Reviewer,
    console: ConsoleDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    actor: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    wanted = actor.strip() or None
    detail = f"trang {page}" + (f", người thực hiện {wanted}" if wanted else "")
    audit_event(console, request, viewer.actor, "view_audit", object_type="page", detail=detail)
    with console.db() as session:
        entries = audit.recent(
            session,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            actor=wanted,
            scope=audit_scope(viewer.actor),
        )
    return render(
        request, "audit.html", viewer, entries=entries, page=page, actor_filter=actor, action_names=ACTION_NAMES
    )
