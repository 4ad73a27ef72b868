"""Resilience: body size limit, database outage and recovery, model refusal, killed import."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import pytest
from fastapi.testclient import TestClient

from insertion_match.service import db
from insertion_match.service.app import create_app
from insertion_match.service.schemas import EXAMPLE_BENEFICIARY
from tests.conftest import DATA, REPO, add_key, make_settings, on_postgresql

FLERS = {"insee": "61169"}


@contextmanager
def served(var: Path, database_url: str, **overrides) -> Iterator[TestClient]:
    """A new app on ``database_url`` (started, with an admin key); 5xx answered, not raised."""
    app = create_app(make_settings(var, database_url, **overrides))
    with TestClient(app, raise_server_exceptions=False) as c:
        c.headers["X-API-Key"] = add_key(c.app, "admin")
        yield c


# -- request size ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_bodies(client) -> Iterator[TestClient]:
    """The shared app's state behind a 2 KiB body limit."""
    settings = client.app.state.im.settings.model_copy(update={"max_body_bytes": 2048})
    app = create_app(settings, state=client.app.state.im)
    with TestClient(app, headers={"X-API-Key": client.headers["X-API-Key"]}) as c:
        yield c


def _big_body() -> bytes:
    return json.dumps({"beneficiary": {**EXAMPLE_BENEFICIARY,
                                       "target_jobs": ["x" * 150] * 20}}).encode()


def test_body_over_the_limit_is_413_problem(small_bodies):
    body = _big_body()
    assert len(body) > 2048
    res = small_bodies.post("/v1/recommendations", content=body,
                            headers={"content-type": "application/json"})
    assert res.status_code == 413
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["status"] == 413


def test_chunked_body_over_the_limit_is_413(small_bodies):
    body = _big_body()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts what arrives
        for start in range(0, len(body), 1000):
            yield body[start:start + 1000]

    res = small_bodies.post("/v1/recommendations", content=chunks(),
                            headers={"content-type": "application/json"})
    assert res.status_code == 413


def test_body_under_the_limit_is_served(small_bodies):
    res = small_bodies.post("/v1/recommendations", json={"beneficiary": {"home": FLERS}})
    assert res.status_code == 200
    small = json.dumps({"beneficiary": {"home": FLERS}}).encode()

    def chunks() -> Iterator[bytes]:
        yield small[:10]
        yield small[10:]

    res = small_bodies.post("/v1/recommendations", content=chunks(),
                            headers={"content-type": "application/json"})
    assert res.status_code == 200


# -- database outage ---------------------------------------------------------------------------


class Hammer:
    """Requests in a background thread until stopped (bounded), recording the statuses."""

    def __init__(self, client: TestClient) -> None:
        self.client, self.statuses = client, Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for _ in range(20_000):
            if self._stop.is_set():
                return
            res = self.client.get("/v1/beneficiaries", params={"limit": 1})
            self.statuses[res.status_code] += 1
            if res.status_code == 503:
                assert res.headers.get("Retry-After")
            time.sleep(0.01)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def _assert_outage(c: TestClient) -> None:
    res = c.get("/v1/actions", params={"limit": 1})
    assert res.status_code == 503, res.text
    assert res.headers["Retry-After"] == "5"
    assert res.headers["content-type"].startswith("application/problem+json")
    res = c.post("/v1/recommendations", json={"beneficiary": {"home": FLERS}})
    assert res.status_code == 503
    ready = c.get("/readyz")
    assert ready.status_code == 503 and ready.json()["database"] == "unavailable"
    assert c.get("/healthz").status_code == 200


def _wait_until_ready(c: TestClient) -> None:
    for _ in range(120):  # bounded: at most about a minute
        if c.get("/readyz").status_code == 200:
            return
        time.sleep(0.5)
    pytest.fail("the service did not recover after the database came back")


def _assert_recovered(c: TestClient) -> None:
    _wait_until_ready(c)
    assert c.get("/v1/actions", params={"limit": 1}).status_code == 200
    res = c.put("/v1/beneficiaries/after-outage-1", json={"home": FLERS})
    assert res.status_code in (200, 201)
    assert c.post("/v1/recommendations",
                  json={"beneficiary_id": "after-outage-1"}).status_code == 200


def test_sqlite_file_gone_answers_503_then_recovers(tmp_path):
    if on_postgresql():
        pytest.skip("SQLite outage test: IM_TEST_DATABASE_URL points to PostgreSQL "
                    "(see test_postgresql_restart_during_requests)")
    store = tmp_path / "store"
    with served(tmp_path, f"sqlite:///{store / 'im.sqlite3'}") as c:
        assert c.get("/v1/actions", params={"limit": 1}).status_code == 200
        with Hammer(c) as hammer:
            time.sleep(0.2)
            store.rename(tmp_path / "away")  # the database disappears...
            _assert_outage(c)
            time.sleep(0.2)
            (tmp_path / "away").rename(store)  # ...and comes back
            _assert_recovered(c)
        assert set(hammer.statuses) <= {200, 503}, hammer.statuses
        assert hammer.statuses[503] >= 1 and hammer.statuses[200] >= 1


PG_CLUSTER = os.environ.get("IM_TEST_PG_CLUSTER", "15 main").split()


def _pg_ctl(action: str) -> None:
    subprocess.run(["pg_ctlcluster", *PG_CLUSTER, action, "--", "-m", "fast"]
                   if action == "stop" else ["pg_ctlcluster", *PG_CLUSTER, action],
                   check=True, timeout=120, capture_output=True)


def test_postgresql_restart_during_requests(tmp_path, database_url):
    if not on_postgresql():
        pytest.skip("needs IM_TEST_DATABASE_URL=postgresql+psycopg://... (a server to restart)")
    if shutil.which("pg_ctlcluster") is None:
        pytest.skip("pg_ctlcluster not found: cannot restart the PostgreSQL cluster")
    with served(tmp_path, database_url) as c:
        assert c.get("/v1/actions", params={"limit": 1}).status_code == 200
        with Hammer(c) as hammer:
            time.sleep(0.3)
            _pg_ctl("stop")
            try:
                _assert_outage(c)
            finally:
                _pg_ctl("start")
            _assert_recovered(c)  # the same process, no restart: the pool reconnects
        assert set(hammer.statuses) <= {200, 503}, hammer.statuses
        assert hammer.statuses[503] >= 1 and hammer.statuses[200] >= 1


# -- model artefacts -------------------------------------------------------------------------


def _write_model(directory: Path, payload: bytes, card: dict) -> Path:
    import hashlib

    path = directory / "ranker.joblib"
    path.write_bytes(payload)
    card = {"name": "ranker", "version": "t1", "format_version": 1,
            "sha256": hashlib.sha256(payload).hexdigest(), **card}
    (directory / "ranker.card.json").write_text(json.dumps(card), encoding="utf-8")
    return path


def _pickled_scorer() -> bytes:
    import pickle

    from insertion_match.matcher.scoring import TransparentScorer

    return pickle.dumps(TransparentScorer())


@pytest.mark.parametrize("case, reason", [
    ("truncated", "corrupt"), ("tampered", "corrupt"), ("future_format", "incompatible"),
    ("wrong_object", "incompatible"), ("missing_card", "card"), ("missing_file", "not found"),
])
def test_bad_model_is_refused_and_the_transparent_scorer_serves_flagged(
    tmp_path, database_url, case, reason,
):
    import pickle

    models = tmp_path / "models"
    models.mkdir()
    good = _pickled_scorer()
    if case == "truncated":
        path = _write_model(models, good[: len(good) // 2], {})
    elif case == "tampered":
        path = _write_model(models, good, {})
        path.write_bytes(good[:-1] + b"\x00")
    elif case == "future_format":
        path = _write_model(models, good, {"format_version": 99})
    elif case == "wrong_object":
        path = _write_model(models, pickle.dumps({"weights": [1, 2]}), {})
    elif case == "missing_card":
        path = _write_model(models, good, {})
        (models / "ranker.card.json").unlink()
    else:
        path = models / "absent.joblib"

    records: list[str] = []
    handler = _ListHandler(records)
    logger = __import__("logging").getLogger("insertion_match.service")
    logger.addHandler(handler)
    try:
        with served(tmp_path, database_url, model_path=path) as c:
            ready = c.get("/readyz")
            assert ready.status_code == 200  # still ready: the transparent scorer serves
            model = ready.json()["model"]
            assert model["fallback"] is True and reason in model["fallback_reason"]
            res = c.post("/v1/recommendations", json={"beneficiary": {"home": FLERS}})
            assert res.status_code == 200
            assert res.json()["model"]["fallback"] is True
            assert res.json()["model"]["name"] == model["name"]
    finally:
        logger.removeHandler(handler)
    assert any("model refused" in r and reason in r for r in records), records


def test_a_valid_model_is_loaded_and_not_flagged(tmp_path, database_url):
    models = tmp_path / "models"
    models.mkdir()
    path = _write_model(models, _pickled_scorer(), {})
    with served(tmp_path, database_url, model_path=path) as c:
        assert c.get("/readyz").json()["model"]["fallback"] is False
        res = c.post("/v1/recommendations", json={"beneficiary": {"home": FLERS}})
        assert res.json()["model"]["fallback"] is False
        assert res.json()["model"]["fallback_reason"] is None


class _ListHandler(__import__("logging").Handler):
    def __init__(self, records: list[str]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record) -> None:
        self.records.append(record.getMessage())


# -- killed import ---------------------------------------------------------------------------


def _large_catalogue(directory: Path, copies: int) -> int:
    """Write ``copies`` copies of the embedded catalogue, ids made unique. Returns the count."""
    count = 0
    for source in sorted((DATA / "catalogue").glob("*.json")):
        raw = json.loads(source.read_text(encoding="utf-8"))
        actions = []
        for i in range(copies):
            for action in raw["actions"]:
                actions.append({**action, "id": f"{action['id']}-copy{i}"})
        raw["actions"] = actions
        count += len(actions)
        (directory / source.name).write_text(json.dumps(raw, ensure_ascii=False),
                                              encoding="utf-8")
    return count


def test_import_killed_midway_leaves_the_catalogue_intact(tmp_path, database_url, catalogue):
    sessions = db.init_db(db.make_engine(database_url))
    try:
        db.replace_catalogue(sessions, catalogue, origin="test:original")
        before = db.last_import(sessions)
        big = tmp_path / "big"
        big.mkdir()
        total = _large_catalogue(big, copies=60)
        env = {**os.environ, "IM_DATABASE_URL": database_url, "IM_VAR_DIR": str(tmp_path),
               "IM_SEED_CATALOGUE_ON_START": "false"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "insertion_match.service.cli", "catalogue", "import", str(big)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            line = proc.stdout.readline()  # printed just before the write transaction
            assert f"lu {total} action(s) valide(s)" in line, (line, proc.stderr.read())
            proc.send_signal(signal.SIGKILL)
            out, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == -signal.SIGKILL
        assert "imported" not in out  # killed before the commit

        after = db.last_import(sessions)
        assert (after.id, after.content_sha256) == (before.id, before.content_sha256)
        stored = db.load_actions(sessions)
        assert db.count_actions(sessions) == len(catalogue)
        assert db.catalogue_hash(sorted(stored, key=lambda a: a.id)) == db.catalogue_hash(
            sorted(catalogue, key=lambda a: a.id))
    finally:
        sessions.kw["bind"].dispose()
    with served(tmp_path, database_url, seed_catalogue_on_start=False) as c:  # starts cleanly
        assert c.get("/readyz").json()["actions"] == len(catalogue)
