"""Duration laws: written in YAML, sampled fast and right, chosen by fit from observed durations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

from supportflow.simulate.distributions import (
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    fit,
    mean,
    parse_distribution,
    sample,
    sampler,
    to_yaml_dict,
)

SPECS = [
    {"dist": "fixed", "value": "5m"},
    {"dist": "exponential", "mean": "5m"},
    {"dist": "lognormal", "mean": "5m", "sd": "12m"},
    {"dist": "gamma", "mean": "5m", "sd": "3m"},
    {"dist": "empirical", "quantiles": [0, 12.5, 40, 95, 400]},
    {"dist": "gamma", "mean": "4h", "sd": "3h", "p_zero": 0.2, "max": "30d"},
    {"dist": "lognormal", "mean": "1h", "sd": "2h", "max": "4h"},
]


def _empirical_sd(quantiles: list[float]) -> float:
    """The sd of a piecewise-linear quantile function, integrated by hand."""
    step = 1 / (len(quantiles) - 1)
    pairs = list(itertools.pairwise(quantiles))
    first = sum((a + b) / 2 for a, b in pairs) * step
    second = sum((a * a + a * b + b * b) / 3 for a, b in pairs) * step
    return math.sqrt(second - first**2)


# 200,000 draws each: means within 1 %, standard deviations within 2 % (the exponential's mean
# has a standard error of 0.22 %; shapes are mild so the sd's error stays small too)
@pytest.mark.parametrize(
    ("spec", "expected_sd"),
    [
        ({"dist": "fixed", "value": 300}, 0.0),
        ({"dist": "exponential", "mean": 300}, 300.0),
        ({"dist": "lognormal", "mean": 300, "sd": 180}, 180.0),
        ({"dist": "gamma", "mean": 300, "sd": 180}, 180.0),
        ({"dist": "empirical", "quantiles": [0, 12.5, 40, 95, 400]}, None),
    ],
)
def test_sampling_reproduces_the_mean_and_sd(spec: dict[str, object], expected_sd: float) -> None:
    dist = parse_distribution(spec)
    if expected_sd is None:
        expected_sd = _empirical_sd([0, 12.5, 40, 95, 400])
    draws = sample(dist, np.random.default_rng(11), 200_000)
    assert draws.mean() == pytest.approx(mean(dist), rel=0.01)
    assert draws.std() == pytest.approx(expected_sd, rel=0.02, abs=1e-9)


def test_the_mean_of_an_empirical_law_is_its_quantile_function_integrated() -> None:
    assert mean(Empirical(quantiles=[0, 12.5, 40, 95, 400])) == pytest.approx(86.875)
    assert mean(Empirical(quantiles=[0, 100], p_zero=0.5)) == pytest.approx(25.0)
    assert mean(Empirical(quantiles=[0, 100], max=50)) == pytest.approx(25.0)


def test_the_mean_counts_zeros_and_truncation_exactly() -> None:
    assert mean(Fixed(value=60, p_zero=0.25)) == 45.0
    # E[X | X <= m] of an exponential with mean m: m (1 - 2/e) / (1 - 1/e)
    expected = 100 * (1 - 2 / math.e) / (1 - 1 / math.e)
    assert mean(Exponential(mean=100, max=100)) == pytest.approx(expected)
    assert mean(Exponential(mean=100, max=100, p_zero=0.5)) == pytest.approx(expected / 2)


@pytest.mark.parametrize(
    "dist",
    [
        Gamma(mean=300, sd=400, p_zero=0.2, max=600),
        LogNormal(mean=300, sd=720, max=900),
        Exponential(mean=300, max=120),
        Empirical(quantiles=[0, 12.5, 40, 95, 400], max=60, p_zero=0.1),
    ],
    ids=lambda d: d.dist,
)
def test_zeros_and_max_show_in_the_draws(dist: Gamma | LogNormal | Exponential | Empirical) -> None:
    draws = sample(dist, np.random.default_rng(5), 200_000)
    assert draws.max() <= dist.max  # resampled, not clipped: no spike at max
    assert np.mean(draws == dist.max) < 0.001
    assert np.mean(draws == 0) == pytest.approx(dist.p_zero, abs=0.005)
    assert draws.mean() == pytest.approx(mean(dist), rel=0.01)


def test_the_same_seed_gives_the_same_numbers() -> None:
    dist = parse_distribution({"dist": "gamma", "mean": "4h", "sd": "3h", "p_zero": 0.2})
    first = sample(dist, np.random.default_rng(42), 1000)
    assert np.array_equal(first, sample(dist, np.random.default_rng(42), 1000))
    one_by_one = sampler(dist, np.random.default_rng(42))
    again = sampler(dist, np.random.default_rng(42))
    assert [one_by_one() for _ in range(5000)] == [again() for _ in range(5000)]


def test_the_sampler_hands_out_batches_of_sample_in_order() -> None:
    dist = LogNormal(mean=300, sd=720)
    draw = sampler(dist, np.random.default_rng(3), batch=1000)
    rng = np.random.default_rng(3)
    expected = np.concatenate([sample(dist, rng, 1000), sample(dist, rng, 1000)])
    assert [draw() for _ in range(1500)] == expected[:1500].tolist()
    assert isinstance(draw(), float)


def test_a_fixed_sampler_always_answers_the_value() -> None:
    draw = sampler(Fixed(value=90), np.random.default_rng(0))
    assert [draw() for _ in range(3)] == [90.0, 90.0, 90.0]


@pytest.mark.parametrize("spec", SPECS)
def test_a_law_survives_a_yaml_round_trip(spec: dict[str, object]) -> None:
    dist = parse_distribution(spec)
    assert parse_distribution(yaml.safe_load(yaml.safe_dump(dist.model_dump()))) == dist
    short = to_yaml_dict(dist)
    assert next(iter(short)) == "dist"
    assert parse_distribution(yaml.safe_load(yaml.safe_dump(short))) == dist


def test_the_short_form_leaves_out_unset_options() -> None:
    assert to_yaml_dict(parse_distribution({"dist": "lognormal", "mean": "5m", "sd": "12m"})) == {
        "dist": "lognormal",
        "mean": 300.0,
        "sd": 720.0,
    }


@pytest.mark.parametrize(
    ("spec", "location"),
    [
        ({"dist": "lognormal", "mean": -5, "sd": 10}, ("lognormal", "mean")),
        ({"dist": "gamma", "mean": 5, "sd": 0}, ("gamma", "sd")),
        ({"dist": "lognormal", "mean": 5, "sd": "-1m"}, ("lognormal", "sd")),
        ({"dist": "exponential", "mean": "5 parsecs"}, ("exponential", "mean")),
        ({"dist": "empirical", "quantiles": [0, 30, 20]}, ("empirical", "quantiles")),
        ({"dist": "empirical", "quantiles": [30]}, ("empirical", "quantiles")),
        ({"dist": "exponential", "mean": 5, "sd": 1}, ("exponential", "sd")),
        ({"dist": "fixed", "value": 5, "p_zero": 1.0}, ("fixed", "p_zero")),
        ({"dist": "fixed", "value": 5, "max": 0}, ("fixed", "max")),
    ],
)
def test_a_bad_spec_names_its_field(spec: dict[str, object], location: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_distribution(spec)
    assert [error["loc"] for error in raised.value.errors()] == [location]


def test_an_unknown_law_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"'weibull' found using 'dist'.*'lognormal'"):
        parse_distribution({"dist": "weibull", "mean": 5})


def test_a_max_that_cuts_the_body_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"max: 10s keeps only 3\.8% of the durations"):
        parse_distribution({"dist": "lognormal", "mean": "5m", "sd": "12m", "max": "10s"})
    with pytest.raises(ValidationError, match=r"max: 60s keeps only 0\.0% of the durations"):
        parse_distribution({"dist": "fixed", "value": "5m", "max": "1m"})


def test_fit_recovers_a_lognormal() -> None:
    truth = LogNormal(mean=300, sd=720)
    chosen = fit(sample(truth, np.random.default_rng(1), 5000))
    assert isinstance(chosen.dist, LogNormal)
    assert chosen.dist.sigma == pytest.approx(truth.sigma, rel=0.03)
    assert chosen.dist.mean == pytest.approx(300, rel=0.05)
    assert chosen.dist.sd == pytest.approx(720, rel=0.1)
    assert chosen.reason.startswith("lognormal fits best")
    assert set(chosen.scores) == {"lognormal", "gamma", "exponential"}
    best = chosen.scores["lognormal"]
    assert best.ks_d < chosen.scores["gamma"].ks_d
    assert best.aic == pytest.approx(4 - 2 * best.log_likelihood)


def test_fit_recovers_a_gamma() -> None:
    truth = Gamma(mean=4 * 3600, sd=3 * 3600)
    chosen = fit(sample(truth, np.random.default_rng(2), 5000))
    assert isinstance(chosen.dist, Gamma)
    assert chosen.dist.shape == pytest.approx(truth.shape, rel=0.05)
    assert chosen.dist.mean == pytest.approx(truth.mean, rel=0.03)
    assert chosen.ks_threshold == 0.03  # 5,000 values: the large-sample floor applies


def test_fit_splits_off_the_zeros() -> None:
    values = sample(LogNormal(mean=300, sd=720, p_zero=0.3), np.random.default_rng(4), 10_000)
    chosen = fit(values)
    assert isinstance(chosen.dist, LogNormal)
    assert chosen.dist.p_zero == pytest.approx(0.3, abs=0.015)
    assert chosen.dist.mean == pytest.approx(300, rel=0.05)


def test_a_bimodal_sample_keeps_its_quantiles() -> None:
    rng = np.random.default_rng(6)
    minutes = rng.lognormal(math.log(60), 0.3, 2500)
    hours = rng.lognormal(math.log(3600), 0.3, 2500)
    chosen = fit(np.concatenate([minutes, hours]))
    assert isinstance(chosen.dist, Empirical)
    assert len(chosen.dist.quantiles) == 101
    assert chosen.reason.startswith("no family fits")
    assert all(float(f"{q:.3g}") == q for q in chosen.dist.quantiles)  # 3 significant digits


def test_sampling_the_empirical_law_reproduces_the_source_quantiles() -> None:
    rng = np.random.default_rng(8)
    source = np.concatenate([rng.lognormal(math.log(60), 0.5, 3000), rng.gamma(3, 1200, 2000)])
    chosen = fit(source)
    assert isinstance(chosen.dist, Empirical)
    drawn = sample(chosen.dist, np.random.default_rng(9), 400_000)
    levels = np.linspace(0.02, 0.98, 49)
    assert np.quantile(drawn, levels) == pytest.approx(np.quantile(source, levels), rel=0.03)


def test_few_values_are_kept_as_they_are() -> None:
    chosen = fit([0, 0, 30, 10, 20, 12345])
    assert chosen.dist == Empirical(quantiles=[10, 20, 30, 12300], p_zero=0.3333)
    assert chosen.scores == {}
    assert chosen.reason.startswith("only 4 non-zero durations")


def test_equal_values_fit_a_fixed_duration() -> None:
    assert fit([60, 0, 60, 60]).dist == Fixed(value=60, p_zero=0.25)
    assert fit([0, 0]).dist == Fixed(value=0)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], "no durations"),
        ([1.0, float("nan"), 3.0], "1 durations are NaN"),
        ([1.0, -2.0, 3.0], r"1 durations are negative \(the smallest is -2s\)"),
        ([1.0, float("inf")], "infinite"),
    ],
)
def test_fit_refuses_bad_durations(values: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit(values)


def test_fit_refuses_an_unknown_candidate() -> None:
    with pytest.raises(ValueError, match="unknown candidates"):
        fit([1.0, 2.0], candidates=("weibull",))


def test_a_fitted_law_survives_a_yaml_round_trip() -> None:
    values = sample(Gamma(mean=300, sd=180, p_zero=0.1), np.random.default_rng(10), 3000)
    for candidates in (("gamma",), ("exponential",)):
        dist = fit(values, candidates=candidates).dist
        assert parse_distribution(yaml.safe_load(yaml.safe_dump(to_yaml_dict(dist)))) == dist
