"""The population generator: reproducible, labelled synthetic, calibrated on the seeds."""

from __future__ import annotations

import pandas as pd
import pytest

from insertion_match.domain import FREINS, BeneficiaryProfile
from insertion_match.synthetic.calibration import calibration_table
from insertion_match.synthetic.population import PERSON_COLUMNS, generate_population, profile_of
from insertion_match.synthetic.targets import TARGETS
from insertion_match.synthetic.world import SyntheticWorld, WorldConfig

#: Targets measured on the population alone (the others need the logs of a world).
POPULATION_TARGETS = tuple(t for t in TARGETS if not t.key.startswith(
    ("training.", "car.social", "outcome.")))


@pytest.fixture(scope="module")
def population(gazetteer, territories):
    return generate_population(20_000, gazetteer, territories, random_state=0)


def test_same_seed_same_people_other_seed_other_people(gazetteer, territories):
    a = generate_population(300, gazetteer, territories, random_state=5)
    b = generate_population(300, gazetteer, territories, random_state=5)
    c = generate_population(300, gazetteer, territories, random_state=6)
    pd.testing.assert_frame_equal(a, b)
    assert not a.drop(columns="person_id").equals(c.drop(columns="person_id"))


def test_people_are_labelled_synthetic_and_valid_profiles(population):
    assert list(population.columns) == list(PERSON_COLUMNS)
    assert population.synthetic.all()
    assert set(population.department) == {"61", "91"}
    profiles = [profile_of(r) for r in population.head(200).itertuples()]
    assert all(isinstance(p, BeneficiaryProfile) for p in profiles)
    assert all(set(p.freins) <= set(FREINS) for p in profiles)


def test_population_statistics_are_within_tolerance_of_the_documents(population):
    empty_logs = pd.DataFrame(columns=["person_id"])
    world = SyntheticWorld(config=WorldConfig(n_people=len(population)), people=population,
                           candidates=pd.DataFrame(), truth=pd.DataFrame(), logs=empty_logs,
                           catalogue_ids={})
    table = calibration_table(world, POPULATION_TARGETS)
    assert len(table) == len(POPULATION_TARGETS) >= 25
    off = table[~table.within]
    assert off.empty, off[["key", "target", "generated", "tolerance"]].to_string()


def test_freins_are_correlated_with_the_profile(population):
    p = population
    no_car = ~p.car
    assert (p[no_car].frein_mobilite >= 2).mean() > 2 * (p[p.car].frein_mobilite >= 2).mean()
    newcomers = p[p.foreign_newcomer]
    assert (newcomers.frein_langue_francaise >= 2).mean() > 0.5
    assert (p[~p.foreign_newcomer].frein_langue_francaise >= 2).mean() < 0.05
    childless = (p.children_under_3 + p.children_3_to_11 + p.children_12_plus) == 0
    assert (p[childless].frein_garde_enfants == 0).all()
    social = p.orientation == "sociale"
    assert (p[social].frein_logement >= 2).mean() > (p[~social].frein_logement >= 2).mean()
