"""AdditiveLogisticRegression: the scikit-learn contract and exact contributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from insertion_match.matcher.learning.estimator import AdditiveLogisticRegression


@parametrize_with_checks([AdditiveLogisticRegression(), AdditiveLogisticRegression(standardize=False),
                          AdditiveLogisticRegression(nonnegative=(0,))])
def test_sklearn_contract(estimator, check):
    check(estimator)


def _data(seed: int = 0, n: int = 400):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=n), rng.random(n) * 10, (rng.random(n) < 0.3) * 1.0])
    logit = 0.8 * X[:, 0] - 0.3 * X[:, 1] + 1.5 * X[:, 2] + 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def test_contributions_plus_intercept_are_the_logit_exactly():
    X, y = _data()
    model = AdditiveLogisticRegression(C=10.0).fit(X, y)
    contributions = model.contributions(X)
    assert contributions.shape == X.shape
    assert np.allclose(contributions.sum(axis=1) + model.intercept_, model.decision_function(X),
                       atol=1e-12)
    # a zero column contributes exactly zero
    assert np.all(contributions[X[:, 2] == 0, 2] == 0.0)


def test_standardisation_is_folded_back_into_raw_coefficients():
    X, y = _data(1)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    reference = LogisticRegression(C=2.0, tol=1e-10, max_iter=5000).fit((X - mean) / scale, y)
    model = AdditiveLogisticRegression(C=2.0, tol=1e-10, max_iter=5000).fit(X, y)
    expected = reference.predict_proba((X - mean) / scale)[:, 1]
    assert np.allclose(model.predict_proba(X)[:, 1], expected, atol=1e-6)


def test_keeps_column_names_and_clones():
    X, y = _data(2)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = AdditiveLogisticRegression().fit(frame, y)
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    assert clone(model).get_params() == model.get_params()


def test_nonnegative_columns_stay_nonnegative_where_the_unconstrained_fit_goes_negative():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 3))
    # column 1 carries a strongly negative effect: unconstrained, its weight is negative
    y = (X[:, 0] - 2.0 * X[:, 1] + rng.normal(scale=0.5, size=600) > 0).astype(int)
    free = AdditiveLogisticRegression().fit(X, y)
    bounded = AdditiveLogisticRegression(nonnegative=(1,)).fit(X, y)
    assert free.coef_[1] < -0.5
    assert bounded.coef_[1] >= 0.0
    assert bounded.coef_[0] > 0.5  # the other columns are still learned
    # the additive guarantee holds for the bounded fit too
    np.testing.assert_allclose(bounded.contributions(X).sum(axis=1) + bounded.intercept_,
                               bounded.decision_function(X))


def test_nonnegative_fit_matches_the_unconstrained_one_when_the_bound_is_not_active():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(800, 2))
    y = (X[:, 0] + X[:, 1] + rng.normal(scale=0.7, size=800) > 0).astype(int)
    free = AdditiveLogisticRegression(tol=1e-10).fit(X, y)
    bounded = AdditiveLogisticRegression(tol=1e-10, nonnegative=(0, 1)).fit(X, y)
    np.testing.assert_allclose(bounded.coef_, free.coef_, atol=1e-3)
    np.testing.assert_allclose(bounded.intercept_, free.intercept_, atol=1e-3)
