"""Offers through the HTTP API and the CLI: demo offers, multi-kind recommendations, imports,
reverse matching (``GET /v1/opportunities/{id}/candidates``)."""

from __future__ import annotations

import json
import math

import pytest

from insertion_match.service import db
from insertion_match.service.schemas import EXAMPLE_BENEFICIARY
from tests.features.offer_records import offer


def _opportunity_ids(client, **params):
    page = client.get("/v1/opportunities", params={"limit": 500, **params}).json()
    return page


def test_demo_offers_are_served(client):
    page = _opportunity_ids(client, department="61", kind="job", q="démo")
    assert page["total"] == 700  # the demo employers are all "Employeur fictif … (démo)"
    assert all(o["synthetic"] and o["source"] == "demo-synthetic" for o in page["items"])
    one = page["items"][0]["id"]
    assert client.get(f"/v1/opportunities/{one}").json()["id"] == one
    missing = client.get("/v1/opportunities/demo-synthetic:NOPE")
    assert missing.status_code == 404 and missing.json()["detail"] == \
        "aucune offre « demo-synthetic:NOPE »"
    assert client.get("/v1/opportunities/bad id").status_code == 422
    k22 = _opportunity_ids(client, rome="K22")
    assert k22["total"] > 0 and all(o["rome_code"].startswith("K22") for o in k22["items"])
    assert client.get("/v1/opportunities", params={"kind": "nope"}).status_code == 422


def test_recommendations_of_several_kinds(client):
    body = {"beneficiary": EXAMPLE_BENEFICIARY, "kinds": ["job", "action", "immersion"],
            "limit": 5, "include_excluded": True}
    res = client.post("/v1/recommendations", json=body)
    assert res.status_code == 200, res.text
    data = res.json()
    assert [c["kind"] for c in data["counts"]] == ["job", "action", "immersion"]
    kinds = [i["kind"] for i in data["items"]]
    assert kinds == sorted(kinds, key=["job", "action", "immersion"].index)
    for item in data["items"]:
        assert math.isclose(sum(r["contribution"] for r in item["reasons"]), item["score"],
                            abs_tol=1e-6)
        assert ("opportunity" in item) == (item["kind"] != "action")
    job = next(i for i in data["items"] if i["kind"] == "job")
    assert job["opportunity"]["synthetic"] is True and job["opportunity"]["rome_code"]
    assert any(w["code"] == "synthetic" for w in job["warnings"])
    # The person has no licence: licence-requiring offers are excluded, with the reason.
    licence = [e for e in data["excluded"] if e["kind"] == "job" and any(
        r["code"] == "eligibility.driving_licence" for r in e["reasons"])]
    assert licence and all(r["label"] for e in licence for r in e["reasons"])
    assert any(lv["unlocks_kind"] == "opportunity" and lv["change"] == "licence_vehicle"
               for lv in data["levers"])
    assert "+" in data["model"]["name"]  # both scorers named


def test_action_only_response_keeps_its_shape(client):
    res = client.post("/v1/recommendations", json={"beneficiary": EXAMPLE_BENEFICIARY})
    data = res.json()
    assert all("opportunity" not in i for i in data["items"])
    assert data["counts"] == [{"kind": "action", "candidates": data["candidates"],
                               "eligible": data["eligible"], "returned": len(data["items"])}]


def _import(client, payload, **params):
    content = payload if isinstance(payload, str) else json.dumps(payload)
    ctype = "text/csv" if params.pop("csv", False) else "application/json"
    return client.post("/v1/opportunities/import", params={"source": "apitest", **params},
                       content=content.encode(), headers={"content-type": ctype})


def _stored(client, source="apitest"):
    state = client.app.state.im
    with state.sessions() as session:
        rows = session.query(db.OpportunityRow).filter_by(source=source).all()
        return {r.id: (r.content_sha256, r.updated_at) for r in rows}


def test_import_is_idempotent_and_served_at_once(client):
    records = [offer(id="API1"), offer(id="API2", romeCode="N1101", intitule="Cariste H/F",
                                       permis=[])]
    first = _import(client, records)
    assert first.status_code == 200, first.text
    assert first.json() | {"rejected": []} == {
        "source": "apitest", "imported": True, "received": 2, "valid": 2, "created": 2,
        "updated": 0, "unchanged": 0, "rejected": []}
    before = _stored(client)
    again = _import(client, records).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert _stored(client) == before  # not a row touched
    changed = _import(client, [records[0], offer(id="API2", nombrePostes=9)]).json()
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 1)
    # The new offers are served right away (the engine was swapped).
    assert client.get("/v1/opportunities/apitest:API1").status_code == 200
    res = client.post("/v1/recommendations", json={
        "beneficiary": {"home": {"commune": "Flers", "postcode": "61100"},
                        "mobility": {"driving_licence": "b", "vehicle": "car"}},
        "kinds": ["job"], "limit": 100, "include_excluded": True}).json()
    seen = {i["id"] for i in res["items"]} | {e["id"] for e in res["excluded"]}
    assert {"apitest:API1", "apitest:API2"} <= seen


def test_partial_failure_writes_nothing(client):
    before = _stored(client)
    records = [offer(id="PART1"), offer(id="PART2", lieuTravail={"commune": "99999"}),
               offer(id="PART1"), ["nonsense"]]
    res = _import(client, records)
    assert res.status_code == 422
    problem = res.json()
    assert res.headers["content-type"].startswith("application/problem+json")
    paths = {e["path"] for e in problem["errors"]}
    assert {"records.2.lieuTravail", "records.3.id", "records.4.record"} <= paths
    assert all(e["message_fr"] for e in problem["errors"])
    assert _stored(client) == before
    assert client.get("/v1/opportunities/apitest:PART1").status_code == 404
    skipped = _import(client, records, on_error="skip")
    assert skipped.status_code == 200
    body = skipped.json()
    assert body["created"] == 1 and len(body["rejected"]) == 3
    assert client.get("/v1/opportunities/apitest:PART1").status_code == 200


def test_import_bad_documents_and_csv(client):
    assert _import(client, "{not json").json()["errors"][0]["path"] == "body"
    assert _import(client, '"a string"').status_code == 422
    assert _import(client, "id;title\n1;x\n", csv=True).status_code == 422  # bad header
    csv = ("external_id,title,rome_code,insee,contract_type,hours_per_week\n"
           "CSV1,Cariste,N1101,61169,CDI,35\n")
    res = _import(client, csv, csv=True)
    assert res.status_code == 200 and res.json()["created"] == 1
    assert client.get("/v1/opportunities/apitest:CSV1").json()["contract_type"] == "CDI"


def test_only_platform_and_admin_import(client_as):
    coach = client_as("coach", "61:Flers")
    res = coach.post("/v1/opportunities/import", content=b"[]",
                     headers={"content-type": "application/json"})
    assert res.status_code == 403


REVERSE = {
    "rev-car": {"target_jobs": ["agent d'entretien"],
                "mobility": {"driving_licence": "b", "vehicle": "car", "max_travel_minutes": 45}},
    "rev-bus": {"target_jobs": ["K2205"], "mobility": {
        "driving_licence": "none", "vehicle": "none", "public_transport": True}},
    "rev-far": {"home": {"commune": "Alençon"}, "mobility": {
        "driving_licence": "none", "vehicle": "none", "public_transport": False,
        "max_travel_minutes": 20}},
}


@pytest.fixture
def stored_people(client):
    for pid, extra in REVERSE.items():
        body = {"home": {"commune": "Flers", "postcode": "61100"}, **extra}
        assert client.put(f"/v1/beneficiaries/{pid}", json=body).status_code in (200, 201)
    yield list(REVERSE)
    for pid in list(REVERSE) + ["rev-late"]:
        client.delete(f"/v1/beneficiaries/{pid}")


def _flers_offer(client, licence: bool):
    page = _opportunity_ids(client, insee="61169", kind="job", rome="K22")["items"]
    for o in page:
        if any(lic["category"] == "B" and lic["required"] for lic in o["licences"]) == licence:
            return o["id"]
    raise AssertionError("no such demo offer")


def test_reverse_matching_through_the_api(client, client_as, stored_people):
    offer_id = _flers_offer(client, licence=False)
    res = client.get(f"/v1/opportunities/{offer_id}/candidates",
                     params={"include_excluded": True, "department": "61"})
    assert res.status_code == 200, res.text
    data = res.json()
    ranked = [i["beneficiary_id"] for i in data["items"]]
    assert ranked[:2] == ["rev-car", "rev-bus"] or ranked[:2] == ["rev-bus", "rev-car"]
    for item in data["items"]:
        assert math.isclose(sum(r["contribution"] for r in item["reasons"]), item["score"],
                            abs_tol=1e-6)
    top = data["items"][0]
    assert any(r["code"] == "rome" and "métier visé" in r["label"] for r in top["reasons"])
    far = next(e for e in data["excluded"] if e["beneficiary_id"] == "rev-far")
    assert far["reasons"][0]["code"] == "eligibility.travel"
    # A licence-requiring offer: the person without a licence is excluded, with the reason.
    licensed = client.get(f"/v1/opportunities/{_flers_offer(client, licence=True)}/candidates",
                          params={"include_excluded": True, "commission": "Flers"}).json()
    assert "rev-bus" not in {i["beneficiary_id"] for i in licensed["items"]}
    bus = next(e for e in licensed["excluded"] if e["beneficiary_id"] == "rev-bus")
    assert "Permis B exigé" in [r["label"] for r in bus["reasons"]]
    # The caller's territory bounds the scope: a coach of Alençon sees no Flers person.
    alencon = client_as("coach", "61:Alençon").get(
        f"/v1/opportunities/{offer_id}/candidates", params={"include_excluded": True}).json()
    seen = {i["beneficiary_id"] for i in alencon["items"]} | {
        e["beneficiary_id"] for e in alencon["excluded"]}
    assert "rev-far" in seen and not seen & {"rev-car", "rev-bus"}
    # The people index follows the stored profiles.
    count = data["candidates"]
    assert client.put("/v1/beneficiaries/rev-late",
                      json={"home": {"insee": "61169"}}).status_code == 201
    more = client.get(f"/v1/opportunities/{offer_id}/candidates",
                      params={"department": "61"}).json()
    assert more["candidates"] == count + 1
    client.delete("/v1/beneficiaries/rev-late")
    assert client.get(f"/v1/opportunities/{offer_id}/candidates",
                      params={"department": "61"}).json()["candidates"] == count
    assert client.get("/v1/opportunities/demo-synthetic:NOPE/candidates").status_code == 404


def test_candidates_need_a_key(anonymous, client):
    offer_id = _flers_offer(client, licence=False)
    assert anonymous.get(f"/v1/opportunities/{offer_id}/candidates").status_code == 401


def test_cli_import(tmp_path, monkeypatch, capsys):
    from insertion_match.service.cli import main
    from insertion_match.service.settings import Settings

    monkeypatch.setenv("IM_ENVIRONMENT", "test")
    monkeypatch.setenv("IM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("IM_SEED_DEMO_OFFERS_ON_START", "false")
    good = tmp_path / "offers.json"
    good.write_text(json.dumps({"resultats": [offer(id="CLI1"), offer(id="CLI2")]}))
    assert main(["offers", "import", str(good)]) == 0
    assert "2 créée(s), 0 mise(s) à jour, 0 inchangée(s)" in capsys.readouterr().out
    assert main(["offers", "import", str(good)]) == 0
    assert "0 créée(s), 0 mise(s) à jour, 2 inchangée(s)" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([offer(id="CLI3"), offer(id="CLI4", romeCode="Z0000")]))
    assert main(["offers", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "enregistrement 2 (CLI4)" in err and "rien n'a été importé" in err
    sessions = db.init_db(db.make_engine(Settings().sqlalchemy_url))
    assert db.count_opportunities(sessions, source="france-travail") == 2
    assert main(["offers", "import", str(bad), "--skip-invalid"]) == 0
    assert db.count_opportunities(sessions, source="france-travail") == 3
    csv = tmp_path / "offers.csv"
    csv.write_text("external_id,title,rome_code,insee,expires_at\n"
                   "X1,Cariste,N1101,61001,\nX2,Cariste,N1101,61001,2020-01-31\n")
    assert main(["offers", "import", str(csv), "--source", "cd61"]) == 0
    assert db.count_opportunities(sessions, source="cd61") == 2
    capsys.readouterr()
    assert main(["offers", "purge-expired"]) == 0
    assert "offre(s) expirée(s) supprimée(s) : 1 " in capsys.readouterr().out
    assert db.count_opportunities(sessions, source="cd61") == 1
