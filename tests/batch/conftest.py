"""The batch tests' sample: varied profiles (three départements, homes given by INSEE code,
name or postcode, freins, with and without target jobs, skills, history, unknown fields)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from insertion_match.domain import FREINS
from tests.conftest import DATA

ALL_KINDS = ("action", "job", "volunteering", "internship", "immersion")
NAMED_HOMES = {
    "61": [{"commune": "Alençon"}, {"commune": "Flers", "postcode": "61100"},
           {"commune": "La Ferté-Macé", "postcode": "61600"}, {"postcode": "61000"}],
    "72": [{"commune": "Le Mans"}, {"commune": "La Flèche"}, {"postcode": "72300"}],
    "91": [{"commune": "Évry-Courcouronnes"}, {"commune": "Massy"}, {"postcode": "91120"}],
}
TITLES = ("agent d'entretien", "aide à domicile", "préparateur de commandes", "cariste",
          "employé libre service", "commis de cuisine", "K2204", "N1103", "vendeuse", "ASH")
SKILLS = ("nettoyage des locaux", "préparer des commandes", "encaisser", "accueil des clients")


def sample_profiles(n: int = 36, seed: int = 11) -> list[dict[str, Any]]:
    """``n`` valid profiles (API documents), deterministic, varied on purpose."""
    rng = np.random.default_rng(seed)
    communes = pd.read_csv(DATA / "geo/communes_france.csv", dtype=str)
    out: list[dict[str, Any]] = []
    for k in range(n):
        dept = ("61", "72", "91")[k % 3]
        if k % 4 == 0:
            pool = communes[(communes.department == dept) & communes.lat.notna()]
            home: dict[str, Any] = {"insee": str(pool.insee_code.iloc[rng.integers(len(pool))])}
        else:
            named = NAMED_HOMES[dept]
            home = dict(named[k % len(named)])
        person: dict[str, Any] = {"id": f"cas-{k:03d}", "home": home}
        if k % 7 == 6:  # only a home: everything else unknown
            out.append(person)
            continue
        freins = {str(f): int(rng.integers(1, 4))
                  for f in rng.choice(FREINS, int(rng.integers(0, 5)), replace=False)}
        person.update({
            "age": int(rng.integers(18, 64)),
            "orientation": str(rng.choice(["sociale", "socioprofessionnelle",
                                           "professionnelle"])),
            "rsa_months": int(rng.integers(0, 120)),
            "training_level": str(rng.choice(["infra3", "3", "4", "5"])),
            "freins": freins,
            "mobility": {"driving_licence": str(rng.choice(["none", "code", "b"])),
                         "public_transport": bool(rng.random() < 0.6),
                         "max_travel_minutes": int(rng.choice([20, 30, 45, 60]))},
            "status": {"qpv": bool(rng.random() < 0.3), "rqth": False,
                       "foreign_newcomer": bool(rng.random() < 0.15)},
        })
        if k % 5 != 0:
            person["mobility"]["vehicle"] = str(rng.choice(["none", "car", "bike"]))
        if k % 3 != 1:
            person["family"] = {"situation": str(rng.choice(["isole", "couple"])),
                                "children_under_3": int(rng.random() < 0.2),
                                "children_3_to_11": int(rng.integers(0, 3)),
                                "children_12_plus": 0}
        if k % 2 == 0:
            person["target_jobs"] = [str(t) for t in
                                     rng.choice(TITLES, int(rng.integers(1, 3)), replace=False)]
            person["skills"] = [str(s) for s in rng.choice(SKILLS, 2, replace=False)]
            person["availability"] = {"hours_per_week": int(rng.choice([20, 24, 35])),
                                      "atypical_hours": bool(rng.random() < 0.5)}
        if k % 6 == 1:
            person["history"] = [{"item_id": "orne-aden-travailleurs-independants",
                                  "status": "refused"}]
        out.append(person)
    return out


@pytest.fixture(scope="session")
def profiles() -> list[dict[str, Any]]:
    return sample_profiles()
