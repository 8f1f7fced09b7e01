"""The review console: a server-rendered FastAPI app in Vietnamese for ward police and data officers.

This module only assembles it: one router per area (``console/<area>/routes.py``, its templates beside it), the
dependencies they share (``console.deps``), the security headers and the error pages.

Security model: server-side sessions (only a hash of the cookie token is stored) with idle and absolute expiry; a
per-session CSRF token in every form, checked on every POST, plus an Origin check; Argon2id password hashes under a
password policy; login back-off per (user, client) kept in the store; every action, view of personal data and denial
written to the audit log. Production mode (``console.settings``) refuses demo accounts and sets Secure cookies and
HSTS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from console.audit import routes as audit_routes
from console.auth import routes as auth_routes
from console.deps import SESSION_COOKIE, audit_event
from console.engine import console_engine, read_only
from console.export import routes as export_routes
from console.pages import LOCAL_TZ, build_templates, not_found, redirect, render
from console.reviews import routes as review_routes
from console.security import CsrfFailure, LoginRequired, NotInScope, SecurityHeaders
from console.settings import DATABASE_URL_VARIABLE, ConsoleSettings
from console.state import Console, Wards
from console.tasks import routes as task_routes
from corrections import auth

__all__ = ["DATABASE_URL_VARIABLE", "ConsoleSettings", "app_from_environment", "build_app", "create_app"]

HERE = Path(__file__).parent
AREAS = (auth_routes, task_routes, review_routes, audit_routes, export_routes)
log = logging.getLogger(__name__)


class ConsoleApp(FastAPI):
    """FastAPI with the security headers outside its whole middleware stack.

    Starlette's error middleware is the outermost layer of the stack: a header middleware added the usual way sits
    inside it, and the 500 page it sends would go out without the headers.
    """

    hsts: str | None = None

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), hsts=self.hsts)


def create_app(
    database_url: str,
    *,
    policy: auth.SessionPolicy | None = None,
    secure_cookies: bool | None = None,
    today: Callable[[], date] | None = None,
    **options: Any,
) -> FastAPI:
    """The console bound to one task store; ``options`` are the other ``ConsoleSettings`` fields."""
    return build_app(
        ConsoleSettings(
            database_url,
            policy=policy or auth.SessionPolicy(),
            secure_cookies=secure_cookies,
            today=today,
            **options,
        )
    )


def build_app(settings: ConsoleSettings) -> FastAPI:
    engine = console_engine(settings.database_url)
    wards = Wards.current()
    console = Console(
        engine=engine,
        reader=read_only(engine),
        settings=settings,
        today=settings.today or (lambda: datetime.now(LOCAL_TZ).date()),
        wards=wards,
        templates=build_templates([area.TEMPLATES for area in AREAS if hasattr(area, "TEMPLATES")], wards),
    )
    if settings.production:
        # Whatever seeded this store before, its demo accounts do not survive the switch to production.
        with console.db(write=True) as session:
            disabled = auth.disable_demo_accounts(session, reason="DANCU_ENV=production")
        if disabled:
            log.warning("production: demo accounts disabled: %s", ", ".join(disabled))
    app = ConsoleApp(title="dancu — bàn làm việc", docs_url=None, redoc_url=None, openapi_url=None)
    app.hsts = settings.hsts
    app.state.console = console
    if settings.trusted_proxies:
        # The real client of a request relayed by a trusted proxy: the last X-Forwarded-For entry that is not one.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for area in AREAS:
        app.include_router(area.router)
    _error_pages(app, console)
    return app


def _error_pages(app: FastAPI, console: Console) -> None:
    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _error: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect("/login?" + urlencode({"next": target}))

    @app.exception_handler(CsrfFailure)
    async def csrf_failure(request: Request, _error: CsrfFailure) -> Response:
        await run_in_threadpool(_audit_csrf_failure, console, request)
        return render(
            request,
            "error.html",
            None,
            status_code=403,
            title="Yêu cầu bị từ chối",
            message="Phiên làm việc không hợp lệ hoặc biểu mẫu đã cũ. Hãy tải lại trang rồi thử lại.",
        )

    @app.exception_handler(NotInScope)
    async def not_in_scope(request: Request, error: NotInScope) -> Response:
        await run_in_threadpool(
            audit_event,
            console,
            request,
            error.viewer.actor,
            "access_denied",
            object_type="page",
            object_id=request.url.path[:64],
        )
        return not_found(request, error.viewer, error.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, _error: RequestValidationError) -> Response:
        return render(
            request,
            "error.html",
            None,
            status_code=422,
            title="Yêu cầu không hợp lệ",
            message="Địa chỉ hoặc biểu mẫu có giá trị không hợp lệ (ví dụ số trang hay mã việc quá lớn).",
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

    @app.exception_handler(Exception)
    async def server_error(request: Request, _error: Exception) -> Response:
        # Starlette logs the exception and re-raises it to the server; the browser gets a page, not a traceback.
        return render(
            request,
            "error.html",
            None,
            status_code=500,
            title="Lỗi hệ thống",
            message="Đã có lỗi xảy ra. Thao tác chưa được thực hiện; hãy thử lại sau hoặc báo quản trị hệ thống.",
        )


def _audit_csrf_failure(console: Console, request: Request) -> None:
    token = request.cookies.get(console.cookie_name(SESSION_COOKIE))
    with console.db() as session:
        live = auth.load_session(session, token, console.policy)
    actor: Any = live.actor if live is not None else "?"
    audit_event(console, request, actor, "csrf_failed", object_type="page", object_id=request.url.path[:64])


def app_from_environment() -> FastAPI:
    """App factory for uvicorn worker processes (``dancu console --workers N``): settings come from the environment."""
    return build_app(ConsoleSettings.from_environment())
