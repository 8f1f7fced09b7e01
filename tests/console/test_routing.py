"""Routing of tasks and pairs (``corrections.routing``): ward, else the province of the address, hometown or ID."""

from __future__ import annotations

import pytest

from corrections.routing import NATIONAL, Destination, Router
from tests.console.factories import ward_provinces


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(ward_provinces())


def test_a_ward_decides_and_brings_its_province(router: Router) -> None:
    ward, province = next(iter(router.ward_provinces.items()))
    assert router.record({"permanent_address_ward_code": ward, "hometown_province_code": "79"}) == Destination(
        ward, province
    )
    assert router.record({"current_address_ward_code": ward}) == Destination(ward, province)


def test_without_a_ward_the_address_hometown_or_id_names_the_province(router: Router) -> None:
    assert (
        router.record({"permanent_address_province_code": "79", "hometown_province_code": "01"}).province_code == "79"
    )
    assert router.record({"hometown_province_code": "48"}) == Destination(None, "48")
    # ID prefix 002 = Hà Giang, merged into Tuyên Quang (08) in 2025; 079 = Hồ Chí Minh City.
    assert router.record({"person_id": "002190000123"}) == Destination(None, "08")
    assert router.record({"card_number": "079300000123"}) == Destination(None, "79")


@pytest.mark.parametrize(
    "row",
    [
        {},
        {"person_id": "12345"},
        {"person_id": "999190000123"},  # no such province prefix
        {"person_id": "００１１９００００１２３"},  # full-width digits are not an ID
        {"hometown_province_code": "99"},  # not a current province
    ],
)
def test_what_nothing_places_is_national(router: Router, row: dict[str, str]) -> None:
    assert router.record(row) == NATIONAL


def test_findings_and_pairs(router: Router) -> None:
    ward, province = next(iter(router.ward_provinces.items()))
    by_id = Destination(None, "79")
    assert router.finding(ward, by_id) == Destination(ward, province)
    assert router.finding(None, by_id) == by_id and router.finding(None, None) == NATIONAL
    assert router.finding("99998", by_id) == Destination("99998", "79")  # an unknown ward keeps the record's province
    assert router.first(by_id, Destination(ward, province)) == Destination(ward, province)
    assert router.first(None, by_id) == by_id and router.first(None, NATIONAL) == NATIONAL
