"""Where people live: real administrative units (``normalize.units``), street and hamlet parts, and the address
texts written in the new two-tier form or the old three-tier form with the usual abbreviations."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np
import polars as pl

from normalize import units

__all__ = [
    "ADDRESS_FORMS",
    "AddressForm",
    "ProvinceGeo",
    "address_text",
    "draw_legacy_wards",
    "draw_residences",
    "legacy_place_text",
    "province_geo",
]

ADDRESS_FORMS: Final = ("new", "new_short", "old_full", "old_abbrev")
"""new: "25 Lê Lợi, Phường X, Tỉnh Y"; new_short: province without its type; old_full: ward, district, province
spelled out; old_abbrev: "P. X, Q. Y, TP. Z" / "X. Vạn Phúc, H. Thanh Trì, HN"."""
AddressForm = int  # index into ADDRESS_FORMS

# Provinces whose hamlets are "ấp"/"khóm" and whose family names follow the southern spelling (Huỳnh, Võ).
_SOUTHERN_FROM: Final = 75

_STREETS: Final = (
    "Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Lý Thường Kiệt", "Hai Bà Trưng", "Quang Trung", "Hùng Vương",
    "Lê Duẩn", "Nguyễn Huệ", "Phan Chu Trinh", "Trần Phú", "Nguyễn Du", "Lê Hồng Phong", "Điện Biên Phủ",
    "Bà Triệu", "Hoàng Diệu", "Ngô Quyền", "Đinh Tiên Hoàng", "Lê Thánh Tông", "Nguyễn Văn Cừ", "Khâm Thiên",
    "Phạm Văn Đồng", "Võ Nguyên Giáp", "Trường Chinh", "Tôn Đức Thắng", "Nguyễn Chí Thanh", "Lạc Long Quân",
    "Âu Cơ", "Tô Hiệu", "Hàn Thuyên", "Trần Quốc Toản", "Nguyễn Công Trứ", "Phan Đình Phùng", "Lê Lai",
    "Nguyễn Thái Học", "Lý Tự Trọng", "Chu Văn An", "Nguyễn Bỉnh Khiêm", "Tuệ Tĩnh", "Lương Văn Tụy",
    "Trần Nhân Tông", "Hoàng Hoa Thám", "Nguyễn Viết Xuân", "Xuân Thủy", "Đường 30 Tháng 4", "Cách Mạng Tháng 8",
)  # fmt: skip
_HAMLETS: Final = (
    "Đông", "Tây", "Nam", "Bắc", "Thượng", "Hạ", "Trung", "Đoài", "Chùa", "Đình", "Mới", "Tân Lập", "Phú Xuân",
    "An Thịnh", "Yên Phú", "Đồng Tâm", "Hòa Bình", "Quyết Tiến", "Thắng Lợi", "Đông Hải", "Bình Minh", "Lạc Thiện",
    "Văn Miếu", "Phúc Lộc", "Thọ Xuân", "Vĩnh Phúc", "Cổ Loan", "Tiền Phong", "Xuân Thành", "Đại Đồng",
)  # fmt: skip

_WARD_ABBREV: Final = {"Phường": "P.", "Xã": "X.", "Thị trấn": "TT.", "Đặc khu": "ĐK."}
_DISTRICT_ABBREV: Final = {"Quận": "Q.", "Huyện": "H.", "Thị xã": "TX.", "Thành phố": "TP."}
_PROVINCE_ABBREV: Final = {
    "Thành phố Hà Nội": ("TP. Hà Nội", "HN", "Hà Nội"),
    "Thành phố Hồ Chí Minh": ("TP.HCM", "tp hcm", "TP. Hồ Chí Minh"),
}


@dataclass(frozen=True)
class ProvinceGeo:
    """The demo province and the wards its people are drawn from."""

    province_code: str
    province_name: str
    province_short: str
    southern: bool
    legacy: pl.DataFrame
    """Legacy wards of the province, one row per (legacy ward, current successor): legacy_ward_code,
    current_ward_code, is_split, legacy_province_code, weight."""
    legacy_provinces: tuple[str, ...]
    current: pl.DataFrame
    """Current wards of the province: ward_code, ward_name, ward_type."""


@cache
def _legacy_attributes() -> pl.DataFrame:
    """Per legacy ward: the text pieces of its old-form address."""
    wards = units.legacy_wards()
    provinces = wards.select("province_name").unique()
    abbrev_rows = []
    for name in provinces["province_name"].to_list():
        if name in _PROVINCE_ABBREV:
            options = _PROVINCE_ABBREV[name]
        elif name.startswith("Thành phố "):
            short = name.removeprefix("Thành phố ")
            options = (f"TP. {short}", f"Tp {short}", short)
        else:
            short = name.removeprefix("Tỉnh ")
            options = (f"T. {short}", short, f"tỉnh {short}")
        abbrev_rows.append((name, *options))
    abbrev = pl.DataFrame(abbrev_rows, schema=["province_name", "prov_a0", "prov_a1", "prov_a2"], orient="row")
    return (
        wards.select(
            "legacy_ward_code",
            "ward_name",
            "ward_short",
            "district_name",
            "district_short",
            "province_name",
            "legacy_province_code",
            pl.col("ward_type").replace_strict(_WARD_ABBREV, default="").alias("ward_abbrev"),
            pl.col("district_type").replace_strict(_DISTRICT_ABBREV, default="").alias("district_abbrev"),
        )
        .join(abbrev, on="province_name", how="left")
        .rename({"ward_name": "lw_name", "province_name": "lp_name"})
    )


@cache
def _current_attributes() -> pl.DataFrame:
    return units.current_wards().select(
        pl.col("ward_code").alias("current_ward_code"),
        pl.col("ward_name").alias("cw_name"),
        pl.col("province_name").alias("cp_name"),
        pl.col("province_short").alias("cp_short"),
    )


@cache
def province_geo(province_code: str) -> ProvinceGeo:
    current_all = units.current_wards()
    current = current_all.filter(pl.col("province_code") == province_code)
    if current.is_empty():
        codes = ", ".join(units.current_provinces()["province_code"].to_list())
        raise ValueError(f"mã tỉnh không tồn tại / unknown province code {province_code!r} (có: {codes})")
    ward_codes = current["ward_code"].to_list()
    legacy = (
        units.legacy_wards()
        .explode("current_ward_codes")
        .rename({"current_ward_codes": "current_ward_code"})
        .filter(pl.col("current_ward_code").is_in(ward_codes))
        .select("legacy_ward_code", "current_ward_code", "is_split", "legacy_province_code", "ward_type")
    )
    # Towns hold more people than communes: urban wards get three times a commune's weight.
    legacy = legacy.with_columns(
        pl.when(pl.col("ward_type") == "Xã").then(1.0).otherwise(3.0).alias("weight")
    ).sort("legacy_ward_code", "current_ward_code")
    first = current.row(0, named=True)
    return ProvinceGeo(
        province_code=province_code,
        province_name=first["province_name"],
        province_short=first["province_short"],
        southern=int(province_code) >= _SOUTHERN_FROM,
        legacy=legacy,
        legacy_provinces=tuple(sorted(set(legacy["legacy_province_code"].to_list()))),
        current=current.select("ward_code", "ward_name", "ward_type"),
    )


def _street_parts(rng: np.random.Generator, urban: np.ndarray, southern: bool) -> pl.Series:
    """House number and street, or hamlet, for each address."""
    n = urban.size
    streets = pl.Series(_STREETS).gather(rng.integers(0, len(_STREETS), n))
    hamlets = pl.Series(_HAMLETS).gather(rng.integers(0, len(_HAMLETS), n))
    house = pl.Series(rng.integers(1, 300, n)).cast(pl.String)
    lane = pl.Series(rng.integers(1, 200, n)).cast(pl.String)
    alley = pl.Series(rng.integers(1, 60, n)).cast(pl.String)
    group = pl.Series(rng.integers(1, 25, n)).cast(pl.String)
    template = rng.integers(0, 6, n)
    frame = pl.DataFrame(
        {"urban": urban, "t": template, "street": streets, "hamlet": hamlets, "house": house, "lane": lane,
         "alley": alley, "group": group}
    )
    hamlet_word = ("Ấp", "Khóm") if southern else ("Thôn", "Xóm")
    t = pl.col("t")
    urban_text = (
        pl.when(t == 0).then(pl.concat_str(pl.lit("Số "), "house", pl.lit(" "), "street"))
        .when(t == 1).then(pl.concat_str("house", pl.lit(" "), "street"))
        .when(t == 2).then(pl.concat_str(pl.lit("Số "), "house", pl.lit(" ngõ "), "lane", pl.lit(" "), "street"))
        .when(t == 3).then(pl.concat_str("lane", pl.lit("/"), "house", pl.lit(" "), "street"))
        .when(t == 4).then(
            pl.concat_str(pl.lit("Số "), "house", pl.lit(" ngách "), "alley", pl.lit(" ngõ "), "lane", pl.lit(" "),
                          "street")
        )
        .otherwise(pl.concat_str(pl.lit("Tổ "), "group"))
    )  # fmt: skip
    rural_text = (
        pl.when(t <= 2).then(pl.concat_str(pl.lit(hamlet_word[0] + " "), "hamlet"))
        .when(t <= 4).then(pl.concat_str(pl.lit(hamlet_word[1] + " "), "group"))
        .otherwise(pl.concat_str(pl.lit(hamlet_word[0] + " "), "group"))
    )  # fmt: skip
    return frame.select(pl.when(pl.col("urban")).then(urban_text).otherwise(rural_text).alias("street"))["street"]


def draw_residences(rng: np.random.Generator, n: int, geo: ProvinceGeo) -> pl.DataFrame:
    """n residences in the province: legacy_ward_code, current_ward_code (the truth), is_split, street."""
    weights = geo.legacy["weight"].to_numpy()
    pick = rng.choice(geo.legacy.height, size=n, p=weights / weights.sum())
    chosen = geo.legacy[pick]
    urban = (chosen["ward_type"] != "Xã").to_numpy()
    return chosen.select("legacy_ward_code", "current_ward_code", "is_split", "legacy_province_code").with_columns(
        _street_parts(rng, urban, geo.southern)
    )


@cache
def _nationwide() -> pl.DataFrame:
    return units.legacy_wards().select("legacy_ward_code", "legacy_province_code").sort("legacy_ward_code")


def draw_legacy_wards(rng: np.random.Generator, n: int, geo: ProvinceGeo, local_share: float) -> pl.Series:
    """Legacy ward codes for hometowns: ``local_share`` from the province, the rest from anywhere in the country."""
    local = geo.legacy["legacy_ward_code"].unique(maintain_order=True)
    nationwide = _nationwide()["legacy_ward_code"]
    is_local = rng.random(n) < local_share
    local_pick = local.gather(rng.integers(0, local.len(), n))
    far_pick = nationwide.gather(rng.integers(0, nationwide.len(), n))
    return pl.select(pl.when(pl.lit(pl.Series(is_local))).then(local_pick).otherwise(far_pick).alias("w"))["w"]


def address_text(frame: pl.DataFrame, *, street: str, legacy: str, current: str, form: str, variant: str) -> pl.Series:
    """Render addresses. ``frame`` columns: street text (nullable), legacy ward code, current ward code, form
    (index into ADDRESS_FORMS) and variant (0-5: picks the abbreviation spelling)."""
    data = (
        frame.select(
            pl.col(street).alias("_street"),
            pl.col(legacy).alias("legacy_ward_code"),
            pl.col(current).alias("current_ward_code"),
            pl.col(form).alias("_form"),
            pl.col(variant).alias("_variant"),
        )
        .with_row_index("_i")
        .join(_legacy_attributes(), on="legacy_ward_code", how="left")
        .join(_current_attributes(), on="current_ward_code", how="left")
        .sort("_i")
    )
    v = pl.col("_variant")
    sep = pl.when(v % 2 == 0).then(pl.lit(" ")).otherwise(pl.lit(""))
    province_abbrev = pl.when(v % 3 == 0).then("prov_a0").when(v % 3 == 1).then("prov_a1").otherwise("prov_a2")
    form_col = pl.col("_form")
    unit_text = (
        pl.when(form_col == 0).then(pl.concat_str("cw_name", pl.lit(", "), "cp_name"))
        .when(form_col == 1).then(pl.concat_str("cw_name", pl.lit(", "), "cp_short"))
        .when(form_col == 2).then(pl.concat_str("lw_name", pl.lit(", "), "district_name", pl.lit(", "), "lp_name"))
        .otherwise(
            pl.concat_str(
                "ward_abbrev", sep, "ward_short", pl.lit(", "), "district_abbrev", sep, "district_short", pl.lit(", "),
                province_abbrev,
            )
        )
    )  # fmt: skip
    text = pl.when(pl.col("_street").is_null()).then(unit_text).otherwise(
        pl.concat_str("_street", pl.lit(", "), unit_text)
    )
    return data.select(text.alias("address"))["address"]


def legacy_place_text(frame: pl.DataFrame, *, legacy: str, form: str, variant: str) -> pl.Series:
    """Hometown-style text of a legacy ward (no street): old full or abbreviated form only."""
    return address_text(
        frame.with_columns(
            pl.lit(None, dtype=pl.String).alias("_no_street"),
            pl.lit(None, dtype=pl.String).alias("_no_current"),
        ),
        street="_no_street",
        legacy=legacy,
        current="_no_current",
        form=form,
        variant=variant,
    )
