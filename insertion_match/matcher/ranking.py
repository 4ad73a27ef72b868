"""Diversity as an additive term: the top of the list should not be ten variants of one thing.

A greedy pass: at each step take the candidate with the best *adjusted* score, where every
already-chosen item with the same main frein (for offers: the same ROME code) costs
``frein_step`` and every one in the same category (for offers: the same département) costs
``category_step``. The cost is an explained term of the item ("une action sur ce frein figure déjà
plus haut"), so the score shown is the adjusted score, the reasons still add up exactly, and the
order shown is the score order: penalties only grow as items are chosen, so each chosen item's
adjusted score is at most the previous one's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FREIN_STEP = 0.03
CATEGORY_STEP = 0.01


@dataclass(frozen=True)
class Diversified:
    """The chosen positions in order, and for each the count of earlier items sharing its main
    frein and its category, and the penalties those counts cost (negative numbers)."""

    order: np.ndarray  # (k,) int positions into the candidate arrays
    same_frein: np.ndarray  # (k,) int
    same_category: np.ndarray  # (k,) int
    frein_penalty: np.ndarray  # (k,) float, <= 0
    category_penalty: np.ndarray  # (k,) float, <= 0


def diversify_additive(
    scores: np.ndarray,
    main_frein: np.ndarray,
    category: np.ndarray,
    k: int,
    frein_step: float = FREIN_STEP,
    category_step: float = CATEGORY_STEP,
) -> Diversified:
    """Choose the first ``k`` candidates, each with its diversity penalty.

    Ties keep the input order (stable). With steps of 0 the order is the plain descending score
    order and every penalty is 0.
    """
    n = scores.shape[0]
    k = max(0, min(k, n))
    empty_i, empty_f = np.empty(0, dtype=np.int64), np.empty(0)
    if k == 0:
        return Diversified(empty_i, empty_i, empty_i, empty_f, empty_f)
    _, frein_codes = np.unique(main_frein, return_inverse=True)
    _, cat_codes = np.unique(category, return_inverse=True)
    frein_count = np.zeros(frein_codes.max() + 1, dtype=np.int64)
    cat_count = np.zeros(cat_codes.max() + 1, dtype=np.int64)
    available = np.ones(n, dtype=bool)
    chosen = np.empty(k, dtype=np.int64)
    same_f = np.empty(k, dtype=np.int64)
    same_c = np.empty(k, dtype=np.int64)
    for step in range(k):
        adjusted = (scores - frein_step * frein_count[frein_codes]
                    - category_step * cat_count[cat_codes])
        adjusted = np.where(available, adjusted, -np.inf)
        best = int(np.argmax(adjusted))  # first max: stable on ties
        chosen[step] = best
        same_f[step] = frein_count[frein_codes[best]]
        same_c[step] = cat_count[cat_codes[best]]
        available[best] = False
        frein_count[frein_codes[best]] += 1
        cat_count[cat_codes[best]] += 1
    return Diversified(chosen, same_f, same_c, -frein_step * same_f, -category_step * same_c)


def diversify(
    scores: np.ndarray,
    main_frein: np.ndarray,
    category: np.ndarray,
    k: int,
    frein_step: float = FREIN_STEP,
    category_step: float = CATEGORY_STEP,
) -> np.ndarray:
    """Only the order of :func:`diversify_additive` (for evaluations that rank many people)."""
    return diversify_additive(scores, main_frein, category, k, frein_step, category_step).order
