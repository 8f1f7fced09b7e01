"""Match review pages (``console/reviews``)."""

from __future__ import annotations

from tests.console.conftest import LiveServer
from tests.console.helpers import login


def test_review_page_masks_ids(live: LiveServer) -> None:
    officer = login(live, "dulieu")
    review = officer.get(f"{live.base_url}/reviews/1")
    assert review.status_code == 200
    assert "001300000105" not in review.text and "0013••••••05" in review.text
