"""The 54 ethnic groups: spellings, words in front, local subgroups after, and what names no group."""

from __future__ import annotations

import pytest

from records.ethnicities import ETHNIC_GROUPS, canonical_ethnicity, ethnicity_group_key


@pytest.mark.parametrize(
    ("text", "group"),
    [
        ("Kinh", "Kinh"),
        ("KINH", "Kinh"),
        ("Kinh (Việt)", "Kinh"),
        ("Ê-đê", "Ê Đê"),
        ("H'mông", "Mông"),
        ("Người Kinh", "Kinh"),
        ("dân tộc Tày", "Tày"),
        ("DT Mường", "Mường"),
        ("Thái đen", "Thái"),
        ("Thái Trắng", "Thái"),
        ("Dao đỏ", "Dao"),
        ("Dao quần chẹt", "Dao"),
        ("Người Bru Vân Kiều", "Bru Vân Kiều"),
        ("H'Mông trắng", "Mông"),  # a subgroup after another spelling of the group
        ("Hmông xanh", "Mông"),
        ("Mông Hoa", "Mông"),  # the Flower Hmong: "Hoa" is a subgroup only after Mông ("Kinh Hoa" stays two groups)
    ],
)
def test_spellings_name_their_group(text: str, group: str) -> None:
    found = canonical_ethnicity(text)
    assert found is not None and found.name == group


@pytest.mark.parametrize(
    "text", ["Việt Nam", "Việt Kiều", "Hoa Kiều", "Người Việt", "Kinh Mường", "Kinh Hoa", "Khác", "Dân tộc", "Người"]
)
def test_what_names_no_group(text: str) -> None:
    assert canonical_ethnicity(text) is None


def test_a_subgroup_keys_as_its_group() -> None:
    assert ethnicity_group_key("Thái đen") == ethnicity_group_key("Thái") == "thai"
    assert ethnicity_group_key("Khác") == "khac"
    assert all(canonical_ethnicity(group.name) == group for group in ETHNIC_GROUPS)
