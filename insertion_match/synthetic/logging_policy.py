"""The historical "logging policy": what coaches used to propose, biased on purpose.

Before any recommender, a référent proposes from memory: mostly **near** actions and
**familiar** ones (the big, long-standing actions everyone knows, and each coach's habits), and
only then the person's main need. Each person gets 1 to 3 proposals (``1 + Binomial(2, 0.35)``),
drawn without replacement among their **eligible** actions by a Plackett-Luce choice on

    utility = − 2.5 × min(minutes / 30, 4)       (itinerant: 0.3; no own mode: 4)
              + 0.9 × familiarity                (z-score of log(1 + participants or places),
                                                  plus a seeded per-action habit N(0, 0.5))
              + 0.7 × main-frein match + 0.3 × total need fit
              + Gumbel noise

(the Gumbel-top-k trick samples Plackett-Luce exactly). The order of the draw is the rank the
coach gave. What this policy did not propose has no observed outcome: a learner trained on its
logs sees a biased sample, which is the point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DISTANCE_WEIGHT = 2.5
FAMILIARITY_WEIGHT = 0.9
MAIN_NEED_WEIGHT = 0.7
NEED_WEIGHT = 0.3
HABIT_SD = 0.5
PROPOSALS_EXTRA = (2, 0.35)  # Binomial(n, p) proposals beyond the first

POLICY_NAME = "pratique-historique-synthetique"
POLICY_VERSION = "1"


def familiarity(participants: np.ndarray, places: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
    """Per-action familiarity: size (participants, else places) on a log scale, z-scored, plus a
    habit term. Unknown sizes count as the median size."""
    size = np.where(np.isfinite(participants), participants, places)
    size = np.where(np.isfinite(size), size, np.nanmedian(size) if np.isfinite(size).any() else 0)
    logsize = np.log1p(size)
    z = (logsize - logsize.mean()) / (logsize.std() or 1.0)
    return z + rng.normal(0.0, HABIT_SD, size=z.size)


def policy_utility(candidates: pd.DataFrame, item_familiarity: pd.Series) -> np.ndarray:
    """The coach's utility of each candidate row (without noise)."""
    minutes = candidates["travel_minutes"].to_numpy(dtype=float)
    reach = np.where(np.isfinite(minutes), np.minimum(minutes / 30.0, 4.0), 4.0)
    reach = np.where(candidates["itinerant"].to_numpy(dtype=bool), 0.3, reach)
    return (-DISTANCE_WEIGHT * reach
            + FAMILIARITY_WEIGHT * item_familiarity.reindex(candidates["item_id"]).to_numpy()
            + MAIN_NEED_WEIGHT * candidates["main_match"].to_numpy(dtype=float)
            + NEED_WEIGHT * candidates["need_total"].to_numpy(dtype=float))


def propose(candidates: pd.DataFrame, utility: np.ndarray,
            rng: np.random.Generator) -> pd.DataFrame:
    """The proposals: for each person, 1-3 candidate rows with their ``rank`` (1 = first).

    ``candidates`` must be grouped by ``person_id`` (contiguous rows). Returns the chosen rows'
    index labels with the rank, in person then rank order.
    """
    persons = candidates["person_id"].to_numpy()
    key = utility + rng.gumbel(size=len(candidates))
    order = np.lexsort((-key, persons))
    sorted_persons = persons[order]
    starts = np.flatnonzero(np.r_[True, sorted_persons[1:] != sorted_persons[:-1]])
    group_sizes = np.diff(np.r_[starts, len(order)])
    position = np.arange(len(order)) - np.repeat(starts, group_sizes)
    n_extra, p_extra = PROPOSALS_EXTRA
    wanted = 1 + rng.binomial(n_extra, p_extra, size=starts.size)
    keep = position < np.repeat(wanted, group_sizes)
    chosen = order[keep]
    return pd.DataFrame({"rank": position[keep] + 1}, index=candidates.index[chosen])
