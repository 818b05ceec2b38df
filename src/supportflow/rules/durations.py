"""Durations as people write them in rule files: ``90s``, ``15m``, ``12 min``, ``4h``, ``1h30m``,
``2d``, ``1w``; a bare number is seconds. Parsed to seconds (float)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*")


def parse_duration(value: object) -> float:
    """Seconds in ``value`` (``"1h30m"`` → 5400.0).

    Raises:
        ValueError: the text is not a duration; the message shows the accepted forms.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r} (use 90s, 15m, 4h, 2d)")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            seconds = 0.0
            position = 0
            for match in _PART.finditer(text):
                if match.start() != position or match.group(2) not in _UNITS:
                    raise ValueError(
                        f"not a duration: {value!r} (use 90s, 15m, 4h, 2d or 1h30m)"
                    ) from None
                seconds += float(match.group(1)) * _UNITS[match.group(2)]
                position = match.end()
            if position != len(text) or not text:
                raise ValueError(
                    f"not a duration: {value!r} (use 90s, 15m, 4h, 2d or 1h30m)"
                ) from None
    else:
        raise ValueError(f"not a duration: {value!r} (use 90s, 15m, 4h, 2d)")
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise ValueError(f"not a duration: {value!r} (a finite number of seconds)")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {value!r}")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""A pydantic field type: seconds, written in a rule file as ``4h``, ``15m``, ``2d``..."""
