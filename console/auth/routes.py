"""Logging in and out, the home redirect and the health check.

The login form carries its own CSRF token, bound to a cookie (login CSRF); failed logins back off per (user name,
client) in the store (``corrections.throttle``); in production demo accounts are refused (``corrections.auth``).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from console.deps import SESSION_COOKIE, ConsoleDep, CurrentViewer, PostedViewer
from console.pages import redirect, render
from console.security import CsrfFailure, check_origin, client_address, safe_next
from corrections import audit, auth, throttle

__all__ = ["LOGIN_CSRF_COOKIE", "TEMPLATES", "router"]

TEMPLATES = Path(__file__).parent / "templates"
LOGIN_CSRF_COOKIE = "dancu_login_csrf"

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, console: ConsoleDep, next: str = "/tasks", error: str = "", wait: str = ""
) -> Response:
    token = secrets.token_urlsafe(24)
    seconds = int(wait) if wait.isascii() and wait.isdigit() and len(wait) < 6 else None
    response = render(request, "login.html", None, next=safe_next(next), error=error, wait=seconds, login_csrf=token)
    response.set_cookie(
        console.cookie_name(LOGIN_CSRF_COOKIE),
        token,
        httponly=True,
        samesite="strict",
        secure=console.secure_cookies,
        path="/",
    )
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
    cookie = request.cookies.get(console.cookie_name(LOGIN_CSRF_COOKIE), "")
    if not cookie or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
        raise CsrfFailure
    username = username.strip().lower()[:64]
    if not username or not password:
        return redirect("/login?" + urlencode({"error": "invalid", "next": next}))
    client = client_address(request)
    now = console.now()
    policy = console.settings.throttle
    # The attempt is counted before the password is checked, in a transaction of its own: parallel guesses cannot
    # all pass a check made before any of them failed, and the slow hash holds no lock.
    with console.db(write=True) as session:
        attempt = throttle.begin_attempt(session, username, client, now=now, policy=policy)
        if not attempt.allowed:
            audit.record(
                session,
                username,
                "login_throttled",
                client=client,
                detail=f"chờ {_seconds(attempt.retry_after)} giây",
                province_code=auth.province_of(session, username),
            )
    if not attempt.allowed:
        wait = str(_seconds(attempt.retry_after))
        return redirect("/login?" + urlencode({"error": "throttled", "wait": wait, "next": next}))
    with console.db(write=True) as session:
        user = auth.authenticate(
            session, username, password, client=client, accept_demo=not console.settings.production
        )
        if user is None:
            return redirect("/login?" + urlencode({"error": "invalid", "next": next}))
        throttle.succeeded(session, username, client, now=now, policy=policy)
        token, _csrf = auth.open_session(session, user, console.policy)
    response = redirect(safe_next(next))
    secure = console.secure_cookies
    response.set_cookie(
        console.cookie_name(SESSION_COOKIE), token, httponly=True, samesite="lax", secure=secure, path="/"
    )
    response.delete_cookie(
        console.cookie_name(LOGIN_CSRF_COOKIE), path="/", secure=secure, httponly=True, samesite="strict"
    )
    return response


@router.post("/logout")
def logout(request: Request, viewer: PostedViewer, console: ConsoleDep) -> Response:
    with console.db(write=True) as session:
        auth.close_session(session, request.cookies.get(console.cookie_name(SESSION_COOKIE)))
        audit.record(
            session,
            viewer.actor.username,
            "logout",
            client=client_address(request),
            province_code=viewer.actor.province_code,
        )
    response = redirect("/login")
    response.delete_cookie(
        console.cookie_name(SESSION_COOKIE), path="/", secure=console.secure_cookies, httponly=True, samesite="lax"
    )
    return response


@router.get("/")
def home(viewer: CurrentViewer) -> Response:
    return redirect("/reviews" if viewer.actor.role == "data_officer" else "/tasks")


@router.get("/healthz")
def health(console: ConsoleDep) -> dict[str, str]:
    with console.db() as session:
        session.execute(select(1))
    return {"status": "ok"}


def _seconds(delay: timedelta) -> int:
    return max(1, int(-(-delay.total_seconds() // 1)))
