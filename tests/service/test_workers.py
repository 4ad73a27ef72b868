"""Several workers (``insertion-match serve --workers N``) as a supported mode (issue 9).

Two workers started together on an empty database: one migrates and seeds, the other waits
(start-up lock), both serve; every line they write is the service's JSON, without the
beneficiary id of a path nor a traceback or SQL text. Before, the second worker died on a
duplicate key of the demo offers, and the access log carried the ids in paths.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import on_postgresql
from tests.service.servers import admin_key, served_process

NAME_ID = "Jean.Dupont-1985"


@pytest.mark.parametrize("plain_uvicorn", [False, True], ids=["serve", "uvicorn"])
def test_two_workers_start_on_an_empty_database_and_log_no_id(tmp_path, database_url,
                                                              plain_uvicorn):
    if plain_uvicorn and on_postgresql():
        pytest.skip("the logging of plain uvicorn does not depend on the database (CI time)")
    key = admin_key(database_url)  # migrates only: the catalogue and the offers are not there
    statuses = []
    with served_process(tmp_path, database_url, workers=2, plain_uvicorn=plain_uvicorn,
                        demo_offers=True) as server, \
            httpx.Client(base_url=server.base, headers={"X-API-Key": key}, timeout=60) as http:
        for i in range(6):
            statuses.append(http.put(f"/v1/beneficiaries/{NAME_ID}",
                                     json={"home": {"insee": "61169"}, "age": 30 + i}
                                     ).status_code)
            statuses.append(http.get(f"/v1/beneficiaries/{NAME_ID}").status_code)
            statuses.append(http.get(f"/v1/beneficiaries/{NAME_ID}x/export").status_code)
        ready = http.get("/readyz").json()
    assert statuses.count(201) == 1 and 404 in statuses, statuses
    assert all(s < 500 for s in statuses), statuses
    assert ready["actions"] > 100
    lines = [line for line in server.output if line.strip()]
    if plain_uvicorn:  # uvicorn's parent process logs its own lines (no request, no person)
        parent = [line for line in lines if not line.startswith("{")]
        assert all(line.startswith("INFO:") for line in parent), parent
        lines = [line for line in lines if line.startswith("{")]
    records = [json.loads(line) for line in lines]  # every worker line is JSON
    assert sum(1 for r in records if r["msg"] == "engine ready") == 2, lines
    assert sum(1 for r in records if r["msg"] == "demo offers imported") == 1, lines
    assert sum(1 for r in records if r["msg"] == "embedded catalogue imported") == 1, lines
    assert any(r.get("path") == "/v1/beneficiaries/{beneficiary_id}" for r in records)
    text = "\n".join(lines)
    for secret in ("Jean", "Dupont", "1985", "Traceback", "SELECT", "INSERT"):
        assert secret not in text, secret
    print(f"\ntwo workers: started, {len(records)} log lines, all JSON, no id")
