"""Hard rules for opportunities, evaluated for every (person, offer) pair at once.

Reachability is a **wall** for opportunities (DESIGN §11: a job must be reachable every day by
the person's own means), unlike actions. Each rule yields ``excluded`` (the person fails a
condition) and ``unchecked`` (the profile does not say: the item stays, with a warning):

=============================  ===========================================================
code                           excluded when
=============================  ===========================================================
``eligibility.travel``         no own mode reaches the work place within the person's
                               maximum travel time (unchecked instead when an unknown
                               licence or vehicle would make it reachable by car)
``eligibility.driving_licence`` the offer requires (exigence E) a licence the person lacks:
                               B when they have none or only the code; any other category
                               when they have none (unchecked when they have B, or unknown)
``eligibility.hours``          atypical hours (night, week-end, shifts, early/late, split)
                               and the person said they cannot work them
``eligibility.childcare``      atypical hours, a child under 12 and a real or blocking
                               childcare frein (garde d'enfants ≥ 2)
``eligibility.training_level`` the offer requires (exigence E) a training level above the
                               person's (unchecked when the person's level is unknown)
``eligibility.age``            an apprenticeship contract (APP) and the person is over 29
                               without an RQTH (Code du travail L6222-1/2)
``history.done/ongoing``       already done / ongoing for the person
=============================  ===========================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from insertion_match.domain import (
    ATYPICAL_LABELS_FR,
    FREINS,
    HistoryCode,
    LicenceCode,
    Opportunity,
)
from insertion_match.features.opportunity_features import PairFeatures
from insertion_match.features.opportunity_index import ATYPICAL, OfferArrays
from insertion_match.features.people import MODES, PeopleArrays
from insertion_match.geo import MODE_LABELS_FR

_GARDE = FREINS.index("garde_enfants")
#: Childcare frein severity from which atypical hours are a wall when there is a child < 12.
CHILDCARE_WALL_SEVERITY = 2


@dataclass(frozen=True)
class PairView:
    """The two sides of N pairs: either one person × n offers (``forward``) or m people × one
    offer. ``op(i)`` / ``pp(i)`` give the offer / person position of pair ``i``."""

    people: PeopleArrays
    offers: OfferArrays
    opportunities: Sequence[Opportunity]  # only indexed (a tuple, or the lazy picked documents)
    feats: PairFeatures
    forward: bool

    def op(self, i: int) -> int:
        return int(i) if self.forward else 0

    def pp(self, i: int) -> int:
        return 0 if self.forward else int(i)

    def opportunity(self, i: int) -> Opportunity:
        return self.opportunities[self.op(i)]

    def atypical_label(self, i: int) -> str:
        flags = [ATYPICAL_LABELS_FR[a] for a, on in
                 zip(ATYPICAL, self.offers.atypical[self.op(i)], strict=True) if on]
        return ", ".join(flags) if flags else "horaires atypiques"


Label = Callable[[PairView, int], str]


@dataclass(frozen=True)
class PairRule:
    code: str
    label: Label
    unchecked_label: Label | None = None


@dataclass(frozen=True)
class PairEligibility:
    rules: tuple[PairRule, ...]
    excluded: np.ndarray  # (N, R) bool
    unchecked: np.ndarray  # (N, R) bool

    @property
    def eligible(self) -> np.ndarray:
        return ~np.any(self.excluded, axis=1)


def _where(view: PairView, i: int) -> str:
    f = view.feats
    mode = int(f.mode[i])
    max_minutes = view.people.max_minutes[view.pp(i)]
    if mode < 0:
        return (f"Hors de portée : aucun de ses moyens de transport ne permet d'y aller chaque "
                f"jour ({f.distance_km[i]:.0f} km)")
    return (f"À {round(float(f.minutes[i]))} min {MODE_LABELS_FR[MODES[mode]]}, au-delà des "
            f"{max_minutes:.0f} min acceptées")


def _licence_category(view: PairView, i: int) -> str:
    o = view.opportunity(i)
    cats = [lic.category for lic in o.licences if lic.required]
    return "B" if "B" in cats and view.offers.licence_b_required[view.op(i)] else (
        cats[0] if cats else "B")


def _licence_label(view: PairView, i: int) -> str:
    lic = view.people.licence[view.pp(i)]
    cat = "B" if view.offers.licence_b_required[view.op(i)] and lic != LicenceCode.b else None
    if cat is None:
        others = [x.category for x in view.opportunity(i).licences if x.required and
                  x.category != "B"]
        cat = others[0] if others else _licence_category(view, i)
    return f"Permis {cat} exigé"


def _licence_unchecked(view: PairView, i: int) -> str:
    if view.people.licence[view.pp(i)] == LicenceCode.unknown:
        return f"Permis de la personne non renseigné : permis {_licence_category(view, i)} exigé"
    others = [x.category for x in view.opportunity(i).licences if x.required and x.category != "B"]
    return f"À vérifier : permis {', '.join(others) or 'B'} exigé"


def _children_band(view: PairView, i: int) -> str:
    p = view.pp(i)
    if np.nan_to_num(view.people.children_under_3[p]) > 0:
        return "d'un enfant de moins de 3 ans"
    return "d'un enfant de moins de 12 ans"


def _childcare_label(view: PairView, i: int) -> str:
    what = view.atypical_label(i)
    plural = what.startswith("horaires")
    return (f"{what[:1].upper()}{what[1:]} incompatible{'s' if plural else ''} avec la garde "
            f"{_children_band(view, i)}")


_LEVEL_FR = {2: "sans diplôme", 3: "CAP/BEP (niveau 3)", 4: "bac (niveau 4)",
             5: "bac+2 (niveau 5)", 6: "licence (niveau 6)", 7: "master (niveau 7)",
             8: "doctorat (niveau 8)"}


def _level_fr(view: PairView, i: int) -> str:
    return _LEVEL_FR.get(int(view.offers.training_level[view.op(i)]), "niveau précisé")


RULES: tuple[PairRule, ...] = (
    PairRule(
        "eligibility.travel", _where,
        lambda v, i: "Trajet à vérifier : à "
        f"{round(float(v.feats.car_minutes[i]))} min en voiture si la personne a le permis et "
        "un véhicule (non renseigné)",
    ),
    PairRule("eligibility.driving_licence", _licence_label, _licence_unchecked),
    PairRule(
        "eligibility.hours",
        lambda v, i: f"Horaires atypiques ({v.atypical_label(i)}) : la personne n'est pas "
        "disponible sur ces horaires",
        lambda v, i: f"Horaires atypiques ({v.atypical_label(i)}) : disponibilité de la "
        "personne non renseignée",
    ),
    PairRule(
        "eligibility.childcare", _childcare_label,
        lambda v, i: f"Horaires atypiques ({v.atypical_label(i)}) et frein garde d'enfants : "
        "âge des enfants non renseigné",
    ),
    PairRule(
        "eligibility.training_level",
        lambda v, i: f"Niveau de formation exigé : {_level_fr(v, i)}",
        lambda v, i: f"Niveau de formation non renseigné : {_level_fr(v, i)} exigé",
    ),
    PairRule(
        "eligibility.age",
        lambda v, i: "Contrat d'apprentissage : réservé aux personnes de 16 à 29 ans (sauf RQTH)",
        lambda v, i: "Âge non renseigné : contrat d'apprentissage réservé aux personnes de 16 à "
        "29 ans (sauf RQTH)",
    ),
    PairRule("history.done", lambda v, i: "Offre déjà réalisée par la personne"),
    PairRule("history.ongoing", lambda v, i: "Offre en cours pour la personne"),
)
RULE_CODES: tuple[str, ...] = tuple(r.code for r in RULES)


def evaluate_pairs(people: PeopleArrays, offers: OfferArrays, f: PairFeatures) -> tuple[
        np.ndarray, np.ndarray]:
    """(excluded, unchecked), both (N, len(RULES)) bool, aligned with :data:`RULES`."""
    n = f.minutes.shape[0]

    def b(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a, (n,))

    none = np.zeros(n, dtype=bool)
    cols: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    max_minutes = b(people.max_minutes)
    too_far = ~(f.minutes <= max_minutes)  # inf and NaN are too far
    by_car = b(people.car_unknown) & (f.car_minutes <= max_minutes)
    cols["eligibility.travel"] = (too_far & ~by_car, too_far & by_car)

    lic = b(people.licence)
    b_req, other_req = b(offers.licence_b_required), b(offers.licence_other_required)
    known, has_b = lic != LicenceCode.unknown, lic == LicenceCode.b
    lacks = (b_req | other_req) & known & ~has_b
    cols["eligibility.driving_licence"] = (
        lacks, ((b_req | other_req) & ~known) | (other_req & has_b) & ~lacks)

    atypical = b(np.any(offers.atypical, axis=1))
    ok = b(people.atypical_ok)
    cols["eligibility.hours"] = (atypical & (ok == 0), atypical & (ok < 0))

    garde = b(people.severities[:, _GARDE]) >= CHILDCARE_WALL_SEVERITY
    u3, c311 = b(people.children_under_3), b(people.children_3_to_11)
    with np.errstate(invalid="ignore"):
        child = (u3 > 0) | (c311 > 0)
    children_unknown = np.isnan(u3) & np.isnan(c311)
    cols["eligibility.childcare"] = (atypical & garde & child,
                                     atypical & garde & children_unknown)

    # The same conditions as for actions, where an offer states them (one vocabulary). One side
    # has length 1 (one person × n offers, or m people × one offer): plain numpy broadcasting.
    required = offers.training_required & ~np.isnan(offers.training_level)
    if required.any():
        with np.errstate(invalid="ignore"):
            below = required & (people.level < offers.training_level)
        cols["eligibility.training_level"] = (b(below), b(required & np.isnan(people.level)))
    else:
        cols["eligibility.training_level"] = (none, none)
    bounded_offer = ~np.isnan(offers.age_max)
    if bounded_offer.any():
        bounded = bounded_offer & (people.rqth != 1)
        with np.errstate(invalid="ignore"):
            too_old = bounded & (people.age > offers.age_max)
        cols["eligibility.age"] = (b(too_old), b(bounded & np.isnan(people.age)))
    else:
        cols["eligibility.age"] = (none, none)

    cols["history.done"] = (f.history == HistoryCode.done, none)
    cols["history.ongoing"] = (f.history == HistoryCode.ongoing, none)
    excluded = np.column_stack([cols[c][0] for c in RULE_CODES])
    unchecked = np.column_stack([cols[c][1] for c in RULE_CODES])
    return excluded.reshape(n, len(RULES)), unchecked.reshape(n, len(RULES))


def evaluate_opportunity_eligibility(
    people: PeopleArrays, offers: OfferArrays, f: PairFeatures
) -> PairEligibility:
    excluded, unchecked = evaluate_pairs(people, offers, f)
    return PairEligibility(rules=RULES, excluded=excluded, unchecked=unchecked)
