"""Chinese for the sentences ingestion writes about a file.

The ingestion layer explains its choices in English ("recognised name ('caseid')", "column
'time' holds ISO 8601 timestamps"). Those sentences are data in the JSON document, so the
report translates the known shapes for the Chinese page and shows anything else as it came.
"""

from __future__ import annotations

import re

_ZH: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^named on the command line$"), "命令行指定"),
    (re.compile(r"^preset '(?P<a>.+)'$"), "预设 '{a}'"),
    (re.compile(r"^recognised name \('(?P<a>.+)'\)$"), "按列名识别（'{a}'）"),
    (re.compile(r"^no matching column$"), "没有匹配的列"),
    (re.compile(r"^column '(?P<a>.+)' holds ISO 8601 timestamps$"), "列 '{a}' 为 ISO 8601 时间戳"),
    (
        re.compile(r"^column '(?P<a>.+)' holds year-first dates \((?P<b>.+)\)$"),
        "列 '{a}' 为年份在前的日期（{b}）",
    ),
    (
        re.compile(r"^column '(?P<a>.+)' holds Unix epochs in seconds$"),
        "列 '{a}' 为 Unix 时间戳（秒）",
    ),
    (
        re.compile(r"^column '(?P<a>.+)' holds Unix epochs in milliseconds$"),
        "列 '{a}' 为 Unix 时间戳（毫秒）",
    ),
    (re.compile(r"^column '(?P<a>.+)' is typed (?P<b>.+)$"), "列 '{a}' 的类型为 {b}"),
    (
        re.compile(
            r"^column '(?P<a>.+)': day-first: first date parts reach (?P<b>\d+), so they are days$"
        ),
        "列 '{a}'：日在前（第一段最大为 {b}，只能是日）",
    ),
    (
        re.compile(
            r"^column '(?P<a>.+)': month-first: second date parts reach (?P<b>\d+), so they are days$"
        ),
        "列 '{a}'：月在前（第二段最大为 {b}，只能是日）",
    ),
    (
        re.compile(
            r"^column '(?P<a>.+)': date order (?P<b>dmy|mdy), as given by the preset or --date-order$"
        ),
        "列 '{a}'：日期顺序 {b}（由预设或 --date-order 指定）",
    ),
    (
        re.compile(r"^timestamps without an offset were read as (?P<a>.+) local time$"),
        "没有时区偏移的时间戳按 {a} 当地时间读取",
    ),
    (
        re.compile(r"^decoded from (?P<a>\S+) to UTF-8 \(detected; override with --encoding\)$"),
        "已从检测到的 {a} 编码转为 UTF-8（可用 --encoding 指定）",
    ),
    (re.compile(r"^decoded from (?P<a>\S+) to UTF-8$"), "已从 {a} 编码转为 UTF-8"),
    (
        re.compile(
            r"^events with a local time that occurs twice in (?P<a>\S+) \(clocks going back\): "
            r"(?P<b>[\d,]+); without an offset they were read as the second occurrence$"
        ),
        "{b} 个事件的当地时间在 {a} 出现两次（夏令时结束、时钟回拨）；没有时区偏移，按第二次出现读取",
    ),
    (
        re.compile(
            r"^events with a lifecycle other than 'complete' \(such as 'start'\) set aside: "
            r"(?P<a>[\d,]+); each activity instance is counted once, when it completes$"
        ),
        "生命周期不是 'complete' 的事件（如 'start'）已放在一边：{a} 个；每个活动实例只在完成时计一次",
    ),
    (
        re.compile(r"^timestamp out of range \(before 1900 or after 2199\)$"),
        "时间戳超出范围（早于 1900 年或晚于 2199 年）",
    ),
    (re.compile(r"^empty case id$"), "工单编号为空"),
    (re.compile(r"^empty activity$"), "活动为空"),
    (re.compile(r"^empty timestamp$"), "时间戳为空"),
    (re.compile(r"^unparseable timestamp$"), "无法解析的时间戳"),
    (re.compile(r"^malformed CSV line \((?P<a>[^)]*)\): (?P<b>.+)$"), "CSV 行格式错误（{a}）：{b}"),
]


def source_text(text: str, *, lang: str) -> str:
    """``text`` in ``lang`` when it is a sentence of known shape, else ``text`` unchanged."""
    if lang != "zh":
        return text
    for pattern, template in _ZH:
        match = pattern.match(text)
        if match is not None:
            return template.format(**match.groupdict())
    return text
