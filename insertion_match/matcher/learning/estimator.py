"""An additive logistic-regression classifier whose per-feature contributions are exact.

:class:`AdditiveLogisticRegression` follows the scikit-learn estimator contract (STYLE 6): its
hyper-parameters are plain ``__init__`` arguments, ``fit`` validates and returns ``self``, learned
state ends in ``_``; it passes ``sklearn.utils.estimator_checks.parametrize_with_checks``.

It standardises the columns internally (so that the L2 penalty treats them alike), fits an
``sklearn.linear_model.LogisticRegression`` and then folds the scaling back into raw-unit
coefficients: ``decision_function(X) = intercept_ + X @ coef_`` exactly, and
``contributions(X)[:, j] = coef_[j] × X[:, j]``. A column that is 0 contributes exactly 0, so an
explanation only lists what is present.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data


class AdditiveLogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary logistic regression with exact additive contributions in logit space.

    Parameters
    ----------
    C : float, default=1.0
        Inverse L2 regularisation strength, on standardised columns.
    max_iter : int, default=1000
        Iterations of the lbfgs solver.
    tol : float, default=1e-6
        Solver tolerance.
    standardize : bool, default=True
        Scale columns to unit (weighted) variance before fitting; coefficients are reported in
        raw units either way.
    nonnegative : tuple of int or None, default=None
        Positions of columns whose coefficient is constrained to be >= 0 (e.g. the frein columns,
        so that no reason reads "Répond au frein X" with a negative contribution). With None the
        fit is scikit-learn's unconstrained ``LogisticRegression``; otherwise the same penalised
        objective is minimised with bounds by L-BFGS-B (scipy).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Raw-unit coefficients (logit per unit of each column).
    intercept_ : float
        Raw-unit intercept.
    classes_ : ndarray of shape (2,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features,), when fitted on a frame with string
        column names.
    n_iter_ : int
    """

    def __init__(self, C: float = 1.0, max_iter: int = 1000, tol: float = 1e-6,
                 standardize: bool = True, nonnegative: tuple[int, ...] | None = None) -> None:
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.standardize = standardize
        self.nonnegative = nonnegative

    def fit(self, X, y, sample_weight=None) -> AdditiveLogisticRegression:
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError("Only binary classification is supported. The type of the target "
                             f"is {y_type}.")
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError("This solver needs samples of at least 2 classes in the data, but "
                             f"the data contains only one class: {self.classes_[0]!r}")
        if sample_weight is None:
            sample_weight = np.ones(X.shape[0])
        else:
            sample_weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if sample_weight.shape[0] != X.shape[0] or not np.all(np.isfinite(sample_weight)):
                raise ValueError(f"sample_weight must be {X.shape[0]} finite numbers")
            if np.any(sample_weight < 0):
                raise ValueError("sample_weight must be non-negative")
            if not np.any(sample_weight > 0):
                raise ValueError("Sample weights must contain at least one non-zero number.")
        total = sample_weight.sum()
        if self.standardize and total > 0:
            mean = (sample_weight @ X) / total
            var = (sample_weight @ (X - mean) ** 2) / total
            scale = np.sqrt(var)
            scale[~(scale > 1e-12)] = 1.0
        else:
            mean, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
        Z = (X - mean) / scale
        if self.nonnegative is None:
            model = LogisticRegression(C=self.C, max_iter=self.max_iter, tol=self.tol)
            model.fit(Z, y, sample_weight=sample_weight)
            w, b, n_iter = model.coef_.ravel(), float(model.intercept_[0]), int(np.max(model.n_iter_))
        else:
            positions = np.asarray(self.nonnegative, dtype=np.int64).reshape(-1)
            if positions.size and (positions.min() < 0 or positions.max() >= X.shape[1]):
                raise ValueError(f"nonnegative positions must be within 0..{X.shape[1] - 1}")
            w, b, n_iter = self._fit_bounded(Z, (y == self.classes_[1]).astype(float),
                                             sample_weight, positions)
        coef = w / scale  # scale > 0: signs, hence bounds, are preserved
        self.coef_ = coef
        self.intercept_ = float(b - coef @ mean)
        self.n_iter_ = n_iter
        return self

    def _fit_bounded(self, Z: np.ndarray, t: np.ndarray, sw: np.ndarray,
                     positions: np.ndarray) -> tuple[np.ndarray, float, int]:
        """Minimise ``C Σ sw·logloss + ½‖w‖²`` (scikit-learn's objective) with w[positions] ≥ 0."""
        from scipy.optimize import minimize
        from scipy.special import expit, log1p

        p = Z.shape[1]

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:p], theta[p]
            z = Z @ w + b
            # log(1 + e^z) - t z, stable
            loss = np.where(z > 0, z + log1p(np.exp(-z)), log1p(np.exp(z))) - t * z
            r = sw * (expit(z) - t)
            value = self.C * float(sw @ loss) + 0.5 * float(w @ w)
            grad = np.r_[self.C * (Z.T @ r) + w, self.C * r.sum()]
            return value, grad

        bounds: list[tuple[float | None, float | None]] = [(None, None)] * (p + 1)
        for j in positions:
            bounds[int(j)] = (0.0, None)
        result = minimize(objective, np.zeros(p + 1), jac=True, method="L-BFGS-B",
                          bounds=bounds, options={"maxiter": self.max_iter, "gtol": self.tol})
        return result.x[:p], float(result.x[p]), int(result.nit)

    def decision_function(self, X) -> np.ndarray:
        """Logit of the positive class: ``intercept_ + Σ contributions``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_ + self.intercept_

    def contributions(self, X) -> np.ndarray:
        """(n, n_features) ``coef_[j] × X[:, j]``; their row sum plus ``intercept_`` is the logit."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X * self.coef_[np.newaxis, :]

    def predict_proba(self, X) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
