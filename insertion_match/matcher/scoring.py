"""The transparent additive scorer.

score(action) = Σ contributions, each a documented term:

========================  ===================================================================
term                      contribution
========================  ===================================================================
``frein.<key>``           ``need_weight × severity/3 × w`` for every frein the action addresses
                          (w = 1.0 for its main frein; 0.5/sqrt(m) for each of its m other
                          freins). A person with a blocking mobility frein gets +0.30 from an
                          action whose main aim is mobility.
``reach``                 itinerant action: ``+reach_weight``; otherwise
                          ``reach_weight × (1 − minutes / max_minutes)``, floored at
                          ``unreachable_penalty`` (also when no own mode gets there).
                          A cost, never a wall, for actions (DESIGN §11).
``capacity``              ``−capacity_weight × min(occupancy − 1, 1)`` when last known
                          occupancy is above 100 %.
``readiness``             ``+readiness_weight × alignment`` of the orientation with the
                          category, ``−readiness_weight`` when a blocking health, housing or
                          language frein comes before work or training.
``history``               ``−refused_penalty`` / ``−abandoned_penalty`` when already refused /
                          abandoned.
``outcome``               ``+outcome_weight × rate`` of positive exits, when known.
``cost``                  ``−cost_penalty`` when the person has to pay something.
========================  ===================================================================

The per-term contributions are returned as a matrix; the score is exactly their row sum, so every
explanation adds up to the score shown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from insertion_match.domain import FREINS
from insertion_match.features.action_features import ActionFeatures

OTHER_TERMS: tuple[str, ...] = ("reach", "capacity", "readiness", "history", "outcome", "cost")
TERMS: tuple[str, ...] = tuple(f"frein.{k}" for k in FREINS) + OTHER_TERMS


@dataclass(frozen=True)
class ScorerWeights:
    need_weight: float = 0.30
    reach_weight: float = 0.15
    unreachable_penalty: float = -0.10
    capacity_weight: float = 0.05
    readiness_weight: float = 0.05
    refused_penalty: float = 0.10
    abandoned_penalty: float = 0.05
    outcome_weight: float = 0.05
    cost_penalty: float = 0.02


@dataclass(frozen=True)
class Scored:
    contributions: np.ndarray  # (n, len(TERMS))
    scores: np.ndarray  # (n,) == contributions.sum(axis=1)


class TransparentScorer:
    """Additive, documented weights; pure and vectorised (no I/O, no global state)."""

    name = "transparent-additive"
    version = "1.0.0"

    def __init__(self, weights: ScorerWeights | None = None) -> None:
        self.weights = weights or ScorerWeights()

    def describe(self) -> dict[str, float]:
        return asdict(self.weights)

    def score(self, f: ActionFeatures, max_minutes: float) -> Scored:
        w = self.weights
        n = f.need.shape[0]
        need = w.need_weight * f.need
        if max_minutes > 0:
            reach_raw = w.reach_weight * (1.0 - f.travel_minutes / max_minutes)
        else:
            reach_raw = np.where(f.travel_minutes <= 0, w.reach_weight, w.unreachable_penalty)
        reach = np.where(np.isfinite(reach_raw), reach_raw, w.unreachable_penalty)
        reach = np.maximum(reach, w.unreachable_penalty)
        reach = np.where(f.itinerant, w.reach_weight, reach)
        over = np.clip(np.nan_to_num(f.occupancy, nan=1.0) - 1.0, 0.0, 1.0)
        capacity = -w.capacity_weight * over
        readiness = w.readiness_weight * f.alignment - w.readiness_weight * f.prior_frein_block
        history = np.select(
            [f.history == 1, f.history == 2], [-w.refused_penalty, -w.abandoned_penalty], 0.0
        )
        outcome = w.outcome_weight * np.nan_to_num(f.outcome_rate, nan=0.0)
        cost = np.where(np.nan_to_num(f.cost_eur, nan=0.0) > 0, -w.cost_penalty, 0.0)
        other = np.column_stack([reach, capacity, readiness, history, outcome, cost]) if n else (
            np.zeros((0, len(OTHER_TERMS)))
        )
        contributions = np.hstack([need, other])
        return Scored(contributions=contributions, scores=contributions.sum(axis=1))
