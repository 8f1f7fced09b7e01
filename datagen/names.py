"""Names: who is called what, by ethnic group and naming convention, and the ways one name gets written.

Kinh names draw family names with their population shares, middle names by sex and era and given names from the
vietnamese-namedb lists (MIT, ``data/vietnamese-namedb``): one-word names, two-word names, and compounds built from
the lists' first syllables (the long tail of rare names a real base holds: tens of thousands of spellings). Minority
groups follow their own conventions (``CONVENTIONS``): Tày/Nùng, Mường, Dao, Chăm and Hoa are written like Kinh names
with their own family names; Thái (Lò Văn Pọm) and H'Mông (Giàng A Pao: clan, A for men and Thị/Mí/Mỷ for women, a
short given name many people of a commune share) too; Ê Đê, Gia Rai and M'Nông put Y (men) or H' (women) before
the given name and the clan last (Y Blông Niê, H'Hen Niê; children take the mother's clan); Khmer names often have
no middle name and a multi-syllable given name (Thạch Sa Ri), and in An Giang start with Chau (men) / Néang (women).

:func:`render_name` writes a true name the way another officer would: H'/H’/H /glued Hhen, Y-Blông, Ê Ban/Êban/
Eban, the clan first, Sa Ri/Sari.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from datagen.text import fold_name_text

__all__ = [
    "CONVENTIONS",
    "ETHNIC_CONVENTION",
    "NAMEDB_DIR",
    "Convention",
    "NamePools",
    "compose_names",
    "convention_of",
    "draw_families",
    "draw_given",
    "name_pools",
    "render_name",
]

NAMEDB_DIR: Final = Path(__file__).resolve().parent.parent / "data" / "vietnamese-namedb"

# Shares in percent. The big ones are the commonly quoted national figures; Hoàng/Huỳnh and Vũ/Võ are the same
# names spelled the northern and southern way, so the split depends on the province's region.
_FAMILY_MAJOR: Final = (
    ("Nguyễn", 38.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.1), ("Phan", 4.5),
    ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5),
)  # fmt: skip
_FAMILY_REGIONAL: Final = (("Hoàng", "Huỳnh", 5.1), ("Vũ", "Võ", 3.9))
_FAMILY_MINOR: Final = (
    "Đinh", "Trịnh", "Đoàn", "Lâm", "Mai", "Trương", "Đào", "Cao", "Lương", "Hà", "Tạ", "Vương", "Lưu", "Kiều",
    "Quách", "Chu", "Tô", "Triệu", "Thái", "Phùng", "La", "Lã", "Khuất", "Nghiêm", "Tăng", "Châu", "Thân", "Từ",
    "Mạc", "Âu", "Đàm", "Khổng", "Giang", "Tống", "Hứa", "Nông", "Doãn", "Ninh", "Lục", "Hàn", "Bạch", "Tôn",
    "Phí", "Diệp", "Lại", "Đồng", "Quan", "Ông", "Kim", "Viên", "Hầu", "Lò", "Vi", "Mẫn", "Nghị", "Văn",
)  # fmt: skip

_MIDDLE_MALE: Final = (
    ("Văn", 40.0), ("Đức", 8.0), ("Minh", 8.0), ("Hữu", 6.0), ("Quang", 6.0), ("Đình", 5.0), ("Công", 4.0),
    ("Xuân", 3.0), ("Thanh", 3.0), ("Quốc", 3.0), ("Ngọc", 2.0), ("Mạnh", 2.0), ("Trọng", 2.0), ("Tiến", 2.0),
    ("Duy", 2.0), ("Hoàng", 2.0), ("Thế", 2.0), ("Bá", 1.5), ("Anh", 1.0), ("Gia", 1.0), ("Tuấn", 1.0),
)  # fmt: skip
_MIDDLE_FEMALE: Final = (
    ("Thị", 55.0), ("Ngọc", 6.0), ("Thu", 5.0), ("Thanh", 5.0), ("Hồng", 4.0), ("Kim", 3.0), ("Minh", 3.0),
    ("Phương", 2.0), ("Mai", 2.0), ("Bích", 2.0), ("Thúy", 2.0), ("Diệu", 1.0), ("Hải", 1.0), ("Khánh", 1.0),
    ("Lan", 1.0), ("Hoài", 1.0), ("Bảo", 1.0), ("Quỳnh", 1.0), ("Tuyết", 1.0),
)  # fmt: skip
# Given names that are far more common than the rest of the list (the lists carry no frequencies).
_POPULAR: Final = frozenset(
    (
        "Anh", "Hùng", "Dũng", "Tuấn", "Minh", "Hải", "Nam", "Long", "Quang", "Sơn", "Thắng", "Trung", "Hiếu",
        "Cường", "Đức", "Hưng", "Khánh", "Tùng", "Thành", "Bình", "Phong", "Tú", "Hoàng", "Việt", "Hòa", "Lâm",
        "Vinh", "Duy", "Kiên", "Trường", "Toàn", "Tâm", "Huy", "Thanh", "Hà", "Lan", "Hương", "Linh", "Trang",
        "Hoa", "Mai", "Thảo", "Ngọc", "Huyền", "Phương", "Thủy", "Nga", "Hằng", "Yến", "Dung", "Hạnh", "Hiền",
        "Loan", "Nhung", "Oanh", "Nhàn", "Vân", "Liên", "Thu", "Tuyết", "Giang", "Chi", "Ly", "Vy", "Nhi",
    )
)  # fmt: skip
_POPULAR_WEIGHT: Final = 25.0
# Final i/y is spelled both ways in given names (Vy/Vi, Ly/Li, Thy/Thi, Mỹ/Mĩ): each spelling is a real, distinct
# name on some citizen's birth certificate.
_Y_TO_I: Final = str.maketrans({"y": "i", "ý": "í", "ỳ": "ì", "ỷ": "ỉ", "ỹ": "ĩ", "ỵ": "ị"})

# --- Minority naming conventions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Convention:
    """How one group names people. ``layout``: family_first, clan_last (Y/H' + given + clan) or prefix_first
    (Chau/Néang + given). ``lineage``: children take the father's ("father") or the mother's ("mother") family."""

    name: str
    label: str
    layout: str
    lineage: str
    families: tuple[tuple[str, float], ...] = ()
    middle_male: tuple[tuple[str | None, float], ...] = ()
    middle_female: tuple[tuple[str | None, float], ...] = ()
    given_male: tuple[str, ...] = ()
    given_female: tuple[str, ...] = ()
    kinh_given_share: float = 1.0
    """Share of people of the group with a given name from the Kinh lists (the rest from the group's own)."""


_TAY_NUNG: Final = (
    ("Hoàng", 18), ("Nông", 15), ("Lục", 8), ("Bế", 6), ("Ma", 6), ("Hà", 6), ("Lương", 6), ("Triệu", 6),
    ("Vi", 5), ("Lành", 3), ("Đàm", 3), ("Lăng", 3), ("Hứa", 3), ("Sầm", 2), ("Mông", 2), ("Lý", 4), ("Nguyễn", 4),
)  # fmt: skip
_MUONG: Final = (
    ("Bùi", 30), ("Đinh", 25), ("Quách", 10), ("Hà", 10), ("Xa", 5), ("Cao", 5), ("Phạm", 5), ("Nguyễn", 5),
)  # fmt: skip
_DAO: Final = (("Bàn", 25), ("Triệu", 25), ("Lý", 12), ("Đặng", 12), ("Phùng", 6), ("Chảo", 6), ("Tẩn", 5), ("Chìu", 3))
_HOA: Final = (
    ("Lâm", 10), ("Trần", 10), ("Lý", 8), ("Quách", 6), ("Hứa", 6), ("Mạc", 5), ("Châu", 6), ("Tăng", 5),
    ("Lưu", 6), ("Diệp", 5), ("Hồng", 3), ("Thái", 4), ("Dương", 5), ("Tạ", 4), ("Mã", 4), ("La", 4),
    ("Trương", 5), ("Lương", 4), ("Giang", 3), ("Quan", 3), ("Vương", 4), ("Hà", 3),
)  # fmt: skip
_CHAM: Final = (("Thành", 15), ("Đàng", 15), ("Lưu", 8), ("Thiên", 8), ("Hán", 8), ("Quảng", 8), ("Từ", 5),
                ("Châu", 5), ("Bá", 5), ("Kiều", 4), ("Nguyễn", 5), ("Trượng", 3))  # fmt: skip
_THAI: Final = (
    ("Lò", 20), ("Lường", 12), ("Cầm", 12), ("Quàng", 10), ("Vi", 8), ("Lù", 6), ("Tòng", 6), ("Hoàng", 6),
    ("Bạc", 4), ("Khằm", 3), ("Mè", 3), ("Lèo", 3), ("Điêu", 3), ("Hà", 6),
)  # fmt: skip
_THAI_MALE: Final = (
    "Pọm", "Ún", "Biên", "Phanh", "Hom", "Xiêng", "Thoạt", "Khoa", "Phong", "Ín", "Lả", "Đôi", "Nọi", "Thẳm", "Ẻn",
    "Tiên", "Hặc", "Bun", "Khương", "Chơi", "Pâng", "Ương", "Panh", "Cương", "Thiết", "Hướng", "Xôm", "Khăm",
)  # fmt: skip
_THAI_FEMALE: Final = (
    "Ban", "Ỏn", "Ánh", "Hương", "Bua", "Xiên", "Ín", "Ón", "Lả", "Kiên", "Thiêm", "Thoa", "Nhất", "Pánh", "Hơn",
    "Lún", "Nghiêng", "Thiều", "Ỉn", "Ợi", "Xương", "Khiêng", "Phiên", "Pảng",
)  # fmt: skip
_HMONG: Final = (
    ("Giàng", 15), ("Vàng", 12), ("Sùng", 12), ("Thào", 12), ("Lý", 8), ("Hờ", 6), ("Lầu", 6), ("Vừ", 6),
    ("Mùa", 5), ("Hạng", 4), ("Tráng", 3), ("Ly", 3), ("Chá", 2), ("Cứ", 2), ("Hầu", 2), ("Phàng", 2),
)  # fmt: skip
# Few and short: many H'Mông men of one commune are called Giàng A Pao.
_HMONG_MALE: Final = (
    "Pao", "Chứ", "Dế", "Sính", "Páo", "Chinh", "Lử", "Su", "Mang", "Dình", "Cở", "Tủa", "Nủ", "Súa", "Chồng",
    "Phừ", "Vư", "Sểnh", "Lềnh", "Pó", "Chả", "Seo", "Sử", "Lồng", "Khua", "Tếnh", "Kỷ", "Sấu", "Xoa", "Mua",
)  # fmt: skip
_HMONG_FEMALE: Final = (
    "Mai", "Dua", "Sua", "Pà", "Dợ", "Chứ", "Dế", "Ly", "Sú", "Kía", "Say", "Di", "Chía", "Xua", "Mang", "Pa",
    "Lia", "Chua", "Xí", "Dính", "Của", "Sinh", "Vá", "Sông", "Máy", "Nhìa", "Cáy",
)  # fmt: skip
_EDE_CLANS: Final = (
    ("Niê", 25), ("Êban", 12), ("Mlô", 10), ("Ayun", 5), ("Adrơng", 5), ("Byă", 5), ("Kbuôr", 4), ("Hđơk", 4),
    ("Knul", 4), ("Êya", 3), ("Ênuôl", 3), ("Bkrông", 3), ("Niê Kdăm", 4), ("Buôn Yă", 3), ("Ktla", 2),
    ("Hwing", 2), ("Mlô Duôn Du", 1),
)  # fmt: skip
_JRAI_CLANS: Final = (
    ("Ksor", 25), ("Rơ Mah", 20), ("Siu", 18), ("Kpă", 12), ("Nay", 10), ("Rơ Châm", 8), ("Puih", 6),
    ("Rah Lan", 5), ("Kpuih", 4), ("Rơ Lan", 3),
)  # fmt: skip
_MNONG_CLANS: Final = (("Nrông", 15), ("Bon", 12), ("Liêng", 12), ("Krông", 8), ("Jơ Dăk", 5), ("Niê", 6), ("Êban", 4))
_EDE_MALE: Final = (
    "Blông", "Ngông", "Thông", "Dhăm", "Kông", "Mưu", "Nuôl", "Hwen", "Jú", "Bhiêr", "Dơk", "Klăn", "Tlang",
    "Knơng", "Wai", "Sinh", "Bim", "Kô", "Hrin", "Bliêt", "Jang", "Thuột", "Mar", "Luân", "Djhang", "Phước",
    "Nham", "Blút", "Ket", "Krông", "Mlin", "Brơm", "Drang", "Khuin",
)  # fmt: skip
_EDE_FEMALE: Final = (
    "Hen", "Nga", "Bia", "Lin", "Nuel", "Ben", "Mai", "Hoa", "Juk", "Dim", "Ngơn", "Djuê", "Kim", "Bhuôn", "Bla",
    "Ruah", "Lan", "Xuân", "Điu", "Muôn", "Jen", "Kluân", "Khuê", "Blơm", "Nhi", "Ngel", "Drao", "Linh", "Mơ",
)  # fmt: skip
_KHMER: Final = (
    ("Thạch", 20), ("Sơn", 18), ("Kim", 12), ("Danh", 10), ("Lâm", 8), ("Lý", 6), ("Trà", 4), ("Dương", 4),
    ("Châu", 4), ("Huỳnh", 3), ("Kiên", 3), ("Tăng", 2),
)  # fmt: skip
_KHMER_MALE: Final = (
    "Sa Rát", "Sóc Khonl", "Sa Phon", "Pha Rốt", "Chanh Đa", "Ty", "Pho", "Da Ra", "Mon", "Sô Phon", "Sà Rênh",
    "Hên", "Rươl", "Kim Sa", "Sa Ren", "Som Bath", "Sóc Phon", "Xa Ly", "Sóc Kha", "Chanh Thol", "Sơn Na",
    "Pu Thi", "Bô Ra", "Kha Ri", "Thol", "Vi Sal", "Ky", "Phonl", "Sa Mol", "Ni Ra", "So Khem", "Chan Thu",
)  # fmt: skip
_KHMER_FEMALE: Final = (
    "Sa Ri", "Ry Na", "Sô Phia", "Pha Ni", "Sa Ra", "Srey Mom", "Chan Ny", "Sa Vênh", "Sóc Pha", "Da Ny",
    "Thi Da", "Sa Kha", "Kim Sên", "Mây", "Pha Ly", "Sa Rươl", "Nê Ry", "Ma Ly", "Sô Kha", "Chanh Thy",
    "Sa Rinh", "Mô Ni", "Ran Đa", "Sa Phia", "Ka Ny",
)  # fmt: skip
_DAO_GIVEN: Final = ("Chàn", "Kiềm", "Mẩy", "Sành", "Quẩy", "Tòn", "Xoan", "Phin", "Ón", "Làu", "Chiêu", "Nải")
_AM: Final = ((None, 1.0),)


def _p(pairs: tuple[tuple[str, int], ...]) -> tuple[tuple[str, float], ...]:
    return tuple((name, float(weight)) for name, weight in pairs)


CONVENTIONS: Final[dict[str, Convention]] = {
    c.name: c
    for c in (
        Convention("kinh", "Kinh", "family_first", "father"),
        Convention("tay_nung", "Tày, Nùng, Sán Chay…", "family_first", "father", _p(_TAY_NUNG)),
        Convention("muong", "Mường", "family_first", "father", _p(_MUONG)),
        Convention("dao", "Dao", "family_first", "father", _p(_DAO), given_male=_DAO_GIVEN,
                   given_female=_DAO_GIVEN, kinh_given_share=0.6),
        Convention("hoa", "Hoa", "family_first", "father", _p(_HOA),
                   middle_male=(("Quốc", 3), ("Chí", 3), ("Gia", 2), ("Vĩnh", 2), ("Kiến", 1), ("Văn", 4),
                                ("Minh", 2), ("Thiệu", 1)),
                   middle_female=(("Mỹ", 3), ("Huệ", 2), ("Ngọc", 3), ("Tú", 2), ("Bội", 1), ("Thị", 4),
                                  ("Tuệ", 1), ("Khánh", 1))),
        Convention("cham", "Chăm", "family_first", "father", _p(_CHAM)),
        Convention("thai", "Thái", "family_first", "father", _p(_THAI), (("Văn", 9), (None, 1)),
                   (("Thị", 9), (None, 1)), _THAI_MALE, _THAI_FEMALE, kinh_given_share=0.4),
        Convention("hmong", "H'Mông", "family_first", "father", _p(_HMONG), (("A", 8), ("Seo", 1), ("Văn", 1)),
                   (("Thị", 5), ("Mí", 3), ("Mỷ", 2)), _HMONG_MALE, _HMONG_FEMALE, kinh_given_share=0.05),
        Convention("ede", "Ê Đê, Gia Rai, M'Nông", "clan_last", "mother", _p(_EDE_CLANS), _AM, _AM, _EDE_MALE,
                   _EDE_FEMALE, kinh_given_share=0.1),
        Convention("khmer", "Khmer", "family_first", "father", _p(_KHMER), ((None, 8), ("Văn", 2)),
                   ((None, 6), ("Thị", 4)), _KHMER_MALE, _KHMER_FEMALE, kinh_given_share=0.1),
        Convention("khmer_prefix", "Khmer (Chau/Néang)", "prefix_first", "none", (), _AM, _AM, _KHMER_MALE,
                   _KHMER_FEMALE, kinh_given_share=0.05),
        Convention("other", "Dân tộc khác", "family_first", "father"),
    )
}  # fmt: skip
"""Naming conventions by name; ``label`` is how the benchmark prints them."""

ETHNIC_CONVENTION: Final[dict[str, str]] = {
    "Kinh": "kinh", "Tày": "tay_nung", "Nùng": "tay_nung", "Sán Chay": "tay_nung", "Sán Dìu": "tay_nung",
    "Giáy": "tay_nung", "Bố Y": "tay_nung", "Thái": "thai", "Lào": "thai", "Lự": "thai", "Khơ Mú": "thai",
    "Kháng": "thai", "Xinh Mun": "thai", "Mường": "muong", "Thổ": "muong", "Chứt": "muong", "Mông": "hmong",
    "Dao": "dao", "Pà Thẻn": "dao", "Hoa": "hoa", "Ngái": "hoa", "Khmer": "khmer", "Ê Đê": "ede", "Gia Rai": "ede",
    "Mnông": "ede", "Chăm": "cham",
}  # fmt: skip
"""The convention of each ethnic group (``records.ethnicities`` names); groups not listed: ``other``."""

_CLANS_BY_GROUP: Final = {"Gia Rai": _p(_JRAI_CLANS), "Mnông": _p(_MNONG_CLANS)}
# Where Khmer names start with Chau/Néang instead of a family name (An Giang: Tri Tôn, Tịnh Biên).
_CHAU_NEANG_PROVINCES: Final = frozenset({"89"})
_CHAU_NEANG_SHARE: Final = 0.6


def convention_of(ethnicity: np.ndarray, legacy_province: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """The naming convention of each person of ``ethnicity`` living in ``legacy_province`` (``draw`` in [0, 1))."""
    convention = (
        pl.Series(ethnicity.tolist(), dtype=pl.String)
        .replace_strict(ETHNIC_CONVENTION, default="other", return_dtype=pl.String)
        .to_numpy()
        .astype(object)
    )
    provinces = pl.Series(legacy_province.tolist(), dtype=pl.String)
    chau_neang = provinces.is_in(list(_CHAU_NEANG_PROVINCES)).to_numpy() & (draw < _CHAU_NEANG_SHARE)
    return np.where((convention == "khmer") & chau_neang, "khmer_prefix", convention)


def _read_list(name: str) -> list[str]:
    lines = (NAMEDB_DIR / name).read_text(encoding="utf-8").splitlines()
    seen: dict[str, None] = {}
    for line in lines:
        folded = fold_name_text(line)
        if folded:
            seen.setdefault(folded, None)
    return list(seen)


def _weights(values: list[str], tail: float = 1.0) -> np.ndarray:
    weights = np.array([_POPULAR_WEIGHT if v.split()[-1] in _POPULAR else tail for v in values])
    return weights / weights.sum()


def _compounds(two_word: list[str], one_word: list[str], existing: set[str], limit: int) -> list[str]:
    """Rare compound given names: a first syllable used in the two-word list with a one-word name ("Bảo" + "Hân").

    Deterministic (sorted products, no randomness), so the pool does not depend on the seed.
    """
    firsts = sorted({name.split()[0] for name in two_word})
    out: list[str] = []
    for second in sorted(one_word):
        for first in firsts:
            if first == second:
                continue
            candidate = f"{first} {second}"
            if candidate not in existing:
                out.append(candidate)
    # Spread over the whole product, not the first letters of the alphabet only.
    step = max(1, len(out) // limit)
    return out[::step][:limit]


@dataclass(frozen=True)
class NamePools:
    """Arrays of candidate strings with matching probability vectors (each sums to 1)."""

    family: np.ndarray
    family_p: np.ndarray
    middle: tuple[np.ndarray, np.ndarray]  # by sex: 0 male, 1 female
    middle_p: tuple[np.ndarray, np.ndarray]
    one_word: tuple[np.ndarray, np.ndarray]
    one_word_p: tuple[np.ndarray, np.ndarray]
    two_word: tuple[np.ndarray, np.ndarray]
    two_word_p: tuple[np.ndarray, np.ndarray]
    rare: tuple[np.ndarray, np.ndarray]
    """Compound given names of the long tail, drawn uniformly."""


@cache
def name_pools(southern: bool) -> NamePools:
    family = [name for name, _ in _FAMILY_MAJOR]
    shares = [share for _, share in _FAMILY_MAJOR]
    for north, south, share in _FAMILY_REGIONAL:
        north_share = 0.85 if not southern else 0.2
        family += [north, south]
        shares += [share * north_share, share * (1 - north_share)]
    rest = 100.0 - sum(shares)
    # The tail decays so that "Đinh" is common and "Nghị" rare, as in real registers.
    tail = np.array([1.0 / (rank + 3) for rank in range(len(_FAMILY_MINOR))])
    family += list(_FAMILY_MINOR)
    shares += list(tail / tail.sum() * rest)
    family_p = np.array(shares) / sum(shares)

    def pool(pairs: tuple[tuple[str, float], ...]) -> tuple[np.ndarray, np.ndarray]:
        weights = np.array([w for _, w in pairs])
        return np.array([n for n, _ in pairs], dtype=object), weights / weights.sum()

    male_mid, male_mid_p = pool(_MIDDLE_MALE)
    female_mid, female_mid_p = pool(_MIDDLE_FEMALE)
    boy1, girl1 = _read_list("boy_one_word.txt"), _read_list("girl_one_word.txt")
    boy2 = [n for n in _read_list("boy.txt") if len(n.split()) == 2]
    girl2 = [n for n in _read_list("girl.txt") if len(n.split()) == 2]
    # Each spelling of a final i/y is a name of its own (Vy and Vi): add the other spelling of a share of them.
    boy1 += [n.translate(_Y_TO_I) for n in boy1[::3] if n.translate(_Y_TO_I) not in boy1]
    girl1 += [n.translate(_Y_TO_I) for n in girl1[::2] if n.translate(_Y_TO_I) not in girl1]
    boy_rare = _compounds(boy2, boy1, set(boy2), 40_000)
    girl_rare = _compounds(girl2, girl1, set(girl2), 40_000)
    return NamePools(
        family=np.array(family, dtype=object),
        family_p=family_p,
        middle=(male_mid, female_mid),
        middle_p=(male_mid_p, female_mid_p),
        one_word=(np.array(boy1, dtype=object), np.array(girl1, dtype=object)),
        one_word_p=(_weights(boy1), _weights(girl1)),
        two_word=(np.array(boy2, dtype=object), np.array(girl2, dtype=object)),
        two_word_p=(_weights(boy2), _weights(girl2)),
        rare=(np.array(boy_rare, dtype=object), np.array(girl_rare, dtype=object)),
    )


@cache
def _group_pool(values: tuple[tuple[str | None, float], ...]) -> tuple[np.ndarray, np.ndarray]:
    weights = np.array([w for _, w in values], dtype=np.float64)
    return np.array([v for v, _ in values], dtype=object), weights / weights.sum()


def draw_families(
    rng: np.random.Generator, conventions: np.ndarray, ethnicity: np.ndarray, pools: NamePools
) -> np.ndarray:
    """A family name (clan) per person from the pool of their convention (Kinh shares for Kinh-like groups)."""
    n = conventions.size
    family = rng.choice(pools.family, size=n, p=pools.family_p)
    for name, convention in CONVENTIONS.items():
        rows = np.flatnonzero(conventions == name)
        if rows.size == 0 or not convention.families:
            continue
        values, p = _group_pool(convention.families)
        family[rows] = rng.choice(values, size=rows.size, p=p)
        if name == "ede":
            for group, clans in _CLANS_BY_GROUP.items():
                sub = rows[ethnicity[rows] == group]
                if sub.size:
                    clan_values, clan_p = _group_pool(clans)
                    family[sub] = rng.choice(clan_values, size=sub.size, p=clan_p)
    family[conventions == "khmer_prefix"] = None
    return family


def draw_given(
    rng: np.random.Generator, pools: NamePools, conventions: np.ndarray, sex: np.ndarray, birth_year: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Middle and given names. Kinh styles: middle + one-word given; a two-word list entry; middle + two-word
    entry (four-word names); no middle; a rare compound. Văn/Thị are commoner in older generations. Other groups
    take their own middle names and (for a share of people) their own given names."""
    n = sex.size
    middle = np.empty(n, dtype=object)
    given = np.empty(n, dtype=object)
    style = rng.choice(5, size=n, p=[0.47, 0.30, 0.09, 0.05, 0.09])
    # Only groups with their own middle or given names need a second pass.
    present = [
        name
        for name in pl.Series(conventions.tolist(), dtype=pl.String).unique().sort().to_list()
        if CONVENTIONS[name].middle_male or CONVENTIONS[name].given_male
    ]
    for s in (0, 1):
        rows = sex == s
        k = int(rows.sum())
        mid = rng.choice(pools.middle[s], size=k, p=pools.middle_p[s])
        classic = "Văn" if s == 0 else "Thị"
        old = birth_year[rows] < 1975
        mid = np.where(old & (rng.random(k) < 0.5), classic, mid)
        one = rng.choice(pools.one_word[s], size=k, p=pools.one_word_p[s])
        two = rng.choice(pools.two_word[s], size=k, p=pools.two_word_p[s])
        rare = pools.rare[s][rng.integers(0, pools.rare[s].size, k)]
        st = style[rows]
        middle[rows] = np.where(np.isin(st, [0, 2, 4]), mid, np.full(k, None, dtype=object))
        given[rows] = np.where((st == 0) | (st == 3), one, np.where(st == 4, rare, two))
        for name in present:
            convention = CONVENTIONS[name]
            group = np.flatnonzero(rows & (conventions == name))
            if group.size == 0:
                continue
            middles = convention.middle_male if s == 0 else convention.middle_female
            if middles:
                values, p = _group_pool(middles)
                middle[group] = rng.choice(values, size=group.size, p=p)
            own = convention.given_male if s == 0 else convention.given_female
            if own:
                own_rows = group[rng.random(group.size) >= convention.kinh_given_share]
                given[own_rows] = np.array(own, dtype=object)[rng.integers(0, len(own), own_rows.size)]
                if convention.layout != "family_first" or name in ("thai", "hmong", "khmer"):
                    # One given name of the Kinh lists at most: "Blông", not "Y Minh Anh Niê".
                    kinh_rows = np.setdiff1d(group, own_rows)
                    given[kinh_rows] = rng.choice(pools.one_word[s], size=kinh_rows.size, p=pools.one_word_p[s])
    return middle, given


def compose_names(
    conventions: np.ndarray, family: np.ndarray, middle: np.ndarray, given: np.ndarray, sex: np.ndarray
) -> np.ndarray:
    """The canonical full name of each person in their convention's order (Y Blông Niê, H'Hen Niê, Néang Sa Ri)."""
    layouts = {name: c.layout for name, c in CONVENTIONS.items()}
    frame = pl.DataFrame(
        {
            "layout": pl.Series([layouts[c] for c in conventions.tolist()], dtype=pl.String),
            "family": pl.Series(family.tolist(), dtype=pl.String),
            "middle": pl.Series(middle.tolist(), dtype=pl.String),
            "given": pl.Series(given.tolist(), dtype=pl.String),
            "female": pl.Series(np.asarray(sex) == 1),
        }
    )
    layout, female, name = pl.col("layout"), pl.col("female"), pl.col("given")
    family_first = pl.concat_str(["family", "middle", "given"], separator=" ", ignore_nulls=True)
    clan_head = pl.when(female).then(pl.lit("H'") + name).otherwise(pl.lit("Y ") + name)
    clan_last = pl.concat_str([clan_head, pl.col("family")], separator=" ", ignore_nulls=True)
    prefix_first = pl.when(female).then(pl.lit("Néang ") + name).otherwise(pl.lit("Chau ") + name)
    names = frame.select(
        pl.when(layout == "clan_last").then(clan_last).when(layout == "prefix_first").then(prefix_first)
        .otherwise(family_first).alias("n")
    )["n"]  # fmt: skip
    return names.to_numpy().astype(object)


# --- Renderings of one true name ------------------------------------------------------------------------------------

_CLAN_SPELLINGS: Final = {
    "Êban": ("Ê Ban", "Eban", "Êban"), "Êya": ("Ê Ya", "Êya"), "Ênuôl": ("Ê Nuôl", "Enuol", "Ênuôl"),
    "Niê": ("Nie", "Niê"), "Mlô": ("Mlo", "Mlô"), "Byă": ("Bya", "Byă"), "Hđơk": ("Hdơk", "Hđơk"),
    "Niê Kdăm": ("Niê Kđăm", "Niêkdăm", "Niê Kdăm"), "Rơ Mah": ("R'Mah", "Rơmah", "Rơ Mah"),
    "Rơ Châm": ("R'Châm", "Rơ Châm"), "Kpă": ("Kpa", "Kpă"),
}  # fmt: skip


def render_name(name: str, convention: str, rng: np.random.Generator) -> tuple[str, str]:
    """One other way of writing ``name`` (a canonical name of ``convention``) and what was changed.

    Returns ``(name, "")`` when the convention has no other common spelling of this name.
    """
    if convention == "ede":
        words = name.split(" ")
        head, clan_words = words[0], words[1:]
        prefix = "H'" if head.startswith("H'") else "Y"
        given = head[2:] if prefix == "H'" else words[1]
        if prefix == "Y":
            clan_words = words[2:]
        clan = " ".join(clan_words)
        kind = str(rng.choice(["prefix", "clan_spelling", "clan_first", "prefix", "clan_first"]))
        if kind == "clan_spelling" and clan in _CLAN_SPELLINGS:
            spelling = str(rng.choice(_CLAN_SPELLINGS[clan]))
            if spelling != clan:
                return " ".join([*words[: len(words) - len(clan_words)], spelling]), "clan_spelling"
            kind = "prefix"
        if kind == "clan_first" and clan:
            return f"{clan} {' '.join(words[: len(words) - len(clan_words)])}", "clan_first"
        if prefix == "H'":
            options = ["H’", "H ", "H‘"]
            if given[:1].lower() in "bcdđghklmnpqrstvx":
                options += ["H", "H"]  # glued: "Hhen", "Hnga"
            new_prefix = str(rng.choice(options))
            head = new_prefix + (given.lower() if new_prefix == "H" else given)
            return " ".join(p for p in (head, clan) if p), "prefix"
        return " ".join(p for p in (f"Y-{given}", clan) if p), "prefix"
    if convention in ("khmer", "khmer_prefix"):
        words = name.split(" ")
        # The given name is the last two syllables when they come from a multi-syllable name: glue them.
        if len(words) >= 3:
            glued = words[-2] + words[-1].lower()
            return " ".join([*words[:-2], glued]), "khmer_glued"
        return name, ""
    if convention == "hmong":
        words = name.split(" ")
        if len(words) == 3 and words[1] in ("A", "Mí", "Mỷ"):
            return f"{words[0]} {words[2]}", "hmong_middle_dropped"
        return name, ""
    return name, ""
