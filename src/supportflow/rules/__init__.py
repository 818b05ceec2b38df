"""Typed rule files shared by every step of the loop: status maps, SLA policies, alert rules.

Each is a YAML file validated by a pydantic model; a mistake is reported with its file, line and
field (:class:`RulesError`). This package imports nothing else of supportflow, so the simulator
and the live service read the very same rules as the diagnosis.
"""

from supportflow.rules.durations import Duration, parse_duration
from supportflow.rules.status import (
    STATUS_PRESETS,
    StatusMap,
    guess_status_map,
    load_status_map,
    status_preset,
)
from supportflow.rules.yamlio import RulesError, load_model

__all__ = [
    "STATUS_PRESETS",
    "Duration",
    "RulesError",
    "StatusMap",
    "guess_status_map",
    "load_model",
    "load_status_map",
    "parse_duration",
    "status_preset",
]
