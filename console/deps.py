"""FastAPI dependencies shared by every area: the console's state, the logged-in viewer, a checked POST.

A route asks for what it needs in its signature::

    def claim(task_id: int, viewer: PostedViewer, console: ConsoleDep) -> Response: ...

``Viewer`` redirects to the login page when there is no live session; ``PostedViewer`` additionally refuses a POST
without the session's CSRF token or from another origin (403).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Request

from console.security import CsrfFailure, LoginRequired, check_origin
from console.state import Console
from corrections import auth
from corrections.access import Actor

__all__ = ["ConsoleDep", "CurrentViewer", "PostedViewer", "Viewer", "current_viewer", "get_console", "posted_viewer"]

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
    token = request.cookies.get(SESSION_COOKIE)
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
