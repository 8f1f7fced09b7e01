"""Response headers every page carries, and the checks that turn a request away before any route runs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CsrfFailure",
    "LoginRequired",
    "NotInScope",
    "SecurityHeaders",
    "check_origin",
    "client_address",
    "safe_next",
]


class LoginRequired(Exception):
    """No live session: send the browser to the login page."""


class CsrfFailure(Exception):
    """A POST without the session's CSRF token, or from another origin."""


class NotInScope(Exception):
    """The viewer's role or scope does not reach this page: answered "not found", and audited."""

    def __init__(self, message: str, viewer: Any) -> None:
        super().__init__(message)
        self.message = message
        self.viewer = viewer


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers (cheaper than an ``@app.middleware`` function).

    The console wraps its whole middleware stack in it (``console.app``), so error responses, a 500 included, carry
    the headers too. ``hsts``: the ``Strict-Transport-Security`` value when served over HTTPS.
    """

    HEADERS: tuple[tuple[bytes, bytes], ...] = (
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy", b"default-src 'self'; form-action 'self'; frame-ancestors 'none'"),
    )

    def __init__(self, app: ASGIApp, hsts: str | None = None) -> None:
        self.app = app
        self.headers = self.HEADERS + (((b"strict-transport-security", hsts.encode()),) if hsts else ())

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
                headers.extend(h for h in self.headers if h[0] not in present)
                if private and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def check_origin(request: Request) -> None:
    """A browser sends ``Origin`` with every POST: one naming another site is a cross-site request."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise CsrfFailure


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


def safe_next(target: str) -> str:
    """Only same-site paths: an open redirect after login would hand the session page to an attacker's site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/tasks"
    return target
