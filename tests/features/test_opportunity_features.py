"""Pairwise features: the same numbers whichever side holds one element."""

from __future__ import annotations

import numpy as np
import pytest

from insertion_match.features.offers_import import parse_france_travail
from insertion_match.features.opportunity_features import pair_features, rome_proximity
from insertion_match.features.opportunity_index import build_opportunity_index, offer_arrays
from insertion_match.features.people import PersonRecord, build_people, resolve_targets
from insertion_match.features.skills import skill_tokens
from tests.conftest import make_profile
from tests.features.offer_records import offer

PEOPLE = [
    {"target_jobs": ["agent d'entretien"], "skills": ["nettoyage des locaux", "autolaveuse"],
     "mobility": {"driving_licence": "b", "vehicle": "car", "max_travel_minutes": 40}},
    {"target_jobs": ["K1302", "cariste"], "skills": ["préparer des repas"],
     "home": {"commune": "Alençon"}, "mobility": {"public_transport": True}},
    {"home": {"insee": "91228"}, "skills": ["Conduire un chariot élévateur"]},
    {"target_jobs": ["nothing like a job"], "mobility": {"vehicle": "bike",
                                                         "driving_licence": "none"}},
]


@pytest.fixture(scope="module")
def people(gazetteer, territories, rome):
    records = []
    for i, extra in enumerate(PEOPLE):
        profile = make_profile(id=f"p-{i}", **extra)
        home = gazetteer.resolve(commune=profile.home.commune, postcode=profile.home.postcode,
                                 insee=profile.home.insee)
        records.append(PersonRecord(profile, home, territories.commission_of(home.insee),
                                    resolve_targets(profile, rome)))
    return records


@pytest.fixture(scope="module")
def index(demo_offers, rome):
    sample = [o for o in demo_offers if o.location.department == "61"][:300]
    return build_opportunity_index("61", sample, rome)


def test_forward_and_reverse_agree(people, index, rome):
    everyone = build_people(people, rome)
    for p, record in enumerate(people):
        one = build_people([record], rome)
        forward = pair_features(one, index.arrays, np.zeros(len(index), np.int8))
        for pos in (0, 7, 42, 299):
            offer = index.arrays.take([pos])
            reverse = pair_features(everyone, offer, np.zeros(len(people), np.int8))
            for name in ("distance_km", "minutes", "mode", "car_minutes", "proximity_level",
                         "skills", "training_gap", "hours_gap"):
                a, b = getattr(forward, name)[pos], getattr(reverse, name)[p]
                assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b), (name, p, pos)


def test_rome_proximity_levels(rome, gazetteer, territories):
    profile = make_profile(target_jobs=["K2204"])
    home = gazetteer.by_insee("61169")
    person = build_people([PersonRecord(profile, home, "Flers", resolve_targets(profile, rome))],
                          rome)
    codes = ["K2204", "K2205", "K2201", "K1302", "A1203"]
    batch = parse_france_travail([offer(id=c, romeCode=c) for c in codes], gazetteer, rome)
    level, _ = rome_proximity(person, offer_arrays(batch.opportunities, rome))
    # same fiche, v4 split of the same v3 fiche, same domaine K22, same grand domaine K, other
    assert level.tolist() == [4, 3, 2, 1, 0]
    unknown = build_people([PersonRecord(make_profile(), home, "Flers", ())], rome)
    assert rome_proximity(unknown, offer_arrays(batch.opportunities, rome))[0].tolist() == [-1] * 5


def test_skill_tokens_meet_across_word_forms():
    assert set(skill_tokens("Nettoyer des locaux")) == set(skill_tokens("nettoyage de locaux"))
    assert skill_tokens("des les pour").size == 0
