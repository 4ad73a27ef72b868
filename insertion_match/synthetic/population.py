"""Synthetic RSA beneficiaries of the Orne, the Sarthe and the Essonne, drawn to match the seeds'
statistics.

:func:`generate_population` returns one row per person (column names in :data:`PERSON_COLUMNS`,
then the hidden :data:`LATENT_COLUMNS`), always with ``synthetic = True``. Every random draw
comes from one ``numpy.random.Generator`` seeded by ``random_state``: the same arguments give the
same frame. The world (``world.py``) splits the latent columns off into its hidden part.

How a person is drawn (targets and sources in ``targets.py``; values marked *assumption* have no
figure in the documents):

1. **Territory**: Orne, Sarthe or Essonne in proportion to households (the Sarthe and Essonne
   counts are *assumptions*: seeds 003 and 004 give no caseload); in the Orne, the DTAS by the
   documented split, then a commune of that DTAS (``data/geo/territories.csv``) in proportion to
   its population; in the Sarthe and the Essonne a commune in proportion to population.
2. **Area**: QPV residents only in the Orne's four QPV towns (the "Mon Qu@rtier" consortium,
   seed 000: Alençon, Argentan, Flers, L'Aigle) and, in the Sarthe and the Essonne, in communes of
   20,000+ inhabitants (*assumption*), with probability 0.45 there (*assumption*); otherwise urban
   when the commune has 2,000+ inhabitants (INSEE's urban threshold), else rural.
3. **Family, sex, age**: family situation by territory (Orne / Alençon charts); sex given family
   (single parents are women at 85%, *assumption*, the rest solved so the marginal hits the
   target); age band by territory; children for parents.
4. **Months in RSA**, **orientation** (professional share by territory, 5% socio-professional,
   *assumption*), **training level** (by territory), statuses (foreign newcomer, independent
   worker, farmer, RQTH: *assumptions*).
5. **Mobility**: car ownership driven by area, orientation, family and status (independent
   workers 88%); licence given car; public transport by area.
6. **True needs, then the diagnostic** (DESIGN §4 keys, severity 0-3). A Gaussian copula gives
   each frein a latent value: a shared "social difficulty" factor (stronger in social
   orientation) plus covariate effects (no car and rural → mobility; young children → childcare;
   newcomer → French; RQTH → health and disability; ...) plus noise, cut at per-frein thresholds:
   the person's **true** severity. The true needs (:data:`NEED_DIMENSIONS`, 0-1, the highest true
   severity of their keys / 3) are **latent**: only the hidden outcome model reads them.
   The ``frein_<key>`` columns, what the matcher sees, are a **noisy diagnostic** of the true
   severities (:func:`diagnose`, every rate an *assumption*): a field left unknown (not covered
   by the diagnostic), a real need missed (not stated), a severity over- or under-stated by one
   level, and a few needs stated that are not real.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from insertion_match.domain import FREINS, BeneficiaryProfile
from insertion_match.geo import Gazetteer, Territories
from insertion_match.synthetic.targets import DTAS_SHARES, HOUSEHOLDS

DEPARTMENTS = ("61", "72", "91")
ESSONNE = "Essonne"
SARTHE = "Sarthe"  # no Commission RSA split in the catalogue: one territory
#: The Orne's QPV towns (seed 000: "Mon Qu@rtier, ma solution" consortium).
ORNE_QPV_TOWNS = frozenset({"61001", "61006", "61169", "61214"})
QPV_MIN_POPULATION = 20_000  # Sarthe and Essonne: assumption
QPV_SHARE_IN_QPV_TOWNS = 0.45
URBAN_MIN_POPULATION = 2_000

FAMILY_SITUATIONS = ("single", "single_parent", "couple_no_child", "couple_children")
#: Family situation shares (seed 001 §1 charts; Flers and others: Orne chart, 76% isolated).
FAMILY_SHARES: dict[str, tuple[float, ...]] = {
    "Alençon": (0.49, 0.27, 0.07, 0.17),
    "default": (0.51, 0.25, 0.06, 0.18),
}
WOMEN_SHARE: dict[str, float] = {
    "Alençon": 0.52, "Flers": 0.53, "Argentan": 0.53, "Mortagne-au-Perche": 0.535,
    ESSONNE: 0.53,  # assumption: no Essonne figure
    SARTHE: 0.53,  # assumption: seed 003 gives no figure
}
WOMEN_AMONG_SINGLE_PARENTS = 0.85  # assumption
AGE_BANDS = ((18, 25), (26, 35), (36, 45), (46, 55), (56, 64))
AGE_SHARES: dict[str, tuple[float, ...]] = {
    "Alençon": (0.06, 0.32, 0.26, 0.20, 0.16),  # seed 001 participants
    "default": (0.05, 0.31, 0.27, 0.21, 0.16),  # 64% over 35 (seed 000)
    ESSONNE: (0.07, 0.33, 0.26, 0.20, 0.14),  # assumption
}
OVER_36_MONTHS: dict[str, float] = {"Alençon": 0.65, "Flers": 0.67, "default": 0.66}
#: Professional orientation: Orne 35% overall, Flers 9 points above the rest (seed 000/002).
PROFESSIONAL_SHARE: dict[str, float] = {"Flers": 0.417, "default": 0.327, ESSONNE: 0.35,
                                         SARTHE: 0.35}  # Sarthe, Essonne: assumptions
SOCIOPRO_SHARE = 0.05  # assumption: carved out of social orientation
TRAINING_LEVELS = ("infra3", "3", "4", "5", "6")
TRAINING_SHARES: dict[str, tuple[float, ...]] = {
    "Flers": (0.56, 0.385, 0.04, 0.012, 0.003),  # 94% at or below 3 (seed 000)
    "Alençon": (0.60, 0.25, 0.10, 0.035, 0.015),  # 14% at 4 or above (seed 001)
    "default": (0.55, 0.37, 0.055, 0.02, 0.005),
    ESSONNE: (0.45, 0.38, 0.11, 0.04, 0.02),  # assumption
}
FOREIGN_NEWCOMER: dict[str, float] = {"Alençon": 0.10, "Flers": 0.06, "default": 0.03,
                                      ESSONNE: 0.12, SARTHE: 0.05}  # assumptions
INDEPENDENT_WORKER = 0.05  # assumption
FARMER_AMONG_INDEPENDENT: dict[str, float] = {"61": 0.25, "72": 0.2, "91": 0.02}  # assumption
RQTH = 0.08  # assumption

PERSON_COLUMNS: tuple[str, ...] = (
    "person_id", "department", "commission", "insee", "commune_population", "area", "sex", "age",
    "age_band", "family", "children_under_3", "children_3_to_11", "children_12_plus",
    "orientation", "rsa_months", "training_level", "foreign_newcomer", "independent_worker",
    "farmer", "rqth", "qpv", "car", "driving_licence", "vehicle", "public_transport",
    "max_travel_minutes", *(f"frein_{k}" for k in FREINS), "entry_month", "synthetic",
)
#: Hidden columns (true needs, 0-1) that follow PERSON_COLUMNS in a generated frame.
LATENT_COLUMNS: tuple[str, ...] = tuple(f"need_{d}" for d in (
    "mobility", "housing", "health", "language", "basic_skills", "digital", "social", "budget",
    "childcare", "job_search", "qualification", "self_employment"))


def _by_territory(table: dict, territory: np.ndarray) -> np.ndarray:
    """Row-wise lookup of ``table[territory]`` (falling back on ``default``)."""
    return np.array([table.get(t, table.get("default")) for t in territory], dtype=object)


def _choice_rows(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One categorical draw per row of an (n, m) probability matrix."""
    cum = np.cumsum(probabilities, axis=1)
    cum /= cum[:, -1:]
    return (rng.random((probabilities.shape[0], 1)) > cum).sum(axis=1)


def _communes(gazetteer: Gazetteer, territories: Territories, department: str) -> pd.DataFrame:
    frame = pd.DataFrame({
        "insee": gazetteer.insee_codes, "department": gazetteer.departments,
        "population": gazetteer.population.astype(float),
    })
    frame = frame[(frame.department == department) & (frame.population > 0)].copy()
    frame["commission"] = [territories.commission_of(c) for c in frame.insee]
    return frame.reset_index(drop=True)


def _draw_homes(rng, n, gazetteer, territories) -> pd.DataFrame:
    households = np.array([HOUSEHOLDS[d] for d in DEPARTMENTS], dtype=float)
    department = np.array(DEPARTMENTS)[rng.choice(len(DEPARTMENTS), size=n,
                                                  p=households / households.sum())]
    in_orne = department == "61"
    commission = np.where(department == "72", SARTHE, ESSONNE).astype(object)
    names = list(DTAS_SHARES)
    commission[in_orne] = np.array(names)[
        rng.choice(len(names), size=int(in_orne.sum()), p=list(DTAS_SHARES.values()))]
    insee = np.empty(n, dtype=object)
    population = np.zeros(n)
    pools = {d: _communes(gazetteer, territories, d) for d in DEPARTMENTS}
    for territory in (*names, SARTHE, ESSONNE):
        rows = np.flatnonzero(commission == territory)
        if territory == ESSONNE:
            pool = pools["91"]
        elif territory == SARTHE:
            pool = pools["72"]
        else:
            pool = pools["61"][pools["61"].commission == territory]
        weights = pool.population.to_numpy()
        picks = rng.choice(len(pool), size=rows.size, p=weights / weights.sum())
        insee[rows] = pool.insee.to_numpy()[picks]
        population[rows] = weights[picks]
    qpv_town = np.where(department == "61", np.isin(insee, list(ORNE_QPV_TOWNS)),
                        population >= QPV_MIN_POPULATION)
    qpv = qpv_town & (rng.random(n) < QPV_SHARE_IN_QPV_TOWNS)
    area = np.where(qpv, "qpv", np.where(population >= URBAN_MIN_POPULATION, "urban", "rural"))
    return pd.DataFrame({"department": department, "commission": commission, "insee": insee,
                         "commune_population": population, "area": area, "qpv": qpv})


def _draw_family_sex_age(rng, people: pd.DataFrame) -> None:
    n = len(people)
    territory = people.commission.to_numpy()
    family_p = np.array([FAMILY_SHARES.get(t, FAMILY_SHARES["default"]) for t in territory])
    family_idx = _choice_rows(rng, family_p)
    people["family"] = np.array(FAMILY_SITUATIONS)[family_idx]
    single_parent = family_idx == 1
    women = _by_territory(WOMEN_SHARE, territory).astype(float)
    p_sp = family_p[:, 1]
    p_other = (women - WOMEN_AMONG_SINGLE_PARENTS * p_sp) / (1.0 - p_sp)
    p_f = np.where(single_parent, WOMEN_AMONG_SINGLE_PARENTS, p_other)
    people["sex"] = np.where(rng.random(n) < p_f, "f", "m")
    age_p = np.array([AGE_SHARES.get(t, AGE_SHARES["default"]) for t in territory])
    band = _choice_rows(rng, age_p)
    lo = np.array([b[0] for b in AGE_BANDS])[band]
    hi = np.array([b[1] for b in AGE_BANDS])[band]
    people["age"] = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(int)
    people["age_band"] = np.array([f"{a}-{b}" for a, b in AGE_BANDS])[band]
    parents = np.isin(family_idx, (1, 3))
    count = np.where(parents, 1 + rng.choice(3, size=n, p=(0.45, 0.35, 0.20)), 0)
    # Younger parents have younger children.
    age = people.age.to_numpy()
    w_young = np.clip((45 - age) / 20, 0.05, 1.0)
    w_old = np.clip((age - 28) / 15, 0.05, 1.0)
    probs = np.column_stack([0.5 * w_young, np.full(n, 0.6), w_old])
    kids = np.zeros((n, 3), dtype=int)
    for slot in range(3):
        has = count > slot
        band_k = _choice_rows(rng, probs)
        kids[np.flatnonzero(has), band_k[has]] += 1
    people["children_under_3"], people["children_3_to_11"], people["children_12_plus"] = kids.T


def _draw_path(rng, people: pd.DataFrame) -> None:
    n = len(people)
    territory = people.commission.to_numpy()
    over36 = rng.random(n) < _by_territory(OVER_36_MONTHS, territory).astype(float)
    short = rng.choice(3, size=n, p=(0.45, 0.30, 0.25))
    short_months = np.array([0, 12, 24])[short] + np.floor(rng.random(n) * np.array([12, 12, 13])[short])
    long_months = 37 + np.minimum(rng.exponential(48, size=n), 260)
    people["rsa_months"] = np.where(over36, long_months, short_months).astype(int)
    prof = _by_territory(PROFESSIONAL_SHARE, territory).astype(float)
    u = rng.random(n)
    people["orientation"] = np.where(
        u < prof, "professionnelle",
        np.where(u < prof + SOCIOPRO_SHARE, "socioprofessionnelle", "sociale"))
    newcomer = rng.random(n) < _by_territory(FOREIGN_NEWCOMER, territory).astype(float)
    levels = np.array([TRAINING_SHARES.get(t, TRAINING_SHARES["default"]) for t in territory])
    # Newcomers are more often below niveau 3 (diplomas not recognised): shift mass to infra3.
    levels = levels.copy()
    levels[newcomer] = levels[newcomer] * np.array([1.0, 0.5, 0.5, 0.5, 0.5])
    levels[newcomer, 0] += 1.0 - levels[newcomer].sum(axis=1)
    people["training_level"] = np.array(TRAINING_LEVELS)[_choice_rows(rng, levels)]
    people["foreign_newcomer"] = newcomer
    independent = rng.random(n) < INDEPENDENT_WORKER
    farmer_p = np.array([FARMER_AMONG_INDEPENDENT[d] for d in people.department])
    people["independent_worker"] = independent
    people["farmer"] = independent & (rng.random(n) < farmer_p)
    people["rqth"] = rng.random(n) < RQTH


def _draw_mobility(rng, people: pd.DataFrame) -> None:
    n = len(people)
    area = people.area.to_numpy()
    logit = np.select([area == "rural", area == "urban"], [0.1, -0.5], -1.1)
    logit = logit - 0.35 * (people.orientation == "sociale").to_numpy()
    logit = logit - 0.25 * (people.family == "single_parent").to_numpy()
    logit = logit - 0.8 * people.foreign_newcomer.to_numpy()
    logit = logit - 0.4 * (people.department == "91").to_numpy()
    p_car = 1.0 / (1.0 + np.exp(-logit))
    p_car = np.where(people.independent_worker, 0.88, p_car)
    car = rng.random(n) < p_car
    people["car"] = car
    u = rng.random(n)
    licence_no_car = np.where(u < 0.30, "b", np.where(u < 0.40, "code", "none"))
    people["driving_licence"] = np.where(car, "b", licence_no_car)
    u = rng.random(n)
    other_vehicle = np.where(u < 0.08, "two_wheeler", np.where(u < 0.20, "bike", "none"))
    people["vehicle"] = np.where(car, "car", other_vehicle)
    big_town = people.commune_population.to_numpy() >= 10_000
    p_pt = np.select([area == "qpv", big_town, area == "urban"], [0.92, 0.88, 0.6], 0.3)
    p_pt = np.where(people.department == "91", np.minimum(p_pt + 0.25, 0.95), p_pt)
    people["public_transport"] = rng.random(n) < p_pt
    people["max_travel_minutes"] = rng.choice([20, 30, 45, 60], size=n, p=(0.15, 0.35, 0.35, 0.15))


#: (base threshold shift, loading on the shared social-difficulty factor) per frein. A larger
#: shift means a rarer frein.
FREIN_BASE: dict[str, tuple[float, float]] = {
    "mobilite": (0.55, 0.35), "logement": (0.62, 0.65), "sante": (0.55, 0.65),
    "garde_enfants": (1.2, 0.2), "finances": (0.85, 0.55), "numerique": (0.6, 0.35),
    "langue_francaise": (2.3, 0.1), "savoirs_de_base": (1.2, 0.4),
    "demarches_administratives": (1.1, 0.5), "isolement_confiance": (0.7, 0.6),
    "qualification": (1.4, 0.3), "projet_professionnel": (0.6, 0.3),
    "recherche_emploi": (0.62, 0.2), "savoir_etre": (1.3, 0.45), "handicap": (2.3, 0.2),
    "activite_independante": (3.5, 0.0), "experience_professionnelle": (0.9, 0.25),
    "disponibilite": (1.3, 0.3),
}
#: Latent cut points above the frein's threshold: severity 1, 2, 3.
SEVERITY_CUTS = (0.0, 0.55, 1.15)
#: The person's true need dimensions (hidden) and the frein keys whose true severity they sum
#: up (the highest). Read by the hidden outcome model only, never by the matcher.
NEED_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "mobility": ("mobilite",), "housing": ("logement",), "health": ("sante", "handicap"),
    "language": ("langue_francaise",), "basic_skills": ("savoirs_de_base",),
    "digital": ("numerique",), "social": ("isolement_confiance", "savoir_etre"),
    "budget": ("finances", "demarches_administratives"),
    "childcare": ("garde_enfants", "disponibilite"),
    "job_search": ("recherche_emploi", "projet_professionnel", "experience_professionnelle"),
    "qualification": ("qualification",), "self_employment": ("activite_independante",),
}
#: How the diagnostic (the profile the matcher sees) departs from the true severities, per
#: field (all *assumptions*): left unknown; a real need not stated; one level under- or
#: over-stated; a need stated that is not real (never for factual keys).
DIAGNOSTIC_NOISE: dict[str, float] = {"unknown": 0.10, "missed": 0.15, "understated": 0.15,
                                      "overstated": 0.10, "false_positive": 0.04}
FACTUAL_FREINS = frozenset({"garde_enfants", "langue_francaise", "handicap",
                            "activite_independante"})


def _draw_freins(rng, people: pd.DataFrame) -> None:
    n = len(people)
    social = people.orientation.to_numpy()
    g = rng.standard_normal(n) + np.select(
        [social == "sociale", social == "socioprofessionnelle"], [0.45, 0.1], -0.55)
    no_car = ~people.car.to_numpy()
    no_licence = people.driving_licence.to_numpy() != "b"
    rural = people.area.to_numpy() == "rural"
    pt = people.public_transport.to_numpy()
    big_town = people.commune_population.to_numpy() >= 10_000
    young_kids = people.children_under_3.to_numpy() > 0
    kids = (people.children_3_to_11.to_numpy() > 0)
    any_kids = young_kids | kids | (people.children_12_plus.to_numpy() > 0)
    single_parent = people.family.to_numpy() == "single_parent"
    newcomer = people.foreign_newcomer.to_numpy()
    infra3 = people.training_level.to_numpy() == "infra3"
    age = people.age.to_numpy()
    rqth = people.rqth.to_numpy()
    alone = np.isin(people.family.to_numpy(), ("single", "single_parent"))
    prof = social == "professionnelle"
    independent = people.independent_worker.to_numpy()
    months = people.rsa_months.to_numpy()
    effects: dict[str, np.ndarray] = {
        "mobilite": 1.1 * (no_car & no_licence) + 0.5 * no_car + 0.6 * rural - 0.9 * pt
        - 2.2 * (pt & big_town),
        "logement": 0.2 * single_parent + 0.3 * newcomer,
        "sante": 0.5 * (age > 45) + 1.2 * rqth,
        "garde_enfants": 1.4 * young_kids + 0.7 * kids + 0.5 * single_parent - 9.0 * ~any_kids,
        "finances": 0.3 * single_parent,
        "numerique": 0.6 * (age > 50) + 0.5 * infra3 + 0.4 * newcomer,
        "langue_francaise": 3.2 * newcomer,
        "savoirs_de_base": 0.9 * infra3 + 0.6 * newcomer,
        "demarches_administratives": 0.8 * newcomer,
        "isolement_confiance": 0.4 * alone,
        "qualification": 0.7 * infra3 - 0.6 * ~np.isin(people.training_level, ("infra3", "3")),
        "projet_professionnel": 0.2 * (age < 30),
        "recherche_emploi": 0.5 * prof,
        "savoir_etre": 0.2 * (age < 30),
        "handicap": 2.4 * rqth,
        "activite_independante": 4.5 * independent,
        "experience_professionnelle": 0.6 * (age < 30) + 0.3 * (months > 60),
        "disponibilite": 0.5 * young_kids + 0.3 * single_parent,
    }
    true = {}
    for key in FREINS:
        shift, loading = FREIN_BASE[key]
        latent = loading * g + effects[key] + np.sqrt(1 - loading**2) * rng.standard_normal(n)
        severity = np.zeros(n, dtype=int)
        for cut in SEVERITY_CUTS:
            severity += latent > shift + cut
        true[key] = severity
    for dim, keys in NEED_DIMENSIONS.items():
        people[f"need_{dim}"] = np.max([true[k] for k in keys], axis=0) / 3.0
    for key in FREINS:
        people[f"frein_{key}"] = diagnose(true[key], key, rng)


def diagnose(true: np.ndarray, key: str, rng: np.random.Generator) -> np.ndarray:
    """The diagnostic's reading (0-3) of true severities: unknown fields, misses, one level over
    or under, a few needs stated that are not real (rates in :data:`DIAGNOSTIC_NOISE`)."""
    noise = DIAGNOSTIC_NOISE
    n = true.size
    u = rng.random((n, 4))
    step = np.where(u[:, 2] < noise["understated"], -1,
                    np.where(u[:, 2] > 1 - noise["overstated"], 1, 0))
    seen = np.where(true > 0, np.clip(true + step, 1, 3), 0)
    seen = np.where((true > 0) & (u[:, 1] < noise["missed"]), 0, seen)
    if key not in FACTUAL_FREINS:
        seen = np.where((true == 0) & (u[:, 3] < noise["false_positive"]), 1, seen)
    return np.where(u[:, 0] < noise["unknown"], 0, seen).astype(int)


def generate_population(
    n: int, gazetteer: Gazetteer, territories: Territories, random_state: int = 0,
    months: int = 24,
) -> pd.DataFrame:
    """``n`` synthetic beneficiaries (one row each, :data:`PERSON_COLUMNS`), reproducible.

    ``entry_month`` (0 .. months-1, uniform) is when the person's prescriptions were made: the
    temporal hold-out splits on it.
    """
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    rng = np.random.default_rng(random_state)
    people = _draw_homes(rng, n, gazetteer, territories)
    _draw_family_sex_age(rng, people)
    _draw_path(rng, people)
    _draw_mobility(rng, people)
    _draw_freins(rng, people)
    people["entry_month"] = rng.integers(0, months, size=n)
    people["person_id"] = [f"syn-{random_state}-{i:06d}" for i in range(n)]
    people["synthetic"] = True
    return people.loc[:, [*PERSON_COLUMNS, *LATENT_COLUMNS]]


def profile_of(row) -> BeneficiaryProfile:
    """The API profile of one population row (``itertuples`` row or mapping)."""
    get: Callable[[str], Any] = (
        row.get if isinstance(row, dict) else lambda k: getattr(row, k))
    situation = "couple" if str(get("family")).startswith("couple") else "isole"
    return BeneficiaryProfile.model_validate({
        "id": get("person_id"),
        "home": {"insee": get("insee")},
        "age": int(get("age")),
        "sex": get("sex"),
        "family": {"situation": situation, "children_under_3": int(get("children_under_3")),
                   "children_3_to_11": int(get("children_3_to_11")),
                   "children_12_plus": int(get("children_12_plus"))},
        "orientation": get("orientation"),
        "rsa_months": int(get("rsa_months")),
        "training_level": get("training_level"),
        "mobility": {"driving_licence": get("driving_licence"), "vehicle": get("vehicle"),
                     "public_transport": bool(get("public_transport")),
                     "max_travel_minutes": int(get("max_travel_minutes"))},
        "freins": {k: int(get(f"frein_{k}")) for k in FREINS if int(get(f"frein_{k}")) > 0},
        "status": {"independent_worker": bool(get("independent_worker")),
                   "farmer": bool(get("farmer")), "foreign_newcomer": bool(get("foreign_newcomer")),
                   "rqth": bool(get("rqth")), "qpv": bool(get("qpv"))},
    })
