"""Process mining over the canonical event log: maps, variants, rework, handovers, bottlenecks.

The vocabulary follows pm4py's facade (``discover_*``); the numbers match pm4py's, which the
tests use as an oracle.
"""

from supportflow.mining.diagnose import diagnose
from supportflow.mining.results import Diagnosis

__all__ = ["Diagnosis", "diagnose"]
