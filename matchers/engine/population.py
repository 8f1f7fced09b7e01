"""The Vietnamese population spec: how two person records (normalized, see ``normalize.columns``) are compared."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Final

import polars as pl

from matchers.engine.comparisons import any_null, exact_level, similarity_level, within_one_edit
from matchers.engine.settings import (
    Comparison,
    ComparisonLevel,
    ConflictRule,
    MatchSettings,
    Similarity,
    Thresholds,
    Veto,
    block_on,
    left,
    levels_in,
    right,
)
from normalize.names import GIVEN_NAME_KEYS, GIVEN_NAME_WORDS

__all__ = ["POPULATION_INPUT_COLUMNS", "population_settings"]

POPULATION_INPUT_COLUMNS = (
    "record_id",
    "full_name_norm",
    "name_key",
    "name_key_glued",
    "family_key",
    "middle_key",
    "given_key",
    "given_name",
    "name_key_no_middle",
    "birth_date_value",
    "birth_year",
    "birth_month",
    "birth_day",
    "birth_date_swapped",
    "sex_norm",
    "person_id_norm",
    "person_id_valid",
    "person_id_birth_year",
    "old_id_number",
    "permanent_address_ward_code",
    "permanent_address_legacy_ward_code",
    "permanent_address_street",
    "permanent_address_candidates",
    "father_name_key",
    "mother_name_key",
    "spouse_name_key",
)
"""Normalized columns the population spec reads (all from ``normalize.columns``)."""

_SEX_MARKERS = ["van", "thi", "a", "mi", "my", "seo"]


def _given_words() -> pl.Expr:
    """The middle words that are not a sex marker, then the last word (which may well be "Vân": key "van")."""
    middle = (
        pl.col("middle_key")
        .fill_null("")
        .str.split(" ")
        .list.eval(pl.element().filter((pl.element() != "") & ~pl.element().is_in(_SEX_MARKERS)))
    )
    return pl.concat_list(middle, pl.concat_list(pl.col("given_key")))


_ONSET = r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])"
# Onsets a slip or a regional spelling confuses (the same sound in a dialect, a forgotten stroke on đ): a name that
# differs from another only there is one name misspelt, not a rhyming brother's or sister's name.
_ONSETS_ALIKE = frozenset({"d|đ", "d|gi", "d|r", "gi|r", "s|x", "ch|tr", "c|k", "c|qu", "k|qu"})


# Words of a name that say the sex of its bearer: the middle Văn/A/Seo (men), Thị/Mí/Mỷ (women), and the Ê Đê
# prefixes Y/H' and the Khmer Néang in front. Only as written with their marks: typed without, "Van" is as likely
# the girl's name "Vân" ("Nguyễn Vân Anh").
_MALE_WORDS: Final = ("văn", "a", "seo")
_FEMALE_WORDS: Final = ("thị", "mí", "mỷ")
_MALE_PREFIXES: Final = ("y",)
_FEMALE_PREFIXES: Final = ("néang",)


def _words_pattern(words: Sequence[str]) -> str:
    return "(?:" + "|".join(re.escape(word) for word in words) + ")"


# A middle word is one with a word before it and a space after it: one regular expression over the whole name finds
# it, without splitting the name into a list (this runs on every distinct name of the base, and list expressions
# cost a second of it at 1,000,000 records).
_MIDDLE_WORD: Final = "[^ ]* (?:.* )?"
# "H'Hen": the female prefix is written with the given name it comes before.
_MALE_NAME: Final = f"^(?:{_words_pattern(_MALE_PREFIXES)} |{_MIDDLE_WORD}{_words_pattern(_MALE_WORDS)} )"
_FEMALE_NAME: Final = f"^(?:{_words_pattern(_FEMALE_PREFIXES)} |h'|{_MIDDLE_WORD}{_words_pattern(_FEMALE_WORDS)} )"


def _name_sex_marker() -> pl.Expr:
    """The sex the name itself says, "Nam" or "Nữ" (a marker word, and none of the other sex), else null.

    Words are what a split on single spaces gives: the first one may be a prefix, the middle ones a marker.
    """
    name = pl.col("full_name_norm").str.to_lowercase()
    one_word = ~name.str.contains(" ", literal=True)
    return sex_said(one_word, name.str.contains(_MALE_NAME), name.str.contains(_FEMALE_NAME))


def sex_said(one_word: pl.Expr, male: pl.Expr, female: pl.Expr) -> pl.Expr:
    """ "Nam" when only a male marker was found, "Nữ" when only a female one, else null (and for one-word names)."""
    return (
        pl.when(one_word)
        .then(None)
        .when(male & ~female)
        .then(pl.lit("Nam"))
        .when(female & ~male)
        .then(pl.lit("Nữ"))
        .otherwise(None)
    )


# "Số nhà 12", "Số 12", "SN 12", "số nhà: 12": one house number, however the officer introduced it.
_HOUSE_NUMBER_PREFIX: Final = r"\b(?:so nha|so|sn)\s*[:.]?\s*(\d)"


def street_key(street: pl.Expr) -> pl.Expr:
    """The part of an address below the ward as a comparison key: without tone and letter marks, in lower case,
    punctuation as spaces, the house-number prefix dropped. "Tổ dân phố 7" and "To dan pho 7" (typed without
    marks, or repaired from a legacy font without them) are one street; "Số nhà 109, Thôn Đại Cường" and "Số 109
    Thôn Đại Cường" one house."""
    # Ð/ð (U+00D0/F0, the eth some fonts and keyboards put for Đ) fold to "d" as Đ does.
    folded = street.str.normalize("NFD").str.replace_all(r"\p{M}", "").str.replace_all("[đĐÐð]", "d").str.to_lowercase()
    spaced = folded.str.replace_all(r"[^a-z0-9]+", " ").str.strip_chars()
    return spaced.str.replace_all(_HOUSE_NUMBER_PREFIX, "$1")


def _last_given_word() -> pl.Expr:
    return pl.col("given_name").str.to_lowercase().str.split(" ").list.last()


_TELEX_LETTER_MARKS: Final = {"\u0302": None, "\u0306": "w", "\u031b": "w"}  # â ê ô: the letter twice; ă ơ ư: w
_TELEX_TONES: Final = {"\u0300": "f", "\u0301": "s", "\u0309": "r", "\u0303": "x", "\u0323": "j"}


def telex_keys(word: str) -> str:
    """The keys a typist presses for a word with the Telex method: "thủy" → "thuyr", "hòa" → "hoaf", "đức" →
    "dduwcs". A slip is one key: "Hòa" typed "Hà" drops one key ("hoaf" → "haf"), "Thu" for "Thủy" two."""
    letters: list[str] = []
    tone = ""
    for char in unicodedata.normalize("NFD", word):
        if char in _TELEX_TONES:
            tone = _TELEX_TONES[char]
        elif char in _TELEX_LETTER_MARKS:
            if letters:
                letters.append(_TELEX_LETTER_MARKS[char] or letters[-1])
        else:
            letters.append("dd" if char == "đ" else char)
    # "ươ" takes one w ("uow"), as typists type it.
    return "".join(letters).replace("uwow", "uow") + tone


def _telex_column(words: pl.Series) -> pl.Series:
    """``telex_keys`` of each distinct word (a column holds far fewer distinct given names than records)."""
    distinct = [w for w in words.unique().to_list() if w is not None]
    return words.replace_strict({w: telex_keys(w) for w in distinct}, default=None, return_dtype=pl.String)


_DERIVED: tuple[pl.Expr, ...] = (
    # Only a structurally valid ID may veto a cluster: a malformed one is a typo, not another citizen.
    pl.when(pl.col("person_id_valid").fill_null(False)).then(pl.col("person_id_norm")).alias("valid_person_id"),
    pl.when(pl.col("birth_day").is_not_null())
    .then(pl.col("birth_date_value").cast(pl.String))
    .alias("birth_date_text"),
    # Day and month in ascending order: a date typed dd/mm on one record and mm/dd on the other gets one key.
    pl.when(pl.col("birth_day").is_not_null() & pl.col("birth_month").is_not_null())
    .then(
        pl.concat_str(
            [
                pl.col("birth_year"),
                pl.min_horizontal("birth_day", "birth_month"),
                pl.max_horizontal("birth_day", "birth_month"),
            ],
            separator="-",
        )
    )
    .alias("birth_date_unordered"),
    # The given name as people use it: the last word, with the middle words that are not a sex marker (Văn, Thị,
    # the H'Mông A, Mí, Mỷ) in front: "uyen phuong", "sa ri"; and glued ("sari" for "Sa Ri"). Compared when the last
    # words differ.
    _given_words().list.join(" ").alias("given_words_key"),
    _given_words().list.join("").alias("given_words_glued"),
    # The given words before the last ("" for a one-word given name): two names that differ only in their last word.
    _given_words().list.head(_given_words().list.len() - 1).list.join(" ").alias("given_front_key"),
    # The name's words in alphabetical order: the same person whatever order a form put them in.
    pl.col("name_key").str.split(" ").list.sort().list.join(" ").alias("name_key_sorted"),
    # A given name of the Vietnamese lists: two different ones are two names, not a slip of the keyboard. Written
    # in a name with diacritics it is looked up with them ("Thủy" is a name, "Tủy" a dropped h, "Tu" in "Phạm Kiều
    # Tu" a dropped h too); in a name typed without any, by its ASCII key.
    pl.when(~pl.col("full_name_norm").str.contains(r"[^\x00-\x7F]"))
    .then(pl.col("given_key").is_in(sorted(GIVEN_NAME_KEYS)))
    .otherwise(pl.col("given_name").str.to_lowercase().is_in(sorted(GIVEN_NAME_WORDS)))
    .alias("given_known"),
    # The last given word's initial consonant ("Vinh": v, "Thủy": th; "Anh" has none), the word and its Telex keys,
    # and whether the name was written with marks at all: what tells two real names from one mistyped.
    _last_given_word().str.extract(_ONSET, 1).fill_null("").alias("given_onset"),
    _last_given_word().alias("given_word_marked"),
    _last_given_word().map_batches(_telex_column, pl.String, is_elementwise=True).alias("given_word_telex"),
    pl.col("full_name_norm").str.contains(r"[^\x00-\x7F]").alias("name_marked"),
    _name_sex_marker().alias("name_sex_marker"),
    # Day and month of a full birth date: with the name, finds a record whose year was typed one off.
    pl.when(pl.col("birth_day").is_not_null())
    .then(pl.concat_str([pl.col("birth_month"), pl.col("birth_day")], separator="-"))
    .alias("birth_day_month"),
    street_key(pl.col("permanent_address_street")).alias("permanent_address_street_key"),
)

_GIVEN_WORDS_TYPO = Similarity("damerau_levenshtein_distance", "given_words_glued")
_GIVEN_TYPO = Similarity("damerau_levenshtein_distance", "given_key")
_SORTED_TYPO = Similarity("damerau_levenshtein_distance", "name_key_sorted")
_MARKED_TYPO = Similarity("damerau_levenshtein_distance", "given_word_marked")
_TELEX_TYPO = Similarity("damerau_levenshtein_distance", "given_word_telex")
_GIVEN_SIMILARITIES = (_GIVEN_WORDS_TYPO, _GIVEN_TYPO, _SORTED_TYPO, _MARKED_TYPO, _TELEX_TYPO)


def _given_words_extend() -> pl.Expr:
    """One side's given words end the other's: a dropped or added middle word ("Sơn" and "Hùng Sơn")."""
    longer_l = pl.lit(" ") + left("given_words_key")
    longer_r = pl.lit(" ") + right("given_words_key")
    return longer_l.str.ends_with(pl.lit(" ") + right("given_words_key")) | longer_r.str.ends_with(
        pl.lit(" ") + left("given_words_key")
    )


# The first syllables dropped from a given name written glued ("Sócphon" written "Phon" elsewhere, "Thida" "Da"):
# the part dropped holds a vowel (a syllable, not the "T" of "Thanh"/"Hanh" or the "Kh" of "Khoa"/"Hoa"), the part
# kept starts with a consonant (so "Hoành" never ends in the "Anh" of a sister) and has two letters at least, and
# the cut does not fall inside an initial consonant ("Sockhanh" does not end in "Hanh").
_DROPPED_SYLLABLES: Final = r"[aeiouy]"
_KEPT_ONSET: Final = r"^[bcdghklmnpqrstvx]"
_ONSETS_OF_TWO: Final = ("kh", "ph", "th", "ch", "nh", "gh", "ng", "tr", "gi", "qu")


def _glued_given_extends() -> pl.Expr:
    """One side's given name, written as one glued word, ends with the other's after whole syllables: a
    multi-syllable given name glued on one record and with its first syllable dropped on the other (the Khmer "Sóc
    Phon" as "Socphon" and "Phon"). A name written in separate words is the spaced rule's: "Hữu Khánh" does not
    end in "Hạnh"."""

    def extends(longer: pl.Expr, shorter: pl.Expr, longer_words: pl.Expr) -> pl.Expr:
        cut = longer.str.len_chars() - shorter.str.len_chars()
        dropped = longer.str.slice(0, cut)
        across = longer.str.slice(cut - 1, 2)
        return (
            (cut > 0)
            & ~longer_words.str.contains(" ", literal=True)
            & (shorter.str.len_chars() >= 2)
            & longer.str.ends_with(shorter)
            & shorter.str.contains(_KEPT_ONSET)
            & dropped.str.contains(_DROPPED_SYLLABLES)
            & ~across.is_in(_ONSETS_OF_TWO)
        )

    glued_l, glued_r = left("given_words_glued"), right("given_words_glued")
    words_l, words_r = left("given_words_key"), right("given_words_key")
    return extends(glued_l, glued_r, words_l) | extends(glued_r, glued_l, words_r)


def _same_given_name() -> pl.Expr:
    """One given name however it was written: glued or split ("Sa Ri"/"Sari"), the words of the whole name in
    another order, or with a middle word dropped ("Hùng Sơn"/"Sơn"). "Quỳnh Sơn" and "Hùng Sơn" are two names."""
    return (
        (left("name_key_glued") == right("name_key_glued"))
        | (left("name_key_sorted") == right("name_key_sorted"))
        | (left("given_words_key") == right("given_words_key"))
        | _given_words_extend()
        | _glued_given_extends()
    )


def _two_names() -> pl.Expr:
    """Both last words are given names of the Vietnamese lists and not the same one: "Trang" and "Trung" are a
    slip apart but name two people (or one person whose name was mistyped into another: the rarer case)."""
    return (left("given_known") & right("given_known") & (left("given_key") != right("given_key"))).fill_null(False)


def _two_real_names() -> pl.Expr:
    """Two given names of the lists that no single slip turns into each other: they start with distinct consonants
    ("Vinh"/"Linh", "Tùng"/"Dung": brothers and sisters often get rhyming names; "Thu"/"Tu" drops a letter of the
    onset and "Sương"/"Xương" is a regional spelling, both slips), or, written with their marks on both records,
    they are two slips apart both as written and as typed in Telex ("Thu"/"Thủy": thu/thủy, thu/thuyr). One
    slip: a letter with its mark dropped ("Thủy"/"Thy", "Hướng"/"Hưng") or one key ("Hòa"/"Hà": hoaf/haf)."""
    return (_two_names() & (_distinct_onsets() | _marked_apart()) & ~_reordered()).fill_null(False)


def _distinct_onsets() -> pl.Expr:
    """The last given words start with consonants no slip or regional spelling confuses ("Vinh"/"Linh")."""
    onset_l, onset_r = left("given_onset"), right("given_onset")
    pair = pl.concat_str([pl.min_horizontal(onset_l, onset_r), pl.max_horizontal(onset_l, onset_r)], separator="|")
    return (
        (onset_l != "")
        & (onset_r != "")
        & ~onset_l.str.starts_with(onset_r)
        & ~onset_r.str.starts_with(onset_l)
        & ~pair.is_in(sorted(_ONSETS_ALIKE))
    )


def _marked_apart() -> pl.Expr:
    """Written with their marks on both records, two slips apart both as written and as typed in Telex."""
    return left("name_marked") & right("name_marked") & (_MARKED_TYPO.expr >= 2) & (_TELEX_TYPO.expr >= 2)


def _reordered() -> pl.Expr:
    """The same words in another order, one slip apart ("Lê Thị Nhung"/"Nhung Le Tho", "Vũ Văn Ý"/"Y Vũ Văn"):
    the last words are not the given names, so they say nothing."""
    return ((left("family_key") != right("family_key")) & _SORTED_TYPO.at_most(1)).fill_null(False)


def _two_written_names() -> pl.Expr:
    """Two given names, whether or not the lists know them (the H'Mông "Dính" and "Sinh", a Thái or Khmer name):
    not one name however written ("Sa Ri"/"Sari"), the same words but the last ("Sóc Pha" and "Sócoha" are one
    name glued with a slip), whose onsets are distinct *and* which are two slips apart as written and as typed.
    A typist's slip changes one thing; a consonant and a tone mark both changed make another name, as likely as not
    in a commune where many people carry short names of one syllable."""
    same_front = left("given_front_key") == right("given_front_key")
    apart = _given_names_differ() & same_front & _distinct_onsets() & _marked_apart()
    return (apart & ~_reordered()).fill_null(False)


def _any_slip() -> pl.Expr:
    """One keystroke apart: in the given words ("Phương Thủy"/"Phương Tủy"), in the last word of a name whose
    family starts alike ("Như Mai"/"Maii": a dropped middle word and a typo; "Phµng Thþ Só"/"Phàng Thị Sú": legacy
    text breaks vowels, not the initial; with another family as well, "Bô Ra" and "Chau Kim Sa", the names share
    nothing but a letter of a short word), or in a name whose words came in another order ("Linh Đỗ Thhị")."""
    family_alike = left("family_key").str.slice(0, 1) == right("family_key").str.slice(0, 1)
    last_word = (_GIVEN_TYPO.expr == 1) & family_alike
    return _GIVEN_WORDS_TYPO.at_most(1) | last_word | _SORTED_TYPO.at_most(1)


def _readable() -> pl.Expr:
    """Both given names have two letters at least (one letter is an initial or a decoding failure)."""
    lengths = (left("given_words_glued").str.len_chars() >= 2) & (right("given_words_glued").str.len_chars() >= 2)
    return lengths.fill_null(False)


def _given_names_agree() -> pl.Expr:
    """For the name comparison: one given name, possibly with a typing slip that does not make another name."""
    return _same_given_name() | (_any_slip() & ~_two_names())


def _given_names_differ() -> pl.Expr:
    """Not one given name, however written (a slip counts as a difference)."""
    return _readable() & ~_same_given_name().fill_null(False)


def _given_names_clearly_differ() -> pl.Expr:
    """Not even one slip apart: "Oanh" and "Uyên Phương", "Xuân Hạnh" and "Kim Anh"; nor a dropped word plus a
    slip that makes another name of the lists ("Tùng" and "Thùy Dung": two names, not one name misspelt twice)."""
    whole_slip = (_GIVEN_WORDS_TYPO.at_most(1) | _SORTED_TYPO.at_most(1)).fill_null(False)
    return _given_names_differ() & (~_any_slip().fill_null(False) | (_two_real_names() & ~whole_slip))


def _given_missing() -> pl.Expr:
    """One side has no given name to tell the person from a brother or sister."""
    return left("given_key").is_null() | right("given_key").is_null()


def _name() -> Comparison:
    jw = Similarity("jaro_winkler", "name_key")
    given = _given_names_agree()
    return Comparison(
        name="name",
        columns=(
            "full_name_norm",
            "name_key",
            "name_key_glued",
            "name_key_no_middle",
            "family_key",
            "given_key",
            "given_words_key",
        ),
        null_condition=any_null("name_key"),
        levels=(
            exact_level("full_name_norm", label="exact", tf=True, description="Họ tên trùng khớp (có dấu)"),
            # Spaces carry no evidence: "Sa Ri"/"Sari", "Ê Ban"/"Êban", "Hhen"/"H'Hen" are one spelling.
            exact_level(
                "name_key_glued",
                label="exact_ascii",
                tf=True,
                description="Họ tên trùng khi bỏ dấu và khoảng trắng (Sa Ri/Sari, Ê Ban/Êban)",
            ),
            exact_level(
                "name_key_no_middle",
                label="no_middle",
                tf=True,
                description="Họ và tên gọi trùng, khác/thiếu tên đệm",
            ),
            ComparisonLevel(
                label="close",
                condition=jw.at_least(0.95) & given,
                similarities=(jw, *_GIVEN_SIMILARITIES),
                gate=jw.at_least(0.95),
                gate_similarities=(jw,),
                description="Họ tên gần giống (lỗi gõ), tên gọi như nhau",
            ),
            ComparisonLevel(
                label="given_same_family_close",
                condition=(left("given_key") == right("given_key")) & jw.at_least(0.85),
                similarities=(jw,),
                description="Tên gọi trùng, họ/tên đệm gần giống",
                # The same last word with other given words ("Hùng Sơn"/"Quỳnh Sơn") or a family a few letters
                # off: brothers share it as often as one person's records, and few training pairs land here (none
                # in a 100,000-person province), so without them it says nothing rather than the floor's -7.6 bits.
                prior_weight=0.0,
            ),
            ComparisonLevel(
                label="similar",
                condition=jw.at_least(0.85) & given,
                similarities=(jw, *_GIVEN_SIMILARITIES),
                gate=jw.at_least(0.85),
                gate_similarities=(jw,),
                # Without the given name, "Nguyễn Thị Oanh" and "Nguyễn Thị Uyên Phương" would be "similar".
                description="Họ tên khá giống và tên gọi như nhau",
            ),
        ),
        description="Họ và tên",
    )


def _birth_date() -> Comparison:
    typo = Similarity("damerau_levenshtein_distance", "birth_date_text")
    full = left("birth_day").is_not_null() & right("birth_day").is_not_null()
    same_year = left("birth_year") == right("birth_year")
    return Comparison(
        name="birth_date",
        columns=(
            "birth_date_value",
            "birth_date_text",
            "birth_date_swapped",
            "birth_date_unordered",
            "birth_day_month",
            "birth_year",
            "birth_month",
            "birth_day",
        ),
        null_condition=any_null("birth_year"),
        levels=(
            ComparisonLevel(
                "exact",
                full & (left("birth_date_value") == right("birth_date_value")),
                description="Ngày sinh trùng khớp",
            ),
            ComparisonLevel(
                "day_month_swapped",
                (left("birth_date_swapped") == right("birth_date_text"))
                | (left("birth_date_text") == right("birth_date_swapped")),
                description="Ngày và tháng sinh bị đảo",
            ),
            ComparisonLevel(
                "one_digit_off",
                full & typo.at_most(1),
                similarities=(typo,),
                description="Ngày sinh sai một chữ số",
                gate=within_one_edit("birth_date_text"),
            ),
            ComparisonLevel(
                "year_off_by_one",
                full
                & (left("birth_day_month") == right("birth_day_month"))
                & ((left("birth_year") - right("birth_year")).abs() == 1),
                description="Cùng ngày và tháng sinh, năm sinh lệch một năm",
            ),
            ComparisonLevel(
                "same_month",
                same_year & (left("birth_month") == right("birth_month")),
                description="Cùng tháng và năm sinh",
            ),
            ComparisonLevel(
                "year_only",
                same_year & (left("birth_month").is_null() | right("birth_month").is_null()),
                description="Cùng năm sinh, một bên chỉ có năm",
            ),
            ComparisonLevel("same_year", same_year, description="Cùng năm sinh, khác ngày tháng"),
        ),
        description="Ngày sinh",
    )


def _person_id() -> Comparison:
    distance = Similarity("damerau_levenshtein_distance", "person_id_norm")
    pid_l, pid_r = left("person_id_norm"), right("person_id_norm")
    old_l, old_r = left("old_id_number"), right("old_id_number")
    # A CMND on one side and a CCCD on the other are unrelated numbers unless equal (12-digit CMNDs were often
    # kept as the new number): their difference is no evidence, so such pairs are "null" for this comparison.
    comparable = (
        (pid_l.is_not_null() & pid_r.is_not_null())
        | (old_l.is_not_null() & old_r.is_not_null())
        | (old_l == pid_r).fill_null(False)
        | (pid_l == old_r).fill_null(False)
    )
    return Comparison(
        name="person_id",
        columns=("person_id_norm", "old_id_number"),
        null_condition=~comparable,
        levels=(
            ComparisonLevel("exact", pid_l == pid_r, description="Số định danh trùng khớp"),
            ComparisonLevel(
                "one_digit_off",
                distance.at_most(1),
                similarities=(distance,),
                description="Số định danh sai một chữ số",
                gate=within_one_edit("person_id_norm"),
            ),
            ComparisonLevel(
                "same_serial",
                (pid_l.str.slice(0, 3) == pid_r.str.slice(0, 3)) & (pid_l.str.slice(6) == pid_r.str.slice(6)),
                description="Số định danh chỉ khác mã thế kỷ/giới tính hoặc năm sinh (nhập sai phần cấu trúc)",
            ),
            ComparisonLevel(
                "same_registration",
                pid_l.str.slice(0, 6) == pid_r.str.slice(0, 6),
                # Twins and brothers or sisters born the same year are registered where the family lives, in one
                # year, with one sex digit: their numbers differ only in the six random digits.
                description="Hai số định danh cùng tỉnh đăng ký, thế kỷ/giới tính và năm sinh, khác sáu số cuối",
            ),
            ComparisonLevel("old_id_exact", old_l == old_r, description="Số CMND cũ trùng khớp"),
            ComparisonLevel(
                "cmnd_vs_cccd",
                (old_l == pid_r) | (pid_l == old_r),
                description="Số CMND một bên trùng số định danh bên kia",
            ),
        ),
        description="Số định danh / CMND",
    )


def _household() -> Comparison:
    """Address and parents as ONE comparison.

    Siblings (twins above all) share the ward, the street and both parents: counted as three independent
    comparisons, that agreement outweighs a different personal ID and a different given name. As one comparison its
    u is measured on the joint agreement, so a household counts once, as it should.
    """
    street = Similarity("jaro_winkler", "permanent_address_street_key")
    ward_l, ward_r = left("permanent_address_ward_code"), right("permanent_address_ward_code")
    legacy_l, legacy_r = left("permanent_address_legacy_ward_code"), right("permanent_address_legacy_ward_code")
    options_l, options_r = left("permanent_address_candidates"), right("permanent_address_candidates")
    father_l, father_r = left("father_name_key"), right("father_name_key")
    mother_l, mother_r = left("mother_name_key"), right("mother_name_key")
    # An old ward split between several current ones has no ward code, only its candidates: a record written with
    # one of them as its ward does not contradict it (the split is what the officer resolved), so the wards agree.
    split_agrees = (ward_l.is_null() & options_l.list.contains(ward_r)) | (
        ward_r.is_null() & options_r.list.contains(ward_l)
    )
    same_ward = (
        (ward_l == ward_r).fill_null(False) | (legacy_l == legacy_r).fill_null(False)
    ) | split_agrees.fill_null(False)
    same_street = same_ward & street.at_least(0.9).fill_null(False)
    both_parents = ((father_l == father_r) & (mother_l == mother_r)).fill_null(False)
    one_parent = ((father_l == father_r).fill_null(False) | (mother_l == mother_r).fill_null(False)) & ~(
        (father_l != father_r).fill_null(False) | (mother_l != mother_r).fill_null(False)
    )
    # Only a field known on both sides can disagree: an address on one record and parents on the other say nothing.
    comparable = (
        ((ward_l.is_not_null() | legacy_l.is_not_null()) & (ward_r.is_not_null() | legacy_r.is_not_null()))
        | (father_l.is_not_null() & father_r.is_not_null())
        | (mother_l.is_not_null() & mother_r.is_not_null())
    )
    return Comparison(
        name="household",
        columns=(
            "permanent_address_ward_code",
            "permanent_address_legacy_ward_code",
            "permanent_address_street_key",
            "permanent_address_candidates",
            "father_name_key",
            "mother_name_key",
        ),
        null_condition=~comparable,
        levels=(
            ComparisonLevel(
                "parents_street",
                both_parents & same_street,
                similarities=(street,),
                description="Cùng cha mẹ và cùng số nhà, đường, phường/xã",
            ),
            ComparisonLevel(
                "parents_ward",
                both_parents & same_ward,
                # Few duplicates moved house inside their ward: a base may give training too few to estimate.
                implies="parents",
                description="Cùng cha mẹ và cùng phường/xã",
            ),
            ComparisonLevel("parents", both_parents, description="Cùng cha mẹ, khác nơi thường trú"),
            ComparisonLevel(
                "parent_street",
                one_parent & same_street,
                similarities=(street,),
                description="Trùng tên cha hoặc mẹ (bên kia trống) và cùng số nhà, đường",
            ),
            ComparisonLevel("street", same_street, similarities=(street,), description="Cùng số nhà, đường, phường/xã"),
            ComparisonLevel("parent_ward", one_parent & same_ward, description="Trùng tên cha hoặc mẹ, cùng phường/xã"),
            ComparisonLevel("parent", one_parent, description="Trùng tên cha hoặc mẹ (bên kia trống), khác nơi ở"),
            ComparisonLevel("ward", same_ward, description="Cùng phường/xã"),
        ),
        description="Hộ gia đình: nơi thường trú và cha mẹ",
    )


def _sex() -> Comparison:
    return Comparison(
        name="sex",
        columns=("sex_norm",),
        null_condition=any_null("sex_norm"),
        levels=(exact_level("sex_norm", description="Cùng giới tính"),),
        description="Giới tính",
    )


def _relative(name: str, column: str, description: str) -> Comparison:
    return Comparison(
        name=name,
        columns=(column,),
        null_condition=any_null(column),
        levels=(
            exact_level(column, description=f"{description}: trùng khớp"),
            similarity_level(column, 0.9, label="similar", description=f"{description}: gần giống"),
        ),
        description=description,
    )


def _vetoes(name: Comparison, birth: Comparison, household: Comparison, person_id: Comparison) -> tuple[Veto, ...]:
    """Who a family's records belong to: within a family only the given name, sex and birth date tell people
    apart. Parents, address, hometown and often a mixed-up ID are shared by brothers, sisters and twins."""
    sex_differ = (left("sex_norm") != right("sex_norm")).fill_null(False)
    birth_differ = levels_in(birth, "same_year", "else")
    same_family = (left("family_key") == right("family_key")).fill_null(False) | levels_in(
        household, "parents_street", "parents_ward", "parents"
    )
    # A sex typed wrong leaves the name as it was; a name that says another sex (Văn/Thị, A/Mỷ, Y/H') is another
    # name, even with the same given name: "Giàng A Sử" and "Giàng Thị Sử", twins, boy and girl.
    name_says_other_sex = (
        sex_differ & (left("name_sex_marker") == left("sex_norm")) & (right("name_sex_marker") == right("sex_norm"))
    ).fill_null(False)
    given_differ = _given_names_differ() | name_says_other_sex
    disagreements = given_differ.cast(pl.Int8) + sex_differ.cast(pl.Int8) + birth_differ.cast(pl.Int8)
    columns = (
        "given_key", "given_words_key", "given_words_glued", "given_known", "name_key_glued", "name_key_sorted",
        "sex_norm", "family_key", "given_onset", "given_word_marked", "given_word_telex", "name_marked",
        "name_sex_marker", "given_front_key",
    )  # fmt: skip
    del name
    return (
        Veto(
            "two_people",
            disagreements >= 2,
            columns=columns,
            similarities=_GIVEN_SIMILARITIES,
            gate=sex_differ | birth_differ,
            description="Khác nhau ở hai trong ba điểm phân biệt người trong một gia đình (tên gọi, giới tính, "
            "ngày sinh; tên đệm chỉ giới tính khác như Văn/Thị, A/Mỷ cũng là tên khác): hai người khác nhau, dù trùng "
            "số định danh, cha mẹ hay địa chỉ",
        ),
        Veto(
            "family_member",
            same_family & _given_names_clearly_differ(),
            columns=columns,
            similarities=_GIVEN_SIMILARITIES,
            gate=same_family,
            description="Cùng gia đình nhưng tên gọi khác hẳn (không chỉ lệch một chữ): anh chị em, sinh đôi hay "
            "không, không phải một người (kể cả khi bị ghi nhầm cùng một số định danh)",
        ),
        Veto(
            "twins_or_typo",
            same_family
            & (
                (levels_in(person_id, "same_registration") & (_given_names_differ() | _given_missing()))
                | (levels_in(person_id, "exact") & (_two_real_names() | _two_written_names()))
            ),
            columns=columns,
            similarities=_GIVEN_SIMILARITIES,
            gate=same_family & levels_in(person_id, "same_registration", "exact"),
            # Anh chị em sinh đôi tên gần giống (Ly/Lả, Panh/Phanh), tên vần nhau (Vinh/Linh), hay một người được
            # cấp lại số và gõ sai tên: cả hai đều có thật, nên cặp này luôn cần người xem, không bao giờ tự ghép.
            max_probability=0.5,
            description="Cùng gia đình, tên gọi không xác nhận là một người: hai số định danh cùng nơi đăng ký và năm "
            "sinh với tên gọi khác nhau (dù chỉ một chữ) hay thiếu tên, hoặc cùng một số với hai tên gọi có thật "
            "không do gõ sai một chữ (Vinh/Linh, Thu/Thủy; Dính/Sinh: khác cả phụ âm đầu lẫn dấu thanh): có thể là "
            "anh chị em sinh đôi, có thể là một người gõ sai tên; cần cán bộ xem xét",
        ),
        Veto(
            "two_registered_births",
            _two_registered_births(),
            columns=("person_id_birth_year", "birth_year"),
            # Not a certainty: a birth year corrected at source is re-registered under a new number, so a person
            # decides; the weights never do (brothers and sisters agree on everything else).
            max_probability=0.5,
            description="Hai số định danh mang hai năm sinh khác nhau, mỗi số khớp năm sinh của chính bản ghi: hai "
            "lần đăng ký khai sinh (anh chị em), hoặc một người đã được sửa năm sinh và cấp số mới; cần cán bộ xem xét",
        ),
    )


def _two_registered_births() -> pl.Expr:
    """Each record's personal ID encodes its own birth year, and the two years differ. A year typed wrong leaves the
    ID contradicting its record; a re-issued number keeps the year digits: neither makes both IDs agree with two
    different years, which is what two children of one family registered years apart look like."""
    id_year_l, id_year_r = left("person_id_birth_year"), right("person_id_birth_year")
    return (
        (id_year_l != id_year_r) & (id_year_l == left("birth_year")) & (id_year_r == right("birth_year"))
    ).fill_null(False)


def population_settings(*, thresholds: Thresholds | None = None) -> MatchSettings:
    """Comparisons, blocking, vetoes and cluster guards for Vietnamese person records."""
    name, birth, person_id, household = _name(), _birth_date(), _person_id(), _household()
    return MatchSettings(
        name="population",
        comparisons=(
            name,
            birth,
            _sex(),
            person_id,
            household,
            _relative("spouse", "spouse_name_key", "Họ tên vợ/chồng"),
        ),
        # Chosen on a generated 1,000,000-person province for full blocking recall at about one candidate pair per
        # record: keys that repeat across a province (family + given + birth year: "Nguyễn Văn Hùng 1980") grow
        # quadratically with it and are only used together with the ward.
        blocking_rules=(
            block_on("person_id_norm", max_block_size=50, name="person_id"),
            block_on("old_id_number", max_block_size=50, name="old_id"),
            block_on("name_key_glued", "birth_date_unordered", max_block_size=200, name="name+birth_date"),
            block_on("given_key", "birth_date_value", max_block_size=200, name="given+birth_date"),
            block_on("permanent_address_ward_code", "birth_date_value", max_block_size=100, name="ward+birth_date"),
            block_on(
                "permanent_address_ward_code",
                "family_key",
                "given_key",
                "birth_year",
                max_block_size=100,
                name="ward+family+given+birth_year",
            ),
            block_on("father_name_key", "mother_name_key", max_block_size=30, name="parents"),
            # Same mother, same birthday: the record itself or a twin; survives a mistyped name and a missing ID.
            block_on("mother_name_key", "birth_date_unordered", max_block_size=30, name="mother+birth_date"),
            # Same name, same day and month: a birth year typed one off (or a century typo).
            block_on("name_key_glued", "birth_day_month", max_block_size=100, name="name+day_month"),
        ),
        thresholds=thresholds or Thresholds(match=0.99, review=0.5, strong_link=0.9999),
        conflicts=(
            ConflictRule("valid_person_id"),
            ConflictRule("birth_year", tolerance=1),
            # Another sex and another given name: two people, whichever records link them.
            ConflictRule("sex_norm", also=("given_key",)),
        ),
        derived=_DERIVED,
        # Rules that mostly pair relatives (parents, ward) would teach EM "same household", not "same person".
        training_rules=("person_id", "name+birth_date"),
        vetoes=_vetoes(name, birth, household, person_id),
    )
