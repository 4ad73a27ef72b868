"""Hardening (issue 9): failed-authentication rate limit, documentation closed in production,
security headers, body and idle timeouts, one clean log line per aborted upload."""

from __future__ import annotations

import json
import socket
import time

import pytest
from fastapi.testclient import TestClient

from insertion_match.service.app import create_app
from tests.conftest import add_key, make_settings
from tests.service.servers import HOST, admin_key, served_process


@pytest.fixture
def strict(tmp_path, database_url):
    app = create_app(make_settings(tmp_path, database_url, auth_failures_max=5,
                                   auth_failures_window_seconds=60))
    with TestClient(app, client=("10.0.0.1", 1000)) as c:
        yield c


def test_failed_authentications_are_limited_per_client_and_per_key(strict):
    good = add_key(strict.app, "admin")
    key_id = good.split("_")[1]
    wrong = f"im_{key_id}_not-the-secret"
    statuses = [strict.get("/v1/actions", headers={"X-API-Key": wrong}).status_code
                for _ in range(7)]
    assert statuses == [401] * 5 + [429] * 2
    res = strict.get("/v1/actions", headers={"X-API-Key": "im_000000000000_x"})
    assert res.status_code == 429 and int(res.headers["Retry-After"]) > 0
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["detail"] == ("trop d'authentifications échouées : réessayez dans "
                                    f"{res.headers['Retry-After']} s")
    # Another client: free, except with the key id that was guessed at.
    other = TestClient(strict.app, client=("10.0.0.2", 1000))
    other_key = add_key(strict.app, "admin")
    assert other.get("/v1/actions", headers={"X-API-Key": other_key}).status_code == 200
    assert other.get("/v1/actions", headers={"X-API-Key": wrong}).status_code == 429
    assert other.get("/healthz").status_code == 200  # probes need no key: never limited


def test_docs_are_closed_in_production(tmp_path):
    settings = make_settings(tmp_path, "sqlite:///" + str(tmp_path / "p.sqlite3"))
    settings = settings.model_copy(update={"environment": "production"})
    closed = TestClient(create_app(settings))  # no start-up needed for these
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert closed.get(path).status_code in (401, 404), path
    opened = TestClient(create_app(settings.model_copy(update={"docs_public": True})))
    assert opened.get("/openapi.json").status_code == 200


def test_security_headers(client):
    assert client.put("/v1/beneficiaries/hdr-1", json={"home": {"insee": "61169"},
                                                       "freins": {"sante": 3}}).status_code in (200, 201)
    for path in ("/v1/beneficiaries/hdr-1", "/v1/beneficiaries/hdr-1/export",
                 "/v1/beneficiaries/unknown-x", "/healthz"):
        res = client.get(path)
        assert res.headers["cache-control"] == "no-store", path
        assert res.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in res.headers["content-security-policy"]
        assert res.headers["x-frame-options"] == "DENY"
    docs = client.get("/docs")
    assert docs.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in docs.headers  # the docs page loads its scripts
    # The web app's pages get a policy of their own: their own scripts, styles, images, forms
    page = client.get("/connexion")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "form-action 'self'" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy


def _raw(port: int) -> socket.socket:
    sock = socket.create_connection((HOST, port), timeout=10)
    return sock


def test_timeouts_and_aborted_uploads(tmp_path, database_url):
    key = admin_key(database_url)
    env = {"IM_BODY_TIMEOUT_SECONDS": "1", "IM_KEEP_ALIVE_SECONDS": "1"}
    with served_process(tmp_path, database_url, env=env) as server:
        port = int(server.base.rsplit(":", 1)[1])
        head = (f"POST /v1/outcomes/import HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\n"
                "Content-Type: text/csv\r\nContent-Length: 1000\r\n\r\n").encode()
        # A stalled upload: 408 after the body timeout, the connection closed.
        with _raw(port) as sock:
            sock.sendall(head + b"beneficiary_id,item_id")
            start = time.monotonic()
            answer = sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
            assert time.monotonic() - start < 5
        # Aborted uploads: the client goes away half-way, three times.
        for _ in range(3):
            with _raw(port) as sock:
                sock.sendall(head + b"beneficiary_id,item_id")
            time.sleep(0.2)
        # An idle keep-alive connection is closed by the server.
        with _raw(port) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while b'"ok"' not in answer:  # headers and body may come in two reads
                answer += sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 200")
            time.sleep(2.5)
            assert sock.recv(4096) == b""
    records = [json.loads(line) for line in server.output if line.startswith("{")]
    aborted = [r for r in records if r["msg"] == "upload aborted by the client"]
    assert len(aborted) == 3, server.output
    assert all(r["level"] == "WARNING" and r["status"] == 499 for r in aborted)
    assert not [r for r in records if r["level"] == "ERROR"], server.output
