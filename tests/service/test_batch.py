"""POST /v1/recommendations/batch: NDJSON, one line per person, per-person problems."""

from __future__ import annotations

import json

import pytest

from insertion_match.service import db
from insertion_match.service.schemas import EXAMPLE_BENEFICIARY

FLERS = {"insee": "61169"}


@pytest.fixture(scope="module")
def platform(client, client_as):
    client.put("/v1/beneficiaries/batch-stored-1",
               json={**EXAMPLE_BENEFICIARY, "id": None, "home": FLERS})
    client.put("/v1/beneficiaries/batch-evry-1",
               json={**EXAMPLE_BENEFICIARY, "id": None, "home": {"insee": "91228"}})
    return client_as("platform", "61", name="Orne emploi")


def _lines(res) -> list[dict]:
    assert res.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in res.text.splitlines()]


def test_batch_answers_one_line_per_request_in_order(platform, client):
    requests = [
        {"beneficiary": {**EXAMPLE_BENEFICIARY, "id": "batch-inline-1"}, "limit": 3},
        {"beneficiary_id": "batch-stored-1", "limit": 2},
        {"beneficiary_id": "batch-never-stored"},
        {"beneficiary_id": "batch-evry-1"},  # exists, but outside the platform's "61"
        {"beneficiary": {"home": {"commune": "Qwertyville"}}},
        {"beneficiary": {"home": {"insee": "91228"}}},
    ]
    before = len(db.recommendation_log(client.app.state.im.sessions, limit=10_000))
    res = platform.post("/v1/recommendations/batch", json={"requests": requests})
    assert res.status_code == 200
    lines = _lines(res)
    assert [line["index"] for line in lines] == list(range(len(requests)))
    assert [line["status"] for line in lines] == [200, 200, 404, 404, 422, 403]

    single = platform.post("/v1/recommendations", json=requests[0]).json()
    assert lines[0]["recommendation"]["items"] == single["items"]
    assert len(lines[1]["recommendation"]["items"]) == 2
    # Unknown and out-of-territory are the same line but for the index.
    assert lines[2]["problem"] == lines[3]["problem"]
    assert lines[4]["problem"]["errors"][0]["path"] == "requests.4.beneficiary.home.commune"
    assert lines[4]["problem"]["suggestions"]
    for line in lines:
        assert ("recommendation" in line) != ("problem" in line)

    rows = db.recommendation_log(client.app.state.im.sessions, limit=10_000)
    assert len(rows) == before + 3  # the two batch successes and the single call
    assert {r.actor_name for r in rows[:3]} == {"Orne emploi"}


def test_batch_can_be_read_as_a_stream(platform):
    body = {"requests": [{"beneficiary": {"home": FLERS}, "limit": 1}] * 5}
    with platform.stream("POST", "/v1/recommendations/batch", json=body) as res:
        assert res.status_code == 200
        lines = [json.loads(line) for line in res.iter_lines() if line]
    assert [line["status"] for line in lines] == [200] * 5


def test_batch_size_is_bounded(platform, client):
    limit = client.app.state.im.settings.batch_max
    body = {"requests": [{"beneficiary": {"home": FLERS}}] * (limit + 1)}
    res = platform.post("/v1/recommendations/batch", json=body)
    assert res.status_code == 422
    assert res.json()["errors"][0]["path"] == "requests"
    assert res.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("body, path", [
    ({"requests": []}, "requests"),
    ({"requests": [{"beneficiary": {"home": FLERS}}, {"beneficiary": {"home": FLERS, "age": 7}}]},
     "requests.1.beneficiary.age"),
    ({"requests": [{}]}, "requests.0"),
    ({}, "requests"),
])
def test_malformed_batch_is_one_422(platform, body, path):
    res = platform.post("/v1/recommendations/batch", json=body)
    assert res.status_code == 422
    assert path in [e["path"] for e in res.json()["errors"]]
