"""Several kinds at once (``kinds: ["action", "job", "immersion"]``): one answer.

Items hold, for each requested kind in request order, up to ``limit`` items of that kind;
``rank`` is the rank within its kind; ``counts`` says per kind how many were considered,
eligible and returned. ``excluded`` and ``levers`` are the union over kinds; ``candidates`` and
``eligible`` are totals. A request for ``["action"]`` alone never comes here (the action
answer is unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from insertion_match.domain import FREINS
from insertion_match.features.action_index import ActionIndex
from insertion_match.features.opportunity_index import OpportunityIndex
from insertion_match.features.people import person_arrays
from insertion_match.features.profile import PersonContext
from insertion_match.features.rome import (
    RomeReferential,
    UnrecognisedTarget,
    unrecognised_targets,
)
from insertion_match.matcher.eligibility import evaluate_eligibility
from insertion_match.matcher.opportunity_recommend import recommend_opportunities
from insertion_match.matcher.opportunity_scoring import OpportunityScorer
from insertion_match.matcher.recommend import recommend_actions
from insertion_match.matcher.results import (
    ExcludedItem,
    KindCount,
    Lever,
    RankedItem,
    Recommendation,
    UnrecognisedTargetJob,
)

_MOBILITE = FREINS.index("mobilite")
_GARDE = FREINS.index("garde_enfants")


def bridge_actions(ctx: PersonContext, index: ActionIndex | None, change: str,
                   limit: int = 5) -> tuple[str, ...]:
    """Catalogue actions the person is eligible for that address a lever's frein, best first:
    licence courses first for "licence", mobility actions for a vehicle, childcare actions."""
    if index is None or len(index) == 0:
        return ()
    eligible = evaluate_eligibility(index, ctx).eligible
    if change == "childcare":
        weight = index.addresses[:, _GARDE]
    else:
        weight = index.addresses[:, _MOBILITE] + (
            2.0 * index.no_licence_required if change == "licence" else 0.0)
    pos = np.flatnonzero(eligible & (weight > 0))
    pos = pos[np.argsort(-weight[pos], kind="stable")]
    return tuple(index.ids[pos][:limit].tolist())


def recommend_all(
    ctx: PersonContext, kinds: Sequence[str], action_indexes: dict[str, ActionIndex],
    action_scorer, opportunity_indexes: dict[str, OpportunityIndex],
    rome: RomeReferential | None, opportunity_scorer: OpportunityScorer, limit: int = 10,
    include_excluded: bool = False, today: date | None = None,
) -> Recommendation:
    actions = (recommend_actions(ctx, action_indexes, action_scorer, limit, include_excluded)
               if "action" in kinds else None)
    offer_kinds = [k for k in kinds if k != "action"]
    opp = None
    assumptions = list(ctx.assumptions)
    unrecognised: tuple[UnrecognisedTarget, ...] = ()
    if offer_kinds and rome is not None:
        person = person_arrays(ctx, rome)
        action_index = action_indexes.get(ctx.department)
        unrecognised = unrecognised_targets(person.target_text[0], rome)
        notes = {u.text: u.note_fr for u in unrecognised}
        opp = recommend_opportunities(
            person, ctx.history, opportunity_indexes, opportunity_scorer, offer_kinds, limit,
            include_excluded, today, bridge=lambda change: bridge_actions(ctx, action_index,
                                                                          change),
            unrecognised_note=lambda text: notes.get(text, f"métier visé non reconnu : « {text} »"))
    elif offer_kinds:
        assumptions.append("Aucune offre (emploi, bénévolat, stage, immersion) n'est chargée")
    items: list[RankedItem] = []
    excluded: list[ExcludedItem] = []
    levers: list[Lever] = []
    unchecked: list[str] = []
    counts: list[KindCount] = []
    for kind in kinds:
        if kind == "action" and actions is not None:
            items.extend(actions.items)
            counts.append(KindCount("action", actions.candidates, actions.eligible,
                                    len(actions.items)))
        elif opp is not None:
            items.extend(i for i in opp.items if i.kind == kind)
            counts.extend(c for c in opp.counts if c.kind == kind)
        else:
            counts.append(KindCount(kind, 0, 0, 0))
    if actions is not None:
        excluded.extend(actions.excluded)
        levers.extend(actions.levers)
        unchecked.extend(actions.unchecked)
        assumptions = list(actions.assumptions) + assumptions[len(ctx.assumptions):]
    if opp is not None:
        excluded.extend(opp.excluded)
        levers.extend(opp.levers)
        unchecked.extend(u for u in opp.unchecked if u not in unchecked)
    # The model that ranked: both scorers' names when both kinds of items are in the answer.
    used = ([action_scorer] if actions is not None else []) + (
        [opportunity_scorer] if offer_kinds else [])
    scorer_name = "+".join(s.name for s in used)
    scorer_version = "+".join(s.version for s in used)
    return Recommendation(
        beneficiary_id=ctx.profile.id, model_name=scorer_name, model_version=scorer_version,
        home_insee=ctx.home.insee, home_commune=ctx.home.name, items=tuple(items),
        excluded=tuple(excluded), levers=tuple(levers), unchecked=tuple(unchecked),
        assumptions=tuple(assumptions), candidates=sum(c.candidates for c in counts),
        eligible=sum(c.eligible for c in counts), counts=tuple(counts),
        target_jobs_unrecognised=tuple(UnrecognisedTargetJob(u.text, u.suggestions)
                                       for u in unrecognised),
    )
