"""Re-ranking for diversity: the top of the list should not be ten variants of one thing.

A greedy pass in the spirit of maximal marginal relevance: at each step take the candidate with
the best *adjusted* score, where every already-chosen item with the same main frein shrinks a
candidate's score by ``frein_decay`` and every one in the same category by ``category_decay``
(multiplicatively, so the penalty scales with the score and never reorders a clearly better
item below a weak one; negative scores are pushed further down, not up). The scores themselves
are left untouched (the explanations still add up to them); only the order changes.
"""

from __future__ import annotations

import numpy as np

FREIN_DECAY = 0.85
CATEGORY_DECAY = 0.95


def diversify(
    scores: np.ndarray,
    main_frein: np.ndarray,
    category: np.ndarray,
    k: int,
    frein_decay: float = FREIN_DECAY,
    category_decay: float = CATEGORY_DECAY,
) -> np.ndarray:
    """Return the positions of the first ``k`` candidates in diversified order.

    Ties keep the input order (stable), so equal inputs give equal outputs. With decays of 1.0
    the order is the plain descending score order.
    """
    n = scores.shape[0]
    k = min(k, n)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    _, frein_codes = np.unique(main_frein, return_inverse=True)
    _, cat_codes = np.unique(category, return_inverse=True)
    frein_count = np.zeros(frein_codes.max() + 1)
    cat_count = np.zeros(cat_codes.max() + 1)
    available = np.ones(n, dtype=bool)
    chosen = np.empty(k, dtype=np.int64)
    magnitude = np.abs(scores)
    for step in range(k):
        keep = frein_decay ** frein_count[frein_codes] * category_decay ** cat_count[cat_codes]
        adjusted = scores - (1.0 - keep) * magnitude
        adjusted = np.where(available, adjusted, -np.inf)
        best = int(np.argmax(adjusted))  # first max: stable on ties
        chosen[step] = best
        available[best] = False
        frein_count[frein_codes[best]] += 1
        cat_count[cat_codes[best]] += 1
    return chosen
