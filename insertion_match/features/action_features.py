"""Per-request features of every action of the person's département, computed at once.

`action_features` returns aligned arrays (one row per action of the index). Nothing here decides
or scores: eligibility lives in ``matcher.eligibility`` and weights in ``matcher.scoring``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insertion_match.domain import FREINS, Frein, HistoryCode
from insertion_match.features.action_index import MAIN_FREIN_WEIGHT, ActionIndex
from insertion_match.features.profile import PersonContext
from insertion_match.geo import Mode

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

_MOBILITE = FREINS.index("mobilite")
HISTORY_CODES = {h.name: int(h) for h in HistoryCode}

#: Severity from which each frein makes reaching a site hard (a service that comes to the
#: person, or a dossier, then really helps); below, "comes to the person" is no advantage.
HARD_TO_REACH_SEVERITY: dict[str, int] = {
    "mobilite": 2, "isolement_confiance": 2, "handicap": 2, "sante": 3, "garde_enfants": 3,
}


def hard_to_reach(ctx: PersonContext) -> bool:
    """Reaching a site is hard for this person: a real mobility, isolation, disability, health
    or childcare frein, or neither a car nor public transport."""
    if any(ctx.profile.severity(k) >= v for k, v in HARD_TO_REACH_SEVERITY.items()):
        return True
    return not ({Mode.car, Mode.two_wheeler, Mode.public_transport} & set(ctx.modes.modes))


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
    history: np.ndarray  # (n,) int HistoryCode
    category: np.ndarray | None = None  # (n,) str ActionCategory value
    comes_to_person: np.ndarray | None = None  # (n,) bool: itinerant, at home, or by dossier
    by_dossier: np.ndarray | None = None  # (n,) bool: applied for by dossier, no trip
    sites_unknown: np.ndarray | None = None  # (n,) bool: "sites à préciser", no trip estimated
    hard_to_reach: bool = False  # reaching a site is hard for this person
    remote: np.ndarray | None = None  # (n,) bool: only at a distance (telephone, online)
    digital_hard: bool = False  # the person's digital frein is real or blocking
    public_fit: np.ndarray | None = None  # (n,) float: made for the person's precise public
    unchecked: np.ndarray | None = None  # (n,) float: conditions the profile leaves unchecked
    mobility_aim: np.ndarray | None = None  # (n,) bool: the action's main aim is mobility
    travel_source: np.ndarray | None = None  # (n,) "estimate" | "gtfs:NAME", None: no trip

    def no_trip(self) -> np.ndarray:
        """Actions for which no trip is estimated (comes to the person, dossier, unknown sites)."""
        out = np.asarray(self.itinerant, dtype=bool).copy()
        for extra in (self.by_dossier, self.sites_unknown):
            if extra is not None:
                out |= extra
        return out


#: A secondary aim of an action makes it worth listing when that frein is at least this severe
#: for the person (real or blocking); a light frein met only on the side is padding.
SECONDARY_RELEVANCE_SEVERITY = 2


def relevant_to_needs(index: ActionIndex, ctx: PersonContext,
                      public_fit: np.ndarray | None = None) -> np.ndarray:
    """Actions worth listing for a person who stated freins: the action's main aim is one of the
    person's freins, or one of its other aims is a real or blocking frein of the person — except
    funds applied for by dossier, which count only for their own purpose (a housing fund is not
    for a person whose only frein is money), or the action is made for the person's precise
    public (``public_fit``) and works on one of their freins. A référent strikes out what works
    on none of the person's needs. Everything is relevant for a person who stated no frein."""
    if not (ctx.severities > 0).any():
        return np.ones(len(index), dtype=bool)
    main_hit = ctx.severities[index.main_frein] >= 1
    secondary = (index.addresses > 0) & (index.addresses < MAIN_FREIN_WEIGHT)
    secondary_hit = (secondary & (ctx.severities[np.newaxis, :] >= SECONDARY_RELEVANCE_SEVERITY)
                     ).any(axis=1) & ~index.by_dossier
    relevant = main_hit | secondary_hit
    if public_fit is not None:  # made for the person's public and works on one of their freins
        addressed = (index.addresses > 0) & (ctx.severities[np.newaxis, :] >= 1)
        relevant |= (np.asarray(public_fit) > 0) & addressed.any(axis=1)
    return relevant


def action_features(
    index: ActionIndex, ctx: PersonContext, public_fit: np.ndarray | None = None,
    unchecked: np.ndarray | None = None,
) -> ActionFeatures:
    """Aligned feature arrays of every action of ``index`` for the person.

    ``public_fit`` and ``unchecked`` come from the eligibility evaluation
    (``matcher.eligibility.public_fit`` and the count of unchecked conditions); zeros if omitted.
    """
    n = len(index)
    need = index.addresses * (ctx.severities / 3.0)[np.newaxis, :]
    # the nearest site, and the quickest by the person's fastest mode (timetables where a feed
    # covers the trip), memoised per home position
    trips = index.home_trips(ctx.home.lat, ctx.home.lon, ctx.modes.modes)
    distance, minutes, mode_idx, source = (trips.nearest_km, trips.minutes, trips.mode_index,
                                           trips.source)
    with np.errstate(divide="ignore", invalid="ignore"):
        occupancy = np.where(index.places > 0, index.participants / index.places, np.nan)
    occupancy = np.where(np.isnan(index.occupancy_rate), occupancy, index.occupancy_rate)
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
    unknown_sites = index.sites_unknown & ~index.by_dossier & ~index.itinerant
    no_trip = index.itinerant | index.by_dossier | unknown_sites
    minutes = np.where(no_trip, np.nan, minutes)
    mode_idx = np.where(no_trip, -1, mode_idx)
    source = np.where(no_trip, np.array(None, dtype=object), source)
    distance = np.where(no_trip, np.nan, distance)
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
        comes_to_person=index.itinerant | index.by_dossier,
        by_dossier=index.by_dossier,
        sites_unknown=unknown_sites,
        hard_to_reach=hard_to_reach(ctx),
        remote=index.remote,
        digital_hard=ctx.profile.severity(Frein.numerique.value) >= 2,
        # made for the person's public counts only where the action also works on one of their
        # freins (a disability pre-diagnostic is not for every person unknown to the MDPH)
        public_fit=np.zeros(n) if public_fit is None
        else np.asarray(public_fit, dtype=float) * (need.sum(axis=1) > 0),
        unchecked=np.zeros(n) if unchecked is None else np.asarray(unchecked, dtype=float),
        mobility_aim=index.main_frein == _MOBILITE,
        travel_source=source,
    )


def mode_of(ctx: PersonContext, mode_index: int) -> Mode | None:
    return None if mode_index < 0 else ctx.modes.modes[mode_index]
