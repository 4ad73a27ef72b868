"""Seeded bootstrap intervals over people."""

from __future__ import annotations

import numpy as np
import pytest

from insertion_match.matcher.evaluation import bootstrap
from insertion_match.matcher.evaluation.bootstrap import (
    mean_interval,
    paired_difference,
    ratio_of_means,
)


def test_interval_contains_the_mean_and_is_reproducible():
    values = np.random.default_rng(0).random(500)
    a = mean_interval(values, 300, random_state=1)
    assert a.low < a.mean < a.high and a.n == 500
    assert a == mean_interval(values, 300, random_state=1)
    assert a != mean_interval(values, 300, random_state=2)


def test_paired_difference_detects_a_shift_and_not_noise():
    rng = np.random.default_rng(3)
    base = rng.random(400)
    assert paired_difference(base + 0.05, base, 300).excludes_zero
    noise = paired_difference(base + rng.normal(0, 0.01, 400), base, 300)
    assert not noise.excludes_zero or abs(noise.mean) < 0.002


def test_nans_are_dropped_pairwise_and_ratio_of_means():
    a = np.array([1.0, np.nan, 3.0, 4.0])
    b = np.array([2.0, 2.0, np.nan, 4.0])
    assert paired_difference(a, b, 50).n == 2
    r = ratio_of_means(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0]), 100)
    assert r.mean == 0.5 and r.low == r.high == 0.5


def test_group_ratios_are_group_mean_over_everyones_with_intervals():
    values = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, np.nan])
    groups = np.array(["a", "a", "a", "a", "b", "b", "b", "b", "b"])
    out = bootstrap.group_ratios(values, groups, n_resamples=300, random_state=1)
    (a, ref_a), (b, ref_b) = out["a"], out["b"]
    assert ref_a == ref_b == pytest.approx(6 / 8)  # NaN left out of the reference too
    assert a.mean == pytest.approx(0.5 / 0.75) and a.n == 4
    assert b.mean == pytest.approx(1.0 / 0.75) and b.n == 4
    assert a.low <= a.mean <= a.high and b.low <= b.mean <= b.high
    again = bootstrap.group_ratios(values, groups, n_resamples=300, random_state=1)
    assert again["a"][0] == a  # seeded
