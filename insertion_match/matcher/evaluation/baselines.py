"""Scores of the reference rankings, vectorised over a candidates frame (one score per row).

- ``random``: a seeded uniform draw (the floor);
- ``popularity``: positive exits an action produced in the training logs (then how often it was
  proposed): what "what works for most" would show, the same for everyone;
- ``distance``: nearest first (crow-fly km, an itinerant action at 0 km): what the departmental
  platforms and the national tools do today;
- ``transparent``: the documented weights of ``matcher.scoring`` (exactly the served scores);
- ``learned``: a :class:`LearnedScorer`'s logits.

The oracle (the hidden truth) is not here: only the synthetic world knows it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insertion_match.matcher import columns as C
from insertion_match.matcher.learning.scorer import LearnedScorer
from insertion_match.matcher.scoring import BASE_COLUMNS, ScorerWeights


def random_scores(candidates: pd.DataFrame, random_state: int = 0) -> np.ndarray:
    return np.random.default_rng(random_state).random(len(candidates))


def popularity(logs: pd.DataFrame) -> pd.DataFrame:
    """Per item: proposals, positive exits and a smoothed success rate ((s + 1) / (n + 2))."""
    C.require_columns(logs, (C.ITEM_ID, C.LABEL), "training logs")
    stats = logs.groupby(C.ITEM_ID).agg(proposals=(C.LABEL, "size"), successes=(C.LABEL, "sum"))
    stats["rate"] = (stats.successes + 1) / (stats.proposals + 2)
    return stats


def popularity_scores(candidates: pd.DataFrame, logs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(scores, probabilities): successes (ties: proposals); the smoothed rate as probability.
    Items never logged score 0 and get the overall success rate."""
    stats = popularity(logs)
    items = candidates[C.ITEM_ID]
    successes = stats.successes.reindex(items).fillna(0).to_numpy()
    proposals = stats.proposals.reindex(items).fillna(0).to_numpy()
    overall = float(logs[C.LABEL].mean()) if len(logs) else 0.0
    rate = stats.rate.reindex(items).fillna(overall).to_numpy()
    return successes + proposals / (proposals.max() + 1.0), rate


def distance_scores(candidates: pd.DataFrame) -> np.ndarray:
    C.require_columns(candidates, ("distance_km", C.ITINERANT), "candidates")
    km = np.where(candidates[C.ITINERANT].to_numpy(dtype=bool), 0.0,
                  candidates["distance_km"].to_numpy(dtype=float))
    return -km


def transparent_scores(candidates: pd.DataFrame, weights: ScorerWeights | None = None) -> np.ndarray:
    """The transparent scorer's scores from the base design columns (default reach floor)."""
    columns = [c for c, _ in BASE_COLUMNS]
    C.require_columns(candidates, columns, "candidates")
    return candidates.loc[:, columns].to_numpy(dtype=float) @ (weights or ScorerWeights()).vector()


def learned_scores(candidates: pd.DataFrame, scorer: LearnedScorer) -> tuple[np.ndarray, np.ndarray]:
    """(logits, probabilities) of the learned scorer."""
    C.require_columns(candidates, scorer.columns, "candidates")
    values = candidates.loc[:, list(scorer.columns)].to_numpy(dtype=float)
    logits = scorer.decision(values)
    return logits, 1.0 / (1.0 + np.exp(-logits))
