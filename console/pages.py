"""Rendering: one Jinja environment over the shared templates and each area's own, the Vietnamese formats, and the
responses every area uses (a page, a redirect after a POST, "not found in your scope")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from corrections.models import HUMAN_RESOLUTIONS
from corrections.text import (
    DECISION_NAMES,
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
    mask_ids_in,
)

if TYPE_CHECKING:
    from console.deps import Viewer
    from console.state import Wards

__all__ = ["LOCAL_TZ", "SHARED_TEMPLATES", "build_templates", "not_found", "redirect", "render"]

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SHARED_TEMPLATES = Path(__file__).parent / "templates"
"""``base.html`` and ``error.html``; each area keeps its own pages in its ``templates`` folder."""


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


def build_templates(folders: Iterable[Path], wards: Wards) -> Jinja2Templates:
    """One environment over ``folders`` (template names are unique across areas) with the console's filters."""
    templates = Jinja2Templates(directory=[SHARED_TEMPLATES, *folders])
    # Templates ship with the code: no need to stat their files on every page view.
    templates.env.auto_reload = False
    templates.env.filters.update(
        local=_local, day=_day, mask=mask_id, mask_ids=mask_ids_in, percent=format_probability, num=_number
    )
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
        ward_names=wards.ward_names,
        province_names=wards.province_names,
        HUMAN_RESOLUTIONS=HUMAN_RESOLUTIONS,
    )
    return templates


def render(request: Request, name: str, viewer: Viewer | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.console.templates
    return templates.TemplateResponse(
        request,
        name,
        {"viewer": viewer, "actor": viewer.actor if viewer else None, **context},
        status_code=status_code,
    )


def redirect(url: str) -> RedirectResponse:
    """After a POST (or to the login page): 303, so the browser follows with a GET."""
    return RedirectResponse(url, status_code=303)


def not_found(request: Request, viewer: Viewer | None, message: str) -> HTMLResponse:
    """Out of scope and nonexistent look the same: no existence oracle."""
    return render(request, "error.html", viewer, status_code=404, title="Không tìm thấy", message=message)
