"""The console's settings, and how production mode changes their defaults.

``DANCU_ENV=production`` (the same variable the nightly run reads) makes the console safe by default: demo accounts
are never created, reset or accepted (those in the store are disabled at start); the session cookie is ``Secure``
and every response carries ``Strict-Transport-Security`` (the console is served over HTTPS behind a reverse proxy).

Environment of ``app_from_environment`` (what ``dancu console --workers N`` hands its worker processes):

- ``DANCU_ENV``: ``embedded`` (default) or ``production``;
- ``DANCU_CONSOLE_DATABASE_URL`` (else ``DANCU_DATABASE_URL``): the task store;
- ``DANCU_CONSOLE_SECURE_COOKIES``: ``1`` or ``0`` overrides the default (production: ``1``);
- ``DANCU_CONSOLE_TRUSTED_PROXIES``: comma-separated addresses or networks of the reverse proxies whose
  ``X-Forwarded-For`` names the real client (login throttling and the audit log key on it).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from corrections.auth import SessionPolicy
from corrections.throttle import ThrottlePolicy

__all__ = [
    "DATABASE_URL_VARIABLE",
    "ENVIRONMENTS",
    "ConsoleSettings",
    "environment_is_production",
    "parse_proxies",
]

DATABASE_URL_VARIABLE = "DANCU_CONSOLE_DATABASE_URL"
ENVIRONMENTS = ("embedded", "production")
HSTS_MAX_AGE = 365 * 24 * 3600


def environment_is_production(environ: Mapping[str, str] = os.environ) -> bool:
    """``DANCU_ENV`` is ``production``; anything but the two known values is refused (a typo must not mean "demo")."""
    value = environ.get("DANCU_ENV", "embedded").strip()
    if value not in ENVIRONMENTS:
        raise ValueError(f"DANCU_ENV phải là 'embedded' hoặc 'production', không phải {value!r}")
    return value == "production"


def parse_proxies(text: str) -> tuple[str, ...]:
    """Trusted proxy addresses or networks from a comma-separated list; a malformed one is an error, not ignored."""
    proxies = tuple(p.strip() for p in text.split(",") if p.strip())
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError as error:
            raise ValueError(f"địa chỉ proxy không hợp lệ / invalid proxy address: {proxy!r}") from error
    return proxies


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ConsoleSettings:
    database_url: str
    production: bool = False
    secure_cookies: bool | None = None
    """Secure cookies and HSTS (served over HTTPS); ``None``: on in production, off otherwise."""
    trusted_proxies: tuple[str, ...] = ()
    policy: SessionPolicy = field(default_factory=SessionPolicy)
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    today: Callable[[], date] | None = None
    clock: Callable[[], datetime] = _utcnow
    """The time login throttling counts with (tests move it instead of sleeping)."""

    @property
    def https(self) -> bool:
        return self.production if self.secure_cookies is None else self.secure_cookies

    @property
    def session_policy(self) -> SessionPolicy:
        return replace(self.policy, accept_demo=False) if self.production else self.policy

    @property
    def hsts(self) -> str | None:
        return f"max-age={HSTS_MAX_AGE}; includeSubDomains" if self.https else None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ConsoleSettings:
        url = environ.get(DATABASE_URL_VARIABLE) or environ.get("DANCU_DATABASE_URL")
        if not url:
            raise RuntimeError(f"{DATABASE_URL_VARIABLE} (or DANCU_DATABASE_URL) is not set")
        secure = environ.get("DANCU_CONSOLE_SECURE_COOKIES", "").strip()
        proxies = environ.get("DANCU_CONSOLE_TRUSTED_PROXIES", "")
        return cls(
            url,
            production=environment_is_production(environ),
            secure_cookies=None if secure == "" else secure == "1",
            trusted_proxies=parse_proxies(proxies),
        )

    def environment(self) -> dict[str, str]:
        """The variables that make ``from_environment`` give these settings back (for worker processes)."""
        values = {
            DATABASE_URL_VARIABLE: self.database_url,
            "DANCU_ENV": "production" if self.production else "embedded",
            "DANCU_CONSOLE_TRUSTED_PROXIES": ",".join(self.trusted_proxies),
        }
        values["DANCU_CONSOLE_SECURE_COOKIES"] = "" if self.secure_cookies is None else str(int(self.secure_cookies))
        return values
