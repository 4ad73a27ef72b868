"""Stored beneficiaries: create, replace, read, recommend by id, erase."""

from __future__ import annotations

from insertion_match.service.schemas import EXAMPLE_BENEFICIARY


def test_lifecycle(client):
    profile = {**EXAMPLE_BENEFICIARY, "id": None}
    created = client.put("/v1/beneficiaries/life-1", json=profile)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"] == "life-1" and body["department"] == "61" and body["commission"] == "Flers"
    assert body["profile"]["freins"] == EXAMPLE_BENEFICIARY["freins"]

    replaced = client.put("/v1/beneficiaries/life-1", json={**profile, "age": 35})
    assert replaced.status_code == 200 and replaced.json()["profile"]["age"] == 35

    by_id = client.post("/v1/recommendations", json={"beneficiary_id": "life-1", "limit": 5})
    inline = client.post("/v1/recommendations",
                         json={"beneficiary": {**profile, "age": 35, "id": "life-1"}, "limit": 5})
    assert by_id.status_code == 200
    assert [i["id"] for i in by_id.json()["items"]] == [i["id"] for i in inline.json()["items"]]

    assert client.delete("/v1/beneficiaries/life-1").status_code == 204
    assert client.get("/v1/beneficiaries/life-1").status_code == 404
    assert client.delete("/v1/beneficiaries/life-1").status_code == 404
    gone = client.post("/v1/recommendations", json={"beneficiary_id": "life-1"})
    assert gone.status_code == 404


def test_put_rejects_mismatched_id_and_unknown_commune(client):
    res = client.put("/v1/beneficiaries/a-1", json={"id": "b-2", "home": {"insee": "61169"}})
    assert res.status_code == 422 and res.json()["errors"][0]["path"] == "id"
    res = client.put("/v1/beneficiaries/a-1", json={"home": {"commune": "Qwertyville"}})
    assert res.status_code == 422 and res.json()["errors"][0]["path"] == "home.commune"
    res = client.put("/v1/beneficiaries/bad%20id", json={"home": {"insee": "61169"}})
    assert res.status_code == 422
    assert client.get("/v1/beneficiaries/a-1").status_code == 404
