"""The learned scorer: a fitted :class:`AdditiveLogisticRegression` served like the transparent one.

It scores the **extended design** of ``matcher.scoring`` (same columns as the transparent scorer
plus the documented extension columns) with the fitted coefficients. Its contributions are
``coef_j × x_j`` grouped by term, plus a ``base`` term (the intercept), in **logit** space; the
score is their exact sum (the logit of the probability of a positive exit, as learned from the
outcomes). The explanations therefore add up exactly, as for the transparent scorer.

A pickled ``LearnedScorer`` is the model artefact (``models/NAME.joblib``); its model card
(``models/NAME.card.json``) is checked by ``service/model_loading.py`` and by
:meth:`LearnedScorer.check_card`.
"""

from __future__ import annotations

import hashlib

import numpy as np
from sklearn.utils.validation import check_is_fitted

from insertion_match.features.action_features import ActionFeatures
from insertion_match.matcher.learning.estimator import AdditiveLogisticRegression
from insertion_match.matcher.scoring import (
    DESIGN_VERSION,
    Scored,
    additive_score,
    design_layout,
    term_features,
)

#: ``format_version`` of the model cards this code writes and reads.
MODEL_FORMAT = 1
DEFAULT_NAME = "learned-additive-logit"
DESIGN_COLUMNS, DESIGN_TERMS, _ = design_layout(extended=True)


class IncompatibleModel(ValueError):
    """The artefact was made for other design columns, another design version or another card."""


def coefficients_digest(coef: np.ndarray, intercept: float) -> str:
    """A short, stable digest of the fitted weights (rounded to 1e-9), used in the version."""
    data = np.round(np.r_[coef, intercept], 9).astype("<f8").tobytes()
    return hashlib.sha256(data).hexdigest()[:8]


class LearnedScorer:
    """Scores with fitted weights over the extended design; pure and vectorised."""

    def __init__(self, estimator: AdditiveLogisticRegression, name: str = DEFAULT_NAME,
                 release: str = "1.0.0") -> None:
        check_is_fitted(estimator)
        names = getattr(estimator, "feature_names_in_", None)
        if names is not None and tuple(names) != DESIGN_COLUMNS:
            raise IncompatibleModel("the estimator was fitted on other columns than the "
                                    f"extended design v{DESIGN_VERSION}")
        if estimator.n_features_in_ != len(DESIGN_COLUMNS):
            raise IncompatibleModel(f"{estimator.n_features_in_} features, the extended design "
                                    f"has {len(DESIGN_COLUMNS)}")
        self.estimator = estimator
        self.name = name
        self.design_version = DESIGN_VERSION
        self.columns = DESIGN_COLUMNS
        self.coef = np.asarray(estimator.coef_, dtype=float)
        self.intercept = float(estimator.intercept_)
        self.version = f"{release}+{coefficients_digest(self.coef, self.intercept)}"

    def score(self, f: ActionFeatures, max_minutes: float) -> Scored:
        """Contributions per term (logit), the intercept as ``base``; scores = row sums."""
        design = term_features(f, max_minutes, extended=True)
        return additive_score(design, self.coef, base=self.intercept)

    def decision(self, values: np.ndarray) -> np.ndarray:
        """Logits of design rows (n, p) in ``columns`` order."""
        return values @ self.coef + self.intercept

    def probability(self, values: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.decision(values)))

    def weights(self) -> dict[str, float]:
        return dict(zip(self.columns, self.coef.tolist(), strict=True))

    def check_card(self, card: dict) -> None:
        """Raise :class:`IncompatibleModel` unless ``card`` describes this artefact and this code
        can serve it (same design version and columns)."""
        if self.design_version != DESIGN_VERSION or card.get("design_version") != DESIGN_VERSION:
            raise IncompatibleModel(
                f"design version {card.get('design_version')!r} (artefact "
                f"{self.design_version!r}), this code computes version {DESIGN_VERSION!r}")
        if tuple(self.columns) != DESIGN_COLUMNS or tuple(card.get("columns", ())) != DESIGN_COLUMNS:
            raise IncompatibleModel("the design columns differ from this code's")
        if card.get("name") != self.name or card.get("version") != self.version:
            raise IncompatibleModel(
                f"the card describes {card.get('name')} {card.get('version')}, the artefact is "
                f"{self.name} {self.version}")
