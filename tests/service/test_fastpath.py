"""The request path (issue 11): pooled connections, the API-key cache and its revocation, the
group-committed audit rows, the answer serialised once."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from insertion_match.service import db
from insertion_match.service.db.base import write_connection
from insertion_match.service.schemas import EXAMPLE_BENEFICIARY
from tests.conftest import REPO
from tests.service.servers import served_process


def _cli(database_url: str, var, *args: str) -> subprocess.CompletedProcess:
    env = {"IM_DATABASE_URL": database_url, "IM_VAR_DIR": str(var), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "insertion_match.service.cli", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


# -- pooled connections ------------------------------------------------------------------------


def test_connections_are_pooled_and_pragmas_run_once_per_connection(database_url):
    engine = db.make_engine(database_url)
    sessions = db.init_db(engine)
    connects: list[int] = []
    event.listen(engine, "connect", lambda *_: connects.append(1))
    try:
        engine.pool.dispose()  # start from no open connection
        for _ in range(50):
            with sessions() as session:
                session.execute(text("SELECT 1"))
        assert len(connects) == 1  # one connection, reused: its PRAGMAs ran once
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        engine.dispose()


def test_a_moved_sqlite_file_is_not_written_through_a_pooled_connection(tmp_path):
    store = tmp_path / "store"
    engine = db.make_engine(f"sqlite:///{store / 'im.sqlite3'}")
    sessions = db.init_db(engine)
    health = db.health_of(engine)
    try:
        db.log_recommendation(sessions, "k", "p-1", "m", "1", ["a"])
        assert health.usable()
        store.rename(tmp_path / "away")
        assert not health.usable()
        with pytest.raises(SQLAlchemyError):
            db.log_recommendation(sessions, "k", "p-2", "m", "1", ["a"])
        (tmp_path / "away").rename(store)
        db.log_recommendation(sessions, "k", "p-3", "m", "1", ["a"])
        assert health.usable()
        ids = [r.beneficiary_id for r in db.recommendation_log(sessions)]
        assert sorted(ids) == ["p-1", "p-3"]
    finally:
        engine.dispose()


# -- API keys cache --------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_key_cache_answers_within_ttl_checks_the_secret_and_forgets_revoked(database_url):
    engine = db.make_engine(database_url)
    sessions = db.init_db(engine)
    try:
        clock = Clock()
        cache = db.ApiKeyCache(ttl=5, clock=clock)
        key = db.create_api_key(sessions, "k", "admin", []).key
        row = db.verify_api_key(sessions, key)
        cache.put(row, "principal")
        assert cache.get(key) == "principal"
        key_id, secret = key.split("_", 2)[1:]
        assert cache.get(f"im_{key_id}_{secret}x") is None  # same id, wrong secret
        assert cache.get("im_short_x") is None
        clock.now = 4.9
        assert cache.get(key) == "principal"
        clock.now = 5.0
        assert cache.get(key) is None  # expired: the database is read again
        cache.put(row, "principal")
        assert db.revoke_api_key(sessions, key_id)
        assert cache.get(key) is None  # revoked in this process: forgotten at once
        off = db.ApiKeyCache(ttl=0, clock=clock)
        off.put(row, "principal")
        assert off.get(key) is None
    finally:
        engine.dispose()


def test_key_revoked_by_the_cli_stops_working_within_the_ttl(tmp_path, database_url):
    created = _cli(database_url, tmp_path, "keys", "create", "--role", "coach",
                   "--territory", "61:Flers", "--name", "revoked soon")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    ttl = 1.0
    with served_process(tmp_path, database_url,
                        env={"IM_API_KEY_CACHE_SECONDS": str(ttl)}) as server, \
            httpx.Client(base_url=server.base, headers={"X-API-Key": key}) as http:
        res = http.post("/v1/recommendations",
                        json={"beneficiary": EXAMPLE_BENEFICIARY, "limit": 2})
        assert res.status_code == 200, res.text
        assert http.get("/v1/actions", params={"limit": 1}).status_code == 200  # cached
        revoked = _cli(database_url, tmp_path, "keys", "revoke", key.split("_")[1])
        assert revoked.returncode == 0, revoked.stderr
        time.sleep(ttl + 0.5)  # another process revoked it: effective after the TTL
        res = http.get("/v1/actions", params={"limit": 1})
        assert res.status_code == 401
        assert res.headers["content-type"].startswith("application/problem+json")
        assert http.post("/v1/recommendations",
                         json={"beneficiary": EXAMPLE_BENEFICIARY}).status_code == 401


# -- group commit ------------------------------------------------------------------------------


def _fields(i: int, **overrides) -> dict:
    return {"actor": "k", "beneficiary_id": f"g-{i}", "model_name": "m", "model_version": "1",
            "item_ids": [f"a{i}"], "department": "61", **overrides}


@contextmanager
def _write_lock(engine):
    """A connection holding the lock that audit inserts need, until rolled back."""
    with write_connection(engine) as conn:
        conn.begin()  # SQLite: BEGIN IMMEDIATE, the database's write lock
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE recommendation_log IN EXCLUSIVE MODE")
        else:
            conn.exec_driver_sql("SELECT 1")
        yield conn


def test_audit_rows_waiting_for_the_lock_are_committed_together(database_url):
    engine = db.make_engine(database_url, sqlite_busy_timeout_ms=60_000)
    sessions = db.init_db(engine)
    writer = db.AuditWriter(sessions)
    try:
        with _write_lock(engine) as blocker:  # holds the write lock while the rows queue up
            futures = [writer.submit(**_fields(i)) for i in range(20)]
            time.sleep(0.3)
            assert not any(f.done() for f in futures)  # nothing answered before its commit
            blocker.rollback()
        ids = [f.result(timeout=60) for f in futures]
        assert len(set(ids)) == 20
        assert writer.rows == 20 and writer.commits <= 2  # one waits, the others share a commit
        with sessions() as session:
            stored = dict(session.execute(select(db.RecommendationLog.id,
                                                 db.RecommendationLog.beneficiary_id)).all())
        assert all(stored[rid] == f"g-{i}" for i, rid in enumerate(ids))
    finally:
        writer.close()
        engine.dispose()


def test_a_refused_audit_row_fails_alone(database_url):
    engine = db.make_engine(database_url, sqlite_busy_timeout_ms=60_000)
    sessions = db.init_db(engine)
    writer = db.AuditWriter(sessions)
    try:
        with _write_lock(engine) as blocker:
            good = [writer.submit(**_fields(i)) for i in range(5)]
            bad = writer.submit(**_fields(99, actor=None))  # NOT NULL
            more = [writer.submit(**_fields(i)) for i in range(5, 8)]
            blocker.rollback()
        assert len({f.result(timeout=60) for f in good + more}) == 8
        with pytest.raises(IntegrityError):
            bad.result(timeout=60)
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(db.RecommendationLog)) == 8
    finally:
        writer.close()
        engine.dispose()


def test_concurrent_requests_each_get_their_own_committed_audit_row(client):
    def one(i: int) -> int:
        res = client.post("/v1/recommendations", json={
            "beneficiary": {**EXAMPLE_BENEFICIARY, "id": f"fast-{i}"}, "limit": 3})
        assert res.status_code == 200, res.text
        return res.json()["recommendation_id"], res.json()["items"]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(24)))
    ids = [rid for rid, _ in answers]
    assert len(set(ids)) == 24
    for i, (rid, items) in enumerate(answers):
        row = db.get_recommendation(client.app.state.im.sessions, rid)
        assert row.beneficiary_id == f"fast-{i}"
        assert row.item_ids == [item["id"] for item in items]


def test_the_answer_is_one_serialisation_of_the_validated_response(client):
    res = client.post("/v1/recommendations", json={"beneficiary": EXAMPLE_BENEFICIARY,
                                                    "limit": 3})
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/json"
    assert int(res.headers["content-length"]) == len(res.content)
    from insertion_match.service.schemas import RecommendationResponse

    parsed = RecommendationResponse.model_validate_json(res.content)
    assert parsed.model_dump_json().encode() == res.content  # compact, the schema's own shape
    assert "opportunity" not in res.json()["items"][0]  # action items keep their shape


def test_healthz_is_served_while_rankings_run(client):
    stop = threading.Event()

    def rank() -> None:
        while not stop.is_set():
            client.post("/v1/recommendations", json={"beneficiary": EXAMPLE_BENEFICIARY})

    threads = [threading.Thread(target=rank) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(20):
            res = client.get("/healthz")
            assert res.status_code == 200 and res.json() == {"status": "ok"}
    finally:
        stop.set()
        for t in threads:
            t.join(60)



def test_rows_submitted_after_close_are_still_written(database_url):
    engine = db.make_engine(database_url)
    sessions = db.init_db(engine)
    writer = db.AuditWriter(sessions)
    try:
        first = writer.write(**_fields(1))
        writer.close()
        second = writer.submit(**_fields(2)).result(timeout=30)
        assert second != first
        assert db.get_recommendation(sessions, second).beneficiary_id == "g-2"
    finally:
        engine.dispose()
