"""The reverse question: for one offer, which stored beneficiaries, ranked, with the reasons.

Same pairwise features, walls, scorer and French reasons as the forward question (the pairs are
m people × one offer instead of one person × n offers), over the in-memory
:class:`~insertion_match.features.people.PeopleArrays` of the stored beneficiaries. The caller
states the territory it may see as a plain :class:`Scope` (départements, commissions, or
(département, commission) pairs); nobody outside it is considered, listed or counted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from insertion_match.domain import Opportunity
from insertion_match.features.opportunity_features import (
    PairFeatures,
    max_reach_km,
    pair_features,
    travel,
)
from insertion_match.features.opportunity_index import OfferArrays, OpportunityIndex
from insertion_match.features.people import PeopleArrays
from insertion_match.geo import haversine_km
from insertion_match.matcher.opportunity_eligibility import (
    PairView,
    evaluate_opportunity_eligibility,
)
from insertion_match.matcher.opportunity_explain import reasons_for, travel_of, warnings_for
from insertion_match.matcher.opportunity_scoring import OpportunityScorer
from insertion_match.matcher.results import (
    CandidateExcluded,
    CandidateItem,
    Candidates,
    Warning,
)


@dataclass(frozen=True)
class Scope:
    """The people the caller may see. ``None`` = no restriction on that axis; an empty
    ``territories`` sees nobody. ``territories``: (département, commission or None) pairs."""

    departments: frozenset[str] | None = None
    commissions: frozenset[str] | None = None
    territories: tuple[tuple[str, str | None], ...] | None = None

    def mask(self, people: PeopleArrays) -> np.ndarray:
        keep = np.ones(len(people), dtype=bool)
        if self.departments is not None:
            keep &= np.isin(people.department, list(self.departments))
        if self.commissions is not None:
            keep &= np.isin(people.commission, list(self.commissions))
        if self.territories is not None:
            inside = np.zeros(len(people), dtype=bool)
            for dept, commission in self.territories:
                here = people.department == dept
                if commission is not None:
                    here &= people.commission == commission
                inside |= here
            keep &= inside
        return keep


def rank_candidates(
    index: OpportunityIndex, position: int, people: PeopleArrays, scorer: OpportunityScorer,
    scope: Scope, limit: int = 20, include_excluded: bool = False, brute: bool = False,
) -> Candidates:
    """Rank the people of ``scope`` for the offer at ``position`` of ``index``.

    Guarantees: nobody outside ``scope`` appears or is counted; nobody failing a wall
    (travel, licence, hours, childcare, history) is in ``items``; reasons add up to scores.

    With a spatial grid on ``people`` (the stored people's index), only the people of scope
    living within the largest distance any mode covers in the longest maximum time are
    evaluated (the others fail the travel wall, by car too): the same answer as ``brute``,
    which evaluates everyone of scope (and is used to list the excluded).
    """
    opp = index.opportunities[position]
    offer = index.arrays.take([position])
    history = np.zeros(len(people), dtype=np.int8)
    if opp.id in people.history:
        pos, codes = people.history[opp.id]
        history[pos] = codes
    in_scope = scope.mask(people)
    if people.grid is not None and len(people) and not include_excluded and not brute:
        radius = max_reach_km(float(people.max_minutes.max()))
        near = people.grid.query(float(offer.lat[0]), float(offer.lon[0]), radius)
        near = near[in_scope[near]]
        # each person's own reach (beyond it every mode, a car too, is over their time)
        mm, which = np.unique(people.max_minutes[near], return_inverse=True)
        reach = np.array([max_reach_km(float(x)) for x in mm])[which.reshape(-1)]
        distance = haversine_km(people.lat[near], people.lon[near], offer.lat, offer.lon)
        near = near[np.asarray(distance) <= reach]
        # the walls first (travel only needs the homes), then everything for the eligible
        sub = people.take(near, walls_only=True)
        distance_km, minutes, mode, car_minutes, pt_source = travel(sub, offer)
        zero = np.zeros(near.shape[0])
        light = PairFeatures(distance_km=distance_km, minutes=minutes, mode=mode,
                             car_minutes=car_minutes, proximity_level=zero.astype(np.int8),
                             matched_target=zero.astype(np.int64), skills=zero,
                             training_gap=zero, hours_gap=zero, history=history[near],
                             travel_source=pt_source)
        keep = np.flatnonzero(evaluate_opportunity_eligibility(sub, offer, light).eligible)
        result = _rank(opp, offer, people.take(near[keep]), history[near][keep],
                       np.ones(keep.shape[0], dtype=bool), scorer, limit, False)
        return replace(result, candidates=int(in_scope.sum()))
    return _rank(opp, offer, people, history, in_scope, scorer, limit, include_excluded)


def _rank(opp: Opportunity, offer: OfferArrays, people: PeopleArrays, history: np.ndarray,
          in_scope: np.ndarray, scorer: OpportunityScorer, limit: int, include_excluded: bool
          ) -> Candidates:
    feats = pair_features(people, offer, history)
    elig = evaluate_opportunity_eligibility(people, offer, feats)
    scored = scorer.score(people, offer, feats)
    view = PairView(people, offer, (opp,), feats, forward=False)
    ok = in_scope & elig.eligible
    chosen = np.flatnonzero(ok)
    order = chosen[np.argsort(-scored.scores[chosen], kind="stable")][:limit]
    items = []
    for rank, i in enumerate(order, start=1):
        reasons, score = reasons_for(view, scored.contributions, int(i))
        items.append(CandidateItem(
            rank=rank, beneficiary_id=str(people.ids[i]), commune=people.commune[i],
            score=score, distance_km=round(float(feats.distance_km[i]), 1),
            travel=travel_of(view, int(i)), reasons=reasons,
            warnings=warnings_for(view, elig, int(i)),
        ))
    excluded = []
    if include_excluded:
        for i in np.flatnonzero(in_scope & ~elig.eligible):
            excluded.append(CandidateExcluded(str(people.ids[i]), tuple(
                Warning(rule.code, rule.label(view, int(i)))
                for r, rule in enumerate(elig.rules) if elig.excluded[i, r])))
    return Candidates(
        opportunity_id=opp.id, title=opp.title, model_name=scorer.name,
        model_version=scorer.version, items=tuple(items), excluded=tuple(excluded),
        candidates=int(in_scope.sum()), eligible=int(ok.sum()),
    )
