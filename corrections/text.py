"""Vietnamese wording shared by task descriptions, the console and the Excel export, and ID masking."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "DECISION_NAMES",
    "DEFAULT_COMPARISONS",
    "DISPLAY_FIELDS",
    "FIELD_LABELS",
    "PRIORITY_NAMES",
    "QUALITY_GUIDANCE",
    "QUALITY_NAMES",
    "RESOLUTION_NAMES",
    "REVIEW_STATE_NAMES",
    "ROLE_NAMES",
    "RULE_FIELDS",
    "STATE_NAMES",
    "TASK_TYPE_NAMES",
    "ComparisonInfo",
    "format_probability",
    "mask_id",
    "mask_ids_in",
]

QUALITY_NAMES: Final = {"đúng": "Đúng", "đủ": "Đủ", "sạch": "Sạch", "sống": "Sống"}
QUALITY_GUIDANCE: Final = {
    "đúng": "Đối chiếu giấy tờ gốc với công dân và sửa thông tin sai trên hệ thống nguồn.",
    "đủ": "Bổ sung thông tin hoặc bản ghi còn thiếu trên hệ thống nguồn.",
    "sạch": "Xác minh các bản ghi; nếu cùng một người thì hợp nhất về một bản ghi, một số định danh.",
    "sống": "Cập nhật biến động (chuyển đi, chết, cấp đổi thẻ, xác minh lại) trên hệ thống nguồn.",
}
STATE_NAMES: Final = {"open": "Chưa xử lý", "in_progress": "Đang xử lý", "resolved": "Đã đóng"}
RESOLUTION_NAMES: Final = {
    "fixed_at_source": "Đã sửa trên hệ thống nguồn",
    "not_an_error": "Không phải lỗi",
    "merged": "Đã hợp nhất bản ghi",
    "defect_gone": "Tự đóng: lỗi không còn trong dữ liệu đêm nay",
}
ROLE_NAMES: Final = {
    "ward_officer": "Cán bộ Công an xã/phường",
    "data_officer": "Cán bộ quản lý dữ liệu (tỉnh)",
    "admin": "Quản trị hệ thống",
}
DECISION_NAMES: Final = {"same": "Cùng một người", "different": "Hai người khác nhau", "unsure": "Chưa chắc chắn"}
REVIEW_STATE_NAMES: Final = {"pending": "Chờ xem xét", "decided": "Đã quyết định", "withdrawn": "Không còn cần xem"}
PRIORITY_NAMES: Final = {1: "Cao", 2: "Trung bình", 3: "Thấp"}
TASK_TYPE_NAMES: Final = {
    "duplicate": "Trùng bản ghi",
    "record_fix": "Sửa thông tin",
    "missing": "Thiếu thông tin/bản ghi",
    "update": "Cập nhật biến động",
}

FIELD_LABELS: Final = {
    "record_id": "Mã bản ghi",
    "source": "Nguồn",
    "person_id": "Số định danh",
    "full_name": "Họ và tên",
    "birth_date": "Ngày sinh",
    "sex": "Giới tính",
    "permanent_address": "Nơi thường trú",
    "current_address": "Nơi ở hiện tại",
    "hometown": "Quê quán",
    "father_name": "Họ tên cha",
    "mother_name": "Họ tên mẹ",
    "spouse_name": "Họ tên vợ/chồng",
    "ethnicity": "Dân tộc",
    "old_id_number": "Số CMND cũ",
    "event_type": "Loại sự kiện",
    "birth_place": "Nơi sinh",
    "death_date": "Ngày chết",
    "death_place": "Nơi chết",
    "card_number": "Số thẻ căn cước",
    "card_issue_date": "Ngày cấp thẻ",
    "card_expiry_date": "Ngày hết hạn thẻ",
    "card_issue_place": "Nơi cấp thẻ",
    "registration_place": "Nơi đăng ký",
    "registration_date": "Ngày đăng ký",
    "residence_type": "Loại cư trú",
    "household_id": "Mã hộ",
    "relation_to_head": "Quan hệ với chủ hộ",
    "last_verified_date": "Ngày xác minh gần nhất",
    "source_file": "Tệp nguồn",
    "source_row": "Dòng trong tệp",
}
DISPLAY_FIELDS: Final = tuple(FIELD_LABELS)
"""The canonical columns shown side by side, in this order."""

SOURCE_NAMES: Final = {
    "base": "CSDL dân cư",
    "residence": "Cư trú",
    "civil_status": "Hộ tịch",
    "card": "Cấp thẻ CCCD",
    "register": "Sổ dân cư sạch (hiện ghi)",
}

RULE_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    # The fields each rule of ``checks`` is about, so the task page can highlight them.
    "duplicate_person": ("full_name", "birth_date", "person_id"),
    "shared_person_id": ("person_id", "full_name", "birth_date"),
    "legacy_encoded_text": ("full_name", "permanent_address", "current_address", "hometown"),
    "name_not_normalized": ("full_name",),
    "address_legacy_form": ("permanent_address", "current_address"),
    "required_field_missing": (),
    "adult_without_card": ("birth_date", "card_number"),
    "birth_without_person_record": ("full_name", "birth_date", "event_type"),
    "card_without_person_record": ("person_id", "full_name", "birth_date", "card_number"),
    "household_without_head": ("household_id", "relation_to_head"),
    "id_structure_invalid": ("person_id",),
    "id_birth_year_mismatch": ("person_id", "birth_date"),
    "id_sex_mismatch": ("person_id", "sex"),
    "birth_in_future": ("birth_date",),
    "death_before_birth": ("death_date", "birth_date"),
    "death_in_future": ("death_date",),
    "card_issued_before_birth": ("card_issue_date", "birth_date"),
    "card_issued_in_future": ("card_issue_date",),
    "card_expiry_before_issue": ("card_expiry_date", "card_issue_date"),
    "address_unresolved": ("permanent_address", "current_address"),
    "address_ambiguous": ("permanent_address", "current_address"),
    "ethnicity_not_recognized": ("ethnicity",),
    "cross_source_mismatch": (),
    "death_not_reflected": ("death_date", "event_type"),
    "move_not_reflected": ("permanent_address", "current_address", "residence_type"),
    "card_expired": ("card_expiry_date", "card_issue_date"),
    "not_verified_recently": ("last_verified_date",),
}


@dataclass(frozen=True, slots=True)
class ComparisonInfo:
    """How to word one comparison of the matching engine: its title and the description of each level.

    ``levels`` maps a level label (e.g. "exact") to its description; ``codes`` lists labels by level code when the
    pairs carry Int8 codes instead of labels.
    """

    title: str
    levels: dict[str, str] = field(default_factory=dict)
    codes: tuple[str, ...] = ()

    def describe(self, level: object) -> str:
        if isinstance(level, int) and not isinstance(level, bool):
            if not 0 <= level < len(self.codes):
                return f"Mức {level}"
            level = self.codes[level]
        text = str(level)
        return self.levels.get(text, _GENERIC_LEVELS.get(text, text))


_GENERIC_LEVELS: Final = {
    "null": "Không so sánh được (thiếu thông tin)",
    "else": "Khác nhau",
    "exact": "Trùng khớp",
    "similar": "Gần giống",
}

DEFAULT_COMPARISONS: Final = {
    "name": ComparisonInfo("Họ và tên"),
    "birth_date": ComparisonInfo("Ngày sinh"),
    "sex": ComparisonInfo("Giới tính"),
    "person_id": ComparisonInfo("Số định danh / CMND"),
    "address": ComparisonInfo("Nơi thường trú"),
    "father": ComparisonInfo("Họ tên cha"),
    "mother": ComparisonInfo("Họ tên mẹ"),
    "spouse": ComparisonInfo("Họ tên vợ/chồng"),
}


def mask_id(value: str | None) -> str:
    """Hide the middle of a personal ID: ``001090123456`` -> ``0010••••••56``; short values are hidden whole."""
    if not value:
        return ""
    if len(value) < 8:
        return "•" * len(value)
    return value[:4] + "•" * (len(value) - 6) + value[-2:]


def format_probability(value: float) -> str:
    """A probability as a Vietnamese percentage (decimal comma)."""
    return f"{value * 100:.1f}".replace(".", ",") + "%"


_ID_IN_TEXT: Final = re.compile(r"\b(?:[0-9]{12}|[0-9]{9})\b")


def mask_ids_in(text: str | None) -> str:
    """``text`` with every personal ID in it (a 12-digit CCCD or a 9-digit CMND standing alone) masked like
    ``mask_id``: descriptions and notes quote IDs, and wherever IDs are masked the text beside them must be too."""
    if not text:
        return ""
    return _ID_IN_TEXT.sub(lambda match: mask_id(match.group(0)), text)
