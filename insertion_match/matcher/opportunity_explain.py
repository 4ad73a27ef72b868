"""French explanations of (person, offer) pairs: one reason per non-zero score term, warnings.

The same functions explain the forward answer (an offer shown to a person) and the reverse one
(a person shown for an offer): they read the pair through :class:`PairView`.
"""

from __future__ import annotations

import math

import numpy as np

from insertion_match.domain import (
    CONTRACT_LABELS_FR,
    FREIN_LABELS_FR,
    FREINS,
    SEVERITY_LABELS_FR,
    ExperienceCode,
    HistoryCode,
)
from insertion_match.features.people import MODES
from insertion_match.geo import MODE_LABELS_FR, Mode
from insertion_match.geo.travel import ESTIMATE_SOURCE, source_at, timetable_note
from insertion_match.matcher.opportunity_eligibility import PairEligibility, PairView
from insertion_match.matcher.opportunity_scoring import KIND_FREINS, TERMS
from insertion_match.matcher.results import Reason, Travel, Warning

LEVEL_LABELS_FR = {2: "infra CAP", 3: "CAP/BEP", 4: "bac", 5: "bac+2", 6: "bac+3/4",
                   7: "bac+5", 8: "doctorat"}
ORIENTATIONS_FR = ("sociale", "socioprofessionnelle", "professionnelle")


def travel_of(view: PairView, i: int) -> Travel:
    mode = int(view.feats.mode[i])
    if mode < 0:
        return Travel(mode=None, minutes=None)
    return Travel(mode=MODES[mode].value, minutes=round(float(view.feats.minutes[i]), 1),
                  source=_source(view.feats, i))


def _source(f, i: int) -> str:
    """``travel.source`` of pair ``i``: the feed's where its fastest mode is public transport
    timed by one, else the estimate."""
    by_pt = MODES[int(f.mode[i])] is Mode.public_transport
    return source_at(f.travel_source, i) if by_pt else ESTIMATE_SOURCE


def _target(view: PairView, i: int) -> str:
    k = int(view.feats.matched_target[i])
    texts = view.people.target_text[view.pp(i)]
    return f"« {texts[k]} »" if 0 <= k < len(texts) else "visé"


def reason_label(term: str, view: PairView, i: int) -> str:
    f, o, p = view.feats, view.opportunity(i), view.pp(i)
    if term.startswith("frein."):
        key = term.removeprefix("frein.")
        sev = SEVERITY_LABELS_FR[int(view.people.severities[p, FREINS.index(key)])]
        verb = "Répond au frein" if KIND_FREINS[o.kind][0] == key else "Agit aussi sur le frein"
        return f"{verb} {FREIN_LABELS_FR[key]} ({sev})"
    if term == "rome":
        level = int(f.proximity_level[i])
        code = o.rome_code
        if level == 4:
            return f"Correspond au métier visé {_target(view, i)} ({code})"
        if level == 3:
            return f"Métier voisin du métier visé {_target(view, i)} ({code})"
        if level == 2:
            return f"Même domaine professionnel que le métier visé {_target(view, i)}"
        return f"Même grand domaine professionnel que le métier visé {_target(view, i)}"
    if term == "skills":
        return f"Compétences : {f.skills[i] * 100:.0f} % de celles demandées"
    if term == "training":
        gap = f.training_gap[i]
        if gap <= 0:
            return "Niveau de formation suffisant"
        lvl = LEVEL_LABELS_FR.get(int(view.offers.training_level[view.op(i)]), "")
        how = "exigé" if view.offers.training_required[view.op(i)] else "souhaité"
        return f"Niveau {lvl} {how}, au-dessus de celui de la personne"
    if term == "experience":
        return "Débutant accepté" if view.offers.experience[view.op(i)] == ExperienceCode.beginner else (
            "Expérience exigée")
    if term == "reach":
        mode = int(f.mode[i])
        note = timetable_note(f.travel_source, i) if MODES[mode] is Mode.public_transport else ""
        return f"À {round(float(f.minutes[i]))} min {MODE_LABELS_FR[MODES[mode]]}{note}"
    if term == "hours":
        parts = []
        if f.hours_gap[i] > 0:
            parts.append(f"{view.offers.hours[view.op(i)]:.0f} h par semaine pour "
                         f"{view.people.hours[p]:.0f} h disponibles")
        young = (np.nan_to_num(view.people.children_under_3[p])
                 + np.nan_to_num(view.people.children_3_to_11[p])) > 0
        if view.offers.atypical[view.op(i)].any() and young:
            parts.append(f"{view.atypical_label(i)} avec de jeunes enfants : garde à organiser")
        return "; ".join(parts)[:1].upper() + "; ".join(parts)[1:]
    if term == "licence":
        return "Permis B souhaité"
    if term == "contract":
        label = o.contract_label or CONTRACT_LABELS_FR.get(o.contract_type or "", "")
        return f"Emploi durable ({label})"
    if term == "readiness":
        orientation = ORIENTATIONS_FR[int(view.people.orientation[p])]
        if view.offers.insertion_contract[view.op(i)]:
            return f"Contrat d'insertion, adapté à l'orientation {orientation}"
        return f"Cohérent avec l'orientation {orientation}"
    if term == "iae":
        return f"Poste en insertion (SIAE : {o.siae_kind or 'IAE'}) : accompagnement sur le poste"
    if term == "history":
        return "Déjà refusée par la personne" if f.history[i] == HistoryCode.refused else (
            "Déjà abandonnée par la personne")
    raise KeyError(term)


def reasons_for(view: PairView, contributions: np.ndarray, i: int) -> tuple[tuple[Reason, ...],
                                                                          float]:
    """Reasons (non-zero terms, largest first) and the score they add up to (rounded sums)."""
    row = contributions[i]
    reasons = [Reason(TERMS[t], reason_label(TERMS[t], view, i), round(float(row[t]), 4))
               for t in np.flatnonzero(np.abs(row) >= 5e-5)]
    reasons.sort(key=lambda r: -abs(r.contribution))
    return tuple(reasons), round(sum(r.contribution for r in reasons), 4)


def warnings_for(view: PairView, elig: PairEligibility, i: int) -> tuple[Warning, ...]:
    o, oi = view.opportunity(i), view.op(i)
    out: list[Warning] = []
    for r, rule in enumerate(elig.rules):
        if elig.unchecked[i, r] and rule.unchecked_label is not None:
            out.append(Warning("unchecked." + rule.code.split(".", 1)[1], rule.unchecked_label(
                view, i)))
    if view.offers.training_required[oi] and view.feats.training_gap[i] > 0:
        lvl = LEVEL_LABELS_FR.get(int(view.offers.training_level[oi]), "")
        out.append(Warning("training", f"Niveau de formation exigé : {lvl}"))
    if view.offers.experience[oi] == ExperienceCode.required:
        label = o.experience_label or "oui"
        out.append(Warning("experience", f"Expérience exigée : {label}"))
    if view.offers.atypical[oi].any() and view.people.atypical_ok[view.pp(i)] == 1:
        out.append(Warning("hours", f"Horaires : {view.atypical_label(i)}"))
    if o.start_date is not None:
        out.append(Warning("start", f"Début le {o.start_date:%d/%m/%Y}"))
    if o.synthetic:
        out.append(Warning("synthetic", "Offre fictive de démonstration (générée, ne correspond "
                           "à aucune offre réelle)"))
    if view.feats.history[i] == HistoryCode.refused:
        out.append(Warning("history.refused", "La personne a déjà refusé cette offre"))
    elif view.feats.history[i] == HistoryCode.abandoned:
        out.append(Warning("history.abandoned", "La personne a déjà abandonné cette offre"))
    return tuple(out)


def opportunity_details(view: PairView, i: int) -> dict:
    """The offer's own facts for the response (``items[].opportunity``)."""
    o = view.opportunity(i)
    return {
        "rome_code": o.rome_code,
        "rome_label": o.appellation,
        "contract_type": o.contract_type,
        "contract_label": o.contract_label,
        "hours_per_week": None if o.hours_per_week is None or math.isnan(o.hours_per_week)
        else o.hours_per_week,
        "atypical_hours": [a.value for a in o.atypical_hours],
        "positions": o.positions,
        "url": o.url,
        "source": o.source,
        "synthetic": o.synthetic,
        "iae": o.iae,
        "siae_kind": o.siae_kind,
    }
