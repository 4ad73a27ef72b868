"""Seeded percentile bootstrap confidence intervals over people.

People are the unit of resampling: a person's candidates are not independent of each other, so
resampling rows would make the intervals too narrow. :func:`paired_difference` resamples the same
people for both methods (their scores are paired), which is what makes a small difference
detectable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CHUNK = 200  # resamples drawn at once (memory: CHUNK × n indices)


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n}

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def _resampled_means(values: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    n = values.size
    out = np.empty(n_resamples)
    for start in range(0, n_resamples, CHUNK):
        stop = min(start + CHUNK, n_resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = values[idx].mean(axis=1)
    return out


def mean_interval(values, n_resamples: int = 1000, alpha: float = 0.05,
                  random_state: int = 0) -> Interval:
    """Mean of ``values`` (NaN dropped) with a percentile bootstrap (1 − alpha) interval."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    means = _resampled_means(values, n_resamples, np.random.default_rng(random_state))
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return Interval(float(values.mean()), float(low), float(high), int(values.size))


def paired_difference(a, b, n_resamples: int = 1000, alpha: float = 0.05,
                      random_state: int = 0) -> Interval:
    """Mean of ``a − b`` over the people where both are defined, with its bootstrap interval."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired values differ in shape: {a.shape} vs {b.shape}")
    both = np.isfinite(a) & np.isfinite(b)
    return mean_interval(a[both] - b[both], n_resamples, alpha, random_state)


def ratio_of_means(a, b, n_resamples: int = 1000, alpha: float = 0.05,
                   random_state: int = 0) -> Interval:
    """``mean(a) / mean(b)`` over the people where both are defined, resampling people jointly."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = np.isfinite(a) & np.isfinite(b)
    a, b = a[both], b[both]
    if a.size == 0 or b.mean() == 0:
        return Interval(float("nan"), float("nan"), float("nan"), int(a.size))
    rng = np.random.default_rng(random_state)
    ratios = np.empty(n_resamples)
    for start in range(0, n_resamples, CHUNK):
        stop = min(start + CHUNK, n_resamples)
        idx = rng.integers(0, a.size, size=(stop - start, a.size))
        ratios[start:stop] = a[idx].mean(axis=1) / b[idx].mean(axis=1)
    low, high = np.quantile(ratios, [alpha / 2, 1 - alpha / 2])
    return Interval(float(a.mean() / b.mean()), float(low), float(high), int(a.size))


def group_ratios(values, groups, n_resamples: int = 400, alpha: float = 0.05,
                 random_state: int = 0) -> dict[str, tuple[Interval, float]]:
    """Per group: ``mean(values | group) / mean(values)`` (the reference is everyone) with a
    percentile bootstrap interval, and the reference mean.

    People are resampled jointly (each resample draws the whole population), so the group's
    mean and the reference move together as they should. NaN values are left out of both.
    """
    values = np.asarray(values, dtype=float)
    codes, labels = pd.factorize(pd.Series(groups), sort=True)
    valid = np.isfinite(values) & (codes >= 0)
    x = np.where(valid, values, 0.0)
    onehot = (codes[:, np.newaxis] == np.arange(len(labels))) & valid[:, np.newaxis]
    n = values.size
    reference = float(x.sum() / valid.sum()) if valid.any() else float("nan")
    rng = np.random.default_rng(random_state)
    ratios = np.empty((n_resamples, len(labels)))
    for start in range(0, n_resamples, CHUNK):
        stop = min(start + CHUNK, n_resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        weights = np.stack([np.bincount(row, minlength=n) for row in idx]).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            overall = (weights @ x) / (weights @ valid)
            group = (weights @ (onehot * x[:, np.newaxis])) / (weights @ onehot)
            ratios[start:stop] = group / overall[:, np.newaxis]
    out: dict[str, tuple[Interval, float]] = {}
    for j, label in enumerate(labels):
        members = onehot[:, j]
        count = int(members.sum())
        if count == 0 or not reference:
            out[str(label)] = (Interval(float("nan"), float("nan"), float("nan"), count),
                               reference)
            continue
        point = float(x[members].mean() / reference)
        finite = ratios[:, j][np.isfinite(ratios[:, j])]
        low, high = (np.quantile(finite, [alpha / 2, 1 - alpha / 2]) if finite.size
                     else (float("nan"), float("nan")))
        out[str(label)] = (Interval(point, float(low), float(high), count), reference)
    return out
