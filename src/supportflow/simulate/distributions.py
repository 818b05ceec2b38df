"""How long things take: duration distributions a scenario states, fits from a log and samples.

A simulated desk needs, for every step, a law for its duration: an agent takes about 5 minutes
to triage a ticket, sometimes 40; a customer answers within hours, or not for days. A scenario
YAML names the law in words a team lead can check, all durations in seconds or as ``15m``::

    triage:   {dist: lognormal, mean: 5m, sd: 12m}
    answer:   {dist: gamma, mean: 4h, sd: 3h, p_zero: 0.2, max: 30d}
    callback: {dist: exponential, mean: 20m}
    approval: {dist: fixed, value: 1h}
    solve:    {dist: empirical, quantiles: [0, 12.5, 40, 95, 400]}

``mean`` and ``sd`` describe the non-zero durations before truncation (the lognormal's are
turned into its ``mu`` and ``sigma``). ``quantiles`` are durations at equally spaced
probabilities from 0 to 1; between them the distribution is linear (inverse-CDF sampling with
linear interpolation). Every kind takes two options:

- ``p_zero``: the probability that the duration is exactly 0. Help-desk logs are full of zero
  gaps (two events written in the same second), which no continuous law produces.
- ``max``: truncation by *resampling*: a draw above ``max`` is drawn again, so the shape below
  ``max`` is kept. Clipping would instead pile the whole tail onto ``max`` and invent a spike of
  tickets lasting exactly 30 days. ``max`` must keep at least 10 % of the durations.

:func:`fit` chooses a law for observed durations, :func:`sampler` serves one draw at a time to
the SimPy hot loop, :func:`sample` draws arrays and :func:`mean` gives the exact mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)
from scipy import special, stats

from supportflow.rules.durations import Duration

MIN_KEPT_SHARE = 0.1
"""``max`` must keep at least this share of the durations (else resampling would crawl)."""
LARGE_SAMPLE_D = 0.03
"""KS distance accepted whatever the sample size: the fitted CDF is within 3 points of the data."""
EMPIRICAL_QUANTILES = 101
"""Quantiles stored by a fit that falls back on the data (every percentile)."""
MIN_PARAMETRIC_SAMPLE = 20
"""Fewer non-zero durations than this are kept as they are (empirical), not fitted."""
SAMPLER_BATCH = 4096


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError("must be longer than zero")
    return value


PositiveDuration = Annotated[Duration, AfterValidator(_positive)]


class _DurationLaw(BaseModel):
    """Options every kind shares: a share of exact zeros and a truncation point."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p_zero: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Probability that the duration is exactly 0 (for 1, use ``{dist: fixed, value: 0}``)."""
    max: PositiveDuration | None = None
    """Draws above this are drawn again (truncation by resampling)."""

    @model_validator(mode="after")
    def _max_keeps_durations(self) -> _DurationLaw:
        if self.max is not None:
            kept = self._cdf(self.max)
            if kept < MIN_KEPT_SHARE:
                raise ValueError(
                    f"max: {self.max:g}s keeps only {kept:.1%} of the durations; "
                    f"it must keep at least {MIN_KEPT_SHARE:.0%} (raise max)"
                )
        return self

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` non-zero-part durations, not truncated."""
        raise NotImplementedError

    def _cdf(self, x: float) -> float:
        """P(X ≤ x) of the non-zero part, not truncated."""
        raise NotImplementedError

    def _partial_mean(self, x: float) -> float:
        """E[X; X ≤ x] of the non-zero part (``x`` may be ``inf``)."""
        raise NotImplementedError


class Fixed(_DurationLaw):
    """Always the same duration: ``{dist: fixed, value: 1h}``."""

    dist: Literal["fixed"] = "fixed"
    value: Duration

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value)

    def _cdf(self, x: float) -> float:
        return 1.0 if x >= self.value else 0.0

    def _partial_mean(self, x: float) -> float:
        return self.value if x >= self.value else 0.0


class Exponential(_DurationLaw):
    """Memoryless waits: ``{dist: exponential, mean: 20m}``."""

    dist: Literal["exponential"] = "exponential"
    mean: PositiveDuration

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean, n)

    def _cdf(self, x: float) -> float:
        return -math.expm1(-x / self.mean)

    def _partial_mean(self, x: float) -> float:
        if math.isinf(x):
            return self.mean
        return self.mean * self._cdf(x) - x * math.exp(-x / self.mean)


class LogNormal(_DurationLaw):
    """Skewed handling times: ``{dist: lognormal, mean: 5m, sd: 12m}`` (of the duration)."""

    dist: Literal["lognormal"] = "lognormal"
    mean: PositiveDuration
    sd: PositiveDuration

    @property
    def sigma(self) -> float:
        """Standard deviation of the log-duration."""
        return math.sqrt(math.log1p((self.sd / self.mean) ** 2))

    @property
    def mu(self) -> float:
        """Mean of the log-duration (log-seconds)."""
        return math.log(self.mean) - self.sigma**2 / 2

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, n)

    def _cdf(self, x: float) -> float:
        return float(special.ndtr((math.log(x) - self.mu) / self.sigma)) if x > 0 else 0.0

    def _partial_mean(self, x: float) -> float:
        if x <= 0:
            return 0.0
        return self.mean * float(special.ndtr((math.log(x) - self.mu - self.sigma**2) / self.sigma))


class Gamma(_DurationLaw):
    """Sums of steps, lighter-tailed than the lognormal: ``{dist: gamma, mean: 4h, sd: 3h}``."""

    dist: Literal["gamma"] = "gamma"
    mean: PositiveDuration
    sd: PositiveDuration

    @property
    def shape(self) -> float:
        """Shape k = (mean / sd)²."""
        return (self.mean / self.sd) ** 2

    @property
    def scale(self) -> float:
        """Scale θ = sd² / mean, in seconds."""
        return self.sd**2 / self.mean

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.gamma(self.shape, self.scale, n)

    def _cdf(self, x: float) -> float:
        return float(special.gammainc(self.shape, x / self.scale))

    def _partial_mean(self, x: float) -> float:
        return self.mean * float(special.gammainc(self.shape + 1, x / self.scale))


class Empirical(_DurationLaw):
    """The data's own shape: durations at probabilities 0, 1/(k-1), …, 1, linear in between."""

    dist: Literal["empirical"] = "empirical"
    quantiles: list[Duration] = Field(min_length=2)

    @field_validator("quantiles")
    @classmethod
    def _non_decreasing(cls, value: list[float]) -> list[float]:
        for index in range(1, len(value)):
            if value[index] < value[index - 1]:
                raise ValueError(
                    f"quantiles must not decrease: {value[index]:g} (position {index}) "
                    f"follows {value[index - 1]:g}"
                )
        return value

    @property
    def probabilities(self) -> np.ndarray:
        """The probability of each quantile: 0 to 1, equally spaced."""
        return np.linspace(0.0, 1.0, len(self.quantiles))

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.interp(rng.random(n), self.probabilities, self.quantiles)

    def _cdf(self, x: float) -> float:
        q = np.asarray(self.quantiles)
        above = int(np.searchsorted(q, x, side="right"))
        if above == len(q):
            return 1.0
        if above == 0:
            return 0.0
        step = 1.0 / (len(q) - 1)
        return float((above - 1 + (x - q[above - 1]) / (q[above] - q[above - 1])) * step)

    def _partial_mean(self, x: float) -> float:
        # the quantile function is piecewise linear: integrate it exactly from 0 to F(x)
        kept = self._cdf(x)
        probabilities = self.probabilities
        inside = probabilities < kept
        p = np.append(probabilities[inside], kept)
        q = np.interp(p, probabilities, self.quantiles)
        return float(np.sum((q[1:] + q[:-1]) / 2 * np.diff(p)))


Distribution = Annotated[
    Fixed | Exponential | LogNormal | Gamma | Empirical, Field(discriminator="dist")
]
"""Any duration law, told apart by its ``dist`` key."""

_DISTRIBUTION = TypeAdapter(Distribution, config=ConfigDict(title="duration distribution"))


def parse_distribution(spec: object) -> Distribution:
    """The law a scenario writes (``{"dist": "gamma", "mean": "4h", "sd": "3h"}``).

    Raises:
        pydantic.ValidationError: unknown ``dist``, unknown key or a bad value; names the field.
    """
    return _DISTRIBUTION.validate_python(spec)


def to_yaml_dict(dist: Distribution) -> dict[str, Any]:
    """The shortest spec of ``dist``: ``dist`` first, options only when set, plain floats."""
    return {
        "dist": dist.dist,
        **dist.model_dump(mode="json", exclude={"dist"}, exclude_none=True, exclude_defaults=True),
    }


def sample(dist: Distribution, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` durations in seconds drawn from ``dist`` with ``rng`` (same seed, same numbers)."""
    values = dist._draw(rng, n)
    if dist.max is not None:
        # truncation by resampling: redraw only what is above max, until nothing is
        above = np.flatnonzero(values > dist.max)
        while above.size:
            values[above] = dist._draw(rng, above.size)
            above = above[values[above] > dist.max]
    if dist.p_zero > 0:
        values[rng.random(n) < dist.p_zero] = 0.0
    return values


def sampler(
    dist: Distribution, rng: np.random.Generator, *, batch: int = SAMPLER_BATCH
) -> Callable[[], float]:
    """A function returning one duration per call, for the hot loop of a SimPy process.

    It draws ``batch`` values at a time with :func:`sample` and hands them out one by one, so a
    call costs a generator step rather than a numpy call. Since ``rng`` is consumed in batches,
    give each sampler its own generator (``rng.spawn``) when reproducibility across model
    changes matters.
    """
    if isinstance(dist, Fixed) and dist.p_zero == 0:
        value = dist.value
        return lambda: value

    def stream() -> Iterator[float]:
        while True:
            yield from sample(dist, rng, batch).tolist()

    return stream().__next__


def mean(dist: Distribution) -> float:
    """The exact mean in seconds, counting the zeros of ``p_zero`` and the truncation at ``max``."""
    if dist.max is None:
        positive_mean = dist._partial_mean(math.inf)
    else:
        positive_mean = dist._partial_mean(dist.max) / dist._cdf(dist.max)
    return (1.0 - dist.p_zero) * positive_mean


@dataclass(frozen=True)
class CandidateScore:
    """How well one parametric family, fitted by maximum likelihood, matches the data."""

    dist: Distribution
    ks_d: float
    """Kolmogorov-Smirnov distance: the largest gap between the fitted and the observed CDF."""
    log_likelihood: float
    aic: float


@dataclass(frozen=True)
class Fit:
    """The law chosen for some durations, the evidence and the reason in one sentence."""

    dist: Distribution
    scores: dict[str, CandidateScore]
    """Per parametric candidate (empty when there were too few values to compare)."""
    reason: str
    ks_threshold: float | None = None
    """The KS distance a family had to stay below, when families were compared."""


_FAMILIES = ("lognormal", "gamma", "exponential")


def fit(
    values_s: np.ndarray | Sequence[float],
    *,
    candidates: Sequence[str] = _FAMILIES,
    alpha: float = 0.05,
) -> Fit:
    """Choose a duration law for observed durations (seconds), "chosen by fit".

    Zeros are split off into ``p_zero``; each candidate family is fitted to the non-zero
    durations by maximum likelihood (``scipy.stats``, location fixed at 0) and scored by its
    KS distance D, log-likelihood and AIC. The family with the smallest D is kept when D is
    below ``max(D_crit(n, alpha), 0.03)``, where ``D_crit`` is the exact one-sample KS critical
    value for n non-zero durations (``scipy.stats.kstwo``). The floor of 0.03 matters from
    about 2,000 durations on: a real log then rejects every family formally, yet a CDF within 3
    points of the data everywhere is as good as a simulation needs. Since the parameters are
    estimated from the same data, ``D_crit`` is conservative (lenient to the families).
    Otherwise, and whenever there are fewer than 20 non-zero durations, the result is
    ``empirical``: up to 101 quantiles (one per value when there are fewer), rounded to 3
    significant digits; ``fixed`` when the non-zero durations are all equal.

    Raises:
        ValueError: no values, a NaN, an infinite or a negative value, or an unknown candidate.
    """
    unknown = [name for name in candidates if name not in _FAMILIES]
    if unknown or not candidates:
        raise ValueError(f"unknown candidates {unknown}; choose among {', '.join(_FAMILIES)}")
    values = _checked_durations(values_s)
    p_zero = _significant(float(np.mean(values == 0)), 4)
    positive = values[values > 0]
    n = positive.size
    if n == 0:
        return Fit(Fixed(value=0.0), {}, f"all {values.size} durations are zero.")
    if positive.min() == positive.max():
        return Fit(
            Fixed(value=float(positive[0]), p_zero=p_zero),
            {},
            f"all {n} non-zero durations equal {positive[0]:g}s.",
        )
    if n < MIN_PARAMETRIC_SAMPLE:
        return Fit(
            _empirical(positive, p_zero),
            {},
            f"only {n} non-zero durations: too few to choose a family, so they are kept as "
            "quantiles.",
        )
    scores = {name: _score(name, positive, p_zero) for name in candidates}
    threshold = max(float(stats.kstwo.ppf(1.0 - alpha, n)), LARGE_SAMPLE_D)
    best = min(scores, key=lambda name: scores[name].ks_d)
    best_d = scores[best].ks_d
    if best_d < threshold:
        reason = (
            f"{best} fits best (KS D = {best_d:.3f} below {threshold:.3f} for {n:,} non-zero "
            "durations)."
        )
        return Fit(scores[best].dist, scores, reason, threshold)
    reason = (
        f"no family fits: the best, {best}, has KS D = {best_d:.3f}, above {threshold:.3f} for "
        f"{n:,} non-zero durations, so the data's quantiles are kept."
    )
    return Fit(_empirical(positive, p_zero), scores, reason, threshold)


def _checked_durations(values_s: np.ndarray | Sequence[float]) -> np.ndarray:
    values = np.asarray(values_s, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("no durations to fit")
    if np.isnan(values).any():
        raise ValueError(f"{int(np.isnan(values).sum())} durations are NaN; drop them first")
    if np.isinf(values).any():
        raise ValueError(f"{int(np.isinf(values).sum())} durations are infinite; drop them first")
    if (values < 0).any():
        raise ValueError(
            f"{int((values < 0).sum())} durations are negative (the smallest is "
            f"{values.min():g}s); events out of order?"
        )
    return values


def _significant(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}")


def _empirical(positive: np.ndarray, p_zero: float) -> Empirical:
    count = min(EMPIRICAL_QUANTILES, positive.size)
    quantiles = np.quantile(positive, np.linspace(0.0, 1.0, count))
    # rounding is monotone, so the quantiles stay non-decreasing
    return Empirical(quantiles=[_significant(float(q), 3) for q in quantiles], p_zero=p_zero)


def _score(family: str, positive: np.ndarray, p_zero: float) -> CandidateScore:
    """Fit ``family`` by maximum likelihood; the law keeps 4 significant digits."""
    frozen: Any
    dist: Distribution
    if family == "lognormal":
        sigma, _, scale = stats.lognorm.fit(positive, floc=0)
        frozen = stats.lognorm(sigma, scale=scale)
        fitted_mean = scale * math.exp(sigma**2 / 2)
        fitted_sd = fitted_mean * math.sqrt(math.expm1(sigma**2))
        dist = LogNormal(
            mean=_significant(fitted_mean, 4), sd=_significant(fitted_sd, 4), p_zero=p_zero
        )
    elif family == "gamma":
        shape, _, scale = stats.gamma.fit(positive, floc=0)
        frozen = stats.gamma(shape, scale=scale)
        dist = Gamma(
            mean=_significant(shape * scale, 4),
            sd=_significant(math.sqrt(shape) * scale, 4),
            p_zero=p_zero,
        )
    else:
        _, scale = stats.expon.fit(positive, floc=0)
        frozen = stats.expon(scale=scale)
        dist = Exponential(mean=_significant(scale, 4), p_zero=p_zero)
    parameters = 1 if family == "exponential" else 2
    log_likelihood = float(np.sum(frozen.logpdf(positive)))
    return CandidateScore(
        dist=dist,
        ks_d=float(stats.kstest(positive, frozen.cdf).statistic),
        log_likelihood=log_likelihood,
        aic=2 * parameters - 2 * log_likelihood,
    )
