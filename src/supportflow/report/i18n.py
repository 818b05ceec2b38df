"""The report's words in each language it speaks: English (``en``) and Simplified Chinese (``zh``).

Every string a reader sees comes from one dictionary per language, keyed alike, so a missing
translation is a test failure rather than an English word in a Chinese report. Sentences carry
named ``{placeholders}`` that :mod:`supportflow.report.narrative` and the template fill with
numbers already formatted for the language. Text taken from the user's log (activity, agent
and team names) and from the document (mapping reasons, notes) is shown as it came.
"""

from __future__ import annotations

from dataclasses import dataclass

from supportflow.report.formatting import NumberFormat
from supportflow.report.i18n_kpi import EN_KPI, ZH_KPI

EN: dict[str, str] = {
    "title": "Process diagnosis",
    "toc": "Contents",
    "sec_overview": "Overview",
    "sec_findings": "Key findings",
    "sec_map": "Process map",
    "sec_bottlenecks": "Bottlenecks",
    "sec_heatmaps": "When work arrives and waits",
    "sec_variants": "Variants",
    "sec_rework": "Rework and ping-pong",
    "sec_handovers": "Handovers",
    "sec_workload": "Workload",
    # overview
    "hdr_file": "File",
    "hdr_events": "Events",
    "hdr_cases": "Cases (tickets)",
    "hdr_activities": "Activities",
    "hdr_variants": "Variants",
    "hdr_period": "Period",
    "hdr_timezone": "Time zone",
    "hdr_rejected": "Rejected rows",
    "hdr_format": "Format",
    "hdr_encoding": "Encoding",
    "hdr_timestamp_format": "Timestamp format",
    "hdr_case_duration": "Case duration",
    "hdr_case_duration_value": "median {median}, mean {mean}, 90th percentile {p90}",
    "hdr_rejects_file": "Rejected rows written to",
    "hdr_reject_reasons": "Reasons for rejected rows",
    "hdr_mapping": "Column mapping used",
    "hdr_notes": "Notes from reading the file",
    "col_field": "Field",
    "col_column": "Column in the file",
    "col_reason": "Why",
    "not_mapped": "not mapped",
    "unknown": "unknown",
    "period_value": "{first} to {last}",
    # findings
    "no_findings": "Nothing stands out in this log.",
    "sentence": "{text}.",
    "impact": "Attributable case time: {impact}",
    "f_bottleneck_transition_head": "“{source} → {target}” holds {share} of all case time",
    "f_bottleneck_transition_body": (
        "Median wait {median}, 90th percentile {p90}, over {count} transitions "
        "({total} of waiting in all)."
    ),
    "f_rework_head": "{cases} cases ({share}) repeat an activity",
    "f_rework_longer": (
        "They take {extra} longer: median {with_rework} with rework against "
        "{without_rework} without."
    ),
    "f_rework_top": "Repeated most often: “{activity}” ({activity_cases} cases).",
    "f_rework_loops": "Immediate repeats: {repeat} by the same agent, {redo} by another agent.",
    "f_rejected_rows_head": "{rows} rows of the file were left out ({share})",
    "f_rejected_rows_body": "No figure in this report includes them.",
    "f_rejected_rows_reason": "Most common reason: “{reason}” ({reason_rows} rows).",
    "f_pingpong_team_head": "{cases} cases ({share}) bounced back to a team they had left",
    "f_pingpong_resource_head": "{cases} cases ({share}) bounced back to an agent they had left",
    "f_pingpong_activity_head": "{cases} cases ({share}) went back to an earlier activity",
    "f_pingpong_team_body": "Each went team X → team Y → team X at least once.",
    "f_pingpong_resource_body": "Each went agent X → agent Y → agent X at least once.",
    "f_pingpong_activity_body": "Each has the pattern A → B → A (B different from A).",
    "f_handover_hotspot_team_head": "Most frequent handover between teams: “{source}” → “{target}”",
    "f_handover_hotspot_resource_head": (
        "Most frequent handover between agents: “{source}” → “{target}”"
    ),
    "f_handover_hotspot_body": "{count} handovers in {cases} cases ({share} of all cases).",
    "f_case_duration_spread_head": "Half the cases finish within {median}",
    "f_case_duration_spread_body": "One in ten takes longer than {p90}; the longest took {max}.",
    "f_variant_coverage_head": "The most common path covers {share} of cases",
    "f_variant_coverage_body": "{path} ({cases} cases).",
    "f_variant_coverage_tail": (
        "The top {top_n} paths cover {top_n_share}; the other {tail} variants share the "
        "remaining {tail_share}."
    ),
    "f_wait_hour_peak_head": "Waits that start on {weekday} at {hour} last longest",
    "f_wait_hour_peak_body": "Median {median} over {count} waits that started in that hour.",
    "f_arrival_peak_head": "Most cases arrive on {weekday} at {hour}",
    "f_arrival_peak_body": (
        "{arrivals} arrivals ({share}) in that hour of the week. {busiest_weekday} is the "
        "busiest day ({weekday_share}) and {busiest_hour} the busiest hour ({hour_share})."
    ),
    # process map
    "map_view": "Show",
    "map_frequency": "Frequency",
    "map_waiting": "Waiting time",
    "map_threshold": "Hide rare paths: minimum times followed",
    "map_status": "{activities} activities and {paths} of {total} paths shown.",
    "map_loading": "Drawing the process map…",
    "map_error": "The process map could not be drawn:",
    "map_start": "start",
    "map_end": "end",
    "map_legend_frequency": (
        "Arrow label: how many times the second activity directly followed the first; "
        "thicker arrows are more frequent."
    ),
    "map_legend_waiting": (
        "Arrow label: median wait between the two activities; the redder the arrow, the more "
        "waiting it holds in total."
    ),
    "map_capped": "Only the {shown} most frequent of {total} paths are in this report.",
    "map_floor": (
        "Paths followed fewer than {count} times are always hidden: a map of more than {max} "
        "arrows takes too long to draw. The bottleneck table lists the costly ones."
    ),
    "map_noscript": "The process map needs JavaScript.",
    "map_tip_edge": (
        "{source} → {target}: {count} times, median wait {median}, 90th percentile {p90}, "
        "total {total}"
    ),
    "map_tip_node": "{name}: {events} events",
    # tables
    "col_transition": "Transition",
    "col_count": "Times",
    "col_total_wait": "Total wait",
    "col_share_of_case_time": "Share of case time",
    "col_median": "Median",
    "col_mean": "Mean",
    "col_p90": "90th pct.",
    "col_rank": "#",
    "col_path": "Path",
    "col_cases": "Cases",
    "col_share": "Share",
    "col_median_duration": "Median duration",
    "col_from": "From",
    "col_to": "To",
    "col_handovers": "Handovers",
    "col_name": "Name",
    "col_events": "Events",
    "top_rows": "Showing the {shown} largest of the {total} rows in the diagnosis document.",
    "more_steps": "… {count} more steps",
    "no_data": "No data: the column was not mapped, or the log has no such events.",
    # heatmaps
    "heat_arrivals": "Cases arriving, by weekday and hour",
    "heat_wait": "Median wait, by the hour the wait started",
    "heat_timezone": "Hours are in {timezone}.",
    "heat_tip_arrivals": "{weekday} {hour}: {count} arrivals",
    "heat_tip_wait": "{weekday} {hour}: median {median} over {count} waits",
    "heat_tip_no_wait": "{weekday} {hour}: no waits",
    "heat_less": "less",
    "heat_more": "more",
    # variants
    "variants_shown": "The {shown} most frequent of {total} variants; together {share} of cases.",
    # rework and ping-pong
    "rw_cases": "Cases with rework",
    "rw_self_loop_cases": "Cases with an immediate repeat",
    "rw_repeat": "Immediate repeats by the same agent",
    "rw_redo": "Immediate repeats by another agent",
    "rw_median_with": "Median duration with rework",
    "rw_median_without": "Median duration without rework",
    "rw_per_activity": "Cases repeating each activity",
    "pp_title": "Ping-pong",
    "pp_activity": "Cases with A → B → A on activities",
    "pp_team": "Cases bounced back to a team",
    "pp_resource": "Cases bounced back to an agent",
    "not_available": "not available (column not mapped)",
    # handovers and workload
    "ho_resources": "Between agents",
    "ho_teams": "Between teams",
    "wl_resources": "Events per agent",
    "wl_teams": "Events per team",
    # footer
    "footer_generated": "Generated by {generator}, document schema {schema}.",
    "footer_licences": (
        "The process map is drawn in your browser by Graphviz {graphviz} (EPL-1.0, source at "
        "gitlab.com/graphviz/graphviz), compiled to WebAssembly by @hpcc-js/wasm-graphviz "
        "{package} (Apache-2.0), which includes Expat (MIT)."
    ),
    **EN_KPI,
}

ZH: dict[str, str] = {
    "title": "流程诊断报告",
    "toc": "目录",
    "sec_overview": "概览",
    "sec_findings": "主要发现",
    "sec_map": "流程图",
    "sec_bottlenecks": "瓶颈",
    "sec_heatmaps": "工单何时到达、何时等待",
    "sec_variants": "流程变体",
    "sec_rework": "返工与来回转交",
    "sec_handovers": "工作交接",
    "sec_workload": "工作量",
    "hdr_file": "文件",
    "hdr_events": "事件数",
    "hdr_cases": "工单数",
    "hdr_activities": "活动数",
    "hdr_variants": "变体数",
    "hdr_period": "时间范围",
    "hdr_timezone": "时区",
    "hdr_rejected": "被拒绝的行",
    "hdr_format": "格式",
    "hdr_encoding": "编码",
    "hdr_timestamp_format": "时间戳格式",
    "hdr_case_duration": "工单处理时长",
    "hdr_case_duration_value": "中位数 {median}，平均 {mean}，90 分位 {p90}",
    "hdr_rejects_file": "被拒绝的行已写入",
    "hdr_reject_reasons": "行被拒绝的原因",
    "hdr_mapping": "所用的列映射",
    "hdr_notes": "读取文件时的说明",
    "col_field": "字段",
    "col_column": "文件中的列",
    "col_reason": "依据",
    "not_mapped": "未映射",
    "unknown": "未知",
    "period_value": "{first} 至 {last}",
    "no_findings": "此日志中没有突出的问题。",
    "sentence": "{text}。",
    "impact": "可归因的工单时间：{impact}",
    "f_bottleneck_transition_head": "“{source} → {target}”占全部工单时间的 {share}",
    "f_bottleneck_transition_body": (
        "共 {count} 次转换，等待中位数 {median}，90 分位 {p90}（等待合计 {total}）。"
    ),
    "f_rework_head": "{cases} 个工单（{share}）重复执行了某个活动",
    "f_rework_longer": (
        "它们多用了 {extra}：有返工的时长中位数为 {with_rework}，无返工的为 {without_rework}。"
    ),
    "f_rework_top": "最常重复的活动：“{activity}”（{activity_cases} 个工单）。",
    "f_rework_loops": "立即重复：同一处理人 {repeat} 次，另一处理人 {redo} 次。",
    "f_rejected_rows_head": "文件中有 {rows} 行未被采用（{share}）",
    "f_rejected_rows_body": "本报告的所有数字都不包含这些行。",
    "f_rejected_rows_reason": "最常见的原因：“{reason}”（{reason_rows} 行）。",
    "f_pingpong_team_head": "{cases} 个工单（{share}）被退回到已离开的团队",
    "f_pingpong_resource_head": "{cases} 个工单（{share}）被退回到已离开的处理人",
    "f_pingpong_activity_head": "{cases} 个工单（{share}）回到了之前的活动",
    "f_pingpong_team_body": "每个工单至少经历过一次 团队 X → 团队 Y → 团队 X。",
    "f_pingpong_resource_body": "每个工单至少经历过一次 处理人 X → 处理人 Y → 处理人 X。",
    "f_pingpong_activity_body": "每个工单都出现了 A → B → A 的模式（B 不同于 A）。",
    "f_handover_hotspot_team_head": "团队之间最频繁的交接：“{source}” → “{target}”",
    "f_handover_hotspot_resource_head": "处理人之间最频繁的交接：“{source}” → “{target}”",
    "f_handover_hotspot_body": "{cases} 个工单中共交接 {count} 次（占全部工单的 {share}）。",
    "f_case_duration_spread_head": "一半的工单在 {median} 内完成",
    "f_case_duration_spread_body": "十分之一的工单超过 {p90}；最长的用了 {max}。",
    "f_variant_coverage_head": "最常见的路径覆盖 {share} 的工单",
    "f_variant_coverage_body": "{path}（{cases} 个工单）。",
    "f_variant_coverage_tail": "前 {top_n} 条路径覆盖 {top_n_share}；其余 {tail} 个变体共占剩下的 {tail_share}。",
    "f_wait_hour_peak_head": "{weekday} {hour} 开始的等待最长",
    "f_wait_hour_peak_body": "该时段开始的 {count} 次等待，中位数为 {median}。",
    "f_arrival_peak_head": "工单最多在{weekday} {hour} 到达",
    "f_arrival_peak_body": (
        "该时段共到达 {arrivals} 个（{share}）。{busiest_weekday}是最忙的一天（{weekday_share}），"
        "{busiest_hour} 是最忙的时段（{hour_share}）。"
    ),
    "map_view": "显示",
    "map_frequency": "频次",
    "map_waiting": "等待时间",
    "map_threshold": "隐藏少见路径：最低出现次数",
    "map_status": "显示 {activities} 个活动，{total} 条路径中的 {paths} 条。",
    "map_loading": "正在绘制流程图……",
    "map_error": "流程图无法绘制：",
    "map_start": "开始",
    "map_end": "结束",
    "map_legend_frequency": "箭头标签：后一个活动紧接在前一个活动之后发生的次数；箭头越粗越频繁。",
    "map_legend_waiting": "箭头标签：两个活动之间等待时间的中位数；箭头越红，累计等待越多。",
    "map_capped": "本报告只包含 {total} 条路径中最频繁的 {shown} 条。",
    "map_floor": "出现少于 {count} 次的路径始终隐藏：超过 {max} 条箭头的流程图绘制太慢。代价高的路径见瓶颈表。",
    "map_noscript": "流程图需要启用 JavaScript。",
    "map_tip_edge": "{source} → {target}：{count} 次，等待中位数 {median}，90 分位 {p90}，合计 {total}",
    "map_tip_node": "{name}：{events} 个事件",
    "col_transition": "转换",
    "col_count": "次数",
    "col_total_wait": "总等待",
    "col_share_of_case_time": "占工单总时间",
    "col_median": "中位数",
    "col_mean": "平均",
    "col_p90": "90 分位",
    "col_rank": "#",
    "col_path": "路径",
    "col_cases": "工单数",
    "col_share": "占比",
    "col_median_duration": "时长中位数",
    "col_from": "从",
    "col_to": "到",
    "col_handovers": "交接次数",
    "col_name": "名称",
    "col_events": "事件数",
    "top_rows": "诊断文档中共 {total} 行，显示最大的 {shown} 行。",
    "more_steps": "……另有 {count} 步",
    "no_data": "无数据：未映射该列，或日志中没有此类事件。",
    "heat_arrivals": "按星期和小时统计的工单到达量",
    "heat_wait": "按等待开始时刻统计的等待中位数",
    "heat_timezone": "时间按 {timezone} 计。",
    "heat_tip_arrivals": "{weekday} {hour}：到达 {count} 个",
    "heat_tip_wait": "{weekday} {hour}：{count} 次等待，中位数 {median}",
    "heat_tip_no_wait": "{weekday} {hour}：无等待",
    "heat_less": "少",
    "heat_more": "多",
    "variants_shown": "共 {total} 个变体，显示最常见的 {shown} 个，合计覆盖 {share} 的工单。",
    "rw_cases": "有返工的工单",
    "rw_self_loop_cases": "有立即重复的工单",
    "rw_repeat": "同一处理人立即重复",
    "rw_redo": "另一处理人立即重复",
    "rw_median_with": "有返工的时长中位数",
    "rw_median_without": "无返工的时长中位数",
    "rw_per_activity": "各活动的返工工单数",
    "pp_title": "来回转交",
    "pp_activity": "活动出现 A → B → A 的工单",
    "pp_team": "被退回团队的工单",
    "pp_resource": "被退回处理人的工单",
    "not_available": "不可用（未映射该列）",
    "ho_resources": "处理人之间",
    "ho_teams": "团队之间",
    "wl_resources": "各处理人的事件数",
    "wl_teams": "各团队的事件数",
    "footer_generated": "由 {generator} 生成，文档结构版本 {schema}。",
    "footer_licences": (
        "流程图由浏览器中的 Graphviz {graphviz}（EPL-1.0，源代码见 gitlab.com/graphviz/graphviz）"
        "绘制，经 @hpcc-js/wasm-graphviz {package}（Apache-2.0）编译为 WebAssembly，"
        "其中包含 Expat（MIT）。"
    ),
    **ZH_KPI,
}


@dataclass(frozen=True)
class Language:
    """Everything that changes with the report's language."""

    code: str
    html_lang: str
    text: dict[str, str]
    numbers: NumberFormat
    weekdays: tuple[str, ...]

    def say(self, key: str, **values: object) -> str:
        """The string ``key`` with its placeholders filled in."""
        return self.text[key].format(**values) if values else self.text[key]

    def hour(self, hour: int) -> str:
        """An hour of the day as the start of that hour, ``"09:00"``."""
        return f"{hour:02d}:00"


def language(code: str) -> Language:
    """The :class:`Language` for ``code`` (``"en"`` or ``"zh"``); ``ValueError`` otherwise."""
    if code == "en":
        return Language(
            code="en",
            html_lang="en",
            text=EN,
            numbers=NumberFormat(second="s", minute="min", hour="h", day="d"),
            weekdays=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        )
    if code == "zh":
        return Language(
            code="zh",
            html_lang="zh-CN",
            text=ZH,
            numbers=NumberFormat(second="秒", minute="分钟", hour="小时", day="天"),
            weekdays=("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
        )
    raise ValueError(f"unknown report language {code!r}: use 'en' or 'zh'")


LANGUAGES: tuple[str, ...] = ("en", "zh")
"""The language codes :func:`language` accepts."""
