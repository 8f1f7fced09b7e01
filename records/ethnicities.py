"""The 54 ethnic groups of Vietnam (official list of the General Statistics Office, Decision 121-TCTK/PPCĐ, 1979).

``code`` is the two-digit official code, ``name`` the form used in population records today, ``aliases`` the other
spellings found in extracts (hyphenated forms of the 1979 list, names in brackets, common exonyms), and ``share``
the group's share of the population in the 2019 census (percent, rounded). Matching an extract value against the
list goes through :func:`ethnicity_key`, which ignores case, diacritics, hyphens, apostrophes and spacing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

__all__ = [
    "ETHNICITY_BY_KEY",
    "ETHNIC_GROUPS",
    "EthnicGroup",
    "canonical_ethnicity",
    "ethnicity_group_key",
    "ethnicity_key",
]


@dataclass(frozen=True, slots=True)
class EthnicGroup:
    code: str
    name: str
    aliases: tuple[str, ...]
    share: float


ETHNIC_GROUPS: Final[tuple[EthnicGroup, ...]] = (
    EthnicGroup("01", "Kinh", ("Kinh (Việt)", "Việt"), 85.32),
    EthnicGroup("02", "Tày", (), 1.92),
    EthnicGroup("03", "Thái", (), 1.87),
    EthnicGroup("04", "Hoa", ("Hoa (Hán)", "Hán"), 0.78),
    EthnicGroup("05", "Khmer", ("Khơ-me", "Khơ Me", "Khơme"), 1.37),
    EthnicGroup("06", "Mường", (), 1.51),
    EthnicGroup("07", "Nùng", (), 1.13),
    EthnicGroup("08", "Mông", ("H'Mông", "HMông", "Hmông", "Mèo"), 1.45),
    EthnicGroup("09", "Dao", (), 0.93),
    EthnicGroup("10", "Gia Rai", ("Gia-rai", "Jrai", "Gia-Rai"), 0.54),
    EthnicGroup("11", "Ngái", (), 0.001),
    EthnicGroup("12", "Ê Đê", ("Ê-đê", "Êđê", "Rhade"), 0.41),
    EthnicGroup("13", "Ba Na", ("Ba-na", "Bahnar"), 0.30),
    EthnicGroup("14", "Xơ Đăng", ("Xơ-đăng", "Sê Đăng"), 0.22),
    EthnicGroup("15", "Sán Chay", ("Sán Chay (Cao Lan - Sán Chỉ)", "Cao Lan"), 0.21),
    EthnicGroup("16", "Cơ Ho", ("Cơ-ho", "K'Ho"), 0.21),
    EthnicGroup("17", "Chăm", ("Chàm", "Chăm (Chàm)"), 0.19),
    EthnicGroup("18", "Sán Dìu", (), 0.19),
    EthnicGroup("19", "Hrê", ("H're",), 0.15),
    EthnicGroup("20", "Mnông", ("M'Nông", "Mơ Nông"), 0.13),
    EthnicGroup("21", "Ra Glai", ("Ra-glai", "Raglai"), 0.15),
    EthnicGroup("22", "Xtiêng", ("Stiêng", "X'Tiêng"), 0.10),
    EthnicGroup("23", "Bru Vân Kiều", ("Bru - Vân Kiều", "Bru-Vân Kiều", "Vân Kiều"), 0.10),
    EthnicGroup("24", "Thổ", (), 0.09),
    EthnicGroup("25", "Giáy", (), 0.07),
    EthnicGroup("26", "Cơ Tu", ("Cơ-tu", "Katu"), 0.08),
    EthnicGroup("27", "Giẻ Triêng", ("Gié-Triêng", "Gié Triêng", "Giẻ-Triêng"), 0.07),
    EthnicGroup("28", "Mạ", (), 0.05),
    EthnicGroup("29", "Khơ Mú", ("Khơ-mú", "Khơmú", "Khmu"), 0.10),
    EthnicGroup("30", "Co", (), 0.04),
    EthnicGroup("31", "Tà Ôi", ("Tà-ôi", "Pa Cô"), 0.06),
    EthnicGroup("32", "Chơ Ro", ("Chơ-ro", "Châu Ro"), 0.03),
    EthnicGroup("33", "Kháng", (), 0.02),
    EthnicGroup("34", "Xinh Mun", ("Xinh-mun",), 0.03),
    EthnicGroup("35", "Hà Nhì", (), 0.03),
    EthnicGroup("36", "Chu Ru", ("Chu-ru",), 0.02),
    EthnicGroup("37", "Lào", (), 0.02),
    EthnicGroup("38", "La Chí", (), 0.02),
    EthnicGroup("39", "La Ha", (), 0.01),
    EthnicGroup("40", "Phù Lá", (), 0.01),
    EthnicGroup("41", "La Hủ", (), 0.01),
    EthnicGroup("42", "Lự", (), 0.007),
    EthnicGroup("43", "Lô Lô", (), 0.005),
    EthnicGroup("44", "Chứt", (), 0.008),
    EthnicGroup("45", "Mảng", (), 0.004),
    EthnicGroup("46", "Pà Thẻn", ("Pà-thẻn",), 0.009),
    EthnicGroup("47", "Cơ Lao", ("Cờ Lao",), 0.004),
    EthnicGroup("48", "Cống", (), 0.002),
    EthnicGroup("49", "Bố Y", (), 0.003),
    EthnicGroup("50", "Si La", (), 0.001),
    EthnicGroup("51", "Pu Péo", (), 0.001),
    EthnicGroup("52", "Brâu", (), 0.0005),
    EthnicGroup("53", "Ơ Đu", ("Ơ-đu",), 0.0005),
    EthnicGroup("54", "Rơ Măm", ("Rơ-măm",), 0.0006),
)

_NON_ALNUM: Final = re.compile(r"[^0-9a-z]+")


def _ascii_lower(text: str) -> str:
    folded = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d").replace("\u00d0", "D"))
    return "".join(c for c in folded if not unicodedata.combining(c)).lower()


def ethnicity_key(text: str) -> str:
    """ASCII key that equates spellings: "Ê-đê", "Ê Đê" and "EDE" all give "ede"."""
    return _NON_ALNUM.sub("", _ascii_lower(text))


def _by_key() -> dict[str, EthnicGroup]:
    table: dict[str, EthnicGroup] = {}
    for group in ETHNIC_GROUPS:
        for spelling in (group.name, *group.aliases):
            table.setdefault(ethnicity_key(spelling), group)
    return table


ETHNICITY_BY_KEY: Final[dict[str, EthnicGroup]] = _by_key()


# Words written before a group's name ("Người Kinh", "dân tộc Tày", "DT Mường"), and the local subgroups written
# after it ("Thái đen", "Thái trắng", "Dao đỏ", "Dao tiền", "Dao quần chẹt", "Mông xanh"), as ASCII keys.
_LEADING_WORDS: Final = (("nguoi",), ("dan", "toc"), ("dt",))
_SUBGROUP_WORDS: Final = frozenset(
    {("den",), ("trang",), ("do",), ("tien",), ("xanh",), ("coc",), ("quan", "chet"), ("quan", "trang"),
     ("thanh", "y"), ("ao", "dai"), ("lo", "gang"), ("dai", "ban")}
)  # fmt: skip
# A subgroup word that is also a group's name is read as a subgroup only after its own group: "Mông Hoa" (the
# Flower Hmong) is Mông, "Kinh Hoa" names two groups.
_OWN_SUBGROUP_WORDS: Final = {"mong": frozenset({("hoa",)})}
_BY_NAME_KEY: Final = {ethnicity_key(group.name): group for group in ETHNIC_GROUPS}


def _word_keys(text: str) -> list[str]:
    """The words of ``text`` as :func:`ethnicity_key` keys them ("Thái đen" → ["thai", "den"])."""
    return [word for word in _NON_ALNUM.split(_ascii_lower(text)) if word]


def canonical_ethnicity(text: str | None) -> EthnicGroup | None:
    """The group an extract value names, or None when it names none of the 54 (or is empty).

    Beyond the official spellings: a word in front of a group's official name ("Người Kinh", "dân tộc Tày", "DT
    Mường") and a local subgroup after any of its spellings ("Thái đen", "Dao đỏ", "H'Mông trắng", "Mông Hoa").
    A leading word does not apply to an alias: "Người Việt", "Việt Kiều" and "Hoa Kiều" name no ethnic group, nor
    does "Kinh Mường" or "Kinh Hoa" (two).
    """
    if text is None:
        return None
    group = ETHNICITY_BY_KEY.get(ethnicity_key(text))
    if group is not None:
        return group
    words = _word_keys(text)
    for leading in _LEADING_WORDS:
        if tuple(words[: len(leading)]) == leading and len(words) > len(leading):
            words = words[len(leading) :]
            break
    for end in range(len(words), 0, -1):
        key = "".join(words[:end])
        rest = tuple(words[end:])
        # A subgroup may follow any spelling of its group ("H'Mông trắng"); a leading word only the official name.
        group = _BY_NAME_KEY.get(key) or (ETHNICITY_BY_KEY.get(key) if rest else None)
        if group is None:
            continue
        own = _OWN_SUBGROUP_WORDS.get(ethnicity_key(group.name), frozenset())
        if not rest or rest in _SUBGROUP_WORDS or rest in own:
            return group
    return None


def ethnicity_group_key(text: str) -> str:
    """The key of the group ``text`` names (so "Thái đen" and "Thái" key alike), else its own key."""
    group = canonical_ethnicity(text)
    return ethnicity_key(group.name) if group is not None else ethnicity_key(text)


assert len(ETHNIC_GROUPS) == 54 and len({g.code for g in ETHNIC_GROUPS}) == 54
