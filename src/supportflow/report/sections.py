"""The report's sections as the template needs them: rows already formatted, long lists capped.

The diagnosis document of a 5-million-event log is no bigger than that of a small one, because
its size follows activities, variants and agents, not events. A few lists can still be long
(hundreds of agents, thousands of variants, every pair of activities), so each table shows the
top rows the mining core already ranked and says how many there were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from supportflow.report.charts import BarChart, Heatmap, bar_chart, heatmap
from supportflow.report.formatting import format_timestamp
from supportflow.report.i18n import Language
from supportflow.report.narrative import path_text
from supportflow.report.source_text import source_text

MAX_BOTTLENECKS = 30
MAX_VARIANTS = 50
MAX_VARIANT_STEPS = 30
MAX_HANDOVERS = 30
MAX_WORKLOAD_ROWS = 30
MAX_REWORK_ACTIVITIES = 30
SHARE_BAR_WIDTH = 120


@dataclass(frozen=True)
class Table:
    """Rows of formatted cells, the number of rows the document had, and a share bar per row
    (its width in pixels, or ``None`` for a table without bars)."""

    rows: list[list[str]]
    bars: list[float] | None
    total: int

    @property
    def capped(self) -> bool:
        """Whether the table shows fewer rows than the document holds."""
        return len(self.rows) < self.total


def share_bar_width(share: float) -> float:
    """Width in pixels of a bar for a share of 0..1; non-zero shares get at least a pixel."""
    return max(share * SHARE_BAR_WIDTH, 1.0) if share > 0 else 0.0


def overview(doc: dict[str, Any], *, lang: Language) -> dict[str, Any]:
    """The header: the file, its size and time span, and how its columns were read."""
    n = lang.numbers
    source, log = doc["source"], doc["log"]
    durations = doc["case_duration_s"]
    mapping = [
        [
            item["field"],
            item["column"] if item["column"] is not None else lang.say("not_mapped"),
            source_text(item["reason"], lang=lang.code),
        ]
        for item in source["mapping"]
    ]
    return {
        "file": source["path"],
        "format": source["format"],
        "encoding": source["encoding"] or lang.say("unknown"),
        "timestamp_format": source["timestamp_format"],
        "timezone": source["timezone"],
        "events": n.count(log["events"]),
        "cases": n.count(log["cases"]),
        "activities": n.count(log["activities"]),
        "variants": n.count(log["variants"]),
        "rejected": n.count(log["rejected_rows"]),
        "period": lang.say(
            "period_value",
            first=format_timestamp(log["first_timestamp"]),
            last=format_timestamp(log["last_timestamp"]),
        ),
        "case_duration": lang.say(
            "hdr_case_duration_value",
            median=n.duration(durations["median"]),
            mean=n.duration(durations["mean"]),
            p90=n.duration(durations["p90"]),
        ),
        "mapping": mapping,
        "notes": [source_text(note, lang=lang.code) for note in source["notes"]],
        "rejects_path": source["rejects_path"],
        "reject_reasons": [
            [source_text(reason, lang=lang.code), n.count(rows)]
            for reason, rows in source["reject_reasons"].items()
        ],
    }


def bottleneck_table(doc: dict[str, Any], *, lang: Language) -> Table:
    """Transitions by total waiting, with their share of all case time."""
    n = lang.numbers
    shown = doc["bottlenecks"][:MAX_BOTTLENECKS]
    rows = [
        [
            f"{item['source']} → {item['target']}",
            n.count(item["count"]),
            n.duration(item["total_s"]),
            n.percent(item["share_of_case_time"]),
            n.duration(item["median_s"]),
            n.duration(item["mean_s"]),
            n.duration(item["p90_s"]),
        ]
        for item in shown
    ]
    bars = [share_bar_width(item["share_of_case_time"]) for item in shown]
    return Table(rows, bars, len(doc["bottlenecks"]))


def variant_table(doc: dict[str, Any], *, lang: Language) -> Table:
    """The most frequent variants, each as its path, cases, share and median duration."""
    n = lang.numbers
    shown = doc["variants"][:MAX_VARIANTS]
    rows = [
        [
            str(rank),
            path_text(item["activities"], lang=lang, max_steps=MAX_VARIANT_STEPS),
            n.count(item["cases"]),
            n.percent(item["share"]),
            n.duration(item["median_duration_s"]),
        ]
        for rank, item in enumerate(shown, start=1)
    ]
    bars = [share_bar_width(item["share"]) for item in shown]
    return Table(rows, bars, int(doc["log"]["variants"]))


def variants_coverage_text(doc: dict[str, Any], *, lang: Language) -> str:
    """How many variants the table shows, of how many, and the share of cases they cover."""
    shown = doc["variants"][:MAX_VARIANTS]
    return lang.say(
        "variants_shown",
        shown=lang.numbers.count(len(shown)),
        total=lang.numbers.count(doc["log"]["variants"]),
        share=lang.numbers.percent(sum(item["share"] for item in shown)),
    )


def handover_table(arcs: list[dict[str, Any]], *, cases: int, lang: Language) -> Table:
    """Handovers between agents or teams; the bar is the share of all cases involved."""
    n = lang.numbers
    shown = arcs[:MAX_HANDOVERS]
    rows = [
        [item["source"], item["target"], n.count(item["count"]), n.count(item["cases"])]
        for item in shown
    ]
    bars = [share_bar_width(item["cases"] / cases if cases else 0.0) for item in shown]
    return Table(rows, bars, len(arcs))


def workload_chart(rows: list[dict[str, Any]], *, lang: Language) -> tuple[BarChart, int]:
    """Events per agent or team as a bar chart, and how many agents or teams there were."""
    n = lang.numbers
    shown = rows[:MAX_WORKLOAD_ROWS]
    chart = bar_chart(
        [
            (
                item["name"],
                float(item["events"]),
                f"{n.count(item['events'])} ({n.percent(item['share'])})",
            )
            for item in shown
        ]
    )
    return chart, len(rows)


def rework_summary(doc: dict[str, Any], *, lang: Language) -> dict[str, Any]:
    """Rework and ping-pong figures as label/value pairs, and repeats per activity as a chart."""
    n = lang.numbers
    rework, pingpong, cases = doc["rework"], doc["pingpong"], int(doc["log"]["cases"])

    def cases_text(count: int | None) -> str:
        if count is None:
            return lang.say("not_available")
        return f"{n.count(count)} ({n.percent(count / cases if cases else 0.0)})"

    stats = [
        (lang.say("rw_cases"), cases_text(rework["cases_with_rework"])),
        (lang.say("rw_self_loop_cases"), cases_text(rework["self_loop_cases"])),
    ]
    loops = rework["self_loops"]
    stats += [
        (lang.say("rw_repeat"), n.count(loops["repeat"]) if loops else lang.say("not_available")),
        (lang.say("rw_redo"), n.count(loops["redo"]) if loops else lang.say("not_available")),
        (lang.say("rw_median_with"), n.duration(rework["median_duration_with_rework_s"])),
        (lang.say("rw_median_without"), n.duration(rework["median_duration_without_rework_s"])),
    ]
    pingpong_stats = [
        (lang.say("pp_activity"), cases_text(pingpong["activity_cases"])),
        (lang.say("pp_team"), cases_text(pingpong["team_cases"])),
        (lang.say("pp_resource"), cases_text(pingpong["resource_cases"])),
    ]
    per_activity = sorted(rework["per_activity"].items(), key=lambda item: (-item[1], item[0]))
    chart = bar_chart(
        [
            (name, float(count), cases_text(count))
            for name, count in per_activity[:MAX_REWORK_ACTIVITIES]
        ]
    )
    return {
        "stats": stats,
        "pingpong": pingpong_stats,
        "chart": chart,
        "activities": len(per_activity),
    }


def heatmaps(doc: dict[str, Any], *, lang: Language) -> tuple[Heatmap, Heatmap]:
    """The arrivals heatmap and the median-wait heatmap, with tooltips in the language."""
    grids = doc["heatmaps"]
    n = lang.numbers
    arrival_tips = [
        [
            lang.say("heat_tip_arrivals", weekday=day, hour=lang.hour(hour), count=n.count(value))
            for hour, value in enumerate(row)
        ]
        for day, row in zip(lang.weekdays, grids["arrivals"], strict=True)
    ]
    wait_tips = []
    for day, medians, counts in zip(
        lang.weekdays, grids["median_wait_s"], grids["wait_counts"], strict=True
    ):
        row_tips = []
        for hour, (median, count) in enumerate(zip(medians, counts, strict=True)):
            if median is None:
                row_tips.append(lang.say("heat_tip_no_wait", weekday=day, hour=lang.hour(hour)))
            else:
                row_tips.append(
                    lang.say(
                        "heat_tip_wait",
                        weekday=day,
                        hour=lang.hour(hour),
                        median=n.duration(median),
                        count=n.count(count),
                    )
                )
        wait_tips.append(row_tips)
    arrivals = heatmap(grids["arrivals"], weekdays=lang.weekdays, tooltips=arrival_tips)
    waits = heatmap(grids["median_wait_s"], weekdays=lang.weekdays, tooltips=wait_tips)
    return arrivals, waits
