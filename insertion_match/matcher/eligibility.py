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

from insertion_match.features.action_index import ORIENTATIONS, ActionIndex
from insertion_match.features.profile import PersonContext

Label = Callable[[ActionIndex, int], str]


@dataclass(frozen=True)
class Rule:
    code: str
    label: Label  # French label of the exclusion for action i
    unchecked_label: Label | None = None  # French warning when the profile does not say


@dataclass(frozen=True)
class EligibilityResult:
    rules: tuple[Rule, ...]
    excluded: np.ndarray  # (n, R) bool
    unchecked: np.ndarray  # (n, R) bool

    @property
    def eligible(self) -> np.ndarray:
        return ~self.excluded.any(axis=1)


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


RULES: tuple[Rule, ...] = (
    Rule("eligibility.territory", _territory_label),
    Rule("eligibility.inactive", lambda ix, i: "Action arrêtée selon le document source"),
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
        lambda ix, i: f"Réservée aux personnes au RSA depuis {ix.rsa_months_max[i]:.0f} mois au plus",
        lambda ix, i: "Ancienneté au RSA non renseignée : action réservée aux personnes au RSA "
        f"depuis {ix.rsa_months_max[i]:.0f} mois au plus",
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


def evaluate_eligibility(index: ActionIndex, ctx: PersonContext) -> EligibilityResult:
    n = len(index)
    p = ctx.profile
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

    has_months_rule = ~np.isnan(index.rsa_months_max)
    if p.rsa_months is None:
        cols["eligibility.rsa_months"] = (none, has_months_rule)
    else:
        with np.errstate(invalid="ignore"):
            cols["eligibility.rsa_months"] = (p.rsa_months > index.rsa_months_max, none)

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

    licence = p.mobility.driving_licence
    if licence is None:
        cols["eligibility.driving_licence"] = (none, index.licence_b_required | index.licence_code_required)
        cols["eligibility.has_licence"] = (none, index.no_licence_required.copy())
    else:
        lv = licence.value
        lacks = (index.licence_b_required & (lv != "b")) | (index.licence_code_required & (lv == "none"))
        cols["eligibility.driving_licence"] = (lacks, none)
        cols["eligibility.has_licence"] = (index.no_licence_required & (lv == "b"), none)

    if ctx.history:
        status = np.array([ctx.history.get(i, "") for i in index.ids])
        cols["history.done"] = (status == "done", none)
        cols["history.ongoing"] = (status == "ongoing", none)
    else:
        cols["history.done"] = (none, none)
        cols["history.ongoing"] = (none, none)

    excluded = np.column_stack([cols[c][0] for c in RULE_CODES]) if n else np.zeros((0, len(RULES)), bool)
    unchecked = np.column_stack([cols[c][1] for c in RULE_CODES]) if n else np.zeros((0, len(RULES)), bool)
    return EligibilityResult(rules=RULES, excluded=excluded, unchecked=unchecked)
