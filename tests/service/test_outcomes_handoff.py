"""Orientation hand-off (DORA) through the HTTP API: an outcome carries the data·inclusion
service id and DORA's orientation status, mapped to ours, stored and read back (issue 12,
item 4). Runs on SQLite, and on PostgreSQL with IM_TEST_DATABASE_URL."""

from __future__ import annotations

import pytest

PERSON = "handoff-flers-1"
ACTION = "flers-mobylis-permis-b"
DI = "dora:5f0d8a42-handoff"


@pytest.fixture(scope="module")
def stored(client):
    body = {"home": {"commune": "Flers", "postcode": "61100"}, "freins": {"mobilite": 3}}
    assert client.put(f"/v1/beneficiaries/{PERSON}", json=body).status_code in (200, 201)
    return PERSON


def _post(client, **event):
    return client.post("/v1/outcomes", json={"beneficiary_id": PERSON, "item_id": ACTION,
                                             **event})


@pytest.mark.parametrize("dora, ours, reason", [
    ("ouverte", "proposed", None),
    ("VALIDÉE", "accepted", None),  # as DORA writes it
    ("validee", "accepted", None),  # no accent
])
def test_dora_status_maps_to_ours(client, stored, dora, ours, reason):
    res = _post(client, occurred_on="2024-04-01", di_service_id=DI, orientation_status=dora)
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["status"] == ours and body["refusal_reason"] == reason
    assert body["di_service_id"] == DI
    assert body["orientation_status"] == {"ouverte": "ouverte"}.get(dora, "validée")


def test_a_refused_orientation_keeps_dora_reasons_and_maps_the_most_telling(client, stored):
    res = _post(client, occurred_on="2024-04-02", di_service_id=DI,
                orientation_status="refusée",
                orientation_refusal_reasons=["autre", "bénéficiaire-non-mobile"])
    assert res.status_code == 201, res.text
    body = res.json()
    assert (body["status"], body["refusal_reason"]) == ("refused", "not_mobile")
    assert body["orientation_refusal_reasons"] == ["autre", "bénéficiaire-non-mobile"]
    # Without any reason DORA allows: our reason is "other".
    bare = _post(client, occurred_on="2024-04-03", orientation_status="refusée").json()
    assert (bare["status"], bare["refusal_reason"]) == ("refused", "other")
    # Read back from the database, with the rest of the person's events.
    listed = client.get("/v1/outcomes", params={"beneficiary_id": PERSON}).json()["items"]
    again = next(e for e in listed if e["id"] == body["id"])
    assert again["di_service_id"] == DI and again["orientation_status"] == "refusée"
    assert again["orientation_refusal_reasons"] == ["autre", "bénéficiaire-non-mobile"]


def test_a_later_step_of_a_validated_orientation_is_accepted(client, stored):
    res = _post(client, occurred_on="2024-05-01", status="entered", orientation_status="validée",
                di_service_id=DI)
    assert res.status_code == 201 and res.json()["status"] == "entered"


@pytest.mark.parametrize("event, path, words", [
    ({"orientation_status": "ouverte", "status": "accepted"}, "body", "contradicts"),
    ({"orientation_status": "peut-être"}, "orientation_status", ""),
    ({"orientation_status": "validée", "orientation_refusal_reasons": ["autre"]}, "body",
     "only for a 'refusée'"),
    ({"orientation_status": "refusée", "orientation_refusal_reasons": ["trop loin"]}, "body",
     "unknown DORA refusal reason"),
    ({"status": "proposed", "di_service_id": "pas un id"}, "di_service_id", ""),
    ({}, "status", ""),  # neither status nor orientation_status
])
def test_inconsistent_handoffs_are_422_with_the_field(client, stored, event, path, words):
    res = _post(client, occurred_on="2024-04-01", **event)
    assert res.status_code == 422, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    errors = res.json()["errors"]
    assert any(e["path"] == path and words in e["message"] for e in errors), errors
    assert all(e["message_fr"] for e in errors)


CSV = (
    "beneficiary_id,item_id,occurred_on,di_service_id,orientation_status,"
    "orientation_refusal_reasons\n"
    "handoff-csv-1,flers-mobylis-permis-b,2024-01-05,dora:aa11,ouverte,\n"
    "handoff-csv-1,flers-mobylis-permis-b,2024-01-12,dora:aa11,REFUSÉE,"
    "freins-périphériques|autre\n"
    "handoff-csv-2,flers-mobylis-permis-b,2024-02-01,dora:bb22,validée,\n"
)


def test_csv_import_of_dora_orientations(client):
    res = client.post("/v1/outcomes/import", content=CSV.encode(),
                      headers={"content-type": "text/csv"})
    assert res.status_code == 200, res.text
    assert res.json()["imported"] == 3
    events = client.get("/v1/outcomes", params={"beneficiary_id": "handoff-csv-1"}).json()
    got = [(e["status"], e["refusal_reason"], e["orientation_status"], e["di_service_id"],
            e["orientation_refusal_reasons"]) for e in events["items"]]
    assert got == [("proposed", None, "ouverte", "dora:aa11", []),
                   ("refused", "incompatible_frein", "refusée", "dora:aa11",
                    ["freins-périphériques", "autre"])]


def test_csv_import_reports_every_bad_handoff_line(client):
    bad = CSV + ("handoff-csv-3,flers-mobylis-permis-b,2024-02-01,dora:cc33,validée,autre\n"
                 "handoff-csv-3,flers-mobylis-permis-b,2024-02-02,,,\n")
    res = client.post("/v1/outcomes/import", content=bad.encode(),
                      headers={"content-type": "text/csv"})
    assert res.status_code == 422
    paths = [e["path"] for e in res.json()["errors"]]
    assert paths[0].startswith("line 5:") and paths[-1] == "line 6: status"
    assert client.get("/v1/outcomes", params={"beneficiary_id": "handoff-csv-3"}).json()[
        "total"] == 0
