"""No answered recommendation is missing from the audit after ``kill -9`` (issue 11).

The real server runs in a subprocess; 16 clients post recommendations; the server is killed
with SIGKILL while requests are in flight; the database, reopened, must hold the audit row of
every recommendation that was answered 200. SQLite by default, PostgreSQL with
``IM_TEST_DATABASE_URL`` (the ``database_url`` fixture)."""

from __future__ import annotations

import os
import random
import signal
import threading

import httpx
from sqlalchemy import select

from insertion_match.service import db
from tests.service.servers import admin_key, served_process

CLIENTS = 16
KILL_AFTER = 150  # answers before the kill
COMMUNES = ["61169", "61001", "61214", "91228", "91377", "72181", "61006", "91174"]


def _body(rng: random.Random, n: int) -> dict:
    return {"beneficiary": {
        "id": f"dur-{n}", "home": {"insee": rng.choice(COMMUNES)}, "age": rng.randint(18, 64),
        "freins": {"mobilite": rng.randint(0, 3), "numerique": rng.randint(0, 3),
                   "recherche_emploi": rng.randint(1, 3)},
    }, "limit": rng.choice([3, 5, 10])}


def test_every_answered_recommendation_is_in_the_audit_after_kill_9(tmp_path, database_url):
    key = admin_key(database_url)
    answered: dict[int, str] = {}  # recommendation_id -> beneficiary id
    lock = threading.Lock()
    killed = threading.Event()
    failures_after_kill: list[str] = []
    with served_process(tmp_path, database_url, env={"IM_LOG_LEVEL": "WARNING"}) as server:
        def client(c: int) -> None:
            rng = random.Random(c)
            with httpx.Client(base_url=server.base, headers={"X-API-Key": key},
                              timeout=30) as http:
                n = 0
                while True:
                    n += 1
                    body = _body(rng, c * 100_000 + n)
                    try:
                        res = http.post("/v1/recommendations", json=body)
                    except httpx.HTTPError as exc:
                        if killed.is_set():
                            return  # the server is gone
                        failures_after_kill.append(f"before the kill: {exc!r}")
                        return
                    assert res.status_code == 200, res.text
                    with lock:
                        answered[res.json()["recommendation_id"]] = body["beneficiary"]["id"]
                        if len(answered) >= KILL_AFTER and not killed.is_set():
                            killed.set()
                            os.kill(server.proc.pid, signal.SIGKILL)  # mid-flight

        threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert killed.is_set(), "the server was not killed"
        assert server.proc.wait(30) == -signal.SIGKILL
    assert not failures_after_kill, failures_after_kill
    assert len(answered) >= KILL_AFTER

    engine = db.make_engine(database_url)  # reopen the database after the crash
    try:
        with engine.connect() as conn:
            stored = dict(conn.execute(select(db.RecommendationLog.id,
                                              db.RecommendationLog.beneficiary_id)).all())
    finally:
        engine.dispose()
    missing = sorted(set(answered) - set(stored))
    assert not missing, f"{len(missing)} answered recommendation(s) not in the audit: {missing}"
    assert all(stored[rid] == pid for rid, pid in answered.items())
