"""Name pools: family names with their population shares, middle names by sex and era, given names from the
vietnamese-namedb lists (MIT, ``data/vietnamese-namedb``), folded to canonical text on reading."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

import numpy as np

from datagen.text import fold_name_text

__all__ = ["NAMEDB_DIR", "NamePools", "name_pools"]

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


def _read_list(name: str) -> list[str]:
    lines = (NAMEDB_DIR / name).read_text(encoding="utf-8").splitlines()
    seen: dict[str, None] = {}
    for line in lines:
        folded = fold_name_text(line)
        if folded:
            seen.setdefault(folded, None)
    return list(seen)


def _weights(values: list[str]) -> np.ndarray:
    weights = np.array([_POPULAR_WEIGHT if v.split()[-1] in _POPULAR else 1.0 for v in values])
    return weights / weights.sum()


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
    return NamePools(
        family=np.array(family, dtype=object),
        family_p=family_p,
        middle=(male_mid, female_mid),
        middle_p=(male_mid_p, female_mid_p),
        one_word=(np.array(boy1, dtype=object), np.array(girl1, dtype=object)),
        one_word_p=(_weights(boy1), _weights(girl1)),
        two_word=(np.array(boy2, dtype=object), np.array(girl2, dtype=object)),
        two_word_p=(_weights(boy2), _weights(girl2)),
    )
