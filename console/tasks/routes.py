"""The correction queue and one task: list, claim (one or the next), release, resolve, reopen.

Scope rule (``corrections.access.Scope``): a ward officer sees their ward's tasks, a data officer their province's,
an admin or a national data officer all; a task routed to no province is national. Every lookup goes through
``corrections.lifecycle.get_task``, which answers "not found" for a task outside the viewer's scope (so does every
action below: ``_act``); the queue lists only the viewer's scope (``corrections.queries``). Every state change is one
conditional UPDATE in ``corrections.lifecycle``, audited in the same transaction; a view of the task page (full
personal IDs), a search by a personal ID and every out-of-scope attempt are audited too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from console.compare import side_by_side
from console.deps import ConsoleDep, CurrentViewer, PostedViewer, Viewer, audit_event
from console.pages import not_found, redirect, render
from console.security import client_address
from corrections import audit, lifecycle, queries
from corrections.access import AccessDenied, Actor
from corrections.lifecycle import QueueFilter, TaskConflict, TaskNotFound
from corrections.text import QUALITY_NAMES, STATE_NAMES

__all__ = ["MAX_TASK_ID", "PAGE_SIZE", "TEMPLATES", "TaskId", "router"]

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 50
NOT_IN_SCOPE = "Không tìm thấy việc này trong phạm vi của bạn."
MAX_TASK_ID = 2**31 - 1
"""Task ids are PostgreSQL ``integer``s: a larger one in a URL is refused (422) before it reaches the database."""
TaskId = Annotated[int, PathParam(ge=1, le=MAX_TASK_ID)]
_PAGE_NUMBER = re.compile(r"[0-9]{1,6}")
# A term of 9 or more digits is a personal ID (CMND, CCCD) or a record number: looking one up is audited.
_ID_TERM = re.compile(r"[0-9]{9,}")

router = APIRouter(prefix="/tasks")


def queue_filter(request: Request, viewer: Viewer) -> tuple[QueueFilter, int]:
    params = request.query_params
    state = params.get("state", "open")
    priority = params.get("priority", "")
    ward = params.get("ward", "") if viewer.actor.role != "ward_officer" else ""
    quality = params.get("quality", "")
    filters = QueueFilter(
        state=state if state in STATE_NAMES else None,
        quality=quality if quality in QUALITY_NAMES else None,
        priority=int(priority) if priority in ("1", "2", "3") else None,
        rule=params.get("rule") or None,
        ward_code=ward or None,
        assignee=viewer.actor.username if params.get("mine") == "1" else None,
        search=(params.get("q") or "").strip()[:100] or None,
    )
    page = params.get("page", "1")
    # Only ASCII digits: str.isdigit() also accepts "²", which int() refuses.
    return filters, max(1, int(page)) if _PAGE_NUMBER.fullmatch(page) else 1


@router.get("", response_class=HTMLResponse)
def queue(request: Request, viewer: CurrentViewer, console: ConsoleDep) -> Response:
    filters, page = queue_filter(request, viewer)
    actor = viewer.actor
    params = request.query_params
    with console.db() as session:
        result = queries.queue_page(
            session,
            actor,
            filters,
            after=queries.Cursor.decode(params.get("after")),
            before=queries.Cursor.decode(params.get("before")),
            page=page,
            page_size=PAGE_SIZE,
        )
        wards: list[str] = []
        if actor.role != "ward_officer":
            wards = console.ward_lists.get(
                (actor.role, actor.province_code), lambda: queries.queue_wards(session, actor)
            )
    if filters.search and _ID_TERM.search(filters.search):
        audit_event(console, request, actor, "search_id", object_type="search", detail=filters.search)
    base_params = {k: v for k, v in params.items() if k not in ("page", "after", "before")}
    return render(
        request,
        "queue.html",
        viewer,
        result=result,
        filters=filters,
        wards=wards,
        today=console.today(),
        params=base_params,
        query_for=lambda **changes: _query(base_params, changes),
        message=params.get("msg", ""),
    )


@router.post("/claim-next")
def claim_next(
    request: Request, viewer: PostedViewer, console: ConsoleDep, quality: Annotated[str, Form()] = ""
) -> Response:
    with console.db(write=True) as session:
        task = lifecycle.claim_next(
            session, viewer.actor, QueueFilter(quality=quality or None), client=client_address(request)
        )
        task_id = task.id if task else None
    if task_id is None:
        return redirect("/tasks?msg=empty")
    return redirect(f"/tasks/{task_id}")


@router.get("/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, task_id: TaskId, viewer: CurrentViewer, console: ConsoleDep) -> Response:
    client = client_address(request)
    try:
        with console.db(write=True) as session:
            task = lifecycle.get_task(session, viewer.actor, task_id)
            # The person's golden record in the clean register first, then the records it was built from.
            records = [*queries.task_persons(session, task), *queries.task_records(session, task)]
            history = queries.task_history(session, task_id)
            # Full personal IDs are shown on this page only: every view is recorded.
            audit.record(
                session,
                viewer.actor.username,
                "view_task",
                object_type="task",
                object_id=task_id,
                ward_code=task.ward_code,
                province_code=task.province_code,
                client=client,
            )
    except TaskNotFound:
        audit_event(console, request, viewer.actor, "task_not_found", object_type="task", object_id=task_id)
        return not_found(request, viewer, NOT_IN_SCOPE)
    return render(
        request,
        "task.html",
        viewer,
        task=task,
        records=records,
        rows=side_by_side(records, set(task.problem_fields)),
        history=history,
        today=console.today(),
        error=request.query_params.get("error", ""),
    )


def _act(
    request: Request, task_id: int, viewer: Viewer, console: ConsoleDep, action: Callable[[Session, Actor], Any]
) -> Response:
    """Run one lifecycle action and send the browser back to the task, saying what went wrong if anything did."""
    what = request.url.path.rsplit("/", 1)[-1]
    try:
        with console.db(write=True) as session:
            action(session, viewer.actor)
    except TaskNotFound:
        audit_event(
            console, request, viewer.actor, "task_not_found", object_type="task", object_id=task_id, detail=what
        )
        return not_found(request, viewer, NOT_IN_SCOPE)
    except TaskConflict:
        return redirect(f"/tasks/{task_id}?error=conflict")
    except AccessDenied:
        audit_event(console, request, viewer.actor, "action_denied", object_type="task", object_id=task_id, detail=what)
        return redirect(f"/tasks/{task_id}?error=denied")
    except ValueError:
        return redirect(f"/tasks/{task_id}?error=invalid")
    return redirect(f"/tasks/{task_id}")


@router.post("/{task_id}/claim")
def claim(request: Request, task_id: TaskId, viewer: PostedViewer, console: ConsoleDep) -> Response:
    client = client_address(request)
    return _act(request, task_id, viewer, console, lambda s, a: lifecycle.claim(s, a, task_id, client=client))


@router.post("/{task_id}/release")
def release(request: Request, task_id: TaskId, viewer: PostedViewer, console: ConsoleDep) -> Response:
    client = client_address(request)
    return _act(request, task_id, viewer, console, lambda s, a: lifecycle.release(s, a, task_id, client=client))


@router.post("/{task_id}/resolve")
def resolve(
    request: Request,
    task_id: TaskId,
    viewer: PostedViewer,
    console: ConsoleDep,
    resolution: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    client = client_address(request)
    return _act(
        request,
        task_id,
        viewer,
        console,
        lambda s, a: lifecycle.resolve(s, a, task_id, resolution, note, client=client),
    )


@router.post("/{task_id}/reopen")
def reopen(
    request: Request, task_id: TaskId, viewer: PostedViewer, console: ConsoleDep, note: Annotated[str, Form()] = ""
) -> Response:
    client = client_address(request)
    return _act(request, task_id, viewer, console, lambda s, a: lifecycle.reopen(s, a, task_id, note, client=client))


def _query(params: dict[str, str], changes: dict[str, Any]) -> str:
    merged = {**params, **{k: str(v) for k, v in changes.items() if v is not None}}
    return "?" + urlencode({k: v for k, v in merged.items() if v != ""})
