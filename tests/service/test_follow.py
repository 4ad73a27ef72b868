"""A serving process follows the catalogue, offers and transit networks changed outside it (the
daily CLI import with --replace-source, another worker's API import, a purge, transit import):
within one check, it ranks the stored offers, a withdrawn offer is no longer proposed, and the
workers sharing a var dir build the table once (the later ones load the snapshot the first one
wrote); a database outage is a warning, not the end of the thread."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from insertion_match.features.offers_import import parse_france_travail
from insertion_match.service import db
from insertion_match.service.follow import Follower
from insertion_match.service.state import build_state
from tests.conftest import make_profile, make_settings, on_postgresql
from tests.features.offer_records import offer

EXPIRES = (date.today() + timedelta(days=60)).isoformat()


def offers(gazetteer, rome, ids):
    records = [offer(id=i, lieuTravail={"commune": "61169"}, dateExpiration=EXPIRES)
               for i in ids]
    batch = parse_france_travail(records, gazetteer, rome, source="daily")
    assert not batch.rejected
    return batch.opportunities


def shown(state) -> set[str]:
    person = make_profile(mobility={"driving_licence": "b", "vehicle": "car"},
                          target_jobs=["agent d'entretien"])
    result = state.engine.recommend(person, kinds=["job"], limit=100)
    return {i.id for i in result.items if i.id.startswith("daily:")}


def test_workers_follow_the_daily_import(tmp_path, database_url, gazetteer, rome, caplog):
    settings = make_settings(tmp_path, database_url, seed_demo_offers_on_start=False)
    first, second = build_state(settings), build_state(settings)  # two workers, one var dir
    try:
        one, two = Follower(first, 60), Follower(second, 60)
        assert one.check() == set() and shown(first) == set()  # nothing changed

        # the CLI's daily import, in another process: three offers
        db.upsert_opportunities(first.sessions, offers(gazetteer, rome, ["A", "B", "C"]),
                                "daily", "cli", replace_source=True)
        assert shown(first) == set()  # not before the check
        assert one.check() == {"offers"}
        assert shown(first) == {"daily:A", "daily:B", "daily:C"}
        assert one.check() == set()  # nothing new since
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="insertion_match.service"):
            assert two.check()
        assert shown(second) == {"daily:A", "daily:B", "daily:C"}
        ready = [r for r in caplog.records if r.getMessage() == "offers ready"]
        assert [r.kind for r in ready] == ["snapshot"]  # the first worker's table, not rebuilt

        # the next day's file no longer has B: it expires and is no longer proposed
        report = db.upsert_opportunities(first.sessions, offers(gazetteer, rome, ["A", "C"]),
                                         "daily", "cli", replace_source=True)
        assert report.expired == 1
        assert "daily:B" in shown(first)
        assert one.check() and two.check()
        assert shown(first) == shown(second) == {"daily:A", "daily:C"}

        # a purge deletes rows: the table is rebuilt (the snapshot cannot be patched)
        assert db.purge_expired_opportunities(first.sessions, date.today()) == 1
        assert one.check() and shown(first) == {"daily:A", "daily:C"}
        assert len(first.engine.opportunity_table) == db.count_opportunities(first.sessions)
    finally:
        first.close()
        second.close()


def test_an_import_through_the_process_is_not_reloaded(tmp_path, database_url, gazetteer,
                                                       rome):
    """An import through this process (the API's) refreshes its engine at once: its follower
    then has nothing to do; the other worker's follower takes it up."""
    from insertion_match.features.offers_import import ImportBatch
    from insertion_match.service.offers import import_offers

    settings = make_settings(tmp_path, database_url, seed_demo_offers_on_start=False)
    first, second = build_state(settings), build_state(settings)
    try:
        one, two = Follower(first, 60), Follower(second, 60)
        batch = ImportBatch(source="daily", opportunities=offers(gazetteer, rome, ["A"]))
        assert import_offers(first, batch, origin="api", skip_invalid=False).imported
        assert shown(first) == {"daily:A"} and shown(second) == set()
        assert one.check() == set() and one.refreshed["offers"] == 0
        assert two.check() and shown(second) == {"daily:A"}
    finally:
        first.close()
        second.close()


def test_the_app_starts_and_stops_its_follower(tmp_path, database_url):
    from fastapi.testclient import TestClient

    from insertion_match.service.app import create_app

    settings = make_settings(tmp_path, database_url, seed_demo_offers_on_start=False,
                             refresh_seconds=30)
    with TestClient(create_app(settings)) as client:
        follower = client.app.state.follower
        assert follower is not None and follower._thread.is_alive()
    assert not follower._thread.is_alive()
    off = make_settings(tmp_path, database_url, seed_demo_offers_on_start=False,
                        refresh_seconds=0)
    with TestClient(create_app(off)) as client:
        assert client.app.state.follower is None


def test_a_running_server_follows_the_cli_daily_import(tmp_path, database_url):
    """Production's daily refresh, for real: ``insertion-match serve --workers 2`` running,
    ``offers import --replace-source`` run by the CLI beside it; within a few checks every
    answer proposes the new offers, then no longer the one the next file dropped."""
    import json
    import os
    import subprocess
    import sys
    import time

    import httpx

    from tests.conftest import REPO
    from tests.service.servers import admin_key, served_process

    key = admin_key(database_url)
    env = {**os.environ, "IM_DATABASE_URL": database_url, "IM_VAR_DIR": str(tmp_path),
           "IM_SEED_DEMO_OFFERS_ON_START": "false"}
    body = {"beneficiary": {"id": "p-1", "home": {"commune": "Flers", "postcode": "61100"},
                            "mobility": {"driving_licence": "b", "vehicle": "car"},
                            "target_jobs": ["agent d'entretien"]},
            "kinds": ["job"], "limit": 50}

    def cli_import(ids: list[str]) -> None:
        path = tmp_path / "offres.jsonl"
        path.write_text("\n".join(json.dumps(offer(id=i, dateExpiration=EXPIRES)) for i in ids))
        done = subprocess.run([sys.executable, "-m", "insertion_match.service.cli", "offers",
                               "import", str(path), "--source", "daily", "--replace-source",
                               "--no-progress"], cwd=REPO, env=env, capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, done.stderr

    def answers(base: str, n: int = 12) -> list[set[str]]:
        got = []
        for _ in range(n):  # new connections: either worker may answer
            res = httpx.post(f"{base}/v1/recommendations", json=body,
                             headers={"X-API-Key": key}, timeout=30)
            assert res.status_code == 200, res.text
            got.append({i["id"] for i in res.json()["items"] if i["id"].startswith("daily:")})
        return got

    def until(base: str, expected: set[str]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all(g == expected for g in answers(base)):
                return
            time.sleep(0.5)
        raise AssertionError(f"still {answers(base)} instead of {expected}")

    with served_process(tmp_path, database_url, workers=2,
                        env={"IM_REFRESH_SECONDS": "0.5"}) as server:
        assert all(g == set() for g in answers(server.base))
        cli_import(["A", "B", "C"])
        until(server.base, {"daily:A", "daily:B", "daily:C"})
        cli_import(["A", "C"])  # the next day's file: B has vanished
        until(server.base, {"daily:A", "daily:C"})
    followed = [line for line in server.output if "offers followed the database" in line]
    assert len(followed) >= 4  # each of the 2 workers, after each of the 2 imports


def test_workers_follow_a_catalogue_import(tmp_path, database_url, catalogue):
    """``catalogue import`` run by the CLI beside the service (or through another worker):
    each worker serves the stored catalogue after its next check; its own import does not
    make it reload."""
    settings = make_settings(tmp_path, database_url, seed_demo_offers_on_start=False)
    first, second = build_state(settings), build_state(settings)
    try:
        one, two = Follower(first, 60), Follower(second, 60)
        assert one.check() == set()
        gone = catalogue[0].id
        assert gone in {a.id for a in first.engine.actions}
        db.replace_catalogue(first.sessions, catalogue[1:], origin="cli")  # the CLI's write
        assert gone in {a.id for a in first.engine.actions}  # not before the check
        assert one.check() == {"catalogue"} and two.check() == {"catalogue"}
        for state in (first, second):
            assert gone not in {a.id for a in state.engine.actions}
            assert len(state.engine.actions) == len(catalogue) - 1
        assert second.import_catalogue(list(catalogue), origin="api") == len(catalogue)
        assert two.check() == set()  # its own import
        assert one.check() == {"catalogue"}
        assert gone in {a.id for a in first.engine.actions}
    finally:
        first.close()
        second.close()


def test_a_transit_import_is_followed(tmp_path, database_url, gazetteer, monkeypatch, capsys):
    """``transit import`` run by the CLI beside the service: the network is installed at the
    next check, without a restart (the trips memoised before are never reused: geo.transit)."""
    from insertion_match.geo.transit import active_networks, install_networks
    from insertion_match.service.cli import main
    from tests.geo.gtfs_feed import write_feed

    settings = make_settings(tmp_path, database_url, seed_demo_offers_on_start=False)
    state, before = build_state(settings), active_networks()
    try:
        follower = Follower(state, 60)
        assert follower.check() == set() and active_networks() == ()
        monkeypatch.setenv("IM_ENVIRONMENT", "test")
        monkeypatch.setenv("IM_VAR_DIR", str(tmp_path))
        feed = write_feed(tmp_path / "ter-orne.zip", gazetteer)
        assert main(["transit", "import", str(feed), "--name", "ter-orne"]) == 0
        capsys.readouterr()
        assert follower.check() == {"transit"}
        assert [n.name for n in active_networks()] == ["ter-orne"]
        assert follower.check() == set()
    finally:
        install_networks(before)
        state.close()


def test_the_follower_survives_an_outage(tmp_path, gazetteer, rome, caplog):
    """The database gone for a while: one warning line per check (no traceback, the service
    serves on with what it has), then the change made meanwhile is followed."""
    import time

    if on_postgresql():
        pytest.skip("moves the SQLite file away")
    store = tmp_path / "store"
    settings = make_settings(tmp_path, f"sqlite:///{store / 'im.sqlite3'}",
                             seed_demo_offers_on_start=False)
    state = build_state(settings)
    follower = Follower(state, 0.05)
    try:
        with caplog.at_level(logging.INFO, logger="insertion_match.service"):
            follower.start()
            store.rename(tmp_path / "away")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not any(
                    "database unavailable" in r.getMessage() for r in caplog.records):
                time.sleep(0.05)
            (tmp_path / "away").rename(store)
            db.upsert_opportunities(state.sessions, offers(gazetteer, rome, ["A"]), "daily", "t")
            while time.monotonic() < deadline and follower.refreshed["offers"] == 0:
                time.sleep(0.05)
        assert follower._thread.is_alive() and follower.refreshed["offers"] == 1
        assert shown(state) == {"daily:A"}
        down = [r for r in caplog.records if "database unavailable" in r.getMessage()]
        assert down and all(r.levelno == logging.WARNING and not r.exc_info for r in down)
    finally:
        follower.stop()
        state.close()
