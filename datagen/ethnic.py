"""Who lives where: the ethnic mix of each legacy province (approximate 2019 census shares, percent).

About 14% of Vietnam's citizens belong to ethnic minorities, but they are far from evenly spread: most of the
northern mountains, Tây Nguyên and the Khmer provinces of the Mekong delta are 30–90% minority, the Red River
delta under 2%. A household's group is drawn from the mix of the legacy province its residence belongs to, so a
generated merged province (Cần Thơ = Cần Thơ + Hậu Giang + Sóc Trăng) gets the mix of each of its parts. Groups not
listed share the rest of a province in proportion to their national shares; the Kinh share is what remains.
"""

from __future__ import annotations

from functools import cache
from typing import Final

import numpy as np
import polars as pl

from records.ethnicities import ETHNIC_GROUPS

__all__ = ["REGIONAL_MIX", "draw_ethnicities", "ethnic_mix"]

REGIONAL_MIX: Final[dict[str, dict[str, float]]] = {
    # Northern mountains
    "02": {"Mông": 33, "Tày": 23, "Dao": 15, "Nùng": 10, "Giáy": 2, "Lô Lô": 1},  # Hà Giang
    "04": {"Tày": 41, "Nùng": 32, "Mông": 11, "Dao": 10, "Sán Chay": 1},  # Cao Bằng
    "06": {"Tày": 52, "Dao": 17, "Nùng": 9, "Mông": 7},  # Bắc Kạn
    "08": {"Tày": 25, "Dao": 12, "Sán Chay": 8, "Mông": 2, "Nùng": 2},  # Tuyên Quang
    "10": {"Mông": 25, "Tày": 15, "Dao": 15, "Giáy": 4, "Nùng": 4, "Hà Nhì": 1},  # Lào Cai
    "11": {"Mông": 37, "Thái": 34, "Khơ Mú": 3, "Dao": 1},  # Điện Biên
    "12": {"Thái": 33, "Mông": 25, "Dao": 13, "Hà Nhì": 4, "Giáy": 1},  # Lai Châu
    "14": {"Thái": 53, "Mông": 17, "Mường": 8, "Dao": 2, "Khơ Mú": 1},  # Sơn La
    "15": {"Tày": 19, "Dao": 11, "Mông": 10, "Thái": 6, "Mường": 2},  # Yên Bái
    "17": {"Mường": 63, "Thái": 4, "Tày": 3, "Dao": 2, "Mông": 1},  # Hòa Bình
    "19": {"Tày": 11, "Nùng": 6, "Sán Dìu": 4, "Dao": 2, "Sán Chay": 2},  # Thái Nguyên
    "20": {"Nùng": 43, "Tày": 35, "Dao": 4, "Sán Chay": 1},  # Lạng Sơn
    "22": {"Dao": 4, "Tày": 3, "Sán Dìu": 2, "Hoa": 1},  # Quảng Ninh
    "24": {"Nùng": 5, "Tày": 3, "Sán Chay": 2, "Sán Dìu": 1, "Hoa": 1},  # Bắc Giang
    "25": {"Mường": 6, "Dao": 1},  # Phú Thọ
    "37": {"Mường": 2},  # Ninh Bình
    # North Central
    "38": {"Mường": 9, "Thái": 6},  # Thanh Hóa
    "40": {"Thái": 10, "Khơ Mú": 1, "Mông": 1},  # Nghệ An
    # Tây Nguyên
    "62": {"Xơ Đăng": 24, "Ba Na": 12, "Giẻ Triêng": 6, "Brâu": 1},  # Kon Tum
    "64": {"Gia Rai": 30, "Ba Na": 13, "Tày": 1, "Nùng": 1},  # Gia Lai
    "66": {"Ê Đê": 18, "Nùng": 4, "Tày": 3, "Mnông": 2, "Mông": 1.5, "Thái": 1, "Gia Rai": 1},  # Đắk Lắk
    "67": {"Mnông": 10, "Nùng": 6, "Mông": 6, "Tày": 5, "Ê Đê": 1, "Dao": 2},  # Đắk Nông
    "68": {"Cơ Ho": 13, "Mạ": 3, "Chu Ru": 2, "Nùng": 2, "Tày": 1.5},  # Lâm Đồng
    # South Central and the South East
    "58": {"Chăm": 12, "Ra Glai": 11},  # Ninh Thuận
    "60": {"Chăm": 3, "Ra Glai": 1, "Hoa": 1},  # Bình Thuận
    "70": {"Xtiêng": 9, "Mnông": 1, "Khmer": 2, "Tày": 1, "Nùng": 2},  # Bình Phước
    "79": {"Hoa": 5, "Khmer": 0.5},  # Hồ Chí Minh
    "75": {"Hoa": 3, "Chơ Ro": 0.6, "Nùng": 1},  # Đồng Nai
    # Mekong delta
    "84": {"Khmer": 32, "Hoa": 1},  # Trà Vinh
    "94": {"Khmer": 30, "Hoa": 6},  # Sóc Trăng
    "91": {"Khmer": 12, "Hoa": 2},  # Kiên Giang
    "89": {"Khmer": 4.5, "Hoa": 0.7, "Chăm": 0.6},  # An Giang
    "95": {"Khmer": 8, "Hoa": 3},  # Bạc Liêu
    "96": {"Khmer": 1.5, "Hoa": 1},  # Cà Mau
    "93": {"Khmer": 2, "Hoa": 1},  # Hậu Giang
    "92": {"Khmer": 2, "Hoa": 1},  # Cần Thơ
}
"""Minority shares (percent) per legacy province code; Kinh takes the rest."""

_ELSEWHERE: Final = 0.3
"""Percent of a province not listed above belonging to some minority (spread by national shares)."""


@cache
def ethnic_mix(legacy_province: str) -> tuple[tuple[str, ...], np.ndarray]:
    """(group names, probabilities) of the people of one legacy province."""
    listed = REGIONAL_MIX.get(legacy_province, {})
    minority_total = sum(listed.values()) if listed else _ELSEWHERE
    others = [g for g in ETHNIC_GROUPS if g.name != "Kinh" and g.name not in listed]
    other_total = sum(g.share for g in others)
    # Unlisted groups get a small remainder (a tenth of the listed ones' total, at least 0.1%).
    remainder = max(minority_total * 0.1, 0.1) if listed else minority_total
    names = ["Kinh", *listed, *(g.name for g in others)]
    shares = [max(100.0 - minority_total - remainder, 0.0), *listed.values()]
    shares += [remainder * g.share / other_total for g in others]
    weights = np.asarray(shares, dtype=np.float64)
    return tuple(names), weights / weights.sum()


def draw_ethnicities(rng: np.random.Generator, legacy_provinces: np.ndarray) -> np.ndarray:
    """One ethnic group per entry of ``legacy_provinces`` (legacy province codes), by the province's mix."""
    out = np.empty(legacy_provinces.size, dtype=object)
    codes = pl.Series(legacy_provinces.tolist(), dtype=pl.String)
    for code in codes.unique().sort().to_list():
        rows = np.flatnonzero((codes == code).to_numpy())
        names, p = ethnic_mix(str(code))
        out[rows] = np.asarray(names, dtype=object)[rng.choice(len(names), size=rows.size, p=p)]
    return out
