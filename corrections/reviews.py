"""Match review: data officers decide pairs from the review band; the decisions become the engine's labels."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corrections import audit
from corrections.access import AccessDenied, Actor, can_see, require_reviewer, review_scope
from corrections.db import make_engine, migrate, utcnow
from corrections.models import DECISIONS, ReviewDecision, ReviewItem

__all__ = ["LABEL_SCHEMA", "ReviewNotFound", "decide", "get_review", "list_reviews", "load_labels", "review_counts"]

_LABEL_TYPES: Final[dict[str, pl.DataType]] = {
    "left_id": pl.String(),
    "right_id": pl.String(),
    "same_person": pl.Boolean(),
    "decided_by": pl.String(),
    "decided_at": pl.Datetime("us", "UTC"),
}
LABEL_SCHEMA: Final = pl.Schema(_LABEL_TYPES)
_SAME_PERSON = {"same": True, "different": False, "unsure": None}


class ReviewNotFound(LookupError):
    """No such review item, or not in the user's province."""


def get_review(session: Session, actor: Actor, review_id: int) -> ReviewItem:
    require_reviewer(actor)
    item = session.get(ReviewItem, review_id)
    if item is None or not can_see(actor, item.ward_code, item.province_code):
        raise ReviewNotFound(review_id)
    return item


def list_reviews(
    session: Session, actor: Actor, *, state: str = "pending", limit: int = 50, offset: int = 0
) -> list[ReviewItem]:
    require_reviewer(actor)
    query = (
        select(ReviewItem)
        .where(review_scope(actor), ReviewItem.state == state)
        .order_by(ReviewItem.match_probability.desc(), ReviewItem.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))


def review_counts(session: Session, actor: Actor) -> dict[str, int]:
    require_reviewer(actor)
    rows = session.execute(
        select(ReviewItem.state, func.count()).where(review_scope(actor)).group_by(ReviewItem.state)
    ).all()
    return {state: int(count) for state, count in rows}


def decide(
    session: Session, actor: Actor, review_id: int, decision: str, note: str = "", *, client: str | None = None
) -> ReviewItem:
    """Store a decision (same person / different / unsure) with who and when; a later decision replaces it."""
    if decision not in DECISIONS:
        raise ValueError(f"Quyết định không hợp lệ: {decision!r}")
    item = get_review(session, actor, review_id)
    if item.state == "withdrawn" and item.decision is None:
        raise AccessDenied("Cặp này không còn cần xem xét.")
    now = utcnow()
    cleaned = note.strip() or None
    item.state = "decided"
    item.decision = decision
    item.decided_by = actor.username
    item.decided_at = now
    item.note = cleaned
    item.updated_at = now
    session.add(
        ReviewDecision(review_id=item.id, decision=decision, decided_by=actor.username, decided_at=now, note=cleaned)
    )
    audit.record(
        session,
        actor.username,
        "review_decision",
        object_type="review",
        object_id=item.id,
        ward_code=item.ward_code,
        province_code=item.province_code,
        detail=f"{item.left_id} ~ {item.right_id}: {decision}",
        client=client,
    )
    return item


def load_labels(database_url: str) -> pl.DataFrame:
    """Reviewers' decisions as labels for the matching engine.

    Columns: left_id, right_id, same_person (Boolean; null = the reviewer was unsure), decided_by, decided_at.
    One row per decided pair (its latest decision).
    """
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    ReviewItem.left_id,
                    ReviewItem.right_id,
                    ReviewItem.decision,
                    ReviewItem.decided_by,
                    ReviewItem.decided_at,
                )
                .where(ReviewItem.decision.is_not(None))
                .order_by(ReviewItem.id)
            ).all()
    finally:
        engine.dispose()
    return pl.DataFrame(
        {
            "left_id": [r.left_id for r in rows],
            "right_id": [r.right_id for r in rows],
            "same_person": [_SAME_PERSON[r.decision] for r in rows],
            "decided_by": [r.decided_by for r in rows],
            "decided_at": [_aware(r.decided_at) for r in rows],
        },
        schema=LABEL_SCHEMA,
    )


def _aware(value: object) -> object:
    # SQLite hands back naive datetimes for timezone-aware columns; the store only ever writes UTC.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
