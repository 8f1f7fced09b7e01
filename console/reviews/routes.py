"""Match review: the pairs the engine could not decide, one pair side by side, and the reviewer's decision.

Scope rule: data officers and admins only (``Reviewer``), each within ``corrections.access.review_scope`` (a data
officer their province); a pair outside it is "not found". Personal IDs are masked on these pages; every view of the
list or of a pair (two people's names, dates, addresses) and every out-of-scope attempt is audited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.compare import side_by_side
from console.deps import ConsoleDep, PostedViewer, Reviewer, audit_event
from console.pages import not_found, redirect, render
from console.security import client_address
from corrections import audit, reviews
from corrections.access import AccessDenied, review_scope
from corrections.models import RecordSnapshot, ReviewItem
from corrections.reviews import ReviewNotFound
from corrections.text import REVIEW_STATE_NAMES

__all__ = ["MAX_PAGE", "PAGE_SIZE", "TEMPLATES", "ReviewId", "router"]

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZE = 50
MAX_PAGE = 100_000
NOT_IN_SCOPE = "Không tìm thấy cặp bản ghi này trong phạm vi của bạn."
ReviewId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]

router = APIRouter(prefix="/reviews")


@router.get("", response_class=HTMLResponse)
def review_list(
    request: Request,
    viewer: Reviewer,
    console: ConsoleDep,
    state: str = "pending",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    state = state if state in REVIEW_STATE_NAMES else "pending"
    audit_event(console, request, viewer.actor, "view_reviews", object_type="page", detail=f"{state}, trang {page}")
    with console.db() as session:
        items = reviews.list_reviews(session, viewer.actor, state=state, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        counts = reviews.review_counts(session, viewer.actor)
        names = _snapshot_names(session, [i for item in items for i in (item.left_id, item.right_id)])
    return render(
        request,
        "reviews.html",
        viewer,
        items=items,
        counts=counts,
        state=state,
        page=page,
        names=names,
        page_size=PAGE_SIZE,
    )


@router.get("/{review_id}", response_class=HTMLResponse)
def review_page(request: Request, review_id: ReviewId, viewer: Reviewer, console: ConsoleDep) -> Response:
    try:
        with console.db(write=True) as session:
            item = reviews.get_review(session, viewer.actor, review_id)
            snapshots = {
                s.record_id: s
                for s in session.scalars(
                    select(RecordSnapshot).where(RecordSnapshot.record_id.in_((item.left_id, item.right_id)))
                )
            }
            next_id = session.scalar(
                select(func.min(ReviewItem.id)).where(
                    review_scope(viewer.actor), ReviewItem.state == "pending", ReviewItem.id != review_id
                )
            )
            audit.record(
                session,
                viewer.actor.username,
                "view_review",
                object_type="review",
                object_id=review_id,
                ward_code=item.ward_code,
                province_code=item.province_code,
                client=client_address(request),
            )
    except (ReviewNotFound, AccessDenied):
        audit_event(console, request, viewer.actor, "review_not_found", object_type="review", object_id=review_id)
        return not_found(request, viewer, NOT_IN_SCOPE)
    pair = [snapshots[i] for i in (item.left_id, item.right_id) if i in snapshots]
    return render(
        request,
        "review.html",
        viewer,
        item=item,
        rows=side_by_side(pair, set(), mask=True),
        records=pair,
        next_id=next_id,
        error=request.query_params.get("error", ""),
    )


@router.post("/{review_id}")
def decide(
    request: Request,
    review_id: ReviewId,
    viewer: PostedViewer,
    console: ConsoleDep,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    next_id: Annotated[str, Form()] = "",
) -> Response:
    try:
        with console.db(write=True) as session:
            reviews.decide(session, viewer.actor, review_id, decision, note, client=client_address(request))
    except (ReviewNotFound, AccessDenied):
        audit_event(
            console,
            request,
            viewer.actor,
            "review_not_found",
            object_type="review",
            object_id=review_id,
            detail="decide",
        )
        return not_found(request, viewer, NOT_IN_SCOPE)
    except ValueError:
        return redirect(f"/reviews/{review_id}?error=invalid")
    following = next_id if next_id.isascii() and next_id.isdigit() and len(next_id) <= 10 else ""
    return redirect(f"/reviews/{following}" if following else "/reviews?state=pending")


def _snapshot_names(session: Session, record_ids: list[str]) -> dict[str, str]:
    if not record_ids:
        return {}
    rows = session.execute(
        select(RecordSnapshot.record_id, RecordSnapshot.data).where(RecordSnapshot.record_id.in_(record_ids))
    ).all()
    return {r.record_id: str(r.data.get("full_name", "")) for r in rows}
