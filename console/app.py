"""The review console: a server-rendered FastAPI app in Vietnamese for ward police and data officers.

Security model: server-side sessions (only a hash of the cookie token is stored) with idle and absolute expiry; a
per-session CSRF token in every form, checked on every POST, plus an Origin check; scrypt password hashes; login
throttling; every action written to the audit log in the same transaction as the action.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine, event, exc, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from corrections import audit, auth, lifecycle, queries, reviews
from corrections.access import AccessDenied, Actor, can_see, review_scope
from corrections.db import make_engine, migrate, session_scope
from corrections.export import export_ward_tasks
from corrections.lifecycle import QueueFilter, TaskConflict, TaskNotFound
from corrections.models import HUMAN_RESOLUTIONS, RecordSnapshot, ReviewItem
from corrections.reviews import ReviewNotFound
from corrections.text import (
    DECISION_NAMES,
    DISPLAY_FIELDS,
    FIELD_LABELS,
    PRIORITY_NAMES,
    QUALITY_NAMES,
    RESOLUTION_NAMES,
    REVIEW_STATE_NAMES,
    ROLE_NAMES,
    SOURCE_NAMES,
    STATE_NAMES,
    TASK_TYPE_NAMES,
    format_probability,
    mask_id,
)
from normalize import units

__all__ = ["DATABASE_URL_VARIABLE", "SESSION_COOKIE", "app_from_environment", "create_app"]

DATABASE_URL_VARIABLE = "DANCU_CONSOLE_DATABASE_URL"

SESSION_COOKIE = "dancu_session"
LOGIN_CSRF_COOKIE = "dancu_login_csrf"
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HERE = Path(__file__).parent
PAGE_SIZE = 50
WARD_LIST_TTL_SECONDS = 60.0
PING_AFTER_IDLE_SECONDS = 30.0


class LoginRequired(Exception):
    """No live session: send the browser to the login page."""


class CsrfFailure(Exception):
    """A POST without the session's CSRF token, or from another origin."""


@dataclass(frozen=True, slots=True)
class Viewer:
    actor: Actor
    csrf_token: str


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers (cheaper than an ``@app.middleware`` function)."""

    HEADERS: tuple[tuple[bytes, bytes], ...] = (
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", b"default-src 'self'; form-action 'self'; frame-ancestors 'none'"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Pages carry personal data: never keep them in a shared browser's cache.
        private = not str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.HEADERS if h[0] not in present)
                if private and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """A small thread-safe cache whose entries live ``seconds``."""

    def __init__(self, seconds: float, max_entries: int = 1024) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
        if found is not None and found[0] > now:
            return found[1]
        value = compute()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now + self.seconds, value)
        return value


class LoginThrottle:
    """At most ``limit`` failed logins per user name and per client within ``window`` seconds."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        entries = self._failures.setdefault(key, deque())
        while entries and entries[0] < now - self.window:
            entries.popleft()
        return entries

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.limit for k in keys)

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def clear(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def _local(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def _day(value: date | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return value.strftime("%d/%m/%Y")


def _number(value: float | None, digits: int = 2, *, signed: bool = False) -> str:
    """A number the Vietnamese way: decimal comma."""
    if value is None:
        return ""
    return f"{value:{'+' if signed else ''}.{digits}f}".replace(".", ",")


def console_engine(database_url: str) -> Engine:
    """The console's engine: migrated, pinging a pooled connection only after it sat idle.

    A ping on every checkout (``pool_pre_ping``) costs a round trip per page view; a connection in steady use is known
    to be alive, while one that sat idle may have been cut (server restart, idle timeout), so only those are checked.
    """
    engine = make_engine(database_url, pool_pre_ping=False)
    migrate(engine)

    @event.listens_for(engine, "checkin")
    def _remember_checkin(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        idle_since = record.info.get("checked_in_at")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            # The dialect's ping leaves no transaction open (psycopg2 would otherwise BEGIN before the SELECT 1).
            engine.dialect.do_ping(dbapi)
        except Exception as error:
            # The pool discards this connection and checks out (or opens) another one.
            raise exc.DisconnectionError(str(error)) from error

    return engine


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def create_app(
    database_url: str,
    *,
    policy: auth.SessionPolicy | None = None,
    secure_cookies: bool = False,
    today: Callable[[], date] | None = None,
) -> FastAPI:
    """The console bound to one task store. ``secure_cookies`` when served over HTTPS (behind a proxy)."""
    engine = console_engine(database_url)
    # Pages that only read run without BEGIN/COMMIT on PostgreSQL: two round trips fewer per page view. Each statement
    # sees its own snapshot, which a list view tolerates (a count may be a moment older than the rows shown).
    reader: Engine = (
        engine.execution_options(isolation_level="AUTOCOMMIT") if engine.dialect.name == "postgresql" else engine
    )
    policy = policy or auth.SessionPolicy()
    throttle = LoginThrottle()
    current_day = today or (lambda: datetime.now(LOCAL_TZ).date())
    ward_table = units.current_wards()
    ward_names: dict[str, str] = dict(
        zip(ward_table.get_column("ward_code").to_list(), ward_table.get_column("ward_name").to_list(), strict=True)
    )
    province_names: dict[str, str] = dict(
        zip(
            ward_table.get_column("province_code").to_list(),
            ward_table.get_column("province_name").to_list(),
            strict=False,
        )
    )

    app = FastAPI(title="dancu — bàn làm việc", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SecurityHeaders)
    # The ward filter's choices change at most nightly: read once a minute, not on every page.
    ward_lists: TtlCache[tuple[object, ...], list[str]] = TtlCache(seconds=WARD_LIST_TTL_SECONDS)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    # Templates ship with the code: no need to stat their files on every page view.
    templates.env.auto_reload = False
    templates.env.filters.update(local=_local, day=_day, mask=mask_id, percent=format_probability, num=_number)
    templates.env.globals.update(
        QUALITY_NAMES=QUALITY_NAMES,
        STATE_NAMES=STATE_NAMES,
        RESOLUTION_NAMES=RESOLUTION_NAMES,
        PRIORITY_NAMES=PRIORITY_NAMES,
        TASK_TYPE_NAMES=TASK_TYPE_NAMES,
        ROLE_NAMES=ROLE_NAMES,
        DECISION_NAMES=DECISION_NAMES,
        REVIEW_STATE_NAMES=REVIEW_STATE_NAMES,
        FIELD_LABELS=FIELD_LABELS,
        SOURCE_NAMES=SOURCE_NAMES,
        ward_names=ward_names,
        province_names=province_names,
        HUMAN_RESOLUTIONS=HUMAN_RESOLUTIONS,
    )

    @contextmanager
    def db(*, write: bool = False) -> Iterator[Session]:
        with session_scope(engine if write else reader, write=write) as session:
            yield session

    def viewer(request: Request, session: Session | None = None) -> Viewer:
        """The logged-in user; reads through ``session`` when given (saves a transaction on hot pages)."""
        token = request.cookies.get(SESSION_COOKIE)
        if session is not None:
            live = auth.load_session(session, token, policy)
        else:
            with db() as own:
                live = auth.load_session(own, token, policy)
        if live is None or token is None:
            raise LoginRequired
        if live.needs_touch:
            with db(write=True) as session:
                auth.touch_session(session, token, policy)
        return Viewer(live.actor, live.csrf_token)

    def check_origin(request: Request) -> None:
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            raise CsrfFailure

    def checked(request: Request, csrf_token: str) -> Viewer:
        """The viewer of a POST whose CSRF token and origin are right."""
        who = viewer(request)
        check_origin(request)
        if not hmac.compare_digest(csrf_token.encode(), who.csrf_token.encode()):
            raise CsrfFailure
        return who

    def render(request: Request, name: str, who: Viewer | None, status_code: int = 200, **context: Any) -> HTMLResponse:
        response = templates.TemplateResponse(
            request, name, {"viewer": who, "actor": who.actor if who else None, **context}, status_code=status_code
        )
        return response

    def redirect(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    def not_found(request: Request, who: Viewer, message: str) -> HTMLResponse:
        return render(request, "error.html", who, status_code=404, title="Không tìm thấy", message=message)

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
        title = "Không tìm thấy" if error.status_code == 404 else "Lỗi"
        return render(
            request,
            "error.html",
            None,
            status_code=error.status_code,
            title=title,
            message="Trang không tồn tại." if error.status_code == 404 else str(error.detail),
        )

    # ---- login -------------------------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/tasks", error: str = "") -> Response:
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", None, next=_safe_next(next), error=error, login_csrf=token)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies)
        return response

    @app.post("/login")
    def login(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        csrf_token: str = Form(""),
        next: str = Form("/tasks"),
    ) -> Response:
        check_origin(request)
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
            raise CsrfFailure
        username = username.strip().lower()
        keys = (f"user:{username}", f"client:{_client(request)}")
        if throttle.blocked(*keys):
            with db(write=True) as session:
                audit.record(session, username[:64] or "?", "login_throttled", client=_client(request))
            return redirect("/login?" + urlencode({"error": "throttled", "next": next}))
        with db(write=True) as session:
            user = auth.authenticate(session, username, password, client=_client(request))
            if user is None:
                throttle.fail(*keys)
                return redirect("/login?" + urlencode({"error": "invalid", "next": next}))
            token, _csrf = auth.open_session(session, user, policy)
        throttle.clear(f"user:{username}")
        response = redirect(_safe_next(next))
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure_cookies, path="/")
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout")
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        who = checked(request, csrf_token)
        with db(write=True) as session:
            auth.close_session(session, request.cookies.get(SESSION_COOKIE))
            audit.record(session, who.actor.username, "logout", client=_client(request))
        response = redirect("/login")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/")
    def home(request: Request) -> Response:
        who = viewer(request)
        return redirect("/reviews" if who.actor.role == "data_officer" else "/tasks")

    @app.get("/healthz")
    def health() -> dict[str, str]:
        with db() as session:
            session.execute(select(1))
        return {"status": "ok"}

    # ---- queue -------------------------------------------------------------------------------------------------

    def queue_filter(request: Request, who: Viewer) -> tuple[QueueFilter, int]:
        params = request.query_params
        state = params.get("state", "open")
        priority = params.get("priority", "")
        ward = params.get("ward", "") if who.actor.role != "ward_officer" else ""
        quality = params.get("quality", "")
        filters = QueueFilter(
            state=state if state in STATE_NAMES else None,
            quality=quality if quality in QUALITY_NAMES else None,
            priority=int(priority) if priority in ("1", "2", "3") else None,
            rule=params.get("rule") or None,
            ward_code=ward or None,
            assignee=who.actor.username if params.get("mine") == "1" else None,
            search=(params.get("q") or "").strip()[:100] or None,
        )
        page = params.get("page", "1")
        return filters, int(page) if page.isdigit() else 1

    @app.get("/tasks", response_class=HTMLResponse)
    def queue(request: Request) -> Response:
        with db() as session:
            who = viewer(request, session)
            filters, page = queue_filter(request, who)
            actor = who.actor
            params = request.query_params
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
                wards = ward_lists.get((actor.role, actor.province_code), lambda: queries.queue_wards(session, actor))
        base_params = {k: v for k, v in request.query_params.items() if k not in ("page", "after", "before")}
        return render(
            request,
            "queue.html",
            who,
            result=result,
            filters=filters,
            wards=wards,
            today=current_day(),
            params=base_params,
            query_for=lambda **changes: _query(base_params, changes),
            message=request.query_params.get("msg", ""),
        )

    @app.post("/tasks/claim-next")
    def claim_next(request: Request, csrf_token: str = Form(""), quality: str = Form("")) -> Response:
        who = checked(request, csrf_token)
        with db(write=True) as session:
            task = lifecycle.claim_next(
                session, who.actor, QueueFilter(quality=quality or None), client=_client(request)
            )
            task_id = task.id if task else None
        if task_id is None:
            return redirect("/tasks?msg=empty")
        return redirect(f"/tasks/{task_id}")

    # ---- one task ----------------------------------------------------------------------------------------------

    @app.get("/tasks/{task_id}", response_class=HTMLResponse)
    def task_page(request: Request, task_id: int) -> Response:
        who = viewer(request)
        try:
            with db(write=True) as session:
                task = lifecycle.get_task(session, who.actor, task_id)
                records = queries.task_records(session, task)
                history = queries.task_history(session, task_id)
                # Full personal IDs are shown on this page only: every view is recorded.
                audit.record(
                    session,
                    who.actor.username,
                    "view_task",
                    object_type="task",
                    object_id=task_id,
                    ward_code=task.ward_code,
                    client=_client(request),
                )
        except TaskNotFound:
            with db(write=True) as session:
                audit.record(
                    session,
                    who.actor.username,
                    "task_not_found",
                    object_type="task",
                    object_id=task_id,
                    client=_client(request),
                )
            return not_found(request, who, "Không tìm thấy việc này trong phạm vi của bạn.")
        rows = _side_by_side(records, set(task.problem_fields))
        return render(
            request,
            "task.html",
            who,
            task=task,
            records=records,
            rows=rows,
            history=history,
            today=current_day(),
            error=request.query_params.get("error", ""),
        )

    def task_action(
        request: Request, task_id: int, csrf_token: str, action: Callable[[Session, Actor], Any]
    ) -> Response:
        who = checked(request, csrf_token)
        try:
            with db(write=True) as session:
                action(session, who.actor)
        except TaskNotFound:
            return not_found(request, who, "Không tìm thấy việc này trong phạm vi của bạn.")
        except TaskConflict:
            return redirect(f"/tasks/{task_id}?error=conflict")
        except AccessDenied:
            return redirect(f"/tasks/{task_id}?error=denied")
        except ValueError:
            return redirect(f"/tasks/{task_id}?error=invalid")
        return redirect(f"/tasks/{task_id}")

    @app.post("/tasks/{task_id}/claim")
    def claim(request: Request, task_id: int, csrf_token: str = Form("")) -> Response:
        return task_action(
            request, task_id, csrf_token, lambda s, a: lifecycle.claim(s, a, task_id, client=_client(request))
        )

    @app.post("/tasks/{task_id}/release")
    def release(request: Request, task_id: int, csrf_token: str = Form("")) -> Response:
        return task_action(
            request, task_id, csrf_token, lambda s, a: lifecycle.release(s, a, task_id, client=_client(request))
        )

    @app.post("/tasks/{task_id}/resolve")
    def resolve(
        request: Request, task_id: int, csrf_token: str = Form(""), resolution: str = Form(""), note: str = Form("")
    ) -> Response:
        return task_action(
            request,
            task_id,
            csrf_token,
            lambda s, a: lifecycle.resolve(s, a, task_id, resolution, note, client=_client(request)),
        )

    @app.post("/tasks/{task_id}/reopen")
    def reopen(request: Request, task_id: int, csrf_token: str = Form(""), note: str = Form("")) -> Response:
        return task_action(
            request, task_id, csrf_token, lambda s, a: lifecycle.reopen(s, a, task_id, note, client=_client(request))
        )

    # ---- export ------------------------------------------------------------------------------------------------

    @app.get("/export")
    def export(request: Request, ward: str = "") -> Response:
        who = viewer(request)
        ward_code = who.actor.ward_code if who.actor.role == "ward_officer" else ward
        if not ward_code:
            return render(
                request,
                "error.html",
                who,
                status_code=400,
                title="Thiếu xã/phường",
                message="Hãy chọn một xã/phường để xuất danh sách việc.",
            )
        province = ward_table.filter(ward_table["ward_code"] == ward_code).get_column("province_code").to_list()
        if not can_see(who.actor, ward_code, province[0] if province else None):
            return not_found(request, who, "Không tìm thấy xã/phường này trong phạm vi của bạn.")
        with db(write=True) as session:
            content = export_ward_tasks(session, ward_code, ward_names.get(ward_code, ward_code), today=current_day())
            audit.record(
                session,
                who.actor.username,
                "export",
                object_type="ward",
                object_id=ward_code,
                ward_code=ward_code,
                client=_client(request),
            )
        filename = f"viec-can-xu-ly-{ward_code}-{current_day().isoformat()}.xlsx"
        return Response(
            content,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    # ---- match review ------------------------------------------------------------------------------------------

    @app.get("/reviews", response_class=HTMLResponse)
    def review_list(request: Request, state: str = "pending", page: int = 1) -> Response:
        who = viewer(request)
        if not who.actor.is_reviewer:
            return not_found(request, who, "Trang này dành cho cán bộ quản lý dữ liệu.")
        state = state if state in REVIEW_STATE_NAMES else "pending"
        page = max(1, page)
        with db() as session:
            items = reviews.list_reviews(
                session, who.actor, state=state, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
            )
            counts = reviews.review_counts(session, who.actor)
            names = _snapshot_names(session, [i for item in items for i in (item.left_id, item.right_id)])
        return render(
            request,
            "reviews.html",
            who,
            items=items,
            counts=counts,
            state=state,
            page=page,
            names=names,
            page_size=PAGE_SIZE,
        )

    @app.get("/reviews/{review_id}", response_class=HTMLResponse)
    def review_page(request: Request, review_id: int) -> Response:
        who = viewer(request)
        try:
            with db() as session:
                item = reviews.get_review(session, who.actor, review_id)
                snapshots = {
                    s.record_id: s
                    for s in session.scalars(
                        select(RecordSnapshot).where(RecordSnapshot.record_id.in_((item.left_id, item.right_id)))
                    )
                }
                next_id = session.scalar(
                    select(func.min(ReviewItem.id)).where(
                        review_scope(who.actor),
                        ReviewItem.state == "pending",
                        ReviewItem.id != review_id,
                    )
                )
        except (ReviewNotFound, AccessDenied):
            return not_found(request, who, "Không tìm thấy cặp bản ghi này trong phạm vi của bạn.")
        pair = [snapshots[i] for i in (item.left_id, item.right_id) if i in snapshots]
        rows = _side_by_side(pair, set(), mask=True)
        return render(
            request,
            "review.html",
            who,
            item=item,
            rows=rows,
            records=pair,
            next_id=next_id,
            error=request.query_params.get("error", ""),
        )

    @app.post("/reviews/{review_id}")
    def decide(
        request: Request,
        review_id: int,
        csrf_token: str = Form(""),
        decision: str = Form(""),
        note: str = Form(""),
        next_id: str = Form(""),
    ) -> Response:
        who = checked(request, csrf_token)
        try:
            with db(write=True) as session:
                reviews.decide(session, who.actor, review_id, decision, note, client=_client(request))
        except (ReviewNotFound, AccessDenied):
            return not_found(request, who, "Không tìm thấy cặp bản ghi này trong phạm vi của bạn.")
        except ValueError:
            return redirect(f"/reviews/{review_id}?error=invalid")
        return redirect(f"/reviews/{next_id}" if next_id.isdigit() else "/reviews?state=pending")

    # ---- audit log ---------------------------------------------------------------------------------------------

    @app.get("/audit", response_class=HTMLResponse)
    def audit_log(request: Request, page: int = 1, actor: str = "") -> Response:
        who = viewer(request)
        if not who.actor.is_reviewer:
            return not_found(request, who, "Trang này dành cho cán bộ quản lý dữ liệu và quản trị.")
        page = max(1, page)
        with db() as session:
            entries = audit.recent(session, limit=100, offset=(page - 1) * 100, actor=actor.strip() or None)
        return render(request, "audit.html", who, entries=entries, page=page, actor_filter=actor)

    return app


def app_from_environment() -> FastAPI:
    """App factory for uvicorn worker processes (``dancu console --workers N``): settings come from the environment."""
    url = os.environ.get(DATABASE_URL_VARIABLE)
    if not url:
        raise RuntimeError(f"{DATABASE_URL_VARIABLE} is not set")
    return create_app(url, secure_cookies=os.environ.get("DANCU_CONSOLE_SECURE_COOKIES") == "1")


def _safe_next(target: str) -> str:
    """Only same-site paths: an open redirect after login would hand the session page to an attacker's site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/tasks"
    return target


def _query(params: dict[str, str], changes: dict[str, Any]) -> str:
    merged = {**params, **{k: str(v) for k, v in changes.items() if v is not None}}
    return "?" + urlencode({k: v for k, v in merged.items() if v != ""})


def _snapshot_names(session: Session, record_ids: list[str]) -> dict[str, str]:
    if not record_ids:
        return {}
    rows = session.execute(
        select(RecordSnapshot.record_id, RecordSnapshot.data).where(RecordSnapshot.record_id.in_(record_ids))
    ).all()
    return {r.record_id: str(r.data.get("full_name", "")) for r in rows}


@dataclass(frozen=True, slots=True)
class FieldRow:
    name: str
    label: str
    values: list[str]
    problem: bool
    differs: bool


def _cell(name: str, value: object, *, mask: bool, problem: bool) -> str:
    if value is None:
        return "(trống)" if problem else ""
    if mask and name in ("person_id", "card_number", "old_id_number"):
        return mask_id(str(value))
    if name == "source":
        return SOURCE_NAMES.get(str(value), str(value))
    return str(value)


def _side_by_side(records: list[RecordSnapshot], problems: set[str], *, mask: bool = False) -> list[FieldRow]:
    rows: list[FieldRow] = []
    for name in DISPLAY_FIELDS:
        if name == "record_id":
            continue
        raw = [r.data.get(name) for r in records]
        if name == "source":
            raw = [r.source for r in records]
        if all(v is None for v in raw) and name not in problems:
            continue
        values = [_cell(name, v, mask=mask, problem=name in problems) for v in raw]
        present = {v for v in raw if v is not None}
        rows.append(
            FieldRow(
                name,
                FIELD_LABELS.get(name, name),
                values,
                name in problems,
                len(records) > 1 and len(present) > 1 and name != "source",
            )
        )
    return rows
