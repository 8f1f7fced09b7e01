"""Where people live: real administrative units (``normalize.units``), street and hamlet parts, and the address
texts written in the new two-tier form or the old three-tier form with the usual abbreviations."""

from __future__ import annotations

import re
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
    legacy = legacy.with_columns(pl.when(pl.col("ward_type") == "Xã").then(1.0).otherwise(3.0).alias("weight")).sort(
        "legacy_ward_code", "current_ward_code"
    )
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


_LETTERS: Final = "ABCDEGHKLMN"  # block and house letters; not F/P/Q, which read as "Phường"/"Quận" (F3 = Phường 3)
_HIGHWAYS: Final = (
    *(f"Quốc lộ {i}" for i in ("1A", "1", "5", "6", "10", "13", "14", "18", "21", "22", "32", "51", "91")),
    *(f"Tỉnh lộ {i}" for i in range(1, 60, 3)),
)
_CENTRAL_FROM: Final = 38  # Thanh Hóa and south of it: "kiệt" lanes in the central provinces, "hẻm" from _SOUTHERN_FROM
_HOUSE_SCALE: Final = 90.0  # house numbers fall off like a street's length: most below 200, some near 999


@cache
def _street_pool(province_code: str) -> tuple[pl.Series, np.ndarray, pl.Series]:
    """The streets of a province and how often people live on each.

    Real streets are named after historical figures (a few famous ones in every city, many more local ones, all
    shaped like personal names), after places of the province, or by number in new urban areas and along
    highways. A province has a few thousand; the pool is the same on every run for a province.
    """
    from datagen.names import name_pools  # the generator's name pools; imported late (names imports text only)

    rng = np.random.default_rng(int(province_code) * 7919 + 17)
    pools = name_pools(int(province_code) >= _SOUTHERN_FROM)
    family = pools.family[rng.choice(pools.family.size, 1500, p=pools.family_p)]
    middle_pool = np.concatenate([pools.middle[0], pools.middle[1], np.array(["Đình", "Hữu", "Công", "Quang"])])
    middle = middle_pool[rng.integers(0, middle_pool.size, 1500)]
    given_pool = np.concatenate([pools.one_word[0], pools.one_word[1]])
    given = given_pool[rng.integers(0, given_pool.size, 1500)]
    with_middle = rng.random(1500) < 0.7
    parts = zip(family, middle, given, with_middle, strict=True)
    figures = [f"{f} {m} {g}" if k else f"{f} {g}" for f, m, g, k in parts]
    places = units.current_wards()
    legacy = units.legacy_wards()
    local = sorted(
        set(places.filter(pl.col("province_code") == province_code)["ward_short"].to_list())
        | set(legacy["ward_short"].sample(min(400, legacy.height), seed=int(province_code)).to_list())
    )
    place_streets = [re.sub(r"\s*\(.*\)$", "", p) for p in local if not p[:1].isdigit()]
    numbered = (
        [f"Đường số {i}" for i in range(1, 41)]
        + [f"Đường D{i}" for i in range(1, 16)]
        + [f"Đường N{i}" for i in range(1, 16)]
        + list(_HIGHWAYS)
    )
    names = [*_STREETS, *dict.fromkeys(figures), *place_streets, *numbered]
    shares = np.concatenate(
        [
            np.full(len(_STREETS), 0.40 / len(_STREETS)),  # the famous names every city has
            np.full(len(dict.fromkeys(figures)), 0.38 / len(dict.fromkeys(figures))),
            np.full(len(place_streets), 0.14 / max(len(place_streets), 1)),
            np.full(len(numbered), 0.08 / len(numbered)),
        ]
    )
    hamlets = pl.Series([*_HAMLETS, *place_streets], dtype=pl.String)
    return pl.Series(names, dtype=pl.String), shares / shares.sum(), hamlets


def _street_parts(rng: np.random.Generator, urban: np.ndarray, province_code: str) -> pl.Series:
    """House number and street (or lane, alley, apartment, lot, highway kilometre), or hamlet, per address.

    Lanes are written the way each region writes them: "ngõ/ngách" in the north ("Số 5 ngách 12/34 ngõ 56 phố
    Khâm Thiên"), "kiệt" in the centre, "hẻm" and slashed numbers in the south ("45/12/3 Nguyễn Trãi"); with
    house numbers up to the hundreds and letter suffixes (12A), a few thousand streets per province, residential
    groups and hamlets in the countryside, so that almost every address is distinct.
    """
    n = urban.size
    # The rest of the generator draws from ``rng`` after this: consume exactly what the first version of this
    # function drew, so adding street variety changed no other value of a generated province, and draw the
    # street parts from a generator seeded by ``rng``'s state.
    for low, high in ((0, 46), (0, 30), (1, 300), (1, 200), (1, 60), (1, 25), (0, 6)):
        rng.integers(low, high, n)
    state = rng.bit_generator.state["state"]
    rng = np.random.default_rng([state["state"] % (1 << 64), state["inc"] % (1 << 64), n])
    code = int(province_code)
    region = 2 if code >= _SOUTHERN_FROM else 1 if code >= _CENTRAL_FROM else 0
    streets, shares, hamlets = _street_pool(province_code)
    street = streets.gather(rng.choice(streets.len(), n, p=shares))
    # Hamlets, residential areas and apartment blocks take the names of places, as they do.
    hamlet = hamlets.gather(rng.integers(0, hamlets.len(), n))

    def number(scale: float, top: int) -> pl.Series:
        return pl.Series(np.minimum(1 + rng.exponential(scale, n).astype(np.int64), top)).cast(pl.String)

    house = number(_HOUSE_SCALE, 999)
    letters = np.array(list(_LETTERS))
    suffix = pl.Series(np.where(rng.random(n) < 0.06, letters[rng.integers(0, letters.size, n)], ""))
    frame = pl.DataFrame(
        {
            "urban": urban,
            "t": rng.integers(0, 100, n),
            "street": street,
            "hamlet": hamlet,
            "house": house + suffix,
            "lane": number(60.0, 400),
            "alley": number(25.0, 120),
            "deep": number(10.0, 40),
            "group": number(8.0, 60),
            "quarter": number(4.0, 20),
            "floor": pl.Series(rng.integers(1, 31, n)).cast(pl.String),
            "room": pl.Series(rng.integers(1, 30, n)).cast(pl.String).str.zfill(2),
            "block": pl.Series(letters[rng.integers(0, letters.size, n)]),
            "km": pl.Series(rng.integers(1, 250, n)).cast(pl.String),
            "highway": pl.Series(_HIGHWAYS).gather(rng.integers(0, len(_HIGHWAYS), n)),
        }
    )
    t = pl.col("t")
    if region == 0:
        lanes = (
            pl.when(t < 56).then(pl.concat_str(pl.lit("Số "), "house", pl.lit(" ngõ "), "lane", pl.lit(" "), "street"))
            .when(t < 64).then(
                pl.concat_str(pl.lit("Số "), "house", pl.lit(" ngách "), "lane", pl.lit("/"), "alley", pl.lit(" ngõ "),
                              "lane", pl.lit(" phố "), "street")
            )
            .otherwise(pl.concat_str(pl.lit("Ngõ "), "lane", pl.lit(" "), "street"))
        )  # fmt: skip
    elif region == 1:
        lanes = (
            pl.when(t < 60).then(pl.concat_str(pl.lit("Kiệt "), "lane", pl.lit("/"), "alley", pl.lit(" "), "street"))
            .otherwise(pl.concat_str(pl.lit("Số "), "house", pl.lit(" kiệt "), "lane", pl.lit(" "), "street"))
        )  # fmt: skip
    else:
        lanes = (
            pl.when(t < 54).then(pl.concat_str("house", pl.lit("/"), "lane", pl.lit(" "), "street"))
            .when(t < 62).then(pl.concat_str("house", pl.lit("/"), "lane", pl.lit("/"), "deep", pl.lit(" "), "street"))
            .otherwise(pl.concat_str(pl.lit("Hẻm "), "lane", pl.lit("/"), "alley", pl.lit(" "), "street"))
        )  # fmt: skip
    urban_text = (
        pl.when(t < 30).then(pl.concat_str(pl.lit("Số "), "house", pl.lit(" "), "street"))
        .when(t < 44).then(pl.concat_str("house", pl.lit(" "), "street"))
        .when(t < 74).then(lanes)  # 44 <= t < 74: the region's lanes
        .when(t < 80).then(
            pl.concat_str(pl.lit("Căn hộ "), "floor", "room", pl.lit(", Tòa "), "block", "quarter",
                          pl.lit(", Chung cư "), "hamlet")
        )
        .when(t < 84).then(pl.concat_str(pl.lit("Lô "), "block", "alley", pl.lit(", Khu dân cư "), "hamlet"))
        .when(t < 87).then(pl.concat_str(pl.lit("Km "), "km", pl.lit(" "), "highway"))
        .when(t < 94).then(pl.concat_str(pl.lit("Tổ "), "group", pl.lit(", Khu phố "), "quarter"))
        .otherwise(pl.concat_str(pl.lit("Tổ dân phố "), "group"))
    )  # fmt: skip
    hamlet_word = ("Ấp", "Khóm") if region == 2 else ("Thôn", "Xóm")
    rural_text = (
        pl.when(t < 35).then(pl.concat_str(pl.lit(hamlet_word[0] + " "), "hamlet"))
        .when(t < 50).then(pl.concat_str(pl.lit(hamlet_word[0] + " "), "quarter"))
        .when(t < 65).then(pl.concat_str(pl.lit(f"{hamlet_word[1]} "), "group"))
        .when(t < 80).then(pl.concat_str(pl.lit("Số nhà "), "house", pl.lit(f", {hamlet_word[0]} "), "hamlet"))
        .when(t < 88).then(pl.concat_str(pl.lit("Tổ "), "group", pl.lit(f", {hamlet_word[0]} "), "hamlet"))
        .when(t < 94).then(pl.concat_str(pl.lit("Km "), "km", pl.lit(" "), "highway"))
        .otherwise(pl.concat_str(pl.lit("Số "), "house", pl.lit(" "), "street"))
    )  # fmt: skip
    return frame.select(pl.when(pl.col("urban")).then(urban_text).otherwise(rural_text).alias("street"))["street"]


def draw_residences(rng: np.random.Generator, n: int, geo: ProvinceGeo) -> pl.DataFrame:
    """n residences in the province: legacy_ward_code, current_ward_code (the truth), is_split, street."""
    weights = geo.legacy["weight"].to_numpy()
    pick = rng.choice(geo.legacy.height, size=n, p=weights / weights.sum())
    chosen = geo.legacy[pick]
    urban = (chosen["ward_type"] != "Xã").to_numpy()
    return chosen.select("legacy_ward_code", "current_ward_code", "is_split", "legacy_province_code").with_columns(
        _street_parts(rng, urban, geo.province_code)
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
    text = (
        pl.when(pl.col("_street").is_null())
        .then(unit_text)
        .otherwise(pl.concat_str(_street_as_typed(), pl.lit(", "), unit_text))
    )
    return data.select(text.alias("address"))["address"]


def _street_as_typed() -> pl.Expr:
    """The street part as one clerk or another types it: the same house is "Số 12 ngõ 34 Khâm Thiên", "12 ngõ 34
    Khâm Thiên", "Số nhà 12, ngõ 34, Khâm Thiên", in capitals or without diacritics. Records of one household are
    registered at different times by different people, so their texts differ although the house is the same.

    The style is a hash of the row and its street (no draw from the generator's random stream)."""
    street = pl.col("_street")
    style = (street.hash(seed=11) + pl.col("_i").cast(pl.UInt64)) % 10
    separated = street.str.replace_all(r" (ngõ|ngách|kiệt|hẻm|phố) ", ", $1 ")
    return (
        pl.when(style == 3).then(street.str.replace(r"^Số (\d)", "$1"))
        .when(style == 4).then(street.str.replace(r"^Số (\d)", "Số nhà $1"))
        .when(style == 5).then(separated)
        .when(style == 6).then(street.str.to_uppercase())
        .when(style == 7).then(street.map_batches(_without_diacritics, return_dtype=pl.String))
        .when(style == 8).then(street.str.replace(r"^Số (\d)", "SN $1"))
        .otherwise(street)
    )  # fmt: skip


def _without_diacritics(values: pl.Series) -> pl.Series:
    from datagen.text import strip_diacritics

    distinct = values.drop_nulls().unique().to_list()
    return values.replace_strict({v: strip_diacritics(v) for v in distinct}, default=None, return_dtype=pl.String)


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
