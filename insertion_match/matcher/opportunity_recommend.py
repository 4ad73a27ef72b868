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

from insertion_match.domain import FREINS, LicenceCode
from insertion_match.features.opportunity_features import PairFeatures, pair_features
from insertion_match.features.opportunity_index import OpportunityIndex
from insertion_match.features.people import HISTORY_CODES, MODES, PeopleArrays
from insertion_match.geo import Mode
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
from insertion_match.matcher.opportunity_scoring import KIND_FREINS, OpportunityScorer
from insertion_match.matcher.ranking import Diversified, diversify_additive
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
    return [ix for _, ix in sorted(indexes.items())
            if len(ix) and ix.distance_to_box_km(lat, lon) <= radius]


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
    unrecognised_note: Callable[[str], str] | None = None,
) -> OpportunityResult:
    """Rank the eligible live offers of each kind in ``kinds`` for one person (m = 1).

    Guarantees: no excluded pair is in ``items`` (in particular no offer requiring a licence
    the person lacks, none beyond their maximum travel time by their own modes); each item's
    reasons add up to its score; ``excluded`` (when asked) lists every candidate that failed
    a wall, with all its reasons.
    """
    today = today or date.today()
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
    if not person.has_targets[0]:
        unchecked_fr = [("métiers visés non renseignés : proximité avec les métiers des offres "
                         "non évaluée")]
    else:
        unchecked_fr = [unrecognised_note(t) if unrecognised_note else
                        f"métier visé non reconnu : « {t} »"
                        for t, code in zip(person.target_text[0], person.target_pos[0],
                                           strict=False) if code < 0]
    unchecked_fr += [UNCHECKED_FR[c] for c in sorted(unchecked) if c in UNCHECKED_FR]
    levers = opportunity_levers(person, evaluated, scorer, kinds, bridge)
    return OpportunityResult(tuple(items), tuple(excluded), tuple(counts), levers,
                             tuple(unchecked_fr))


def _item(e: _Evaluated, i: int, rank: int, kind: str, div: Diversified) -> RankedItem:
    o = e.index.opportunities[i]
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
    noun = "offre(s) d'emploi" if list(kinds) == ["job"] else "offre(s)"
    unlocks_kind = "job" if list(kinds) == ["job"] else "opportunity"
    max_minutes = float(person.max_minutes[0])
    levers = []
    for change, frein, phrase, changed in _counterfactuals(person):
        after = 0
        opened: list[str] = []
        for e in evaluated:
            feats: PairFeatures = pair_features(changed, e.index.arrays, e.view.feats.history)
            elig = evaluate_opportunity_eligibility(changed, e.index.arrays, feats)
            after += int((e.candidate & elig.eligible).sum())
            new = e.candidate & elig.eligible & ~e.elig.eligible
            opened.extend(e.index.ids[new][:LEVER_ITEMS].tolist())
        unlocks = after - now
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


__all__ = ["RULES", "OpportunityResult", "opportunity_levers", "recommend_opportunities"]
