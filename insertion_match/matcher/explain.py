"""French explanations: one reason per non-zero score term, and the warnings of an item.

Only the items that are shown are explained (k of them), so this is the one per-item Python loop
of a request; everything before it is vectorised.
"""

from __future__ import annotations

import math

import numpy as np

from insertion_match.domain import (
    CATEGORY_LABELS_FR,
    FREIN_LABELS_FR,
    FREINS,
    SEVERITY_LABELS_FR,
    HistoryCode,
)
from insertion_match.features.action_features import PRIOR_FREINS, ActionFeatures, mode_of
from insertion_match.features.action_index import ActionIndex
from insertion_match.features.profile import PersonContext
from insertion_match.geo import MODE_LABELS_FR
from insertion_match.geo.travel import source_at, timetable_note
from insertion_match.matcher.eligibility import EligibilityResult
from insertion_match.matcher.ranking import Diversified
from insertion_match.matcher.results import Reason, Travel, Warning
from insertion_match.matcher.scoring import TERMS

_FREIN_INDEX = {k: i for i, k in enumerate(FREINS)}

#: plain ints: comparing numpy values with an IntEnum member makes numpy probe the enum
#: class for array protocols, through the slow EnumType.__getattr__, at every comparison
_REFUSED, _ABANDONED = int(HistoryCode.refused), int(HistoryCode.abandoned)


def _minutes(value: float) -> int:
    return round(value)


def travel_of(features: ActionFeatures, ctx: PersonContext, i: int) -> Travel:
    if features.itinerant[i]:
        return Travel(mode="itinerant", minutes=0.0)
    if features.by_dossier is not None and features.by_dossier[i]:
        return Travel(mode="dossier", minutes=0.0)
    if features.sites_unknown is not None and features.sites_unknown[i]:
        return Travel(mode=None, minutes=None)
    mode = mode_of(ctx, int(features.travel_mode[i]))
    if mode is None:
        return Travel(mode=None, minutes=None)
    return Travel(mode=mode.value, minutes=round(float(features.travel_minutes[i]), 1),
                  source=source_at(features.travel_source, i))


def reason_label(
    term: str, i: int, index: ActionIndex, f: ActionFeatures, ctx: PersonContext,
    elig: EligibilityResult | None = None,
) -> str:
    if term.startswith("frein."):
        key = term.removeprefix("frein.")
        sev = SEVERITY_LABELS_FR[ctx.profile.severity(key)]
        main = FREINS[index.main_frein[i]] == key
        verb = "Répond au frein" if main else "Agit aussi sur le frein"
        return f"{verb} {FREIN_LABELS_FR[key]} ({sev})"
    if term == "reach":
        hard = " : utile vu ses difficultés pour se déplacer" if f.hard_to_reach else ""
        if f.by_dossier is not None and f.by_dossier[i]:
            return "Sur dossier par le référent, sans déplacement" + hard
        if f.remote is not None and f.remote[i]:
            if f.digital_hard:
                return "Uniquement à distance (téléphone, en ligne) : difficile vu son frein numérique"
            return "À distance (téléphone, en ligne), sans déplacement" + hard
        if f.itinerant[i]:
            return "Se déplace jusqu'à la personne ou à distance" + hard
        if f.sites_unknown is not None and f.sites_unknown[i]:
            return "Lieux à préciser : trajet non estimé, compté comme moyen"
        mode = mode_of(ctx, int(f.travel_mode[i]))
        if mode is None:
            return "Aucun moyen de transport de la personne ne permet d'y aller"
        minutes = _minutes(f.travel_minutes[i])
        where = f"À {minutes} min {MODE_LABELS_FR[mode]}{timetable_note(f.travel_source, i)}"
        if minutes > ctx.max_travel_minutes:
            return f"{where}, au-delà des {ctx.max_travel_minutes:.0f} min acceptées"
        return where
    if term == "capacity":
        return f"Action souvent complète ({f.occupancy[i] * 100:.0f} % d'occupation)"
    if term == "readiness":
        if f.prior_frein_block[i]:
            blocking = [FREIN_LABELS_FR[k] for k in PRIOR_FREINS if ctx.profile.severity(k) >= 3]
            return "Un frein bloquant (" + ", ".join(blocking) + ") est souvent à lever d'abord"
        return f"Cohérente avec l'orientation {ctx.profile.orientation.value}"  # type: ignore[union-attr]
    if term == "history":
        return ("Déjà refusée par la personne" if f.history[i] == _REFUSED
                else "Déjà abandonnée par la personne")
    if term == "outcome":
        return f"{f.outcome_rate[i] * 100:.0f} % de sorties positives selon le dernier bilan"
    if term == "cost":
        return "Participation financière demandée à la personne"
    if term == "public":
        return elig.public_label(i) if elig is not None else "Conçue pour son public"
    if term == "unchecked":
        return "Conditions d'accès à vérifier avec la personne"
    if term == "fit_reach":
        return "Réponse aux freins et facilité d'accès, combinées (modèle appris)"
    if term == "category":
        label = CATEGORY_LABELS_FR.get(str(f.category[i]), str(f.category[i])) \
            if f.category is not None else "non précisée"
        return f"Type d'action : {label} (d'après les résultats observés)"
    if term == "base":
        return "Point de départ du modèle appris (le même pour toutes les actions)"
    raise KeyError(term)


def reasons_for(
    i: int, contributions: np.ndarray, index: ActionIndex, f: ActionFeatures, ctx: PersonContext,
    terms: tuple[str, ...] = TERMS, elig: EligibilityResult | None = None,
) -> tuple[tuple[Reason, ...], float]:
    """Reasons of item ``i`` (non-zero terms, largest first) and the score they add up to.

    ``terms`` names the columns of ``contributions`` (``Scored.terms``). Contributions are rounded
    to 4 decimals and the returned score is the sum of the rounded contributions, so what the
    coach reads adds up exactly.
    """
    row = contributions[i]
    reasons = []
    for t in np.flatnonzero(np.abs(row) >= 5e-5):
        term = terms[t]
        reasons.append(Reason(term, reason_label(term, i, index, f, ctx, elig),
                              round(float(row[t]), 4)))
    reasons.sort(key=lambda r: -abs(r.contribution))
    score = round(sum(r.contribution for r in reasons), 4)
    return tuple(reasons), score


def with_diversity(
    reasons: tuple[Reason, ...], div: Diversified, position: int, frein_label: str,
    category_label: str,
) -> tuple[tuple[Reason, ...], float]:
    """Append the diversity penalties of the ``position``-th chosen item as reasons; the score is
    again the exact sum of the rounded contributions."""
    out = list(reasons)
    for code, value, label in (("diversity.frein", div.frein_penalty[position], frein_label),
                               ("diversity.category", div.category_penalty[position],
                                category_label)):
        if abs(value) >= 5e-5:
            out.append(Reason(code, label, round(float(value), 4)))
    out.sort(key=lambda r: -abs(r.contribution))
    return tuple(out), round(sum(r.contribution for r in out), 4)


def warnings_for(
    i: int, index: ActionIndex, f: ActionFeatures, ctx: PersonContext, elig: EligibilityResult,
    no_trip: np.ndarray | None = None,
) -> tuple[Warning, ...]:
    """The warnings of item ``i``. ``no_trip``: ``f.no_trip()`` when the caller computed it
    once for all items."""
    action = index.actions[i]
    out: list[Warning] = []
    for r in np.flatnonzero(elig.unchecked[i]):
        rule = elig.rules[r]
        if rule.unchecked_label is not None:
            out.append(Warning("unchecked." + rule.code.split(".", 1)[1], rule.unchecked_label(index, i)))
    if action.eligibility.other_fr:
        out.append(Warning("conditions", f"Conditions : {action.eligibility.other_fr}"))
    if action.prescription_required:
        out.append(Warning("prescription", "Accessible sur prescription du référent"))
    if not math.isnan(f.cost_eur[i]) and f.cost_eur[i] > 0:
        label = f"Participation de {f.cost_eur[i]:.0f} € demandée"
        if action.cost_note_fr:
            label += f" ({action.cost_note_fr})"
        out.append(Warning("cost", label))
    if not math.isnan(f.occupancy[i]) and f.occupancy[i] > 1.0:
        year = f" en {action.participants_year}" if action.participants_year else ""
        if action.occupancy_rate is not None:
            label = (f"Places limitées : taux d'occupation de {action.occupancy_rate * 100:.0f} %"
                     f" selon le document{year}")
        else:
            label = (f"Places limitées : {action.participants} participants pour "
                     f"{action.places} places{year}")
        out.append(Warning("capacity", label))
    if f.remote is not None and f.remote[i] and f.digital_hard:
        out.append(Warning(
            "remote.digital",
            "Uniquement à distance (téléphone, en ligne) : difficile vu son frein numérique, "
            "prévoir un appui pour s'y connecter",
        ))
    if f.sites_unknown is not None and f.sites_unknown[i]:
        out.append(Warning(
            "sites.unspecified",
            "Lieux à préciser auprès de l'opérateur : le document ne les nomme pas, trajet non "
            "estimé",
        ))
    elif not (f.no_trip() if no_trip is None else no_trip)[i]:
        mode = mode_of(ctx, int(f.travel_mode[i]))
        if mode is None:
            out.append(Warning(
                "travel.none",
                "Aucun moyen de transport de la personne identifié : déplacement à organiser "
                "avec le référent",
            ))
        elif f.travel_minutes[i] > ctx.max_travel_minutes:
            out.append(Warning(
                "travel.far",
                f"Trajet estimé à {_minutes(f.travel_minutes[i])} min, au-delà des "
                f"{ctx.max_travel_minutes:.0f} min acceptées : transport à organiser",
            ))
    if f.history[i] == _REFUSED:
        out.append(Warning("history.refused", "La personne a déjà refusé cette action"))
    elif f.history[i] == _ABANDONED:
        out.append(Warning("history.abandoned", "La personne a déjà abandonné cette action"))
    return tuple(out)
