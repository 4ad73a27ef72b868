"""Opportunities for one person (the forward question), and the levers that open more of them.

``recommend_opportunities`` ranks, per requested kind, the live offers of the départements
within reach of home: pairwise features → walls (travel, licence, hours, childcare) → additive
score → additive diversity term → French reasons. ``opportunity_levers`` answers "which frein lifted
opens how many more suitable offers, and which action of the catalogue addresses it".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from insertion_match.domain import (
    FREINS,
    OPPORTUNITY_KINDS,
    ExperienceCode,
    HistoryCode,
    LicenceCode,
)
from insertion_match.features.opportunity_features import (
    PROXIMITY,
    PairFeatures,
    best_mode,
    max_reach_km,
    mode_minutes_at,
    pair_features,
    skills_one_person,
)
from insertion_match.features.opportunity_index import (
    OfferArrays,
    OfferTable,
    OpportunityIndex,
    _ranges,
)
from insertion_match.features.people import HISTORY_CODES, MODES, PeopleArrays
from insertion_match.geo import EARTH_RADIUS_KM, Mode, check_coordinates, haversine_km
from insertion_match.geo.transit import active_networks
from insertion_match.geo.travel import (
    ESTIMATE_SOURCE,
    MAX_MINUTES,
    MIN_TRIP_KM,
    SPEED_KMH,
    travel_minutes,
)
from insertion_match.matcher.explain import with_diversity
from insertion_match.matcher.opportunity_eligibility import (
    RULE_CODES,
    RULES,
    PairEligibility,
    PairView,
    evaluate_opportunity_eligibility,
    evaluate_pairs,
)
from insertion_match.matcher.opportunity_explain import (
    opportunity_details,
    reasons_for,
    travel_of,
    warnings_for,
)
from insertion_match.matcher.opportunity_scoring import (
    _READINESS,
    ADDRESSES,
    KIND_FREINS,
    READINESS,
    OpportunityScorer,
)
from insertion_match.matcher.ranking import (
    CATEGORY_STEP,
    FREIN_STEP,
    Diversified,
    diversify_additive,
)
from insertion_match.matcher.results import ExcludedItem, KindCount, Lever, RankedItem, Warning

_CAR = MODES.index(Mode.car)
#: At most this many newly reachable offers are named in a lever.
LEVER_ITEMS = 10
_GARDE = "garde_enfants"

UNCHECKED_FR = {
    "eligibility.training_level": "niveau de formation non renseigné : niveaux exigés non "
    "vérifiés",
    "eligibility.age": "âge non renseigné : contrats d'apprentissage non vérifiés",
    "eligibility.travel": "permis ou véhicule non renseigné : offres joignables seulement en "
    "voiture gardées, à vérifier",
    "eligibility.driving_licence": "permis de conduire non renseigné (ou autre catégorie exigée) : "
    "à vérifier",
    "eligibility.hours": "disponibilité en horaires atypiques non renseignée",
    "eligibility.childcare": "âge des enfants non renseigné : compatibilité des horaires avec la "
    "garde non vérifiée",
}


def reach_radius_km(max_minutes: float) -> float:
    """Crow-fly km beyond which no mode can arrive within ``max_minutes`` (an upper bound)."""
    return max_minutes / 60.0 * max(SPEED_KMH.values()) + 5.0


def indexes_within_reach(
    lat: float, lon: float, max_minutes: float, indexes: dict[str, OpportunityIndex]
) -> list[OpportunityIndex]:
    radius = reach_radius_km(max_minutes)
    ordered = [ix for _, ix in sorted(indexes.items()) if len(ix)]
    if not ordered:
        return []
    box = np.array([ix.box for ix in ordered])  # one vectorised distance to every box
    clat = np.minimum(np.maximum(lat, box[:, 0]), box[:, 1])
    clon = np.minimum(np.maximum(lon, box[:, 2]), box[:, 3])
    near = haversine_km(lat, lon, clat, clon) <= radius
    return [ix for ix, ok in zip(ordered, near.tolist(), strict=True) if ok]


@dataclass(frozen=True)
class _Evaluated:
    """One index evaluated for one person."""

    index: OpportunityIndex
    view: PairView
    elig: PairEligibility
    contributions: np.ndarray
    scores: np.ndarray
    candidate: np.ndarray  # bool: live and of a requested kind


def _history(person_history: dict[str, str], ids: np.ndarray) -> np.ndarray:
    if not person_history:
        return np.zeros(ids.shape[0], dtype=np.int8)
    return np.array([HISTORY_CODES.get(person_history.get(i, ""), 0) for i in ids], np.int8)


def evaluate_person(
    person: PeopleArrays, history: dict[str, str], index: OpportunityIndex,
    scorer: OpportunityScorer, kinds: Sequence[str], today: date,
) -> _Evaluated:
    feats = pair_features(person, index.arrays, _history(history, index.ids))
    elig = evaluate_opportunity_eligibility(person, index.arrays, feats)
    scored = scorer.score(person, index.arrays, feats)
    view = PairView(person, index.arrays, index.opportunities, feats, forward=True)
    candidate = index.live(today) & np.isin(index.arrays.kind, list(kinds))
    return _Evaluated(index, view, elig, scored.contributions, scored.scores, candidate)


@dataclass(frozen=True)
class OpportunityResult:
    items: tuple[RankedItem, ...]  # per kind, in the order of ``kinds``; rank within kind
    excluded: tuple[ExcludedItem, ...]
    counts: tuple[KindCount, ...]
    levers: tuple[Lever, ...]
    unchecked: tuple[str, ...]


def recommend_opportunities(
    person: PeopleArrays, history: dict[str, str], indexes: dict[str, OpportunityIndex],
    scorer: OpportunityScorer, kinds: Sequence[str], limit: int = 10,
    include_excluded: bool = False, today: date | None = None,
    bridge: Callable[[str], tuple[str, ...]] | None = None,
    unrecognised_note: Callable[[str], str] | None = None, brute: bool = False,
) -> OpportunityResult:
    """Rank the eligible live offers of each kind in ``kinds`` for one person (m = 1).

    When the indexes are views of one :class:`OfferTable` (the engine's), only the offers
    within reach are read (:func:`_recommend_indexed`, the same answer); ``brute`` (or
    ``include_excluded``, which lists every offer of the départements within reach) evaluates
    every offer of those départements, the reference the indexed path is tested against.

    Guarantees: no excluded pair is in ``items`` (in particular no offer requiring a licence
    the person lacks, none beyond their maximum travel time by their own modes); each item's
    reasons add up to its score; ``excluded`` (when asked) lists every candidate that failed
    a wall, with all its reasons.
    """
    today = today or date.today()
    table = shared_table(indexes)
    if table is not None and not include_excluded and not brute:
        return _recommend_indexed(person, history, indexes, table, scorer, kinds, limit, today,
                                  bridge, unrecognised_note)
    evaluated = [evaluate_person(person, history, ix, scorer, kinds, today)
                 for ix in indexes_within_reach(float(person.lat[0]), float(person.lon[0]),
                                                float(person.max_minutes[0]), indexes)]
    items: list[RankedItem] = []
    excluded: list[ExcludedItem] = []
    counts: list[KindCount] = []
    unchecked: set[str] = set()
    for kind in kinds:
        parts = [(e, np.flatnonzero(e.candidate & (e.index.arrays.kind == kind)))
                 for e in evaluated]
        owner = np.concatenate([np.full(p.size, k) for k, (_, p) in enumerate(parts)]) if parts \
            else np.empty(0, np.int64)
        pos = np.concatenate([p for _, p in parts]) if parts else np.empty(0, np.int64)
        ok = np.concatenate([e.elig.eligible[p] for e, p in parts]) if parts else np.empty(0, bool)
        scores = np.concatenate([e.scores[p] for e, p in parts]) if parts else np.empty(0)
        rome = np.concatenate([e.index.arrays.rome_pos[p] for e, p in parts]) if parts \
            else np.empty(0, np.int32)
        dp = np.concatenate([e.index.arrays.rome_dp[p] for e, p in parts]) if parts \
            else np.empty(0, np.int32)
        chosen = np.flatnonzero(ok)
        div = diversify_additive(scores[chosen], rome[chosen], dp[chosen], limit)
        order = chosen[div.order]
        for rank, c in enumerate(order, start=1):
            e, i = parts[owner[c]][0], int(pos[c])
            items.append(_item(e, i, rank, kind, div))
        for e, p in parts:
            ok_p = e.elig.eligible[p]
            for r, rule in enumerate(e.elig.rules):
                if e.elig.unchecked[p[ok_p], r].any():
                    unchecked.add(rule.code)
            if include_excluded:
                excluded.extend(_excluded(e, int(i), kind) for i in p[~ok_p])
        counts.append(KindCount(kind, int(pos.size), int(ok.sum()), int(order.size)))
    levers = opportunity_levers(person, evaluated, scorer, kinds, bridge)
    return OpportunityResult(tuple(items), tuple(excluded), tuple(counts), levers,
                             _unchecked_fr(person, unchecked, unrecognised_note))


def _unchecked_fr(person: PeopleArrays, unchecked: set[str],
                  unrecognised_note: Callable[[str], str] | None = None) -> tuple[str, ...]:
    if not person.has_targets[0]:
        unchecked_fr = [("métiers visés non renseignés : proximité avec les métiers des offres "
                         "non évaluée")]
    else:
        unchecked_fr = [unrecognised_note(t) if unrecognised_note else
                        f"métier visé non reconnu : « {t} »"
                        for t, code in zip(person.target_text[0], person.target_pos[0],
                                           strict=False) if code < 0]
    unchecked_fr += [UNCHECKED_FR[c] for c in sorted(unchecked) if c in UNCHECKED_FR]
    return tuple(unchecked_fr)


def _item(e: _Evaluated, i: int, rank: int, kind: str, div: Diversified) -> RankedItem:
    o = e.view.opportunity(i)
    reasons, _ = reasons_for(e.view, e.contributions, i)
    reasons, score = with_diversity(
        reasons, div, rank - 1,
        frein_label="Une offre du même métier figure déjà plus haut",
        category_label="Une offre du même domaine professionnel figure déjà plus haut")
    return RankedItem(
        rank=rank, kind=kind, id=o.id, title=o.title, provider=o.employer,
        commune=o.location.commune, category=o.contract_type or kind, score=score,
        distance_km=round(float(e.view.feats.distance_km[i]), 1), travel=travel_of(e.view, i),
        reasons=reasons, warnings=warnings_for(e.view, e.elig, i),
        freins_addressed=KIND_FREINS[o.kind], opportunity=opportunity_details(e.view, i),
    )


def _excluded(e: _Evaluated, i: int, kind: str) -> ExcludedItem:
    o = e.index.opportunities[i]
    why = tuple(Warning(rule.code, rule.label(e.view, i))
                for r, rule in enumerate(e.elig.rules) if e.elig.excluded[i, r])
    return ExcludedItem(kind=kind, id=o.id, title=o.title, reasons=why)


# ------------------------------------------------------------------------------- levers


def _counterfactuals(person: PeopleArrays) -> list[tuple[str, str, str, PeopleArrays]]:
    """(change, frein, French "with ..." phrase, changed person) for the freins one can lift."""
    out = []
    licence = LicenceCode(int(person.licence[0]))
    has_car = bool(person.modes[0, _CAR])
    b_licence = np.array([LicenceCode.b], np.int8)
    if licence in (LicenceCode.none, LicenceCode.code):
        out.append(("licence", "mobilite", "Avec le permis B",
                    replace(person, licence=b_licence)))
    if not has_car:
        modes = person.modes.copy()
        modes[0, _CAR] = True
        # offer only what the person lacks: a licence holder is offered a vehicle alone
        change, phrase = (("vehicle", "Avec un véhicule") if licence is LicenceCode.b
                          else ("licence_vehicle", "Avec le permis B et un véhicule"))
        out.append((change, "mobilite", phrase,
                    replace(person, licence=b_licence, modes=modes,
                            car_unknown=np.array([False]))))
    g = FREINS.index(_GARDE)
    if person.severities[0, g] >= 2:
        sev = person.severities.copy()
        sev[0, g] = 0.0
        out.append(("childcare", _GARDE, "Avec une solution de garde d'enfants",
                    replace(person, severities=sev)))
    return out


def opportunity_levers(
    person: PeopleArrays, evaluated: Sequence[_Evaluated], scorer: OpportunityScorer,
    kinds: Sequence[str], bridge: Callable[[str], tuple[str, ...]] | None = None,
) -> tuple[Lever, ...]:
    """For each frein that could be lifted, how many more suitable offers it opens.

    "Suitable" = live, of a requested kind, and passing every wall. The counterfactual person
    differs only by the lifted frein (a B licence; a licence and a car; childcare solved).
    ``bridge(change)`` names the catalogue actions that address it.
    """
    if not evaluated:
        return ()
    now = sum(int((e.candidate & e.elig.eligible).sum()) for e in evaluated)
    outcomes = []
    for change, frein, phrase, changed in _counterfactuals(person):
        after = 0
        opened: list[str] = []
        for e in evaluated:
            feats: PairFeatures = pair_features(changed, e.index.arrays, e.view.feats.history)
            elig = evaluate_opportunity_eligibility(changed, e.index.arrays, feats)
            after += int((e.candidate & elig.eligible).sum())
            new = e.candidate & elig.eligible & ~e.elig.eligible
            opened.extend(e.index.ids[new][:LEVER_ITEMS].tolist())
        outcomes.append((change, frein, phrase, after - now, opened))
    return _levers(person, outcomes, kinds, bridge)


def _levers(person: PeopleArrays, outcomes: Sequence[tuple[str, str, str, int, list[str]]],
            kinds: Sequence[str], bridge: Callable[[str], tuple[str, ...]] | None
            ) -> tuple[Lever, ...]:
    noun = "offre(s) d'emploi" if list(kinds) == ["job"] else "offre(s)"
    unlocks_kind = "job" if list(kinds) == ["job"] else "opportunity"
    max_minutes = float(person.max_minutes[0])
    levers = []
    for change, frein, phrase, unlocks, opened in outcomes:
        if unlocks <= 0:
            continue
        where = f" à moins de {max_minutes:.0f} min" if change != "childcare" else ""
        levers.append(Lever(
            frein=frein, label=f"{phrase} : +{unlocks} {noun}{where}", unlocks=unlocks,
            actions=bridge(change) if bridge else (), unlocks_kind=unlocks_kind, change=change,
            items=tuple(opened[:LEVER_ITEMS]),
        ))
    levers.sort(key=lambda lv: -lv.unlocks)
    return tuple(levers)


# ------------------------------------------------------------------ the indexed path


def shared_table(indexes: dict[str, OpportunityIndex]) -> OfferTable | None:
    """The :class:`OfferTable` the indexes are all the views of (every département), or None."""
    tables = {id(ix.table) for ix in indexes.values()}
    first = next(iter(indexes.values()), None)
    if first is None or first.table is None or len(tables) != 1:
        return None
    table = first.table
    return table if set(indexes) == set(table.departments) else None


def _diversify(scores: np.ndarray, rome: np.ndarray, dp: np.ndarray, limit: int) -> Diversified:
    """:func:`diversify_additive` on the only candidates that can be chosen: a penalty is at
    most ``(limit - 1) × (both steps)``, so a score below the ``limit``-th best minus that
    never wins a step (nor ties one). Same answer, fewer candidates."""
    if limit > 0 and scores.shape[0] > 4 * limit:
        kth = np.partition(scores, -limit)[-limit]
        worst = (limit - 1) * (FREIN_STEP + CATEGORY_STEP)
        keep = np.flatnonzero(scores >= kth - worst - 1e-9)
        div = diversify_additive(scores[keep], rome[keep], dp[keep], limit)
        return replace(div, order=keep[div.order])
    return diversify_additive(scores, rome, dp, limit)


def _class_walls(person: PeopleArrays, reps: OfferArrays) -> tuple[np.ndarray, np.ndarray]:
    """The walls that depend on the offer's class only (licence, hours, childcare, training
    level, age: ``HotColumns.cls``), evaluated once per class on one offer of it: (excluded by
    any of them, (C,) bool; unchecked, (C, R) bool). Travel and history: per offer."""
    c = len(reps)
    zero = np.zeros(c)
    feats = PairFeatures(distance_km=zero, minutes=zero, mode=np.zeros(c, np.int64),
                         car_minutes=zero, proximity_level=np.zeros(c, np.int8),
                         matched_target=np.zeros(c, np.int64), skills=zero, training_gap=zero,
                         hours_gap=zero, history=np.zeros(c, np.int8))
    excluded, unchecked = evaluate_pairs(person, reps, feats)
    excluded[:, _PER_OFFER] = False
    unchecked[:, _PER_OFFER] = False
    return np.asarray(excluded.any(axis=1)), unchecked


_TRAVEL = RULE_CODES.index("eligibility.travel")
_PER_OFFER = [_TRAVEL, RULE_CODES.index("history.done"), RULE_CODES.index("history.ongoing")]
_ESTIMATE = np.array(ESTIMATE_SOURCE, dtype=object)


def _class_bound(person: PeopleArrays, scorer: OpportunityScorer, reps: OfferArrays
                 ) -> np.ndarray:
    """Per class, the terms of the score that the class decides, exactly (the scorer's
    formulas): need, training, experience, contract, readiness, iae, atypical hours with young
    children, licence souhaité; history at its largest (0 for the shipped weights)."""
    w = scorer.weights
    n = len(reps)
    with np.errstate(invalid="ignore"):
        gap = reps.training_level - float(person.level[0])
        training = np.where(
            np.isnan(gap), 0.0,
            np.where(gap <= 0, w.training_fit,
                     -w.training_weight * np.minimum(gap, 3) / 3
                     * np.where(reps.training_required, 1, .5)))
    exp = reps.experience
    experience = np.select([exp == ExperienceCode.beginner, exp == ExperienceCode.required],
                           [w.experience_weight, -w.experience_weight], 0.0)
    orientation = int(person.orientation[0])
    readiness = np.zeros(n)
    if orientation >= 0:
        alignment = _READINESS[reps.kind_code, orientation]
        insertion = max(0.0, float(READINESS["insertion"][orientation]))
        alignment = np.where(reps.insertion_contract, np.maximum(alignment, insertion),
                             alignment)
        readiness = w.readiness_weight * alignment
    young = (np.nan_to_num(person.children_under_3[0])
             + np.nan_to_num(person.children_3_to_11[0])) > 0
    atypical = -w.atypical_children * (np.any(reps.atypical, axis=1) & young)
    lic = int(person.licence[0])
    licence = -w.licence_desired * (reps.licence_b_desired & (lic < 2) & (lic >= 0))
    history = max(0.0, -w.refused_penalty, -w.abandoned_penalty)
    need = w.need_weight * (ADDRESSES @ (person.severities[0] / 3.0))
    return (training + experience + w.durable_weight * reps.durable + readiness
            + w.iae_weight * reps.iae + atypical + licence + history + need[reps.kind_code])


def _rome_bound(person: PeopleArrays, scorer: OpportunityScorer, table: OfferTable
                ) -> np.ndarray:
    """Per ROME combination of the table (``HotColumns.rome``): the proximity term exactly,
    from the best level over the person's target jobs (same fiche, ROME v3 fiche, domaine,
    grand domaine)."""
    A, first = table.arrays, table.hot.rome_first
    rome_pos = A.rome_pos[first]
    valid = person.target_pos[0] >= 0
    level = np.full(first.shape[0], -1, dtype=np.int64)
    if valid.any():
        level = np.select(
            [np.isin(rome_pos, person.target_pos[0][valid]),
             np.isin(A.rome_v3[first], person.target_v3[0][valid]),
             np.isin(A.rome_dp[first], person.target_dp[0][valid]),
             np.isin(A.rome_gd[first], person.target_gd[0][valid])], [4, 3, 2, 1], 0)
        level = np.where(rome_pos >= 0, level, -1)
    return np.where(level >= 0, scorer.weights.rome_weight * PROXIMITY[np.maximum(level, 0)],
                    0.0)


@dataclass(frozen=True)
class _Reach:
    """The live offers of the requested kinds within reach of one person (grid order), with
    their trip and what the walls found."""

    pos: np.ndarray  # table positions
    rows: np.ndarray  # rows of ``table.hot``
    distance: np.ndarray
    minutes: np.ndarray  # by the fastest of the person's modes
    stacked: np.ndarray  # (len(MODES), n) by each mode (those the person has, and the car)
    car: np.ndarray
    source: np.ndarray  # public-transport time's source (broadcast when one for all)
    history: np.ndarray  # int8
    cls: np.ndarray
    travel_unchecked: np.ndarray  # bool: beyond reach by own modes, within it by car
    class_unchecked: np.ndarray  # (C, R) bool


def _estimate_minutes(distance: np.ndarray, modes: np.ndarray) -> np.ndarray:
    """``mode_minutes(distance)`` for the modes ``modes`` (bool per MODES) and the car; the
    other rows are inf (never read)."""
    stacked = np.full((len(MODES), distance.shape[0]), np.inf)
    trip = np.maximum(distance, MIN_TRIP_KM)
    for k, mode in enumerate(MODES):
        if modes[k] or k == _CAR:
            minutes = travel_minutes(trip, mode)
            if mode in MAX_MINUTES:  # as features.opportunity_features._capped
                minutes = np.where(minutes > MAX_MINUTES[mode], np.inf, minutes)
            stacked[k] = minutes
    return stacked


def _fastest(stacked: np.ndarray, modes: np.ndarray) -> np.ndarray:
    """The minutes of ``best_mode`` for one person with ``modes`` (the minimum over their
    rows; inf without any): the same numbers, without the mode's index."""
    rows = np.flatnonzero(modes)
    if not rows.size:
        return np.full(stacked.shape[1], np.inf)
    return np.asarray(stacked[rows].min(axis=0))


def _entry_threshold(adjusted: np.ndarray, rome_c: np.ndarray, dp_c: np.ndarray,
                     rome_x: np.ndarray, dp_x: np.ndarray) -> np.ndarray:
    """For offers x outside the scored ones: the score x would need to win (or tie) a step of
    the diversity choice whose chosen items are ``rome_c`` / ``dp_c`` with adjusted scores
    ``adjusted``: min over steps j of (adjusted_j + FREIN_STEP × items before j of x's ROME
    fiche + CATEGORY_STEP × items before j of x's domaine). An offer whose score is below it
    loses every step to the chosen item (same earlier choices), so the choice is unchanged."""
    k = adjusted.shape[0]
    out = []
    for chosen, x in ((rome_c, rome_x), (dp_c, dp_x)):
        values = np.unique(chosen)
        before = np.zeros((k, values.shape[0] + 1))  # last column: a value never chosen
        before[1:, :-1] = np.cumsum(chosen[:, np.newaxis] == values, axis=0)[:-1]
        at = np.minimum(np.searchsorted(values, x), values.shape[0] - 1)
        out.append((before, np.where(values[at] == x, at, values.shape[0])))
    (fr, ri), (ca, di) = out
    table = (adjusted[:, np.newaxis, np.newaxis] + FREIN_STEP * fr[:, :, np.newaxis]
             + CATEGORY_STEP * ca[:, np.newaxis, :]).min(axis=0)
    return table[ri, di]


#: The offers of each kind scored first: this many times ``limit``, the best bounds (measured
#: on the 1M bench: 4 → half the people needed a second round of scoring, 16 → a fifth).
FIRST_ROUND = 16


def _first_take(ub: np.ndarray | None, size: int, limit: int) -> np.ndarray:
    """The offers of a kind scored first: those with the ``FIRST_ROUND × limit`` best bounds
    (all of them when few, or when no bound is known)."""
    first = FIRST_ROUND * max(limit, 1)
    if ub is None or size <= 2 * first:
        return np.ones(size, dtype=bool)
    return ub >= np.partition(ub, -first)[-first]


def _choose(e: _Evaluated, at: np.ndarray, limit: int) -> Diversified:
    """The diversity choice among the scored offers ``at`` (rows of ``e``, in table order);
    ``order``: rows of ``e``."""
    offers = e.view.offers
    div = _diversify(e.scores[at], offers.rome_pos[at], offers.rome_dp[at], limit)
    return replace(div, order=at[div.order])


def _choose_bounded(
    score: Callable[[np.ndarray], _Evaluated], table: OfferTable, pos: np.ndarray,
    ek: np.ndarray, ub: np.ndarray | None, take: np.ndarray, limit: int, e: _Evaluated,
    at: np.ndarray, skills: tuple[Callable[[np.ndarray], np.ndarray], np.ndarray] | None = None,
) -> tuple[_Evaluated, Diversified]:
    """Score only the offers of ``ek`` whose bound ``ub`` can win a step of the diversity
    choice (:func:`_entry_threshold`: the chosen items' adjusted scores plus the penalties the
    offer itself would pay); the others can never be chosen, so the answer is the one of
    scoring them all. ``e`` holds the offers ``ek[take]`` already scored, at its rows ``at``;
    widens until the chosen items are stable. Scored offers are in table order (the
    diversity choice keeps the first of tied offers, as the brute evaluation does).

    ``skills``: (the exact skills term of offers of ``ek``, the part of ``ub`` that bounds
    it): an offer that comes near the chosen ones has its bound tightened with its exact
    skills term first (cheaper than scoring it)."""
    def ordered(sel: np.ndarray) -> np.ndarray:
        return sel[np.argsort(pos[sel], kind="stable")]

    A = table.arrays
    exact = np.zeros(ek.shape[0], dtype=bool)
    for _ in range(12):
        div = _choose(e, at, limit)
        if ub is None or take.all():
            return e, div
        if div.order.size < min(limit, ek.size):
            break
        adjusted = e.scores[div.order] + div.frein_penalty + div.category_penalty
        near = np.flatnonzero(~take & (ub >= adjusted.min()))
        if near.size:
            where = pos[ek[near]]
            threshold = _entry_threshold(
                adjusted, e.view.offers.rome_pos[div.order], e.view.offers.rome_dp[div.order],
                A.rome_pos[where], A.rome_dp[where])
            keep = ub[near] >= threshold
            near, threshold = near[keep], threshold[keep]
            fresh = ~exact[near]
            if skills is not None and fresh.any():
                term, part = skills
                ub[near[fresh]] += term(ek[near[fresh]]) - part[near[fresh]]
                exact[near[fresh]] = True
                keep = ub[near] >= threshold
                near, threshold = near[keep], threshold[keep]
            margin = ub[near] - threshold
        if not near.size:
            return e, div
        # the most promising first (the chosen items, hence the thresholds, rise with them)
        grow = max(2 * int(np.count_nonzero(take)), 256)
        if near.size > grow:
            near = near[np.argpartition(-margin, grow)[:grow]]
        take[near] = True
        which = ordered(ek[take])
        e, at = score(which), np.arange(which.shape[0])
    which = ordered(ek)
    e = score(which)
    return e, _choose(e, np.arange(which.shape[0]), limit)


def _within_reach(person: PeopleArrays, history: dict[str, str], table: OfferTable,
                  within: Sequence[OpportunityIndex], kinds: Sequence[str], radius: float,
                  today: date, reps: OfferArrays) -> tuple[_Reach, np.ndarray]:
    """The live offers of ``kinds`` of the départements ``within`` at most ``radius`` km
    away (crow-fly, ``geo.haversine_km``'s formula on the grid-ordered columns), their trips,
    and the walls: (reach, blocked)."""
    hot = table.hot
    lat, lon = float(person.lat[0]), float(person.lon[0])
    check_coordinates(person.lat, person.lon)
    rows = table.grid.query_members(lat, lon, radius)
    phi1 = np.radians(np.asarray(person.lat, dtype=float))
    lam1 = np.radians(np.asarray(person.lon, dtype=float))
    a = (np.sin((hot.phi[rows] - phi1) / 2.0) ** 2
         + np.cos(phi1) * hot.cos_phi[rows] * np.sin((hot.lam[rows] - lam1) / 2.0) ** 2)
    distance = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    dept_ok = np.zeros(len(table.departments), dtype=bool)
    for ix in within:
        dept_ok[table.departments.index(ix.department)] = True
    kind_ok = np.isin(np.arange(len(OPPORTUNITY_KINDS)),
                      [OPPORTUNITY_KINDS.index(k) for k in kinds])
    keep = ((distance <= radius) & (hot.expires[rows] >= today.toordinal())
            & kind_ok[hot.kind[rows]] & dept_ok[hot.dept[rows]])
    rows, distance = rows[keep], distance[keep]
    pos = hot.position[rows]
    n = pos.shape[0]
    hist = np.zeros(n, dtype=np.int8)
    if history:
        known = list(history)
        at_table = table.positions_of(known)
        codes = np.array([HISTORY_CODES.get(history[i], 0) for i in known], dtype=np.int8)
        found = at_table >= 0
        at_table, codes = at_table[found], codes[found]
        order = np.argsort(at_table)
        at_table, codes = at_table[order], codes[order]
        hit = np.flatnonzero(np.isin(pos, at_table))
        hist[hit] = codes[np.searchsorted(at_table, pos[hit])]
    if active_networks():  # public transport by the timetables: the offers' positions
        A = table.arrays
        stacked, source = mode_minutes_at(person.lat, person.lon, A.lat[pos], A.lon[pos],
                                          distance)
    else:  # the estimate (what mode_minutes_at gives without a network), for the modes read:
        # the person's and the car (the travel wall's "by car, to check" and the levers)
        stacked, source = _estimate_minutes(distance, person.modes[0]), _ESTIMATE
    car = stacked[_CAR]
    minutes = _fastest(stacked, person.modes[0])
    max_minutes = float(person.max_minutes[0])
    too_far = ~(minutes <= max_minutes)  # the travel wall (opportunity_eligibility)
    by_car = bool(person.car_unknown[0]) & (car <= max_minutes)
    cls = hot.cls[rows]
    class_excluded, class_unchecked = _class_walls(person, reps)
    blocked = class_excluded[cls] | (too_far & ~by_car)
    if history:
        blocked |= (hist == HistoryCode.done) | (hist == HistoryCode.ongoing)
    reach = _Reach(pos=pos, rows=rows, distance=distance, minutes=minutes, stacked=stacked,
                   car=car,
                   source=np.broadcast_to(source, (n,)), history=hist, cls=cls,
                   travel_unchecked=too_far & by_car, class_unchecked=class_unchecked)
    return reach, blocked


def _recommend_indexed(
    person: PeopleArrays, history: dict[str, str], indexes: dict[str, OpportunityIndex],
    table: OfferTable, scorer: OpportunityScorer, kinds: Sequence[str], limit: int,
    today: date, bridge: Callable[[str], tuple[str, ...]] | None,
    unrecognised_note: Callable[[str], str] | None = None,
) -> OpportunityResult:
    """:func:`recommend_opportunities` reading only the offers within reach.

    1. The grid gives the offers within the largest crow-fly distance any mode covers in the
       person's maximum time (beyond it, every offer fails the travel wall, with a car too);
       the candidate counts of the départements within reach come from the table's sorted
       expiry dates. 2. Walls: travel and history per offer, the others once per offer class
       (:func:`_class_walls`); the levers the same way for the changed person. 3. Scores: only
       for the offers whose upper bound can enter the diversified list
       (:func:`_choose_bounded`). The answer is the brute one.
    """
    max_minutes = float(person.max_minutes[0])
    within = indexes_within_reach(float(person.lat[0]), float(person.lon[0]), max_minutes,
                                  indexes)
    radius = min(max_reach_km(max_minutes), reach_radius_km(max_minutes))
    reps = table.hot.reps  # one offer of each class
    r, blocked = _within_reach(person, history, table, within, kinds, radius, today,
                                        reps)
    eligible = ~blocked
    present = np.zeros(r.class_unchecked.shape[0], dtype=bool)
    present[r.cls[eligible]] = True
    flagged = np.asarray(r.class_unchecked[present].any(axis=0))
    flagged[_TRAVEL] = bool((r.travel_unchecked & eligible).any())
    unchecked = {rule.code for k, rule in enumerate(RULES) if flagged[k]}

    # levers: the same walls for the person with one frein lifted (travel by mode reused).
    # Lifting a frein never closes an offer (a B licence, a car — whose times are never
    # longer than the "by car, to check" ones that kept an offer — or childcare only remove
    # exclusions), so only the offers excluded now are evaluated again.
    closed = np.flatnonzero(blocked)
    hist_closed = r.history[closed]
    held = (hist_closed == HistoryCode.done) | (hist_closed == HistoryCode.ongoing)
    cls_closed, car_closed = r.cls[closed], r.car[closed]
    outcomes = []
    for change, frein, phrase, changed in _counterfactuals(person):
        class_excluded, _ = _class_walls(changed, reps)
        m2 = (r.minutes if np.array_equal(changed.modes, person.modes)
              else _fastest(r.stacked, changed.modes[0]))[closed]
        by_car = bool(changed.car_unknown[0]) & (car_closed <= max_minutes)
        opens = ~(class_excluded[cls_closed] | (~(m2 <= max_minutes) & ~by_car) | held)
        at = r.pos[closed[opens]]
        if at.size > LEVER_ITEMS:
            at = np.partition(at, LEVER_ITEMS - 1)[:LEVER_ITEMS]
        opened = table.ids[np.sort(at)].tolist()
        outcomes.append((change, frein, phrase, int(opens.sum()), opened))
    levers = _levers(person, outcomes, kinds, bridge)

    # scores: only the offers whose score bound can reach the chosen ones
    chosen_from = np.flatnonzero(eligible)
    kind_of = table.hot.kind[r.rows[chosen_from]]
    bound = skill_part = None
    if type(scorer) is OpportunityScorer:  # the additive scorer: its bound is known
        bound, skill_part = _offer_bound(person, scorer, table, r, chosen_from, reps)

    def skills_term(which: np.ndarray) -> np.ndarray:
        """The exact skills term of the offers ``which`` (rows of ``r``)."""
        share = _skills_at(person, table, r.pos[which])
        return scorer.weights.skills_weight * np.nan_to_num(share, nan=0.0)

    def score(which: np.ndarray) -> _Evaluated:
        return _score(person, table, r, which, scorer)

    # the first offers of every kind scored together (one call), then each kind widens alone
    plans = []
    for kind in kinds:
        of_kind = kind_of == OPPORTUNITY_KINDS.index(kind)
        ub = None if bound is None else bound[of_kind]
        ek = chosen_from[of_kind]
        refine = None if skill_part is None else (skills_term, skill_part[of_kind])
        plans.append((kind, ek, ub, _first_take(ub, ek.size, limit), refine))
    first = np.concatenate([p[1][p[3]] for p in plans] + [np.empty(0, np.int64)])
    first = first[np.argsort(r.pos[first], kind="stable")]
    e0 = score(first)
    first_kind = table.hot.kind[r.rows[first]]

    items: list[RankedItem] = []
    counts: list[KindCount] = []
    for kind, ek, ub, take, refine in plans:
        code = OPPORTUNITY_KINDS.index(kind)
        e, div = _choose_bounded(score, table, r.pos, ek, ub, take, limit, e0,
                                 np.flatnonzero(first_kind == code), refine)
        for rank, i in enumerate(div.order, start=1):
            items.append(_item(e, int(i), rank, kind, div))
        candidates = sum(table.live_count(ix.department, code, today) for ix in within)
        counts.append(KindCount(kind, candidates, int(ek.size), int(div.order.size)))
    return OpportunityResult(tuple(items), (), tuple(counts), levers,
                             _unchecked_fr(person, unchecked, unrecognised_note))


def _skills_at(person: PeopleArrays, table: OfferTable, at: np.ndarray) -> np.ndarray:
    """``skills_one_person`` for the offers at table positions ``at``."""
    A = table.arrays
    counts = A.skill_count[at]
    skill_ids = _ranges(A.skill_start[at], counts)
    tok_counts = A.skill_tok_count[skill_ids]
    tok = _ranges(A.skill_tok_start[skill_ids], tok_counts)
    return skills_one_person(table.token_ids[tok], table.vocab, counts, tok_counts,
                             person.skill_tokens, bool(person.skills_known[0]))


def _offer_bound(person: PeopleArrays, scorer: OpportunityScorer, table: OfferTable,
                 r: _Reach, which: np.ndarray, reps: OfferArrays
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """An upper bound of the score of the offers ``which``: the class's terms
    (:func:`_class_bound`), the ROME proximity, the reach and hours terms exactly (the
    scorer's formulas), the skills term at its largest only where the offer's token
    signature meets the person's (elsewhere no skill can be covered). Also that skills part
    (None when the person listed no skills: 0 then)."""
    w = scorer.weights
    hot = table.hot
    rows = r.rows[which]
    minutes = r.minutes[which]
    max_minutes = float(person.max_minutes[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        reach = np.where(np.isfinite(minutes) & (max_minutes > 0),
                         w.reach_weight * (1.0 - minutes / max_minutes), 0.0)
    reach = np.clip(reach, -w.reach_weight, w.reach_weight)
    out = (_class_bound(person, scorer, reps)[r.cls[which]]
           + _rome_bound(person, scorer, table)[hot.rome[rows]] + reach + 1e-9)
    if not np.isnan(person.hours[0]):  # the hours term, exactly
        offer_hours = hot.hours[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            gap = offer_hours - float(person.hours[0])
            extra = np.where(gap > 0, np.minimum(gap / offer_hours, 1.0), 0.0)
        out -= w.hours_weight * np.nan_to_num(extra, nan=0.0)
    else:
        out += max(0.0, -w.hours_weight)
    if not person.skills_known[0]:
        return out, None
    mine = np.bitwise_or.reduce(np.left_shift(
        np.uint64(1), person.skill_tokens.astype(np.uint64) & np.uint64(63)),
        initial=np.uint64(0))
    part = np.where((hot.sig[rows] & mine) != 0, max(0.0, w.skills_weight), 0.0)
    return out + part, part


def _score(
    person: PeopleArrays, table: OfferTable, r: _Reach, which: np.ndarray,
    scorer: OpportunityScorer,
) -> _Evaluated:
    """Score the offers ``which`` (rows of ``r``, in table order)."""
    at = r.pos[which]
    offers = table.arrays.take(at)
    skills = _skills_at(person, table, at)
    minutes, mode = best_mode(r.stacked[:, which], person)
    trip = (r.distance[which], minutes, mode, r.car[which], r.source[which])
    feats = pair_features(person, offers, r.history[which], trip=trip, skills=skills)
    scored = scorer.score(person, offers, feats)
    unchecked = r.class_unchecked[r.cls[which]]
    unchecked[:, _TRAVEL] = r.travel_unchecked[which]
    part = PairEligibility(RULES, np.zeros_like(unchecked), unchecked)  # eligible: none excluded
    view = PairView(person, offers, table.docs.take(at), feats, forward=True)
    return _Evaluated(None, view, part, scored.contributions,  # type: ignore[arg-type]
                      scored.scores, np.ones(which.shape[0], dtype=bool))


__all__ = ["RULES", "OpportunityResult", "opportunity_levers", "recommend_opportunities"]
