"""Hard eligibility rules, evaluated for every action of the département at once.

Each rule yields two boolean arrays: ``excluded`` (the person fails a stated condition) and
``unchecked`` (the action has the condition but the profile does not say: the item stays, with a
warning that the coach must check it). Rules only encode conditions the source documents state
(DESIGN §11); distance is never an exclusion for an action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from insertion_match.domain import (
    FREIN_LABELS_FR,
    FREINS,
    BeneficiaryProfile,
    training_level_rank,
)
from insertion_match.features.action_index import ORIENTATIONS, ActionIndex
from insertion_match.features.profile import PersonContext

Label = Callable[[ActionIndex, int], str]


@dataclass(frozen=True)
class Rule:
    code: str
    label: Label  # French label of the exclusion for action i
    unchecked_label: Label | None = None  # French warning when the profile does not say


#: Conditions that name a precise public (as opposed to access conditions such as a territory, a
#: licence or a vehicle; sex is a condition where a document states it but never a scoring
#: feature, DESIGN §3): when the person is known to meet one, the action was made for them
#: (the ``public`` scoring term). French phrases for the reason label.
PUBLIC_KINDS: tuple[tuple[str, str], ...] = (
    ("youth", "les jeunes"),
    ("senior", "les personnes de plus de 45 ans"),
    ("new_entrant", "les personnes entrées récemment au RSA"),
    ("long_term", "les personnes au RSA depuis longtemps"),
    ("low_level", "les personnes peu ou pas diplômées"),
    ("newcomer", "les personnes étrangères primo-arrivantes"),
    ("independent", "les travailleurs indépendants"),
    ("farmer", "les exploitants agricoles"),
    ("qpv", "les habitants des quartiers prioritaires"),
    ("rqth", "les personnes ayant une RQTH"),
    ("mdph_unknown", "les personnes pas encore connues de la MDPH"),
    ("parents", "les parents de jeunes enfants"),
    ("single", "les personnes seules"),
    ("job_takeup", "les personnes qui reprennent un emploi"),
)
PUBLIC_KIND_CODES: tuple[str, ...] = tuple(k for k, _ in PUBLIC_KINDS)
#: An age bound names a public only when it is narrow: at most this old, or at least that old.
YOUTH_AGE_MAX = 35
SENIOR_AGE_MIN = 45


@dataclass(frozen=True)
class EligibilityResult:
    rules: tuple[Rule, ...]
    excluded: np.ndarray  # (n, R) bool
    unchecked: np.ndarray  # (n, R) bool
    public: np.ndarray | None = None  # (n, len(PUBLIC_KINDS)) bool: targeting conditions met

    @property
    def eligible(self) -> np.ndarray:
        return ~np.any(self.excluded, axis=1)  # (n,): the method is typed as maybe a scalar

    def public_fit(self) -> np.ndarray:
        """1.0 where the action names a public the person is known to belong to, else 0."""
        if self.public is None:
            return np.zeros(self.excluded.shape[0])
        return self.public.any(axis=1).astype(float)

    def unchecked_count(self) -> np.ndarray:
        """Conditions of each action that the profile leaves unchecked."""
        return self.unchecked.sum(axis=1).astype(float)

    def public_label(self, i: int) -> str:
        kinds = [label for (code, label), met in zip(PUBLIC_KINDS, self.public[i], strict=True)
                 if met] if self.public is not None else []
        return "Conçue pour son public : " + ", ".join(kinds)


def de(name: str) -> str:
    """French 'de' with elision: de("Alençon") -> "d'Alençon", de("Flers") -> "de Flers"."""
    return f"d'{name}" if name[:1].lower() in "aeiouyéèêâîôûà" else f"de {name}"


def _territory_label(index: ActionIndex, i: int) -> str:
    terr = index.actions[i].territory
    if terr.scope == "commissions":
        if len(terr.commissions) == 1:
            return f"Réservée au territoire de la commission RSA {de(terr.commissions[0])}"
        return "Réservée aux territoires des commissions RSA " + ", ".join(terr.commissions)
    if terr.scope == "communes":
        return "Réservée aux habitants de certaines communes"
    return f"Réservée aux habitants du département {terr.department}"


def _orientation_label(index: ActionIndex, i: int) -> str:
    allowed = [o for o, ok in zip(ORIENTATIONS, index.orientation_ok[i], strict=True) if ok]
    return "Réservée aux personnes en orientation " + " ou ".join(allowed)


def _age_bounds(index: ActionIndex, i: int) -> str:
    lo, hi = index.age_min[i], index.age_max[i]
    if not np.isnan(lo) and not np.isnan(hi):
        return f"de {lo:.0f} à {hi:.0f} ans"
    if not np.isnan(lo):
        return f"d'au moins {lo:.0f} ans"
    return f"de {hi:.0f} ans au plus"


_LEVEL_FR = {2: "sans diplôme (infra 3)", 3: "CAP/BEP (niveau 3)", 4: "bac (niveau 4)",
             5: "bac+2 (niveau 5)", 6: "licence (niveau 6)", 7: "master (niveau 7)",
             8: "doctorat (niveau 8)"}


def _level_bounds(index: ActionIndex, i: int) -> str:
    lo, hi = index.level_min[i], index.level_max[i]
    if not np.isnan(hi) and not np.isnan(lo):
        return f"d'un niveau de formation entre {_LEVEL_FR[int(lo)]} et {_LEVEL_FR[int(hi)]}"
    if not np.isnan(hi):
        if int(hi) == 2:
            return "sans diplôme (niveau inférieur au CAP)"
        return f"d'un niveau de formation jusqu'au {_LEVEL_FR[int(hi)]}"
    return f"d'un niveau de formation {_LEVEL_FR[int(lo)]} au moins"


def _months_bounds(index: ActionIndex, i: int) -> str:
    lo, hi = index.rsa_months_min[i], index.rsa_months_max[i]
    if not np.isnan(lo) and not np.isnan(hi):
        return f"au RSA depuis {lo:.0f} à {hi:.0f} mois"
    if not np.isnan(hi):
        return f"au RSA depuis {hi:.0f} mois au plus"
    return f"au RSA depuis au moins {lo:.0f} mois"


_CHILDREN_FR = {
    "none": "aux personnes sans enfant à charge",
    "any": "aux parents",
    "under_3": "aux parents d'un enfant de moins de 3 ans",
    "under_6": "aux parents d'un enfant de moins de 6 ans",
}
def _needs_fr(index: ActionIndex, i: int) -> str:
    row = index.needs_min[i]
    parts = []
    for j in np.flatnonzero(np.isfinite(row)):
        level = int(row[j])
        how = {1: "", 2: " (réel ou bloquant)", 3: " (bloquant)"}[level]
        parts.append(f"{FREIN_LABELS_FR[FREINS[j]]}{how}")
    head = "un frein " if len(parts) == 1 else "au moins un de ces freins : "
    return head + ", ".join(parts)


_SEX_FR = {"f": "Réservée aux femmes", "m": "Réservée aux hommes"}
_FAMILY_FR = {"isole": "aux personnes seules", "couple": "aux personnes en couple"}


RULES: tuple[Rule, ...] = (
    Rule("eligibility.territory", _territory_label),
    Rule("eligibility.inactive", lambda ix, i: "Action arrêtée selon le document source"),
    Rule(
        "eligibility.not_prescribable",
        lambda ix, i: "Objectif ou expérimentation du programme, pas une action prescriptible"
        + (f" : {ix.actions[i].not_prescribable_fr}" if ix.actions[i].not_prescribable_fr else ""),
    ),
    Rule(
        "eligibility.orientation",
        _orientation_label,
        lambda ix, i: "Orientation non renseignée : " + _orientation_label(ix, i).lower(),
    ),
    Rule(
        "eligibility.age",
        lambda ix, i: f"Réservée aux personnes {_age_bounds(ix, i)}",
        lambda ix, i: f"Âge non renseigné : action réservée aux personnes {_age_bounds(ix, i)}",
    ),
    Rule(
        "eligibility.rsa_months",
        lambda ix, i: f"Réservée aux personnes {_months_bounds(ix, i)}",
        lambda ix, i: "Ancienneté au RSA non renseignée : action réservée aux personnes "
        f"{_months_bounds(ix, i)}",
    ),
    Rule(
        "eligibility.sex",
        lambda ix, i: _SEX_FR[str(ix.sex_required[i])],
        lambda ix, i: "À vérifier : " + _SEX_FR[str(ix.sex_required[i])].lower(),
    ),
    Rule(
        "eligibility.training_level",
        lambda ix, i: f"Réservée aux personnes {_level_bounds(ix, i)}",
        lambda ix, i: "Niveau de formation non renseigné : action réservée aux personnes "
        f"{_level_bounds(ix, i)}",
    ),
    Rule(
        "eligibility.family",
        lambda ix, i: "Réservée " + _FAMILY_FR[str(ix.family_required[i])],
        lambda ix, i: "Situation familiale non renseignée : action réservée "
        + _FAMILY_FR[str(ix.family_required[i])],
    ),
    Rule(
        "eligibility.children",
        lambda ix, i: "Réservée " + _CHILDREN_FR[str(ix.children_rule[i])],
        lambda ix, i: "Enfants non renseignés : action réservée "
        + _CHILDREN_FR[str(ix.children_rule[i])],
    ),
    Rule(
        "eligibility.mdph_unknown",
        lambda ix, i: "Réservée aux personnes pas encore connues de la MDPH (la personne a déjà "
        "une RQTH ou un dossier MDPH)",
        lambda ix, i: "À vérifier : réservée aux personnes pas encore connues de la MDPH",
    ),
    Rule(
        "eligibility.vehicle",
        lambda ix, i: "Réservée aux personnes qui ont une voiture" if ix.car_required[i]
        else "Réservée aux personnes qui ont un véhicule (voiture ou deux-roues)",
        lambda ix, i: "Véhicule non renseigné : service pour les personnes qui ont "
        + ("une voiture" if ix.car_required[i] else "un véhicule"),
    ),
    Rule(
        "eligibility.needs",
        lambda ix, i: "Réservée aux personnes ayant " + _needs_fr(ix, i),
        lambda ix, i: "Freins non renseignés : action réservée aux personnes ayant "
        + _needs_fr(ix, i),
    ),
    Rule(
        "eligibility.job_takeup",
        lambda ix, i: "Réservée aux personnes qui reprennent un emploi",
        lambda ix, i: "À vérifier : réservée aux personnes qui reprennent un emploi (contrat "
        "signé ou imminent)",
    ),
    Rule(
        "eligibility.foreign_newcomer",
        lambda ix, i: "Réservée aux personnes étrangères primo-arrivantes",
        lambda ix, i: "À vérifier : action réservée aux personnes étrangères primo-arrivantes",
    ),
    Rule(
        "eligibility.independent_worker",
        lambda ix, i: "Réservée aux travailleurs indépendants",
        lambda ix, i: "À vérifier : action réservée aux travailleurs indépendants",
    ),
    Rule(
        "eligibility.farmer",
        lambda ix, i: "Les exploitants agricoles sont accompagnés par la MSA",
        lambda ix, i: "À vérifier : les exploitants agricoles relèvent de la MSA",
    ),
    Rule(
        "eligibility.farmer_required",
        lambda ix, i: "Réservée aux exploitants agricoles non salariés (MSA)",
        lambda ix, i: "À vérifier : action réservée aux exploitants agricoles non salariés (MSA)",
    ),
    Rule(
        "eligibility.qpv",
        lambda ix, i: "Réservée aux habitants d'un quartier prioritaire (QPV)",
        lambda ix, i: "À vérifier : action réservée aux habitants d'un quartier prioritaire (QPV)",
    ),
    Rule(
        "eligibility.rqth",
        lambda ix, i: "Réservée aux personnes ayant une RQTH",
        lambda ix, i: "À vérifier : action réservée aux personnes ayant une RQTH",
    ),
    Rule(
        "eligibility.driving_licence",
        lambda ix, i: "Permis B nécessaire" if ix.licence_b_required[i] else "Code de la route nécessaire",
        lambda ix, i: "Permis non renseigné : "
        + ("permis B nécessaire" if ix.licence_b_required[i] else "code de la route nécessaire"),
    ),
    Rule(
        "eligibility.has_licence",
        lambda ix, i: "La personne a déjà le permis B",
        lambda ix, i: "Permis non renseigné : action pour les personnes sans permis B",
    ),
    Rule("history.done", lambda ix, i: "Action déjà suivie par la personne"),
    Rule("history.ongoing", lambda ix, i: "Action en cours pour la personne"),
)

RULE_CODES: tuple[str, ...] = tuple(r.code for r in RULES)


def _flag(required: np.ndarray, value: bool | None) -> tuple[np.ndarray, np.ndarray]:
    """A 'reserved to people with X' rule: excluded when X is False, unchecked when unknown."""
    if value is None:
        return np.zeros_like(required), required.copy()
    return required & (not value), np.zeros_like(required)


@dataclass(frozen=True)
class ChildrenFacts:
    """What the profile says of the person's children: True / False / None (unknown)."""

    any: bool | None
    under_3: bool | None
    under_6: bool | None


def children_facts(p: BeneficiaryProfile) -> ChildrenFacts:
    f = p.family
    bands = (f.children_under_3, f.children_3_to_11, f.children_12_plus)
    if any(b for b in bands if b) or (f.children_under_6 or 0) > 0:
        any_child: bool | None = True
    elif all(b == 0 for b in bands):
        any_child = False
    else:
        any_child = None
    under_3 = None if f.children_under_3 is None else f.children_under_3 > 0
    if under_3 or (f.children_under_6 or 0) > 0:
        under_6: bool | None = True
    elif f.children_under_6 == 0 or (under_3 is False and f.children_3_to_11 == 0) \
            or any_child is False:
        under_6 = False
    else:
        under_6 = None
    if any_child is False:
        under_3 = False
    return ChildrenFacts(any=any_child, under_3=under_3, under_6=under_6)


def _children_rule(index: ActionIndex, c: ChildrenFacts) -> tuple[np.ndarray, np.ndarray]:
    rule = index.children_rule
    excluded = np.zeros(len(index), dtype=bool)
    unchecked = np.zeros(len(index), dtype=bool)
    for code, fact in (("any", c.any), ("under_3", c.under_3), ("under_6", c.under_6)):
        mask = rule == code
        if fact is None:
            unchecked |= mask
        elif not fact:
            excluded |= mask
    mask = rule == "none"
    if c.any is None:
        unchecked |= mask
    elif c.any:
        excluded |= mask
    return excluded, unchecked


def evaluate_eligibility(index: ActionIndex, ctx: PersonContext) -> EligibilityResult:
    n = len(index)
    p = ctx.profile
    s_ = p.status
    none = np.zeros(n, dtype=bool)
    cols: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    # Territory: département, commission, or commune list.
    in_dept = index.department == ctx.department
    commission_ok = np.array(
        [ctx.commission is not None and ctx.commission in c for c in index.commissions], dtype=bool
    ) if n else none
    communes_ok = np.array([ctx.home.insee in c for c in index.communes], dtype=bool) if n else none
    territory_ok = in_dept & np.select(
        [index.scope == 0, index.scope == 1, index.scope == 2], [True, commission_ok, communes_ok]
    ).astype(bool)
    cols["eligibility.territory"] = (~territory_ok, none)
    cols["eligibility.inactive"] = (~index.active, none)

    if p.orientation is None:
        cols["eligibility.orientation"] = (none, index.has_orientation_rule.copy())
    else:
        ok = index.orientation_ok[:, ORIENTATIONS.index(p.orientation.value)]
        cols["eligibility.orientation"] = (~ok, none)

    has_age_rule = ~np.isnan(index.age_min) | ~np.isnan(index.age_max)
    if p.age is None:
        cols["eligibility.age"] = (none, has_age_rule)
    else:
        with np.errstate(invalid="ignore"):
            too_young = p.age < index.age_min
            too_old = p.age > index.age_max
        cols["eligibility.age"] = (too_young | too_old, none)

    cols["eligibility.not_prescribable"] = (~index.prescribable, none)

    has_months_rule = ~np.isnan(index.rsa_months_max) | ~np.isnan(index.rsa_months_min)
    if p.rsa_months is None:
        cols["eligibility.rsa_months"] = (none, has_months_rule)
    else:
        with np.errstate(invalid="ignore"):
            cols["eligibility.rsa_months"] = (
                (p.rsa_months > index.rsa_months_max) | (p.rsa_months < index.rsa_months_min), none)

    has_sex_rule = index.sex_required != ""
    if p.sex is None:
        cols["eligibility.sex"] = (none, has_sex_rule)
    else:
        cols["eligibility.sex"] = (has_sex_rule & (index.sex_required != p.sex), none)

    level = training_level_rank(p.training_level.value if p.training_level else None)
    has_level_rule = ~np.isnan(index.level_min) | ~np.isnan(index.level_max)
    if level is None:
        cols["eligibility.training_level"] = (none, has_level_rule)
    else:
        with np.errstate(invalid="ignore"):
            cols["eligibility.training_level"] = (
                (level < index.level_min) | (level > index.level_max), none)

    has_family_rule = index.family_required != ""
    situation = p.family.situation
    if situation is None:
        cols["eligibility.family"] = (none, has_family_rule)
    else:
        cols["eligibility.family"] = (has_family_rule & (index.family_required != situation), none)

    cols["eligibility.children"] = _children_rule(index, children_facts(p))

    rqth, known = s_.rqth, s_.mdph_known
    mdph_known = True if (rqth or known) else (False if known is False else None)
    cols["eligibility.mdph_unknown"] = _flag(index.mdph_unknown_required,
                                             None if mdph_known is None else not mdph_known)

    cols["eligibility.vehicle"] = _vehicle_rule(index, p.mobility.vehicle, none)
    cols["eligibility.job_takeup"] = _flag(index.job_takeup_required, s_.job_takeup)

    has_needs = np.isfinite(index.needs_min).any(axis=1)
    if not p.freins:  # no frein stated at all: the need cannot be checked
        cols["eligibility.needs"] = (none, has_needs)
    else:
        met = (ctx.severities[np.newaxis, :] >= index.needs_min).any(axis=1)
        cols["eligibility.needs"] = (has_needs & ~met, none)

    s = p.status
    cols["eligibility.foreign_newcomer"] = _flag(index.foreign_newcomer_required, s.foreign_newcomer)
    cols["eligibility.independent_worker"] = _flag(
        index.independent_worker_required, s.independent_worker
    )
    if s.farmer is None:
        cols["eligibility.farmer"] = (none, index.farmers_excluded & (s.independent_worker is not False))
    else:
        cols["eligibility.farmer"] = (index.farmers_excluded & s.farmer, none)
    cols["eligibility.farmer_required"] = _flag(index.farmer_required, s.farmer)
    cols["eligibility.qpv"] = _flag(index.qpv_required, s.qpv)
    cols["eligibility.rqth"] = _flag(index.rqth_required, s.rqth)

    cols.update(_licence_rules(index, p.mobility.driving_licence, none))

    if ctx.history:
        status = np.array([ctx.history.get(i, "") for i in index.ids])
        cols["history.done"] = (status == "done", none)
        cols["history.ongoing"] = (status == "ongoing", none)
    else:
        cols["history.done"] = (none, none)
        cols["history.ongoing"] = (none, none)

    excluded = np.empty((n, len(RULES)), dtype=bool)
    unchecked = np.empty((n, len(RULES)), dtype=bool)
    for r, code in enumerate(RULE_CODES):  # filled column by column (cheaper than stacking)
        excluded[:, r], unchecked[:, r] = cols[code]
    return EligibilityResult(rules=RULES, excluded=excluded, unchecked=unchecked,
                             public=_public_met(index, p))


def _vehicle_rule(index: ActionIndex, vehicle, none: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if vehicle is None:
        return none, index.vehicle_required.copy()
    has_car = vehicle.value == "car"
    has_vehicle = has_car or vehicle.value == "two_wheeler"
    return ((index.vehicle_required & ~index.car_required & (not has_vehicle))
            | (index.car_required & (not has_car)), none)


def _licence_rules(index: ActionIndex, licence, none: np.ndarray
                   ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if licence is None:
        return {"eligibility.driving_licence":
                (none, index.licence_b_required | index.licence_code_required),
                "eligibility.has_licence": (none, index.no_licence_required.copy())}
    lv = licence.value
    lacks = ((index.licence_b_required & (lv != "b"))
             | (index.licence_code_required & (lv == "none")))
    return {"eligibility.driving_licence": (lacks, none),
            "eligibility.has_licence": (index.no_licence_required & (lv == "b"), none)}


_MOBILITY_RULES = ("eligibility.vehicle", "eligibility.driving_licence", "eligibility.has_licence")


def eligible_with_mobility(index: ActionIndex, elig: EligibilityResult, driving_licence,
                           vehicle) -> np.ndarray:
    """Who would be eligible with another licence and vehicle, everything else equal: the
    evaluation ``elig`` with only the licence and vehicle rules evaluated again (the same as
    :func:`evaluate_eligibility` of the profile with that mobility, for the levers)."""
    n = len(index)
    none = np.zeros(n, dtype=bool)
    cols = {"eligibility.vehicle": _vehicle_rule(index, vehicle, none),
            **_licence_rules(index, driving_licence, none)}
    excluded = elig.excluded.copy()
    for code in _MOBILITY_RULES:
        excluded[:, RULE_CODES.index(code)] = cols[code][0]
    return ~np.any(excluded, axis=1)


def _public_met(index: ActionIndex, p: BeneficiaryProfile) -> np.ndarray:
    """(n, len(PUBLIC_KINDS)) bool: the action states this targeting condition and the profile
    says the person meets it (unknown never counts)."""
    n = len(index)
    none = np.zeros(n, dtype=bool)
    s = p.status
    with np.errstate(invalid="ignore"):
        youth = (index.age_max <= YOUTH_AGE_MAX) if p.age is not None else none
        senior = (index.age_min >= SENIOR_AGE_MIN) if p.age is not None else none
        new_entrant = ~np.isnan(index.rsa_months_max) if p.rsa_months is not None else none
        long_term = ~np.isnan(index.rsa_months_min) if p.rsa_months is not None else none
    level = p.training_level is not None
    c = children_facts(p)
    met = {
        "youth": youth,
        "senior": senior,
        "new_entrant": new_entrant,
        "long_term": long_term,
        "low_level": ~np.isnan(index.level_max) if level else none,
        "newcomer": index.foreign_newcomer_required & bool(s.foreign_newcomer),
        "independent": index.independent_worker_required & bool(s.independent_worker),
        "farmer": index.farmer_required & bool(s.farmer),
        "qpv": index.qpv_required & bool(s.qpv),
        "rqth": index.rqth_required & bool(s.rqth),
        "mdph_unknown": index.mdph_unknown_required
        & (s.mdph_known is False or (s.rqth is False and s.mdph_known is not True)),
        "parents": np.isin(index.children_rule, ["any", "under_3", "under_6"]) & bool(c.any),
        "single": ((index.children_rule == "none") & (c.any is False))
        | ((index.family_required == "isole") & (p.family.situation == "isole")),
        "job_takeup": index.job_takeup_required & bool(s.job_takeup),
    }
    # Only meaningful together with eligibility: an excluded action is never shown anyway, so a
    # condition "stated" here is met whenever the person is not excluded by it.
    return np.column_stack([np.asarray(met[k], dtype=bool) for k in PUBLIC_KIND_CODES]) \
        if n else np.zeros((0, len(PUBLIC_KINDS)), bool)
