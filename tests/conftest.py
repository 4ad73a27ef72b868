"""Shared fixtures: the real reference data and catalogue, loaded once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from insertion_match.domain import Action, BeneficiaryProfile
from insertion_match.features.catalogue import load_catalogue
from insertion_match.geo import Gazetteer, Territories
from insertion_match.matcher.engine import MatchingEngine

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"


@pytest.fixture(scope="session")
def gazetteer() -> Gazetteer:
    return Gazetteer.load(DATA)


@pytest.fixture(scope="session")
def territories() -> Territories:
    return Territories.load(DATA)


@pytest.fixture(scope="session")
def catalogue() -> list[Action]:
    return load_catalogue(DATA / "catalogue")


@pytest.fixture(scope="session")
def engine(catalogue, gazetteer, territories) -> MatchingEngine:
    return MatchingEngine.build(catalogue, gazetteer, territories)


def make_action(**overrides: Any) -> Action:
    """A valid synthetic action in Flers (Orne), département-wide unless overridden."""
    base: dict[str, Any] = {
        "id": "test-action",
        "title": "Action de test",
        "description_fr": "Une action fictive pour les tests.",
        "operator": "Opérateur test",
        "category": "insertion_sociale",
        "territory": {"department": "61", "scope": "departement"},
        "sites": [{"commune": "Flers", "insee": "61169"}],
        "freins": ["isolement_confiance"],
        "source": {"document": "test"},
    }
    elig = overrides.pop("eligibility", None)
    base.update(overrides)
    if elig:
        base["eligibility"] = elig
    return Action.model_validate(base)


def make_profile(**overrides: Any) -> BeneficiaryProfile:
    base: dict[str, Any] = {"id": "t-1", "home": {"commune": "Flers", "postcode": "61100"}}
    base.update(overrides)
    return BeneficiaryProfile.model_validate(base)


@pytest.fixture(scope="session")
def client(tmp_path_factory) -> Iterator[TestClient]:
    """The real app on a fresh SQLite file, seeded from data/catalogue on start-up."""
    from insertion_match.service.app import create_app
    from insertion_match.service.settings import Settings

    var = tmp_path_factory.mktemp("var")
    settings = Settings(environment="test", var_dir=var, data_dir=DATA)
    with TestClient(create_app(settings)) as c:
        yield c
