"""FastAPI dependencies shared by every area: the console's state, the logged-in viewer, a checked POST.

A route asks for what it needs in its signature::

    def claim(task_id: int, viewer: PostedViewer, console: ConsoleDep) -> Response: ...

``CurrentViewer`` redirects to the login page when there is no live session; ``PostedViewer`` additionally refuses a
POST without the session's CSRF token or from another origin (403); ``Reviewer`` answers "not found" (audited) to
anyone but data officers and admins; ``ViewerScope`` is what the viewer may see (``corrections.access.Scope``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form, Request

from console.security import CsrfFailure, LoginRequired, NotInScope, check_origin, client_address
from console.state import Console
from corrections import audit, auth
from corrections.access import Actor, Scope

__all__ = [
    "ConsoleDep",
    "CurrentViewer",
    "PostedViewer",
    "Reviewer",
    "Viewer",
    "ViewerScope",
    "audit_event",
    "current_viewer",
    "get_console",
    "posted_viewer",
]

SESSION_COOKIE = "dancu_session"


@dataclass(frozen=True, slots=True)
class Viewer:
    actor: Actor
    csrf_token: str


def get_console(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


ConsoleDep = Annotated[Console, Depends(get_console)]


def current_viewer(request: Request, console: ConsoleDep) -> Viewer:
    """The logged-in user (sliding the session's idle expiry when due)."""
    token = request.cookies.get(console.cookie_name(SESSION_COOKIE))
    with console.db() as session:
        live = auth.load_session(session, token, console.policy)
    if live is None or token is None:
        raise LoginRequired
    if live.needs_touch:
        with console.db(write=True) as session:
            auth.touch_session(session, token, console.policy)
    return Viewer(live.actor, live.csrf_token)


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


def posted_viewer(request: Request, viewer: CurrentViewer, csrf_token: Annotated[str, Form()] = "") -> Viewer:
    """The viewer of a POST whose CSRF token and origin are right."""
    check_origin(request)
    if not hmac.compare_digest(csrf_token.encode(), viewer.csrf_token.encode()):
        raise CsrfFailure
    return viewer


PostedViewer = Annotated[Viewer, Depends(posted_viewer)]


def reviewer(viewer: CurrentViewer) -> Viewer:
    """Data officers and admins only (match review, the audit log)."""
    if not viewer.actor.is_reviewer:
        raise NotInScope("Trang này dành cho cán bộ quản lý dữ liệu và quản trị.", viewer)
    return viewer


Reviewer = Annotated[Viewer, Depends(reviewer)]


def viewer_scope(viewer: CurrentViewer) -> Scope:
    return viewer.actor.scope


ViewerScope = Annotated[Scope, Depends(viewer_scope)]


def audit_event(console: Console, request: Request, actor: Actor | str, action: str, **fields: Any) -> None:
    """An audit entry in a transaction of its own: for what has no action transaction to join (a view, a denial).

    The entry belongs to the acting user's province unless ``fields`` say whose it is.
    """
    if isinstance(actor, Actor):
        fields.setdefault("province_code", None if actor.scope.level == "national" else actor.province_code)
        fields.setdefault("ward_code", actor.ward_code if actor.role == "ward_officer" else None)
        name = actor.username
    else:
        name = actor
    with console.db(write=True) as session:
        audit.record(session, name, action, client=client_address(request), **fields)
