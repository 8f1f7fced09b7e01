"""The review console: a server-rendered FastAPI app in Vietnamese for ward police and data officers.

This module only assembles it: one router per area (``console/<area>/routes.py``, its templates beside it), the
dependencies they share (``console.deps``), the security headers and the error pages.

Security model: server-side sessions (only a hash of the cookie token is stored) with idle and absolute expiry; a
per-session CSRF token in every form, checked on every POST, plus an Origin check; scrypt password hashes; login
throttling; every action written to the audit log in the same transaction as the action.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from console.audit import routes as audit_routes
from console.auth import routes as auth_routes
from console.engine import console_engine, read_only
from console.export import routes as export_routes
from console.pages import LOCAL_TZ, build_templates, redirect, render
from console.reviews import routes as review_routes
from console.security import CsrfFailure, LoginRequired, SecurityHeaders
from console.state import Console, Wards
from console.tasks import routes as task_routes
from corrections import auth

__all__ = ["DATABASE_URL_VARIABLE", "app_from_environment", "create_app"]

DATABASE_URL_VARIABLE = "DANCU_CONSOLE_DATABASE_URL"
HERE = Path(__file__).parent
AREAS = (auth_routes, task_routes, review_routes, audit_routes, export_routes)


def create_app(
    database_url: str,
    *,
    policy: auth.SessionPolicy | None = None,
    secure_cookies: bool = False,
    today: Callable[[], date] | None = None,
) -> FastAPI:
    """The console bound to one task store. ``secure_cookies`` when served over HTTPS (behind a proxy)."""
    engine = console_engine(database_url)
    wards = Wards.current()
    app = FastAPI(title="dancu — bàn làm việc", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = Console(
        engine=engine,
        reader=read_only(engine),
        policy=policy or auth.SessionPolicy(),
        secure_cookies=secure_cookies,
        today=today or (lambda: datetime.now(LOCAL_TZ).date()),
        wards=wards,
        templates=build_templates([area.TEMPLATES for area in AREAS if hasattr(area, "TEMPLATES")], wards),
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for area in AREAS:
        app.include_router(area.router)
    _error_pages(app)
    return app


def _error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _error: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect("/login?" + urlencode({"next": target}))

    @app.exception_handler(CsrfFailure)
    async def csrf_failure(request: Request, _error: CsrfFailure) -> Response:
        return render(
            request,
            "error.html",
            None,
            status_code=403,
            title="Yêu cầu bị từ chối",
            message="Phiên làm việc không hợp lệ hoặc biểu mẫu đã cũ. Hãy tải lại trang rồi thử lại.",
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        return render(
            request,
            "error.html",
            None,
            status_code=error.status_code,
            title="Không tìm thấy" if error.status_code == 404 else "Lỗi",
            message="Trang không tồn tại." if error.status_code == 404 else str(error.detail),
        )


def app_from_environment() -> FastAPI:
    """App factory for uvicorn worker processes (``dancu console --workers N``): settings come from the environment."""
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if not url:
        raise RuntimeError(f"{DATABASE_URL_VARIABLE} is not set")
    return create_app(url, secure_cookies=os.environ.get("DANCU_CONSOLE_SECURE_COOKIES") == "1")
