"""Shared fixtures: the real reference data and catalogue, loaded once per test session."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


#: PostgreSQL (or another server) to run the storage and API tests against, e.g.
#: ``postgresql+psycopg://im_test:im_test@127.0.0.1/im_test``: each test app then gets a new
#: database created there (the role needs CREATEDB) and dropped afterwards. Unset: SQLite files.
TEST_DATABASE_URL = os.environ.get("IM_TEST_DATABASE_URL") or None


def on_postgresql() -> bool:
    return bool(TEST_DATABASE_URL) and TEST_DATABASE_URL.startswith("postgresql")


@contextmanager
def fresh_database(directory: Path) -> Iterator[str]:
    """The URL of a new, empty database: a SQLite file in ``directory``, or a new database on
    the ``IM_TEST_DATABASE_URL`` server (dropped on exit)."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{directory / 'insertion-match.sqlite3'}"
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    server = make_url(TEST_DATABASE_URL)
    name = f"im_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(admin, name)
        admin.dispose()


def _drop_database(admin, name: str) -> None:
    """``DROP DATABASE … WITH (FORCE)``. An autovacuum worker busy on the database (after a
    test that rewrote many rows) belongs to no role, so a role without ``pg_signal_backend``
    may not terminate it: wait for it to finish and try again (`.ci/run` grants the role)."""
    from sqlalchemy.exc import ProgrammingError

    for attempt in range(30):
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except ProgrammingError as exc:
            if "pg_signal_backend" not in str(exc) or attempt == 29:
                raise
            time.sleep(1)


@pytest.fixture
def database_url(tmp_path) -> Iterator[str]:
    """A new, empty database for one test (SQLite, or on IM_TEST_DATABASE_URL's server)."""
    with fresh_database(tmp_path) as url:
        yield url


def make_settings(var: Path, database_url: str, **overrides: Any):
    from insertion_match.service.settings import Settings

    # The shared test app sees every test's wrong keys from one client address: no limit there
    # (tests/service/test_hardening.py checks the limit on its own app).
    overrides.setdefault("auth_failures_max", 100_000)
    return Settings(environment="test", var_dir=var, data_dir=DATA, database_url=database_url,
                    **overrides)


def add_key(app, role: str, *territories: str, name: str | None = None) -> str:
    """Create an API key on ``app``'s database and return it (as ``keys create`` does)."""
    from insertion_match.service import db
    from insertion_match.service.auth import Role, parse_grants

    grants = parse_grants(Role(role), territories)
    new = db.create_api_key(app.state.im.sessions, name or f"test {role}", role,
                            [str(g) for g in grants])
    return new.key


@pytest.fixture(scope="session")
def client(tmp_path_factory) -> Iterator[TestClient]:
    """The real app on a fresh database, seeded from data/catalogue on start-up, calling with
    an **admin** key (``X-API-Key``). Per-role clients: ``client_as``; no key: ``anonymous``."""
    from insertion_match.service.app import create_app

    var = tmp_path_factory.mktemp("var")
    with fresh_database(var) as url, TestClient(create_app(make_settings(var, url))) as c:
        c.headers["X-API-Key"] = add_key(c.app, "admin", name="test admin")
        yield c


@pytest.fixture(scope="session")
def client_as(client) -> Callable[..., TestClient]:
    """``client_as("coach", "61:Flers")``: a client of the shared app with a new key of that
    role and those territories."""
    def make(role: str, *territories: str, name: str | None = None) -> TestClient:
        key = add_key(client.app, role, *territories, name=name)
        return TestClient(client.app, headers={"X-API-Key": key})

    return make


@pytest.fixture(scope="session")
def anonymous(client) -> TestClient:
    """A client of the shared app without any key."""
    return TestClient(client.app)


@pytest.fixture(scope="session")
def rome():
    """The ROME 4.0 referential of data/rome, with its title matcher."""
    from insertion_match.features.rome import RomeReferential

    return RomeReferential.load(DATA)


@pytest.fixture(scope="session")
def demo_offers(gazetteer, rome):
    """The synthetic demo offers of data/demo (Orne and Essonne), validated."""
    import json

    from insertion_match.features.demo_offers import DEMO_FILE, DEMO_SOURCE
    from insertion_match.features.offers_import import parse_france_travail

    batch = parse_france_travail(json.loads((DATA / DEMO_FILE).read_text(encoding="utf-8")),
                                 gazetteer, rome, DEMO_SOURCE)
    assert not batch.rejected
    return batch.opportunities


@pytest.fixture(scope="session")
def offers_engine(catalogue, gazetteer, territories, rome, demo_offers) -> MatchingEngine:
    """The engine serving the catalogue and the demo offers."""
    return MatchingEngine.build(catalogue, gazetteer, territories, rome=rome,
                                opportunities=demo_offers)
