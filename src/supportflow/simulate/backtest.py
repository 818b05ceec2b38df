"""Choose how much history to calibrate from, by a backtest on the log itself.

A desk changes: the demo log's auto-close timer went from about a month to 15 days in August
2012, and its volume rose and fell by a factor of three. Calibrating from all history averages
regimes that no longer hold; calibrating from a short window is noisy. Which is better depends on
the log, so ``supportflow simulate calibrate --window auto`` measures it, the way a forecaster
backtests:

1. hold out the last ``holdout`` share of cases (by start), as Simod's evaluation does;
2. for each candidate window, calibrate from the cases before the hold-out only, simulate as many
   cases as the hold-out has from its first arrival, and measure the distance to the hold-out:
   - **paths**: the control-flow log distance (the mean normalised edit distance of the best
     one-to-one pairing of real and simulated cases, as Simod measures it);
   - **timings**: the Wasserstein distance between case durations relative to the hold-out's
     median duration;
   - **arrivals**: the Wasserstein distance between arrival instants, relative to the hold-out's
     span;
3. the paths (variants) window with the smallest control-flow distance, the timings window
   with the smallest duration distance and the arrivals window with the smallest arrival
   distance (means over ``seeds``) win, chosen separately because a desk's paths, timings and
   volume drift at their own pace; the final scenario is calibrated from the whole log with
   them.

Only the log's own past is used: nothing from a later test period can leak into the choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import wasserstein_distance

from supportflow.eventlog.load import EventLog
from supportflow.simulate.engine import simulate

WEEK_S = 7 * 86400.0
CANDIDATES: tuple[float | None, ...] = (13 * WEEK_S, 26 * WEEK_S, 52 * WEEK_S, None)
"""Windows tried: a quarter, half a year, a year, all history (``None``)."""


@dataclass(frozen=True)
class WindowScore:
    window_s: float | None
    control_flow: float
    durations: float
    arrivals: float


@dataclass(frozen=True)
class Backtest:
    variant_window_s: float | None
    timing_window_s: float | None
    arrival_window_s: float | None
    scores: list[WindowScore]
    holdout_cases: int

    def notes(self) -> list[str]:
        return [
            f"backtest on the last {self.holdout_cases:,} cases: "
            + "; ".join(
                f"{_name(s.window_s)}: paths {s.control_flow:.3f}, durations {s.durations:.3f}, "
                f"arrivals {s.arrivals:.3f}"
                for s in self.scores
            ),
            f"chosen windows: paths {_name(self.variant_window_s)}, "
            f"timings {_name(self.timing_window_s)}, arrivals {_name(self.arrival_window_s)}",
        ]


def _name(window_s: float | None) -> str:
    return "all" if window_s is None else f"{window_s / WEEK_S:.0f}w"


def _holdout(
    log: EventLog, share: float
) -> tuple[int, list[tuple[str, ...]], np.ndarray, np.ndarray]:
    """The hold-out's first start (µs), its variants, durations (s) and arrivals (s)."""
    rows = log.con.execute(
        """SELECT min(ts) AS s, max(ts) - min(ts), list(activity ORDER BY ts, seq)
           FROM events GROUP BY case_id ORDER BY s, case_id"""
    ).fetchall()
    if len(rows) < 50:
        raise ValueError("a backtest needs at least 50 cases; give --window instead")
    first = len(rows) - max(round(len(rows) * share), 10)
    held = rows[first:]
    return (
        int(held[0][0]),
        [tuple(r[2]) for r in held],
        np.asarray([r[1] / 1e6 for r in held], dtype=float),
        np.asarray([r[0] / 1e6 for r in held], dtype=float),
    )


def _edit_distance(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Levenshtein distance between two activity sequences over the longer one's length."""
    if not a or not b:
        return 1.0
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1] / max(len(a), len(b))


def control_flow_distance(real: list[tuple[str, ...]], simulated: list[tuple[str, ...]]) -> float:
    """The mean normalised edit distance of the best one-to-one pairing of real and simulated
    cases (the control-flow log distance of Chapela-Campa et al.; 0 for the same variants in the
    same numbers). Distances are computed once per pair of distinct variants."""
    from scipy.optimize import linear_sum_assignment

    n = min(len(real), len(simulated))
    real, simulated = real[:n], simulated[:n]
    rows, row_index = np.unique(np.asarray([" > ".join(v) for v in real]), return_inverse=True)
    cols, col_index = np.unique(np.asarray([" > ".join(v) for v in simulated]), return_inverse=True)
    split_rows = [tuple(r.split(" > ")) for r in rows]
    split_cols = [tuple(c.split(" > ")) for c in cols]
    distinct = np.asarray([[_edit_distance(r, c) for c in split_cols] for r in split_rows])
    cost = distinct[np.ix_(row_index, col_index)]
    matched_rows, matched_cols = linear_sum_assignment(cost)
    return float(cost[matched_rows, matched_cols].mean())


def backtest(
    log: EventLog,
    *,
    holdout: float = 0.2,
    candidates: tuple[float | None, ...] = CANDIDATES,
    seeds: int = 3,
    timer_share: float = 0.10,
) -> Backtest:
    """Score each candidate window on the log's last ``holdout`` cases (module docstring)."""
    from supportflow.simulate.calibrate import calibrate_log

    start_us, variants, durations, arrivals = _holdout(log, holdout)
    median = max(float(np.median(durations)), 1.0)
    span = max(float(arrivals[-1] - arrivals[0]), 1.0)
    scores = []
    for window in candidates:
        scenario = calibrate_log(
            log,
            window_s=window,
            arrival_window_s=window,
            timer_share=timer_share,
            until_us=start_us,
        ).scenario
        flows, timing, arriving = [], [], []
        for seed in range(seeds):
            run = simulate(scenario, seed=seed, cases=len(variants), start_s=start_us / 1e6)
            table = run.to_arrow().select(["case_id", "activity"]).to_pydict()
            paths: dict[str, list[str]] = {}
            for case, activity in zip(table["case_id"], table["activity"], strict=True):
                paths.setdefault(case, []).append(activity)
            simulated = [tuple(p) for p in paths.values()]
            flows.append(control_flow_distance(variants, simulated))
            timing.append(wasserstein_distance(durations, run.end_s - run.arrival_s) / median)
            arriving.append(wasserstein_distance(arrivals, run.arrival_s) / span)
        scores.append(
            WindowScore(
                window, float(np.mean(flows)), float(np.mean(timing)), float(np.mean(arriving))
            )
        )
    return Backtest(
        variant_window_s=min(scores, key=lambda s: s.control_flow).window_s,
        timing_window_s=min(scores, key=lambda s: s.durations).window_s,
        arrival_window_s=min(scores, key=lambda s: s.arrivals).window_s,
        scores=scores,
        holdout_cases=len(variants),
    )
