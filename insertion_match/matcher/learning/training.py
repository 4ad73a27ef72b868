"""Fit the learned scorer on logged outcomes, and measure it as a probability model.

The input is a *logged* frame (``matcher.columns``): one row per past proposal with the extended
design columns of ``matcher.scoring`` and ``LABEL`` (1 = the proposal ended in a positive exit).
Nothing else is read: not who proposed it, not the person's sex (DESIGN §3), never a hidden truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from insertion_match.matcher.columns import LABEL, require_columns
from insertion_match.matcher.learning.estimator import AdditiveLogisticRegression
from insertion_match.matcher.learning.scorer import DEFAULT_NAME, DESIGN_COLUMNS, LearnedScorer

#: The frein columns' coefficients are constrained to be >= 0: a reason "Répond au frein X"
#: never carries a negative contribution (a need met is never held against an action).
FREIN_COLUMN_POSITIONS: tuple[int, ...] = tuple(
    j for j, c in enumerate(DESIGN_COLUMNS) if c.startswith("frein."))

def training_matrix(logs: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The named design columns and the binary label of a logged frame (checked at the door)."""
    require_columns(logs, (*DESIGN_COLUMNS, LABEL), "logged outcomes")
    y = logs[LABEL].to_numpy()
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{LABEL} must be 0 or 1")
    return logs.loc[:, list(DESIGN_COLUMNS)].astype(float), y.astype(int)


def fit_learned_scorer(logs: pd.DataFrame, C: float = 1.0, name: str = DEFAULT_NAME,
                       release: str = "1.0.0") -> LearnedScorer:
    """Fit :class:`AdditiveLogisticRegression` on ``logs`` and wrap it for serving."""
    X, y = training_matrix(logs)
    if np.unique(y).size < 2:
        raise ValueError("the logged outcomes hold a single class: nothing to learn")
    estimator = AdditiveLogisticRegression(C=C, nonnegative=FREIN_COLUMN_POSITIONS).fit(X, y)
    return LearnedScorer(estimator, name=name, release=release)


def probability_metrics(probability: np.ndarray, label: np.ndarray) -> dict[str, float]:
    """Log loss, Brier score, ROC AUC and the positive rate of a probability model."""
    label = np.asarray(label, dtype=int)
    probability = np.clip(np.asarray(probability, dtype=float), 1e-9, 1 - 1e-9)
    both = np.unique(label).size == 2
    return {
        "n": int(label.size),
        "positive_rate": float(label.mean()) if label.size else float("nan"),
        "log_loss": float(log_loss(label, probability, labels=[0, 1])),
        "brier": float(brier_score_loss(label, probability)),
        "roc_auc": float(roc_auc_score(label, probability)) if both else float("nan"),
    }
