"""Prescriptions and outcomes through the API: one event, a person's list, CSV import."""

from __future__ import annotations

import pytest

PERSON = "out-flers-1"
ACTION = "flers-mobylis-permis-b"


@pytest.fixture(scope="module")
def stored(client):
    body = {"home": {"commune": "Flers", "postcode": "61100"}, "freins": {"mobilite": 3}}
    assert client.put(f"/v1/beneficiaries/{PERSON}", json=body).status_code in (200, 201)
    return PERSON


def test_a_proposal_then_its_fate_inherits_rank_and_model(client, stored):
    proposed = client.post("/v1/outcomes", json={
        "beneficiary_id": stored, "item_id": ACTION, "status": "proposed",
        "occurred_on": "2024-03-01", "rank": 2, "model_name": "transparent-additive",
        "model_version": "1.0.0"})
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["source"] == "api" and proposed.json()["positive_exit"] is False
    exited = client.post("/v1/outcomes", json={
        "beneficiary_id": stored, "item_id": ACTION, "status": "exited",
        "exit_kind": "emploi_durable", "occurred_on": "2024-09-30"})
    assert exited.status_code == 201
    body = exited.json()
    assert (body["rank"], body["model_name"], body["model_version"]) == (
        2, "transparent-additive", "1.0.0")
    assert body["positive_exit"] is True
    listed = client.get("/v1/outcomes", params={"beneficiary_id": stored}).json()
    assert [e["status"] for e in listed["items"]][:2] == ["proposed", "exited"]
    assert listed["total"] >= 2


@pytest.mark.parametrize("event, path", [
    ({"status": "refused"}, "body"),  # a refusal needs its reason
    ({"status": "exited", "exit_kind": "emploi_durable", "refusal_reason": "other"}, "body"),
    ({"status": "proposed", "model_name": "x"}, "body"),  # name without version
    ({"status": "nope"}, "body.status"),
])
def test_inconsistent_events_are_422(client, stored, event, path):
    res = client.post("/v1/outcomes", json={"beneficiary_id": stored, "item_id": ACTION,
                                            "occurred_on": "2024-03-01", **event})
    assert res.status_code == 422
    assert res.headers["content-type"].startswith("application/problem+json")


def test_unknown_action_is_422_and_unknown_person_404(client, client_as, stored):
    res = client.post("/v1/outcomes", json={"beneficiary_id": stored, "item_id": "nope",
                                            "status": "proposed", "occurred_on": "2024-03-01"})
    assert res.status_code == 422 and res.json()["errors"][0]["path"] == "item_id"
    alencon = client_as("coach", "61:Alençon")
    res = alencon.post("/v1/outcomes", json={"beneficiary_id": stored, "item_id": ACTION,
                                             "status": "proposed", "occurred_on": "2024-03-01"})
    assert res.status_code == 404  # outside the coach's territory: as unknown
    assert alencon.get("/v1/outcomes", params={"beneficiary_id": stored}).status_code == 404
    flers = client_as("coach", "61:Flers")
    assert flers.get("/v1/outcomes", params={"beneficiary_id": stored}).status_code == 200
    assert client_as("evaluator", "*").get(
        "/v1/outcomes", params={"beneficiary_id": stored}).status_code == 403


CSV_OK = (
    "beneficiary_id,item_id,status,occurred_on,refusal_reason,exit_kind,rank,model_name,"
    "model_version\n"
    "csv-1,flers-mobylis-permis-b,proposed,2024-01-05,,,1,learned-additive-logit,1.0.0+abc\n"
    "csv-1,flers-mobylis-permis-b,refused,2024-01-12,not_mobile,,,,\n"
    "csv-2,flers-etape-primo-insertion-sociale,exited,2024-06-01,,sortie_dynamique,,,\n"
)


def test_csv_import_is_atomic_and_reports_every_bad_line(client):
    bad = CSV_OK + ("csv-3,flers-mobylis-permis-b,refused,2024-01-12,,,,,\n"
                    "csv-3,no-such-action,proposed,2024-13-01,,,,,\n")
    res = client.post("/v1/outcomes/import", content=bad.encode(),
                      headers={"content-type": "text/csv"})
    assert res.status_code == 422
    paths = [e["path"] for e in res.json()["errors"]]
    assert any(p.startswith("line 5:") for p in paths)
    assert any(p.startswith("line 6: occurred_on") for p in paths)
    assert "rien n'a été enregistré" in res.json()["detail"]
    assert client.get("/v1/outcomes", params={"beneficiary_id": "csv-1"}).json()["total"] == 0

    dry = client.post("/v1/outcomes/import", params={"dry_run": True}, content=CSV_OK.encode(),
                      headers={"content-type": "text/csv"})
    assert dry.json() == {"imported": 0, "valid": 3, "dry_run": True}
    ok = client.post("/v1/outcomes/import", content=CSV_OK.encode(),
                     headers={"content-type": "text/csv"})
    assert ok.status_code == 200 and ok.json()["imported"] == 3
    events = client.get("/v1/outcomes", params={"beneficiary_id": "csv-1"}).json()["items"]
    assert [e["source"] for e in events] == ["csv", "csv"]
    assert events[1]["model_version"] == "1.0.0+abc"  # inherited within the same file


def test_csv_with_unknown_columns_is_rejected_whole(client, client_as):
    res = client.post("/v1/outcomes/import", content=b"who,what\nx,y\n",
                      headers={"content-type": "text/csv"})
    assert res.status_code == 422 and "unknown column" in res.json()["detail"]
    coach = client_as("coach", "61:Flers")
    res = coach.post("/v1/outcomes/import", content=CSV_OK.encode(),
                     headers={"content-type": "text/csv"})
    assert res.status_code == 403  # bulk import: platform or admin
