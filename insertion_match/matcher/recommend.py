"""One request, end to end (DESIGN §5): context → candidates → eligibility → features → score →
re-rank → explain → levers.

`recommend_actions` is the single entry point the service and the CLI call.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from insertion_match.domain import (
    CATEGORY_LABELS_FR,
    FREIN_LABELS_FR,
    FREINS,
    BeneficiaryProfile,
    DrivingLicence,
    Vehicle,
)
from insertion_match.features.action_features import action_features, relevant_to_needs
from insertion_match.features.action_index import ActionIndex
from insertion_match.features.profile import PersonContext
from insertion_match.geo import MIN_TRIP_KM, Mode, available_modes, best_travel
from insertion_match.matcher.eligibility import (
    EligibilityResult,
    eligible_with_mobility,
    evaluate_eligibility,
)
from insertion_match.matcher.explain import reasons_for, travel_of, warnings_for, with_diversity
from insertion_match.matcher.ranking import diversify_additive
from insertion_match.matcher.results import (
    ExcludedItem,
    Lever,
    RankedItem,
    Recommendation,
    Warning,
)
from insertion_match.matcher.scoring import Scorer

MAX_LIMIT = 100
_MOBILITE = FREINS.index("mobilite")


def eligibility_and_features(index: ActionIndex, ctx: PersonContext):
    """The eligibility of every action of ``index`` and their features, the ``public`` and
    ``unchecked`` columns filled from the eligibility (what the engine scores)."""
    elig = evaluate_eligibility(index, ctx)
    return elig, action_features(index, ctx, elig.public_fit(), elig.unchecked_count())


def recommend_actions(
    ctx: PersonContext,
    indexes: dict[str, ActionIndex],
    scorer: Scorer,
    limit: int = 10,
    include_excluded: bool = False,
) -> Recommendation:
    """Rank the eligible actions of the person's département, explained.

    Guarantees: no excluded action is in ``items``; each item's reasons add up to its score;
    ``excluded`` (when asked) lists every candidate that failed a rule, with all its reasons.
    """
    index = indexes.get(ctx.department)
    profile = ctx.profile
    if index is None or len(index) == 0:
        return Recommendation(
            beneficiary_id=profile.id, model_name=scorer.name, model_version=scorer.version,
            home_insee=ctx.home.insee, home_commune=ctx.home.name, items=(), excluded=(),
            levers=(), unchecked=(), assumptions=ctx.assumptions
            + (f"Aucune action au catalogue pour le département {ctx.department}",),
        )
    elig, feats = eligibility_and_features(index, ctx)
    scored = scorer.score(feats, ctx.max_travel_minutes)
    eligible = elig.eligible
    relevant = relevant_to_needs(index, ctx, elig.public_fit())
    pos = np.flatnonzero(eligible & relevant)
    not_listed = int((eligible & ~relevant).sum())
    div = diversify_additive(scored.scores[pos], index.main_frein[pos], index.category[pos], limit)
    order = pos[div.order]

    items = []
    no_trip = feats.no_trip()
    # no item, no distance to compute (the loop below does not run)
    site_km = _site_distances(index, ctx) if len(order) else np.empty(0)
    for rank, i in enumerate(order, start=1):
        action = index.actions[i]
        reasons, _ = reasons_for(i, scored.contributions, index, feats, ctx, scored.terms, elig)
        reasons, score = with_diversity(
            reasons, div, rank - 1,
            frein_label="Une action sur le frein "
            f"{FREIN_LABELS_FR[FREINS[index.main_frein[i]]]} figure déjà plus haut",
            category_label="Une action du même type "
            f"({CATEGORY_LABELS_FR.get(str(index.category[i]), str(index.category[i]))}) "
            "figure déjà plus haut")
        site = action.sites[_nearest_site(index, site_km, int(i))]
        no_place = bool(no_trip[i]) and not feats.itinerant[i]
        distance = feats.distance_km[i]
        items.append(RankedItem(
            rank=rank, kind="action", id=action.id, title=action.title, provider=action.operator,
            commune=None if no_place else site.commune, category=action.category.value,
            score=score, distance_km=None if np.isnan(distance) else round(float(distance), 1),
            travel=travel_of(feats, ctx, int(i)), reasons=reasons,
            warnings=warnings_for(int(i), index, feats, ctx, elig, no_trip),
            freins_addressed=tuple(f.value for f in action.freins),
        ))

    excluded: list[ExcludedItem] = []
    if include_excluded:
        for i in np.flatnonzero(~eligible):
            action = index.actions[i]
            why = tuple(
                Warning(rule.code, rule.label(index, int(i)))
                for r, rule in enumerate(elig.rules) if elig.excluded[i, r]
            )
            excluded.append(ExcludedItem(kind="action", id=action.id, title=action.title, reasons=why))

    open_rules = elig.unchecked[eligible].any(axis=0)
    unchecked = sorted({rule.code for r, rule in enumerate(elig.rules) if open_rules[r]})
    return Recommendation(
        beneficiary_id=profile.id, model_name=scorer.name, model_version=scorer.version,
        home_insee=ctx.home.insee, home_commune=ctx.home.name, items=tuple(items),
        excluded=tuple(excluded),
        levers=mobility_levers(ctx, index, eligible, feats, relevant, elig),
        unchecked=tuple(_unchecked_label(c) for c in unchecked),
        assumptions=ctx.assumptions + _not_listed_note(not_listed),
        candidates=len(index), eligible=int(eligible.sum()),
    )


def _site_distances(index: ActionIndex, ctx: PersonContext) -> np.ndarray:
    """Crow-fly km from home to every site of the index (flat), stand-in sites at infinity
    (memoised with the trips): each shown item picks its nearest site from its slice (as
    ``ActionIndex.nearest_site_index`` does, one call per item)."""
    return index.home_trips(ctx.home.lat, ctx.home.lon, ctx.modes.modes).site_km


def _nearest_site(index: ActionIndex, site_km: np.ndarray, position: int) -> int:
    start = index.site_start[position]
    stop = index.site_start[position + 1] if position + 1 < len(index) else index.site_lat.size
    return int(np.argmin(site_km[start:stop]))


def _not_listed_note(count: int) -> tuple[str, ...]:
    if not count:
        return ()
    note = (f"{count} autre(s) action(s) éligible(s) ne répondent à aucun de ses freins déclarés "
            "(ni par leur objectif principal, ni sur un frein réel ou bloquant) : non listées")
    return (note,)


_UNCHECKED_FR = {
    "eligibility.orientation": "orientation non renseignée : conditions d'orientation non vérifiées",
    "eligibility.age": "âge non renseigné : conditions d'âge non vérifiées",
    "eligibility.rsa_months": "ancienneté au RSA non renseignée : condition non vérifiée",
    "eligibility.sex": "sexe non renseigné : actions réservées aux femmes ou aux hommes non "
    "vérifiées",
    "eligibility.training_level": "niveau de formation non renseigné : conditions de niveau non "
    "vérifiées",
    "eligibility.family": "situation familiale non renseignée : condition non vérifiée",
    "eligibility.children": "enfants non renseignés : conditions liées aux enfants non vérifiées",
    "eligibility.mdph_unknown": "situation vis-à-vis de la MDPH non renseignée",
    "eligibility.vehicle": "véhicule non renseigné : services réservés aux personnes qui ont un "
    "véhicule non vérifiés",
    "eligibility.needs": "freins non renseignés : actions réservées à certains besoins non "
    "vérifiées",
    "eligibility.job_takeup": "reprise d'emploi non renseignée : aides à la reprise d'emploi non "
    "vérifiées",
    "eligibility.foreign_newcomer": "statut primo-arrivant non renseigné",
    "eligibility.independent_worker": "statut de travailleur indépendant non renseigné",
    "eligibility.farmer": "statut d'exploitant agricole non renseigné",
    "eligibility.farmer_required": "statut d'exploitant agricole non renseigné",
    "eligibility.qpv": "résidence en QPV non renseignée",
    "eligibility.rqth": "RQTH non renseignée",
    "eligibility.driving_licence": "permis de conduire non renseigné",
    "eligibility.has_licence": "permis de conduire non renseigné",
}


def _unchecked_label(code: str) -> str:
    return _UNCHECKED_FR.get(code, "condition non vérifiée")


#: At most this many reachable items are named in a lever.
LEVER_ITEMS = 10


def mobility_levers(
    ctx: PersonContext, index: ActionIndex, eligible: np.ndarray, feats,
    relevant: np.ndarray | None = None, elig: EligibilityResult | None = None,
) -> tuple[Lever, ...]:
    """Which mobility change opens the most actions within the person's maximum travel time.

    Counterfactual: the same person with only what they lack — a B licence, a car, or both
    (nothing is offered to a person who has both). Counts and names the actions that would be
    listed (``relevant``: they work on the person's freins) and become eligible (licence and
    vehicle rules) or reachable in time; points to the eligible catalogue actions that work on
    mobility. ``elig``: the person's evaluation, so that only the licence and vehicle rules are
    evaluated again.
    """
    lic, veh = ctx.profile.mobility.driving_licence, ctx.profile.mobility.vehicle
    has_b = lic is DrivingLicence.b
    has_car = ctx.has_car or veh is Vehicle.car
    if has_b and has_car:
        return ()
    if has_b:
        phrase = "Avec un véhicule"
    elif has_car:
        phrase = "Avec le permis B"
    else:
        phrase = "Avec le permis B et un véhicule"
    no_trip = feats.no_trip()
    now = eligible & (no_trip | (feats.travel_minutes <= ctx.max_travel_minutes))
    with_car = available_modes(
        driving_licence="b", vehicle="car", public_transport=Mode.public_transport in ctx.modes.modes
    )
    distance = np.where(np.isnan(feats.distance_km), 0.0, feats.distance_km)
    minutes, _ = best_travel(np.maximum(distance, MIN_TRIP_KM), with_car.modes)
    if elig is None:
        mob_profile = ctx.profile.model_copy(update={
            "mobility": ctx.profile.mobility.model_copy(
                update={"driving_licence": DrivingLicence.b, "vehicle": Vehicle.car})
        })
        elig_after = evaluate_eligibility(index, replace(ctx, profile=mob_profile)).eligible
    else:  # only the licence and vehicle rules change: evaluate those again
        elig_after = eligible_with_mobility(index, elig, DrivingLicence.b, Vehicle.car)
    after = elig_after & (no_trip | (np.asarray(minutes) <= ctx.max_travel_minutes))
    if relevant is not None:  # only what would be listed: actions on the person's freins
        now, after = now & relevant, after & relevant
    opened = np.flatnonzero(after & ~now)
    if opened.size == 0:
        return ()
    bridge = np.flatnonzero(eligible & (index.addresses[:, _MOBILITE] > 0))
    bridge = bridge[np.argsort(-index.addresses[bridge, _MOBILITE], kind="stable")]
    label = (
        f"{phrase} : +{opened.size} action(s) accessible(s) en moins de "
        f"{ctx.max_travel_minutes:.0f} min"
    )
    change = "licence_vehicle" if not has_b and not has_car else (
        "licence" if has_car else "vehicle")
    return (Lever(frein="mobilite", label=label, unlocks=int(opened.size),
                  actions=tuple(index.ids[bridge][:5].tolist()), change=change,
                  items=tuple(index.ids[opened][:LEVER_ITEMS].tolist())),)


def profile_summary(profile: BeneficiaryProfile) -> str:
    """A one-line, non-identifying summary for CLI headers (no freins: they may be health data)."""
    frein_count = sum(1 for v in profile.freins.values() if v > 0)
    return f"{profile.id or 'anonyme'} — {frein_count} frein(s) renseigné(s)"


