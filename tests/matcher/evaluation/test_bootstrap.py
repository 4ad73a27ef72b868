"""Seeded bootstrap intervals over people."""

from __future__ import annotations

import numpy as np

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
