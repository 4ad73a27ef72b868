"""Opportunities for one person (the forward question), and the levers that open more of them.

``recommend_opportunities`` ranks, per requested kind, the live offers of the départements
within reach of home: pairwise features → walls (travel, licence, hours, childcare) → additive
score → additive diversity term → French reasons. ``opportunity_levers`` answers "which frein lifted
opens how many more suitable offers, and which action of the catalogue addresses it".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date

import numpy as np

from insertion_match.domain import FREINS, OPPORTUNITY_KINDS, ExperienceCode, LicenceCode
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
from insertion_match.geo import Mode, haversine_km
from insertion_match.geo.travel import SPEED_KMH
from insertion_match.matcher.explain import with_diversity
from insertion_match.matcher.opportunity_eligibility import (
    RULES,
    PairEligibility,
    PairView,
    evaluate_opportunity_eligibility,
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


class _Bound(np.ndarray):
    """Per-offer upper bounds of the score, plus ``need`` per kind (a view subclass)."""

    need: np.ndarray


def bound_kind(bound: np.ndarray, code: int) -> float:
    return float(bound.need[code])  # type: ignore[attr-defined]


def _score_bound(person: PeopleArrays, scorer: OpportunityScorer, sub: OfferArrays,
                 light: PairFeatures, skill_sig: np.ndarray | None) -> np.ndarray | None:
    """An upper bound of each offer's score from cheap columns: the need, ROME proximity
    (best level over the targets: same fiche, ROME v3 fiche, domaine, grand domaine), training,
    experience, reach, contract and readiness terms exactly (the scorer's formulas); the
    skills term at its largest only where the offer's token signature meets the person's
    (elsewhere no skill can be covered); hours, licence and history at their largest (0 for
    the shipped weights). None when the scorer is not the additive one (no bound known)."""
    if type(scorer) is not OpportunityScorer:
        return None
    w = scorer.weights
    n = sub.rome_pos.shape[0]
    valid = person.target_pos[0] >= 0
    level = np.full(n, -1, dtype=np.int64)
    if valid.any():
        level = np.select(
            [np.isin(sub.rome_pos, person.target_pos[0][valid]),
             np.isin(sub.rome_v3, person.target_v3[0][valid]),
             np.isin(sub.rome_dp, person.target_dp[0][valid]),
             np.isin(sub.rome_gd, person.target_gd[0][valid])], [4, 3, 2, 1], 0)
        level = np.where(sub.rome_pos >= 0, level, -1)
    rome = np.where(level >= 0, w.rome_weight * PROXIMITY[np.maximum(level, 0)], 0.0)
    max_minutes = float(person.max_minutes[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        reach = np.where(np.isfinite(light.minutes) & (max_minutes > 0),
                         w.reach_weight * (1.0 - light.minutes / max_minutes), 0.0)
        gap = sub.training_level - float(person.level[0])
        training = np.where(
            np.isnan(gap), 0.0,
            np.where(gap <= 0, w.training_fit,
                     -w.training_weight * np.minimum(gap, 3) / 3
                     * np.where(sub.training_required, 1, .5)))
    reach = np.clip(reach, -w.reach_weight, w.reach_weight)
    exp = sub.experience
    experience = np.select([exp == ExperienceCode.beginner, exp == ExperienceCode.required],
                           [w.experience_weight, -w.experience_weight], 0.0)
    orientation = int(person.orientation[0])
    readiness = np.zeros(n)
    if orientation >= 0:
        alignment = _READINESS[sub.kind_code, orientation]
        insertion = max(0.0, float(READINESS["insertion"][orientation]))
        alignment = np.where(sub.insertion_contract, np.maximum(alignment, insertion),
                             alignment)
        readiness = w.readiness_weight * alignment
    skills = np.zeros(n)
    if person.skills_known[0] and skill_sig is not None:
        mine = np.bitwise_or.reduce(np.left_shift(
            np.uint64(1), person.skill_tokens.astype(np.uint64) & np.uint64(63)),
            initial=np.uint64(0))
        skills = np.where((skill_sig & mine) != 0, max(0.0, w.skills_weight), 0.0)
    elif person.skills_known[0]:
        skills = np.full(n, max(0.0, w.skills_weight))
    rest = (max(0.0, -w.hours_weight) + max(0.0, -w.atypical_children)
            + max(0.0, -w.licence_desired) + max(0.0, -w.refused_penalty, -w.abandoned_penalty))
    out = (rome + skills + training + experience + reach
           + w.durable_weight * sub.durable + readiness + rest + 1e-9).view(_Bound)
    out.need = w.need_weight * (ADDRESSES @ (person.severities[0] / 3.0))
    return out


def _choose_bounded(
    person: PeopleArrays, table: OfferTable, pos: np.ndarray, sub: OfferArrays,
    ek: np.ndarray, light: PairFeatures, elig: PairEligibility, scorer: OpportunityScorer,
    limit: int, ub: np.ndarray | None,
) -> tuple[_Evaluated, Diversified]:
    """Score only the offers of ``ek`` whose bound ``ub`` reaches the lowest diversified
    score among the chosen: an offer whose bound is below it can never win a step of the
    diversity choice (its score, penalised or not, is lower than the chosen offer's), so the
    answer is the one of scoring them all. Starts from the best bounds and widens until the
    chosen items are stable."""
    if ub is None or ek.size <= 8 * max(limit, 1):
        return _score_and_choose(person, table, pos, sub, ek, light, elig, scorer, limit)
    ub = np.asarray(ub)
    top = np.partition(ub, -4 * limit)[-4 * limit]
    take = ub >= top
    for _ in range(4):
        which = ek[take]
        e, div = _score_and_choose(person, table, pos, sub, which, light, elig, scorer, limit)
        if div.order.size < min(limit, ek.size):
            break
        lowest = float((e.scores[div.order] + div.frein_penalty + div.category_penalty).min())
        wanted = ub >= lowest
        if not (wanted & ~take).any():
            return e, div
        take |= wanted
    return _score_and_choose(person, table, pos, sub, ek, light, elig, scorer, limit)


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
       expiry dates. 2. Walls and levers on those offers (travel by mode computed once).
    3. Scores: first for the eligible offers of the target jobs' family (same fiche, ROME v3
       fiche or domaine); the list is kept when every chosen item beats a bound of any other
       offer's score, else every eligible offer is scored. The answer is the brute one.
    """
    lat, lon = float(person.lat[0]), float(person.lon[0])
    max_minutes = float(person.max_minutes[0])
    within = indexes_within_reach(lat, lon, max_minutes, indexes)
    A = table.arrays
    kind_codes = np.array([OPPORTUNITY_KINDS.index(k) for k in kinds], dtype=np.int64)
    radius = min(max_reach_km(max_minutes), reach_radius_km(max_minutes))
    pos = table.grid.query(lat, lon, radius)
    dept_ok = np.zeros(len(table.departments) + 1, dtype=bool)
    for ix in within:
        dept_ok[table.departments.index(ix.department)] = True
    pos = pos[dept_ok[np.searchsorted(table.dept_ptr, pos, side="right") - 1]]
    # the exact crow-fly distance (the grid's cells overlap the circle's edge)
    distance = np.asarray(haversine_km(person.lat, person.lon, A.lat[pos], A.lon[pos]), float)
    with np.errstate(invalid="ignore"):
        exp = A.expires[pos]
        keep = ((distance <= radius) & (np.isnan(exp) | (exp >= today.toordinal()))
                & np.isin(A.kind_code[pos], kind_codes))
    pos, distance = pos[keep], distance[keep]
    n = pos.shape[0]
    sub = _walls_columns(A, pos)
    hist = np.zeros(n, dtype=np.int8)
    if history:
        known = list(history)
        at_table = table.positions_of(known)
        codes = np.array([HISTORY_CODES.get(history[i], 0) for i in known], dtype=np.int8)
        at = np.minimum(np.searchsorted(pos, at_table), max(n - 1, 0))
        hit = (at_table >= 0) & (n > 0) & (pos[at] == at_table if n else False)
        hist[at[hit]] = codes[hit]
    stacked, pt_source = mode_minutes_at(person.lat, person.lon, A.lat[pos], A.lon[pos],
                                         distance)
    car = stacked[_CAR].copy()
    minutes, mode = best_mode(stacked, person)
    zero = np.zeros(n)
    light = PairFeatures(distance_km=distance, minutes=minutes, mode=mode, car_minutes=car,
                         proximity_level=zero.astype(np.int8), matched_target=zero.astype(int),
                         skills=zero, training_gap=zero, hours_gap=zero, history=hist,
                         travel_source=np.asarray(np.broadcast_to(pt_source, (n,)),
                                                  dtype=object))
    elig = evaluate_opportunity_eligibility(person, sub, light)
    eligible = elig.eligible
    flagged = elig.unchecked[eligible].any(axis=0)
    unchecked = {rule.code for r, rule in enumerate(elig.rules) if flagged[r]}

    # levers: the same walls for the person with one frein lifted (travel by mode reused)
    outcomes = []
    # Lifting a frein never closes an offer (a B licence, a car — whose times are never
    # longer than the "by car, to check" ones that kept an offer — or childcare only remove
    # exclusions), so only the offers excluded now are evaluated again.
    closed = np.flatnonzero(~eligible)
    walls = _walls_columns(sub, closed) if closed.size < n else sub
    light_closed = _take_features(light, closed)
    for change, frein, phrase, changed in _counterfactuals(person):
        m2, mode2 = best_mode(stacked[:, closed], changed)
        feats2 = replace(light_closed, minutes=m2, mode=mode2)
        opens = evaluate_opportunity_eligibility(changed, walls, feats2).eligible
        opened = table.ids[pos[closed[opens]][:LEVER_ITEMS]].tolist()
        outcomes.append((change, frein, phrase, int(opens.sum()), opened))
    levers = _levers(person, outcomes, kinds, bridge)

    # scores: only the offers whose score bound can reach the chosen ones
    bound = _score_bound(person, scorer, sub, light, table.skill_sig[pos])
    items: list[RankedItem] = []
    counts: list[KindCount] = []
    for kind in kinds:
        code = OPPORTUNITY_KINDS.index(kind)
        ek = np.flatnonzero(eligible & (sub.kind_code == code))
        e, div = _choose_bounded(person, table, pos, sub, ek, light, elig, scorer, limit,
                                 None if bound is None else bound[ek] + bound_kind(bound, code))
        for rank, i in enumerate(div.order, start=1):
            items.append(_item(e, int(i), rank, kind, div))
        candidates = sum(table.live_count(ix.department, code, today) for ix in within)
        counts.append(KindCount(kind, candidates, int(ek.size), int(div.order.size)))
    return OpportunityResult(tuple(items), (), tuple(counts), levers,
                             _unchecked_fr(person, unchecked, unrecognised_note))


#: The offer columns the walls (and the family test) read; the others are not gathered.
_WALL_COLUMNS = frozenset({"lat", "lon", "kind_code", "rome_pos", "rome_dp", "rome_v3",
                           "rome_gd", "experience", "durable", "insertion_contract",
                           "licence_b_required", "licence_other_required", "atypical",
                           "training_required", "training_level", "age_max"})


def _take_features(f: PairFeatures, which: np.ndarray) -> PairFeatures:
    return PairFeatures(**{k.name: getattr(f, k.name)[which] for k in fields(PairFeatures)})


def _walls_columns(A: OfferArrays, pos: np.ndarray) -> OfferArrays:
    """The columns of the offers at ``pos`` the walls read (the others: zero-cost
    placeholders of the right length; skills empty)."""
    n = pos.shape[0]
    empty = np.empty(0, np.int64)
    cols = {}
    for f in fields(OfferArrays):
        if f.name in ("skill_start", "skill_tok_start", "skill_tok_count", "tokens"):
            continue
        col = getattr(A, f.name)
        cols[f.name] = col[pos] if f.name in _WALL_COLUMNS else np.broadcast_to(
            col[:1] if col.shape[0] else np.zeros(1, col.dtype), (n,) + col.shape[1:])
    return OfferArrays(**{**cols, "skill_count": np.zeros(n, np.int64)}, skill_start=empty,
                       skill_tok_start=empty, skill_tok_count=empty, tokens=empty)


def _score_and_choose(
    person: PeopleArrays, table: OfferTable, pos: np.ndarray, sub: OfferArrays,
    which: np.ndarray, light: PairFeatures, elig: PairEligibility, scorer: OpportunityScorer,
    limit: int,
) -> tuple[_Evaluated, Diversified]:
    """Score the offers ``which`` (positions in ``sub``) and choose the shown ones."""
    at = pos[which]
    offers = table.arrays.take(at)
    A = table.arrays
    counts = A.skill_count[at]
    skill_ids = _ranges(A.skill_start[at], counts)
    tok = _ranges(A.skill_tok_start[skill_ids], A.skill_tok_count[skill_ids])
    skills = skills_one_person(table.token_ids[tok], table.vocab, offers.skill_count,
                               offers.skill_tok_count, person.skill_tokens,
                               bool(person.skills_known[0]))
    trip = (light.distance_km[which], light.minutes[which], light.mode[which],
            light.car_minutes[which], light.travel_source[which])  # type: ignore[index]
    feats = pair_features(person, offers, light.history[which], trip=trip, skills=skills)
    scored = scorer.score(person, offers, feats)
    part = PairEligibility(elig.rules, elig.excluded[which], elig.unchecked[which])
    view = PairView(person, offers, table.docs.take(at), feats, forward=True)
    e = _Evaluated(None, view, part, scored.contributions, scored.scores,  # type: ignore[arg-type]
                   np.ones(which.shape[0], dtype=bool))
    div = _diversify(scored.scores, offers.rome_pos, offers.rome_dp, limit)
    return e, div


__all__ = ["RULES", "OpportunityResult", "opportunity_levers", "recommend_opportunities"]
