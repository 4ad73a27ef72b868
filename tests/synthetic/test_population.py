"""The population generator: reproducible, labelled synthetic, calibrated on the seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insertion_match.domain import FREINS, BeneficiaryProfile
from insertion_match.synthetic.calibration import calibration_table
from insertion_match.synthetic.population import (
    LATENT_COLUMNS,
    NEED_DIMENSIONS,
    PERSON_COLUMNS,
    generate_population,
    profile_of,
)
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
    assert list(population.columns) == [*PERSON_COLUMNS, *LATENT_COLUMNS]
    assert population.synthetic.all()
    assert set(population.department) == {"61", "72", "91"}
    assert set(population[population.department == "72"].commission) == {"Sarthe"}
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
    assert (newcomers.need_language >= 2 / 3).mean() > 0.5  # true need
    assert (newcomers.frein_langue_francaise >= 2).mean() > 0.4  # as diagnosed (misses)
    assert (p[~p.foreign_newcomer].frein_langue_francaise >= 2).mean() < 0.05
    childless = (p.children_under_3 + p.children_3_to_11 + p.children_12_plus) == 0
    assert (p[childless].frein_garde_enfants == 0).all()
    social = p.orientation == "sociale"
    assert (p[social].frein_logement >= 2).mean() > (p[~social].frein_logement >= 2).mean()


def test_the_diagnostic_is_a_noisy_reading_of_latent_true_needs(population):
    p = population
    for dim, keys in NEED_DIMENSIONS.items():
        seen = p[[f"frein_{k}" for k in keys]].max(axis=1) / 3.0
        true = p[f"need_{dim}"]
        assert true.between(0, 1).all()
        if true.std() > 0 and seen.std() > 0:
            assert np.corrcoef(seen, true)[0, 1] > 0.5, dim  # informative ...
    # ... but not the truth: needs missed, severities mis-stated, needs stated that are not real
    true_housing = (p.need_housing * 3).round().astype(int)
    assert ((true_housing > 0) & (p.frein_logement == 0)).mean() > 0.02
    assert ((true_housing == 0) & (p.frein_logement > 0)).mean() > 0.01
    assert ((true_housing > 0) & (p.frein_logement > 0)
            & (true_housing != p.frein_logement)).mean() > 0.02
