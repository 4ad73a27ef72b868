"""The reverse question: for one offer, which stored beneficiaries, ranked, with the reasons.

Same pairwise features, walls, scorer and French reasons as the forward question (the pairs are
m people × one offer instead of one person × n offers), over the in-memory
:class:`~insertion_match.features.people.PeopleArrays` of the stored beneficiaries. The caller
states the territory it may see as a plain :class:`Scope` (départements, commissions, or
(département, commission) pairs); nobody outside it is considered, listed or counted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from insertion_match.domain import Opportunity
from insertion_match.features.opportunity_features import (
    PairFeatures,
    best_mode,
    max_reach_km,
    mode_minutes_at,
    pair_features,
    rome_proximity,
)
from insertion_match.features.opportunity_index import OfferArrays, OpportunityIndex
from insertion_match.features.people import (
    BOUND_COLUMNS,
    MODES,
    WALL_COLUMNS,
    PeopleArrays,
    PeopleGrid,
    codes_at,
)
from insertion_match.geo import Mode, haversine_km
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
        return self.allows(people.department, people.commission)

    def allows(self, department: np.ndarray, commission: np.ndarray) -> np.ndarray:
        """bool: the (département, commission) pairs that are in scope."""
        keep = np.ones(department.shape[0], dtype=bool)
        if self.departments is not None:
            keep &= np.isin(department, list(self.departments))
        if self.commissions is not None:
            keep &= np.isin(commission, list(self.commissions))
        if self.territories is not None:
            inside = np.zeros(department.shape[0], dtype=bool)
            for dept, com in self.territories:
                here = department == dept
                if com is not None:
                    here &= commission == com
                inside |= here
            keep &= inside
        return keep


_CAR = MODES.index(Mode.car)
#: Slack on the score bounds (float sums of the same terms in another order).
BOUND_SLACK = 1e-9


def rank_candidates(
    index: OpportunityIndex, position: int, people: PeopleArrays, scorer: OpportunityScorer,
    scope: Scope, limit: int = 20, include_excluded: bool = False, brute: bool = False,
) -> Candidates:
    """Rank the people of ``scope`` for the offer at ``position`` of ``index``.

    Guarantees: nobody outside ``scope`` appears or is counted; nobody failing a wall
    (travel, licence, hours, childcare, history) is in ``items``; reasons add up to scores.

    With a grid on ``people`` (the stored people's index) the answer is the same as
    ``brute``, which evaluates everyone of scope (and is used to list the excluded), reading
    far less (:func:`_rank_near`).
    """
    opp = index.opportunities[position]
    offer = index.arrays.take([position])
    if people.grid is not None and not include_excluded and not brute and limit > 0:
        return _rank_near(opp, offer, people, people.grid, scorer, scope, limit)
    history = people.history_codes(opp.id, np.arange(len(people), dtype=np.int64))
    return _rank(opp, offer, people, history, scope.mask(people), scorer, limit,
                 include_excluded)


def _rank_near(opp: Opportunity, offer: OfferArrays, people: PeopleArrays, grid: PeopleGrid,
               scorer: OpportunityScorer, scope: Scope, limit: int) -> Candidates:
    """The grid's answer, equal to the brute evaluation:

    1. **Count** of scope from the people per (département, commission): nobody is read.
    2. **Reach**: only the rows of the grid cells within the largest distance any mode covers
       in the longest maximum time, then each person's own reach (beyond it every mode, a car
       too, is over their time): they fail the travel wall. Read from the grid's columns in
       cell order (runs of memory).
    3. **Walls** on those people (the walls' own code, on the grid's columns): the eligible
       count.
    4. **Scores only where they can matter**: an upper bound of each eligible person's score
       is the scorer's own score with every skill of the offer covered (the skills term only
       grows with the share covered; every other term is exact, from the grid's columns).
       The ``4 × limit`` best bounds are scored; their ``limit``-th best score ``s`` is at
       most the answer's last score. Everyone whose bound reaches ``s`` is scored too:
       whoever is left out scores below ``s``, under at least ``limit`` people. The people
       scored are ranked as the brute path ranks them (score, then position). Below
       ``10 × limit`` eligible people, or with a negative skills weight, everyone is scored.
    """
    w_lat, w_lon = float(offer.lat[0]), float(offer.lon[0])
    allowed = scope.allows(grid.group_department, grid.group_commission)
    candidates = int(grid.group_size[allowed].sum())
    reach_km = np.array([max_reach_km(float(x)) for x in grid.minutes])
    rows = grid.rows_near(w_lat, w_lon, float(reach_km.max()) if reach_km.size else 0.0)
    rows = rows[allowed[grid.group[rows]]]
    cells = grid.cells
    distance = np.asarray(haversine_km(cells.lat[rows], cells.lon[rows], offer.lat, offer.lon))
    near = distance <= reach_km[grid.reach_class[rows]]
    rows, distance = rows[near], distance[near]
    # the walls: their own code on the grid's columns (travel only needs the homes)
    sub = grid.take(rows, WALL_COLUMNS)
    history = np.zeros(rows.shape[0], dtype=np.int8)
    if opp.id in people.history:  # the item's history, by row
        pos, codes = people.history[opp.id]
        history = codes_at(rows, grid.rank[pos], codes)
    stacked, pt_source = mode_minutes_at(sub.lat, sub.lon, offer.lat, offer.lon, distance)
    minutes, mode = best_mode(stacked, sub)
    zero = np.zeros(rows.shape[0])
    light = PairFeatures(distance_km=distance, minutes=minutes, mode=mode,
                         car_minutes=stacked[_CAR].copy(), proximity_level=zero.astype(np.int8),
                         matched_target=zero.astype(np.int64), skills=zero,
                         training_gap=zero, hours_gap=zero, history=history,
                         travel_source=pt_source)
    keep = np.flatnonzero(evaluate_opportunity_eligibility(sub, offer, light).eligible)
    eligible = int(keep.shape[0])
    if eligible > 10 * limit and scorer.weights.skills_weight >= 0:  # (see step 4)
        keep = keep[_may_enter(opp.id, people, offer, scorer, grid.order[rows[keep]],
                               grid.take(rows[keep], BOUND_COLUMNS),
                               _take_feats(light, keep), limit)]
    positions = np.sort(grid.order[rows[keep]])
    result = _rank(opp, offer, people.take(positions), people.history_codes(opp.id, positions),
                   np.ones(positions.shape[0], dtype=bool), scorer, limit, False)
    return replace(result, candidates=candidates, eligible=eligible)


def _may_enter(item_id: str, people: PeopleArrays, offer: OfferArrays,
               scorer: OpportunityScorer, positions: np.ndarray, bounded: PeopleArrays,
               feats: PairFeatures, limit: int) -> np.ndarray:
    """Which of the eligible people at ``positions`` (their bound's columns: ``bounded``,
    their travel and history: ``feats``) may enter the ``limit`` best: see
    :func:`_rank_near`, step 4."""
    level, _ = rome_proximity(bounded, offer)
    offer_skills = bool(offer.skill_tok_start.shape[0])
    with np.errstate(invalid="ignore"):
        feats = replace(
            feats, proximity_level=level,
            skills=np.where(bounded.skills_known & offer_skills, 1.0, np.nan),
            training_gap=np.asarray(offer.training_level - bounded.level, float),
            hours_gap=np.asarray(offer.hours - bounded.hours, float))
    bound = np.nan_to_num(scorer.score(bounded, offer, feats).scores, nan=np.inf)
    # a first answer: the best bounds, scored; its limit-th score is a floor of the answer's
    n = positions.shape[0]
    first = np.argpartition(-bound, min(4 * limit, n) - 1)[:4 * limit]
    s = _score_of(item_id, people, offer, scorer, positions[first])
    floor = np.partition(s, s.shape[0] - limit)[s.shape[0] - limit] - BOUND_SLACK
    return np.union1d(np.flatnonzero(bound >= floor), first)


def _take_feats(f: PairFeatures, at: np.ndarray) -> PairFeatures:
    cols: dict[str, Any] = {k: None if v is None else v[at] for k, v in vars(f).items()}
    return PairFeatures(**cols)


def _score_of(item_id: str, people: PeopleArrays, offer: OfferArrays, scorer: OpportunityScorer,
              positions: np.ndarray) -> np.ndarray:
    """The scores (exactly as :func:`_rank` computes them) of the people at ``positions``."""
    positions = np.sort(positions)
    sub = people.take(positions)
    feats = pair_features(sub, offer, people.history_codes(item_id, positions))
    return scorer.score(sub, offer, feats).scores


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
