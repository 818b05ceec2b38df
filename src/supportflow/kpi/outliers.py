"""Which teams, agents or channels really stand out: funnel-plot limits that respect sample size.

Ranking groups by their mean ("top 5 slowest agents") blames whoever had few tickets and bad
luck. A funnel plot (Spiegelhalter, *Funnel plots for comparing institutional performance*,
Statistics in Medicine 24, 2005) compares each group with the overall value using limits that
narrow as the group's sample grows: the z-score of the group's mean is
``(mean_g − mean_all) / (sd_all / √n_g)`` (for a rate ``p``: ``√(p₀(1−p₀)/n_g)``). Real
organisations vary more than pure chance allows, so the z-scores are divided by the
over-dispersion factor ``√φ`` (φ = mean of the 10 %–90 % winsorised z², when above 1), as the
paper recommends. A group is an outlier outside the 99.8 % limits (|z| > 3.09) with at least
``MIN_GROUP`` tickets. Durations are compared on ``ln(1 + seconds)``: they are skewed, and a
single ticket open for a year must not make a team an outlier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z_LIMIT = 3.09
"""Two-sided 99.8 % limits of the standard normal: the funnel's outer limits."""
MIN_GROUP = 5


@dataclass(frozen=True)
class GroupStat:
    """A group's sample: its size and mean on the comparison scale."""

    n: int
    mean: float


def funnel_z(
    groups: list[GroupStat], *, overall_mean: float, overall_sd: float | None
) -> tuple[list[float | None], float]:
    """Over-dispersion-adjusted z-scores of ``groups`` and the factor φ used.

    ``overall_sd`` is the per-ticket standard deviation; ``None`` means a rate, whose standard
    deviation follows from ``overall_mean``. Groups below :data:`MIN_GROUP` get ``None``.
    """
    if overall_sd is None:
        spread = math.sqrt(max(overall_mean * (1.0 - overall_mean), 0.0))
    else:
        spread = overall_sd
    raw: list[float | None] = []
    for group in groups:
        if group.n < MIN_GROUP or spread == 0.0:
            raw.append(None)
            continue
        raw.append((group.mean - overall_mean) / (spread / math.sqrt(group.n)))
    present = np.array([z for z in raw if z is not None], dtype=float)
    phi = 1.0
    if present.size >= 3:
        low, high = np.quantile(present, [0.1, 0.9])
        phi = max(1.0, float(np.mean(np.clip(present, low, high) ** 2)))
    scale = math.sqrt(phi)
    return [None if z is None else z / scale for z in raw], phi


def verdict(z: float | None, *, higher_is_better: bool) -> str | None:
    """``worse``, ``better`` or ``None`` (within the limits, or too small to tell)."""
    if z is None or abs(z) <= Z_LIMIT:
        return None
    return "better" if (z > 0) == higher_is_better else "worse"
