"""Names and values of the KPI pages in the report's language.

The KPI document names things the way code does (``first_contact_resolution``, ``agent``,
``waiting_on_customer``); the reader sees "First-contact resolution", "Agent", "waiting on the
customer" (or their Chinese). A name this report does not know yet (a KPI added later) is shown
as it is in the document rather than hidden.
"""

from __future__ import annotations

from supportflow.report.i18n import Language


def kpi_label(name: str, *, lang: Language) -> str:
    """A KPI's name for the reader: ``first_response_time`` → "First response time"."""
    return lang.text.get(f"kpi_{name}", name)


def kpi_label_inline(name: str, *, lang: Language) -> str:
    """A KPI's name inside an English sentence ("worse on first-contact resolution"); names
    that start with an abbreviation ("CSAT") and Chinese names are left as they are."""
    label = kpi_label(name, lang=lang)
    if lang.code == "en" and len(label) > 1 and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def dimension_label(name: str, *, lang: Language) -> str:
    """A breakdown dimension's name for the reader: ``agent`` → "Agent"."""
    return lang.text.get(f"dim_{name}", name)


def state_label(name: str, *, lang: Language) -> str:
    """A status category for the reader: ``waiting_on_customer`` → "waiting on the customer"."""
    return lang.text.get(f"state_{name}", name)


def group_label(dimension: str, value: str, *, lang: Language) -> str:
    """A group of a breakdown: hours of the day as ``09:00``, anything else as it came."""
    if dimension == "hour" and value.isdigit():
        return lang.hour(int(value))
    return value


def kpi_value(value: float | None, unit: str, *, lang: Language) -> str:
    """A KPI figure in its unit: a duration, a percentage (rates) or a number with two decimals
    (counts per ticket, scores); an en dash when the document has none."""
    if value is None:
        return "–"
    if unit == "duration":
        return lang.numbers.duration(value)
    if unit == "rate":
        return lang.numbers.percent(value)
    return f"{value:,.2f}"


def z_text(z: float | None) -> str:
    """A funnel z-score with one decimal and its sign, or an en dash for a group too small."""
    if z is None:
        return "–"
    text = f"{z:+.1f}"
    return "0.0" if text in ("+0.0", "-0.0") else text
