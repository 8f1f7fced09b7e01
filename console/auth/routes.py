"""Logging in and out, the home redirect and the health check.

The login form carries its own CSRF token, bound to a cookie (login CSRF); failed logins are throttled.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from console.deps import SESSION_COOKIE, ConsoleDep, CurrentViewer, PostedViewer
from console.pages import redirect, render
from console.security import CsrfFailure, check_origin, client_address, safe_next
from corrections import audit, auth

__all__ = ["LOGIN_CSRF_COOKIE", "TEMPLATES", "router"]

TEMPLATES = Path(__file__).parent / "templates"
LOGIN_CSRF_COOKIE = "dancu_login_csrf"

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, console: ConsoleDep, next: str = "/tasks", error: str = "") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, next=safe_next(next), error=error, login_csrf=token)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=console.secure_cookies)
    return response


@router.post("/login")
def login(
    request: Request,
    console: ConsoleDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/tasks",
) -> Response:
    check_origin(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
        raise CsrfFailure
    username = username.strip().lower()
    client = client_address(request)
    throttle = console.login_throttle
    keys = (f"user:{username}", f"client:{client}")
    if throttle.blocked(*keys):
        with console.db(write=True) as session:
            audit.record(session, username[:64] or "?", "login_throttled", client=client)
        return redirect("/login?" + urlencode({"error": "throttled", "next": next}))
    with console.db(write=True) as session:
        user = auth.authenticate(session, username, password, client=client)
        if user is None:
            throttle.fail(*keys)
            return redirect("/login?" + urlencode({"error": "invalid", "next": next}))
        token, _csrf = auth.open_session(session, user, console.policy)
    throttle.clear(f"user:{username}")
    response = redirect(safe_next(next))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=console.secure_cookies, path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, viewer: PostedViewer, console: ConsoleDep) -> Response:
    with console.db(write=True) as session:
        auth.close_session(session, request.cookies.get(SESSION_COOKIE))
        audit.record(session, viewer.actor.username, "logout", client=client_address(request))
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(viewer: CurrentViewer) -> Response:
    return redirect("/reviews" if viewer.actor.role == "data_officer" else "/tasks")


@router.get("/healthz")
def health(console: ConsoleDep) -> dict[str, str]:
    with console.db() as session:
        session.execute(select(1))
    return {"status": "ok"}
