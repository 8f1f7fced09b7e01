"""Legacy encodings, tone placement, diacritics and the Windows-1258 file encoding."""

from __future__ import annotations

import unicodedata

import pytest

from datagen.names import name_pools
from datagen.text import (
    TCVN3_ENCODE,
    VNI_ENCODE,
    decode_legacy,
    encode_legacy,
    fold_name_text,
    strip_diacritics,
    to_cp1258_bytes,
    to_old_tone,
)


@pytest.mark.parametrize(
    ("text", "tcvn3", "vni"),
    [
        ("Trần Văn Đức", "TrÇn V¨n §øc", "Traàn Vaên Ñöùc"),
        ("Việt Nam", "ViÖt Nam", "Vieät Nam"),
        ("Hà Nội", "Hµ Néi", "Haø Noäi"),
        ("Nguyễn Thị Hương", "NguyÔn ThÞ H\u00ad¬ng", "Nguyeãn Thò Höông"),
    ],
)
def test_known_pairs(text: str, tcvn3: str, vni: str) -> None:
    assert encode_legacy(text, "tcvn3") == tcvn3
    assert encode_legacy(text, "vni") == vni
    assert decode_legacy(tcvn3, "tcvn3") == text
    assert decode_legacy(vni, "vni") == text


def test_tables_are_invertible() -> None:
    for letter, code in VNI_ENCODE.items():
        assert decode_legacy(code, "vni") == letter
    lower = {letter: code for letter, code in TCVN3_ENCODE.items() if letter == letter.lower()}
    assert len(set(lower.values())) == len(lower) == 67
    for letter, code in lower.items():
        assert decode_legacy(code, "tcvn3") == letter
    # VN3 has no upper-case toned letters: they take the lower-case code, as the .VnTimeH fonts did.
    assert encode_legacy("TRẦN", "tcvn3") == "TRÇN"
    assert decode_legacy(encode_legacy("ĐẶNG", "tcvn3"), "tcvn3") == "ĐặNG"


def test_legacy_characters_survive_windows_1252() -> None:
    for code in (*TCVN3_ENCODE.values(), *VNI_ENCODE.values()):
        code.encode("cp1252")


def test_tone_placement() -> None:
    assert to_old_tone("Nguyễn Thúy Hòa") == "Nguyễn Thuý Hoà"
    assert to_old_tone("Khỏe Quý Hoàng Thủy") == "Khoẻ Quý Hoàng Thuỷ"
    assert fold_name_text("Hoạ Mi") == "Họa Mi"
    assert fold_name_text("Ðức Quý") == "Đức Quý"


def test_name_lists_are_folded() -> None:
    pools = name_pools(False)
    for array in (*pools.one_word, *pools.two_word):
        for name in array:
            assert "\u00d0" not in name
            assert fold_name_text(name) == name
            assert unicodedata.is_normalized("NFC", name)


def test_strip_diacritics() -> None:
    assert strip_diacritics("Đặng Thị Ánh Tuyết") == "Dang Thi Anh Tuyet"


def test_cp1258_round_trip() -> None:
    text = "Nguyễn Thị Ánh, Xã Vạn Phúc, Huyện Thanh Trì, Thành phố Hà Nội"
    data = to_cp1258_bytes(text)
    assert unicodedata.normalize("NFC", data.decode("cp1258")) == text


def test_utf8_read_as_windows_1252() -> None:
    """A re-saved file's text: each UTF-8 byte read as Windows-1252, the five unassigned ones as C1 controls."""
    assert encode_legacy("Nguyễn", "utf8_as_cp1252") == "Nguyá»…n"
    assert encode_legacy("Đức", "utf8_as_cp1252") == "Ä\u0090á»©c"
    for text in ("Trần Văn Đức", "H'Hen Niê", "Số 12 ngõ 34, Hà Nội"):
        assert decode_legacy(encode_legacy(text, "utf8_as_cp1252"), "utf8_as_cp1252") == text
