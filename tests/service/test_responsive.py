"""The service stays responsive during long imports (issue 9): the import's parsing and
database work run in a worker thread, never on the event loop. Before, /healthz timed out on
55 of 56 probes during a 30,000-line outcomes import."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.conftest import on_postgresql
from tests.service.servers import admin_key, served_process

ACTION = "flers-mobylis-permis-b"
LINES = 30_000


def _outcomes_csv(lines: int) -> bytes:
    rows = ["beneficiary_id,item_id,status,occurred_on,rank,model_name,model_version"]
    for i in range(lines):
        rows.append(f"hist-{i % 3000:05d},{ACTION},proposed,2025-{1 + i % 12:02d}-{1 + i % 28:02d},"
                    f"{1 + i % 10},transparent-additive,1.0.0")
    return ("\n".join(rows) + "\n").encode()


def _probe_during(server, key: str, path: str, body: bytes, ctype: str) -> tuple[dict, list]:
    """POST ``body`` to ``path`` in a thread; probe /healthz every 0.5 s until it is answered."""
    result: dict = {}

    def run() -> None:
        start = time.perf_counter()
        with httpx.Client(base_url=server.base, headers={"X-API-Key": key}, timeout=600) as http:
            res = http.post(path, content=body, headers={"content-type": ctype})
        result["status"], result["seconds"] = res.status_code, time.perf_counter() - start
        result["body"] = res.json()

    importer = threading.Thread(target=run)
    importer.start()
    probes: list[tuple[int, float]] = []
    with httpx.Client(base_url=server.base, timeout=5) as http:
        while importer.is_alive():
            start = time.perf_counter()
            try:
                status = http.get("/healthz").status_code
            except httpx.TimeoutException:
                status = 0
            probes.append((status, time.perf_counter() - start))
            time.sleep(0.5)
    importer.join()
    return result, probes


def test_healthz_answers_during_a_30000_line_outcomes_import(tmp_path, database_url):
    key = admin_key(database_url)
    body = _outcomes_csv(LINES)
    with served_process(tmp_path, database_url,
                        env={"IM_MAX_BODY_BYTES": str(16 * 1024 * 1024)}) as server:
        result, probes = _probe_during(server, key, "/v1/outcomes/import", body, "text/csv")

    worst = max(s for _, s in probes) if probes else 0.0
    print(f"\noutcomes import of {LINES} lines: {result['status']} in {result['seconds']:.1f} s; "
          f"{len(probes)} /healthz probes, worst {worst * 1000:.0f} ms, "
          f"failed {sum(1 for s, _ in probes if s != 200)}")
    assert result["status"] == 200, result["body"]
    assert result["body"]["imported"] == LINES
    assert probes and all(s == 200 for s, _ in probes), probes
    assert worst < 1.5, probes


def test_healthz_answers_during_an_offers_import(tmp_path, database_url):
    from tests.service.test_concurrency import _offers_document

    if on_postgresql():
        pytest.skip("the offers import's threading does not depend on the database (CI time)")

    key = admin_key(database_url)
    with served_process(tmp_path, database_url,
                        env={"IM_MAX_BODY_BYTES": str(64 * 1024 * 1024)}) as server:
        result, probes = _probe_during(server, key, "/v1/opportunities/import?source=resp",
                                       _offers_document(5000, "RESP"), "application/json")
    worst = max(s for _, s in probes) if probes else 0.0
    print(f"\noffers import of 5000: {result['status']} in {result['seconds']:.1f} s; "
          f"{len(probes)} /healthz probes, worst {worst * 1000:.0f} ms")
    assert result["status"] == 200 and result["body"]["created"] == 5000
    assert probes and all(s == 200 for s, _ in probes), probes
    assert worst < 1.5, probes
