"""A small synthetic world shared by the tests of this package (2,000 people, seeded)."""

from __future__ import annotations

import pytest

from insertion_match.synthetic.world import WorldConfig, build_world

SMALL = WorldConfig(n_people=2000, random_state=7)


@pytest.fixture(scope="session")
def small_world(gazetteer, territories, catalogue):
    return build_world(SMALL, gazetteer, territories, catalogue)
