"""Seeded random profiles for the benchmarks (not calibrated: see insertion_match.synthetic).

Homes are drawn from the communes of the given départements in proportion to population;
every other field is drawn independently, so the benchmarks exercise every rule and term.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from insertion_match.domain import FREINS, BeneficiaryProfile

REPO = Path(__file__).resolve().parents[1]
TITLES = ("agent d'entretien", "aide à domicile", "préparateur de commandes", "cariste",
          "employé libre service", "caissière", "agent de sécurité", "commis de cuisine",
          "serveur", "manutentionnaire", "aide soignante", "maçon", "agent espaces verts",
          "chauffeur livreur", "ASH", "K2204", "N1103", "secrétaire", "plongeur", "vendeuse")
SKILLS = ("nettoyage des locaux", "préparer des commandes", "encaisser", "accueil des clients",
          "conduire un chariot", "préparer des repas", "entretien des espaces verts",
          "manutention de charges", "mise en rayon", "aide à la toilette")


def random_profiles(
    n: int, departments: tuple[str, ...] = ("61", "91", "72"), seed: int = 0,
    max_freins: int = 4, jobs: bool = False,
) -> list[BeneficiaryProfile]:
    """``n`` valid profiles; with ``jobs``, also target jobs, skills and availability."""
    rng = np.random.default_rng(seed)
    communes = pd.read_csv(REPO / "data/geo/communes_france.csv", dtype=str)
    communes = communes[communes.department.isin(list(departments)) & communes.lat.notna()]
    weights = communes.population.astype(float).to_numpy()
    picks = rng.choice(len(communes), size=n, p=weights / weights.sum())
    out = []
    for k, i in enumerate(picks):
        freins = {f: int(rng.integers(1, 4))
                  for f in rng.choice(FREINS, rng.integers(0, max_freins + 1), False)}
        profile = {
            "id": f"bench-{k:05d}",
            "home": {"insee": communes.insee_code.iloc[i]},
            "age": int(rng.integers(18, 65)),
            "orientation": str(rng.choice(["sociale", "socioprofessionnelle", "professionnelle"])),
            "rsa_months": int(rng.integers(0, 120)),
            "training_level": str(rng.choice(["infra3", "3", "4"])),
            "family": {"children_under_3": int(rng.random() < 0.15),
                       "children_3_to_11": int(rng.integers(0, 3))},
            "mobility": {"driving_licence": str(rng.choice(["none", "code", "b"])),
                         "vehicle": str(rng.choice(["none", "car", "bike"])),
                         "public_transport": bool(rng.random() < 0.6),
                         "max_travel_minutes": int(rng.choice([20, 30, 45, 60]))},
            "freins": freins,
            "status": {"foreign_newcomer": bool(rng.random() < 0.1),
                       "independent_worker": bool(rng.random() < 0.1), "farmer": False,
                       "qpv": bool(rng.random() < 0.2), "rqth": bool(rng.random() < 0.1)},
        }
        if jobs:
            profile["target_jobs"] = [str(t) for t in rng.choice(TITLES, rng.integers(0, 3), False)]
            profile["skills"] = [str(s) for s in rng.choice(SKILLS, rng.integers(0, 3), False)]
            profile["availability"] = {"hours_per_week": int(rng.choice([20, 24, 35])),
                                       "atypical_hours": bool(rng.random() < 0.5)}
        out.append(BeneficiaryProfile.model_validate(profile))
    return out
