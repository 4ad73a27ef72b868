"""Per-request features of every action of the person's département, computed at once.

`action_features` returns aligned arrays (one row per action of the index). Nothing here decides
or scores: eligibility lives in ``matcher.eligibility`` and weights in ``matcher.scoring``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insertion_match.features.action_index import ActionIndex
from insertion_match.features.profile import PersonContext
from insertion_match.geo import MIN_TRIP_KM, Mode, best_travel

#: How each orientation's aim lines up with an action category: +1 aligned, 0 neutral.
#: A soft readiness signal only (DESIGN §11: labels are aims, not entry rules).
ORIENTATION_ALIGNMENT: dict[str, dict[str, float]] = {
    "sociale": {
        "insertion_sociale": 1.0, "sante": 1.0, "logement": 1.0, "langue": 1.0,
        "numerique": 1.0, "mobilite": 1.0, "diagnostic": 1.0,
    },
    "socioprofessionnelle": {
        "insertion_sociale": 0.5, "mobilite": 1.0, "langue": 0.5, "numerique": 0.5,
        "emploi_formation": 0.5, "iae": 1.0, "accompagnement_renforce": 1.0, "diagnostic": 0.5,
    },
    "professionnelle": {
        "emploi_formation": 1.0, "iae": 1.0, "accompagnement_renforce": 1.0, "mobilite": 0.5,
    },
}

#: Categories that mean being at work or in training soon.
WORK_CATEGORIES = frozenset({"iae", "emploi_formation"})
#: Freins that, when blocking (3), usually come first before work.
PRIOR_FREINS = ("sante", "logement", "langue_francaise")

HISTORY_CODES = {"none": 0, "refused": 1, "abandoned": 2, "done": 3, "ongoing": 4}


@dataclass(frozen=True)
class ActionFeatures:
    need: np.ndarray  # (n, F): severity/3 × addresses weight
    distance_km: np.ndarray  # (n,) crow-fly to the nearest site
    travel_minutes: np.ndarray  # (n,) by the best of the person's modes; inf if none
    travel_mode: np.ndarray  # (n,) int index into context.modes.modes; -1 if none
    itinerant: np.ndarray  # (n,) bool
    occupancy: np.ndarray  # (n,) participants / places, NaN unknown
    cost_eur: np.ndarray  # (n,) NaN unknown
    outcome_rate: np.ndarray  # (n,) NaN unknown
    alignment: np.ndarray  # (n,) 0..1 orientation / category alignment, 0 when unknown
    prior_frein_block: np.ndarray  # (n,) bool: a blocking prior frein and a work category
    history: np.ndarray  # (n,) int code of HISTORY_CODES
    category: np.ndarray | None = None  # (n,) str ActionCategory value


def action_features(index: ActionIndex, ctx: PersonContext) -> ActionFeatures:
    n = len(index)
    need = index.addresses * (ctx.severities / 3.0)[np.newaxis, :]
    distance = index.nearest_site_km(ctx.home.lat, ctx.home.lon)
    modes = ctx.modes.modes
    if n:
        minutes, mode_idx = best_travel(np.maximum(distance, MIN_TRIP_KM), modes)
        minutes = np.asarray(minutes, dtype=float)
        mode_idx = np.where(np.isfinite(minutes), mode_idx, -1)
    else:
        minutes, mode_idx = np.empty(0), np.empty(0, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        occupancy = np.where(index.places > 0, index.participants / index.places, np.nan)
    orientation = ctx.profile.orientation
    if orientation is None:
        alignment = np.zeros(n)
    else:
        table = ORIENTATION_ALIGNMENT[orientation.value]
        alignment = np.array([table.get(c, 0.0) for c in index.category], dtype=float)
    blocking_prior = any(ctx.profile.severity(f) >= 3 for f in PRIOR_FREINS)
    prior_block = np.isin(index.category, list(WORK_CATEGORIES)) & blocking_prior
    history = np.array(
        [HISTORY_CODES[ctx.history.get(i, "none")] for i in index.ids], dtype=np.int8
    ) if ctx.history else np.zeros(n, dtype=np.int8)
    return ActionFeatures(
        need=need,
        distance_km=distance,
        travel_minutes=minutes,
        travel_mode=mode_idx.astype(np.int64),
        itinerant=index.itinerant,
        occupancy=occupancy,
        cost_eur=index.cost_eur,
        outcome_rate=index.outcome_rate,
        alignment=alignment,
        prior_frein_block=prior_block,
        history=history,
        category=index.category,
    )


def mode_of(ctx: PersonContext, mode_index: int) -> Mode | None:
    return None if mode_index < 0 else ctx.modes.modes[mode_index]
