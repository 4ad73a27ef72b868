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


#: Per mode index (``people.MODES``, read like it: -1 is the last): whether it is public
#: transport, its French words, its value.
_BY_PT = tuple(m is Mode.public_transport for m in MODES)
_MODE_FR = tuple(MODE_LABELS_FR[m] for m in MODES)
_MODE_VALUES = tuple(m.value for m in MODES)
_FREIN_AT = {k: FREINS.index(k) for k in FREINS}
#: Plain ints of the enum members read per item (an enum attribute lookup costs a few µs).
_BEGINNER, _REQUIRED = int(ExperienceCode.beginner), int(ExperienceCode.required)
_REFUSED, _ABANDONED = int(HistoryCode.refused), int(HistoryCode.abandoned)
_REASON_THRESHOLD = 5e-5  # |contribution| from which a term is a reason
_SYNTHETIC_FR = "Offre fictive de démonstration (générée, ne correspond à aucune offre réelle)"


def travel_of(view: PairView, i: int) -> Travel:
    f = view.feats
    mode = int(f.mode[i])
    if mode < 0:
        return Travel(mode=None, minutes=None)
    source = source_at(_one(f.travel_source, i), 0) if _BY_PT[mode] else ESTIMATE_SOURCE
    return Travel(mode=_MODE_VALUES[mode], minutes=round(float(f.minutes[i]), 1), source=source)


def _one(sources, i: int):
    """Pair ``i``'s travel source alone (``source_at`` / ``timetable_note`` copy the whole
    column they are given into an object array)."""
    return None if sources is None else sources[i: i + 1]


def _target(view: PairView, i: int, p: int) -> str:
    k = int(view.feats.matched_target[i])
    texts = view.people.target_text[p]
    return f"« {texts[k]} »" if 0 <= k < len(texts) else "visé"


def _young_children(people, p: int) -> bool:
    """A child under 12 (NaN counts unknown: none), as ``np.nan_to_num`` sums them."""
    under_3, three_to_11 = float(people.children_under_3[p]), float(people.children_3_to_11[p])
    return ((0.0 if math.isnan(under_3) else under_3)
            + (0.0 if math.isnan(three_to_11) else three_to_11)) > 0


# Each reason's label, from the pair ``i`` (offer ``o`` at offer position ``oi``, person
# position ``p``): the terms of ``TERMS`` not starting with "frein.".
def _rome(view: PairView, i: int, o, p: int, oi: int) -> str:
    level = int(view.feats.proximity_level[i])
    if level == 4:
        return f"Correspond au métier visé {_target(view, i, p)} ({o.rome_code})"
    if level == 3:
        return f"Métier voisin du métier visé {_target(view, i, p)} ({o.rome_code})"
    if level == 2:
        return f"Même domaine professionnel que le métier visé {_target(view, i, p)}"
    return f"Même grand domaine professionnel que le métier visé {_target(view, i, p)}"


def _skills(view: PairView, i: int, o, p: int, oi: int) -> str:
    return f"Compétences : {view.feats.skills[i] * 100:.0f} % de celles demandées"


def _training(view: PairView, i: int, o, p: int, oi: int) -> str:
    if view.feats.training_gap[i] <= 0:
        return "Niveau de formation suffisant"
    lvl = LEVEL_LABELS_FR.get(int(view.offers.training_level[oi]), "")
    how = "exigé" if view.offers.training_required[oi] else "souhaité"
    return f"Niveau {lvl} {how}, au-dessus de celui de la personne"


def _experience(view: PairView, i: int, o, p: int, oi: int) -> str:
    return ("Débutant accepté" if int(view.offers.experience[oi]) == _BEGINNER
            else "Expérience exigée")


def _reach(view: PairView, i: int, o, p: int, oi: int) -> str:
    f = view.feats
    mode = int(f.mode[i])
    note = timetable_note(_one(f.travel_source, i), 0) if _BY_PT[mode] else ""
    return f"À {round(float(f.minutes[i]))} min {_MODE_FR[mode]}{note}"


def _hours(view: PairView, i: int, o, p: int, oi: int) -> str:
    parts = []
    if view.feats.hours_gap[i] > 0:
        parts.append(f"{view.offers.hours[oi]:.0f} h par semaine pour "
                     f"{view.people.hours[p]:.0f} h disponibles")
    if view.offers.atypical[oi].any() and _young_children(view.people, p):
        parts.append(f"{view.atypical_label(i)} avec de jeunes enfants : garde à organiser")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def _licence(view: PairView, i: int, o, p: int, oi: int) -> str:
    return "Permis B souhaité"


def _contract(view: PairView, i: int, o, p: int, oi: int) -> str:
    label = o.contract_label or CONTRACT_LABELS_FR.get(o.contract_type or "", "")
    return f"Emploi durable ({label})"


def _readiness(view: PairView, i: int, o, p: int, oi: int) -> str:
    orientation = ORIENTATIONS_FR[int(view.people.orientation[p])]
    if view.offers.insertion_contract[oi]:
        return f"Contrat d'insertion, adapté à l'orientation {orientation}"
    return f"Cohérent avec l'orientation {orientation}"


def _iae(view: PairView, i: int, o, p: int, oi: int) -> str:
    return f"Poste en insertion (SIAE : {o.siae_kind or 'IAE'}) : accompagnement sur le poste"


def _history(view: PairView, i: int, o, p: int, oi: int) -> str:
    return ("Déjà refusée par la personne" if int(view.feats.history[i]) == _REFUSED
            else "Déjà abandonnée par la personne")


_LABELS = {"rome": _rome, "skills": _skills, "training": _training,
           "experience": _experience, "reach": _reach, "hours": _hours, "licence": _licence,
           "contract": _contract, "readiness": _readiness, "iae": _iae, "history": _history}


def _label(t: int, view: PairView, i: int, o, p: int, oi: int) -> str:
    """The label of term ``TERMS[t]`` for pair ``i``."""
    term = TERMS[t]
    if term.startswith("frein."):
        key = term.removeprefix("frein.")
        sev = SEVERITY_LABELS_FR[int(view.people.severities[p, _FREIN_AT[key]])]
        verb = "Répond au frein" if KIND_FREINS[o.kind][0] == key else "Agit aussi sur le frein"
        return f"{verb} {FREIN_LABELS_FR[key]} ({sev})"
    return _LABELS[term](view, i, o, p, oi)


def reason_label(term: str, view: PairView, i: int) -> str:
    if not term.startswith("frein.") and term not in _LABELS:
        raise KeyError(term)
    return _label(TERMS.index(term), view, i, view.opportunity(i), view.pp(i), view.op(i))


def reasons_for(view: PairView, contributions: np.ndarray, i: int) -> tuple[tuple[Reason, ...],
                                                                          float]:
    """Reasons (non-zero terms, largest first) and the score they add up to (rounded sums)."""
    row = contributions[i]
    terms = (np.abs(row) >= _REASON_THRESHOLD).nonzero()[0].tolist()  # row: 1-D
    if not terms:
        return (), 0  # round(sum(()), 4)
    values = row.tolist()  # the same Python floats as float(row[t])
    o, p, oi = view.opportunity(i), view.pp(i), view.op(i)
    reasons = [Reason(TERMS[t], _label(t, view, i, o, p, oi), round(values[t], 4))
               for t in terms]
    reasons.sort(key=lambda r: -abs(r.contribution))
    return tuple(reasons), round(sum(r.contribution for r in reasons), 4)


def warnings_for(view: PairView, elig: PairEligibility, i: int) -> tuple[Warning, ...]:
    o, oi = view.opportunity(i), view.op(i)
    offers = view.offers
    out: list[Warning] = []
    for r in elig.unchecked[i].nonzero()[0].tolist():
        rule = elig.rules[r]
        if rule.unchecked_label is not None:
            out.append(Warning("unchecked." + rule.code.split(".", 1)[1], rule.unchecked_label(
                view, i)))
    if offers.training_required[oi] and view.feats.training_gap[i] > 0:
        lvl = LEVEL_LABELS_FR.get(int(offers.training_level[oi]), "")
        out.append(Warning("training", f"Niveau de formation exigé : {lvl}"))
    if int(offers.experience[oi]) == _REQUIRED:
        label = o.experience_label or "oui"
        out.append(Warning("experience", f"Expérience exigée : {label}"))
    if offers.atypical[oi].any() and view.people.atypical_ok[view.pp(i)] == 1:
        out.append(Warning("hours", f"Horaires : {view.atypical_label(i)}"))
    if o.start_date is not None:
        out.append(Warning("start", f"Début le {o.start_date:%d/%m/%Y}"))
    if o.synthetic:
        out.append(Warning("synthetic", _SYNTHETIC_FR))
    history = int(view.feats.history[i])
    if history == _REFUSED:
        out.append(Warning("history.refused", "La personne a déjà refusé cette offre"))
    elif history == _ABANDONED:
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
