"""Vietnamese names of the English codes of compliance, for tables and reports.

The codes (JSON keys and values, database columns) stay English and fixed; people
read the names here, in the words an inspector writes (issue 10 §5): "có giấy phép",
"miễn giấy phép", "chưa xác định", "phân kênh tần số", "chứng cứ". A code without a
name here is shown as itself.
"""

from __future__ import annotations

__all__ = [
    "CLASS_VI",
    "STATUS_VI",
    "CASE_KIND_VI",
    "FINDING_KIND_VI",
    "DISMISS_REASON_VI",
    "MATTER_VI",
    "SEVERITY_VI",
    "VERDICT_VI",
    "vi",
]

#: Emitter classes (``Classification.emitter_class``).
CLASS_VI = {
    "licensed": "có giấy phép",
    "foreign": "đài nước ngoài",
    "exempt": "miễn giấy phép",
    "unknown": "chưa xác định",
    "band_licence": "giấy phép băng tần",
    "not_monitored": "không thuộc diện giám sát",
}
#: Case statuses of both lifecycles (compliance/lifecycle.py).
STATUS_VI = {
    "new": "mới",
    "triaged": "đã phân loại",
    "field_verification": "kiểm tra thực địa",
    "enforcement": "xử lý vi phạm",
    "closed": "đã kết thúc",
    "dismissed": "đã bác bỏ",
    "report_drafted": "đã lập báo cáo",
    "reported": "đã báo cáo Cục Tần số vô tuyến điện",
}
CASE_KIND_VI = {
    "sanction": "vụ việc vi phạm",
    "coordination": "vấn đề phối hợp tần số",
}
#: Finding kinds (compliance/reference.py FINDING_KINDS).
FINDING_KIND_VI = {
    "unlicensed_emission": "phát xạ không có giấy phép",
    "frequency_out_of_tolerance": "không đúng tần số quy định trong giấy phép",
    "bandwidth_exceeded": "vượt độ rộng băng tần cần thiết",
    "off_channel_raster": "lệch phân kênh tần số (thông tin)",
    "licence_not_valid": "giấy phép hết hạn, bị đình chỉ hoặc thu hồi",
    "power_exceeded": "phát vượt quá công suất quy định trong giấy phép",
    "cross_border_over_trigger": "đài nước ngoài vượt ngưỡng phối hợp",
    "exempt_limit_exceeded": "thiết bị miễn giấy phép vượt điều kiện kỹ thuật",
}
DISMISS_REASON_VI = {
    "foreign_coordinated": "đã phối hợp với nước ngoài",
    "known": "đài đã biết",
    "false_alarm": "báo động nhầm",
}
MATTER_VI = {
    "sanction": "vi phạm",
    "coordination": "phối hợp",
    "information": "thông tin",
}
SEVERITY_VI = {"low": "thấp", "medium": "trung bình", "high": "cao"}


def vi(table: dict[str, str], code: str | None) -> str:
    """The Vietnamese name of ``code`` in ``table`` (the code itself when not listed,
    ``"-"`` for ``None``).

    Examples
    --------
    >>> vi(CLASS_VI, "unknown"), vi(STATUS_VI, "archived"), vi(STATUS_VI, None)
    ('chưa xác định', 'archived', '-')
    """
    if code is None:
        return "-"
    return table.get(code, code)

#: Border verdicts of a located emitter (compliance.location).
VERDICT_VI = {
    "vietnam": "phía Việt Nam",
    "foreign": "phía nước ngoài",
    "undetermined": "chưa xác định",
}
