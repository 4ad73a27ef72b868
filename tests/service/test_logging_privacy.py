"""No personal data in the logs while requests are served (DESIGN §4, §9).

The requests carry a name-like pseudonymous id, a birth date in free text, an address-like
commune query and the health/disability freins; none of those values may reach any log line
(ours or uvicorn's), whatever the request's outcome (200, 404, 422, 500-free errors).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from insertion_match.service import db
from insertion_match.service.logging import JsonFormatter
from insertion_match.service.schemas import EXAMPLE_BENEFICIARY
from tests.conftest import REPO

NAME_ID = "Jean.Dupont-1985"  # a name-like id: valid pattern, so it reaches the routes
BIRTH = "né le 12/03/1985 à Flers"
SECRETS = ("Jean", "Dupont", "12/03/1985", "1985", "Mortrée-sur-Orne-Rue", "sante", "handicap",
           "Marie", "Curie")


def _profile(**extra) -> dict:
    return {**EXAMPLE_BENEFICIARY, "id": None, "home": {"insee": "61169"},
            "freins": {"sante": 3, "handicap": 2, "mobilite": 1},
            "target_jobs": [BIRTH, "K2204"], **extra}


def _exercise(http) -> list[int]:
    """Requests touching personal data in every way the API allows; returns the statuses."""
    statuses = []

    def call(method, url, **kw):
        statuses.append(http.request(method, url, **kw).status_code)

    call("PUT", f"/v1/beneficiaries/{NAME_ID}", json=_profile())
    call("PUT", f"/v1/beneficiaries/{NAME_ID}", json=_profile(age=40))
    call("GET", f"/v1/beneficiaries/{NAME_ID}")
    call("GET", f"/v1/beneficiaries/{NAME_ID}/export")
    call("GET", "/v1/beneficiaries/Marie.Curie-1867")  # 404
    call("GET", "/v1/beneficiaries", params={"q": "Jean Dupont 12/03/1985"})  # query string
    call("POST", "/v1/recommendations", json={"beneficiary_id": NAME_ID, "limit": 3})
    call("POST", "/v1/recommendations",
         json={"beneficiary": {**_profile(), "id": NAME_ID}, "limit": 3})
    call("POST", "/v1/recommendations",  # 422: a name with a space is not a pseudonymous id
         json={"beneficiary": {**_profile(), "id": "Jean Dupont"}})
    call("POST", "/v1/recommendations",  # 422: unknown commune, echoed in suggestions only
         json={"beneficiary": {"home": {"commune": "Mortrée-sur-Orne-Rue"},
                               "freins": {"sante": 3}}})
    call("POST", "/v1/recommendations",  # 422: a finer health scale is refused
         json={"beneficiary": {**_profile(), "freins": {"sante": "diabète 1985"}}})
    call("POST", "/v1/recommendations/batch",
         json={"requests": [{"beneficiary_id": NAME_ID}, {"beneficiary": _profile()}]})
    call("POST", "/v1/recommendations", content=b'{"beneficiary": {"id": "Jean Dupont"',
         headers={"content-type": "application/json"})  # invalid JSON
    call("DELETE", f"/v1/beneficiaries/{NAME_ID}")
    return statuses


def _assert_clean(text: str) -> None:
    for value in SECRETS:
        assert value not in text, f"{value!r} reached the logs"


def test_no_personal_data_in_the_logs_of_a_served_process(tmp_path, database_url):
    """The real server (uvicorn, JSON logging at DEBUG) in a subprocess, on loopback."""
    sessions = db.init_db(db.make_engine(database_url))
    key = db.create_api_key(sessions, "log test", "admin", []).key
    sessions.kw["bind"].dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "IM_DATABASE_URL": database_url, "IM_VAR_DIR": str(tmp_path),
           "IM_LOG_LEVEL": "DEBUG"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "insertion_match.service.cli", "serve", "--host", "127.0.0.1",
         "--port", str(port)], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):  # bounded wait for start-up
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.25)
        else:
            pytest.fail("the server did not start")
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as http:
            statuses = _exercise(http)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert statuses[:4] == [201, 200, 200, 200] and 404 in statuses and 422 in statuses
    assert not any(s >= 500 for s in statuses), statuses
    lines = [line for line in output.splitlines() if line.strip()]
    requests = [json.loads(line) for line in lines if line.startswith("{")]
    assert sum(1 for r in requests if r.get("msg") == "request") >= len(statuses)
    assert {"/v1/beneficiaries/{beneficiary_id}", "/v1/recommendations"} <= {
        r.get("path") for r in requests}
    _assert_clean(output)


def test_no_personal_data_in_log_records_in_process(client, caplog):
    """Every record emitted while serving, formatted as the service writes it, is clean; and
    the values passed by a careless ``extra=`` are dropped by the formatter."""
    formatter = JsonFormatter()
    root = logging.getLogger("insertion_match")
    propagate = root.propagate
    root.propagate = True  # the CLI tests may have configured it; caplog listens on the root
    try:
        with caplog.at_level(logging.DEBUG):
            _exercise(client)
            logging.getLogger("insertion_match.service").info(
                "careless", extra={"profile": _profile(), "commune": "Jean Dupont"})
    finally:
        root.propagate = propagate
    # The test client's own HTTP library logs the URLs it calls: not the service's logs.
    served = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert served
    written = "\n".join(formatter.format(r) for r in served)
    _assert_clean(written)
    assert "careless" in written
