"""The HTTP API through the real app (TestClient), on a fresh SQLite file."""

from __future__ import annotations

import json
import math

import pytest

from insertion_match.service.schemas import EXAMPLE_BENEFICIARY


def _post(client, body):
    return client.post("/v1/recommendations", json=body)


def test_health_ready_and_docs(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    assert ready.json()["actions"] > 100
    schema = client.get("/openapi.json").json()
    assert "/v1/recommendations" in schema["paths"]
    assert client.get("/docs").status_code == 200


def test_design_example_answers_with_explained_items(client):
    res = _post(client, {"beneficiary": EXAMPLE_BENEFICIARY, "kinds": ["action"], "limit": 10})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["beneficiary_id"] == "b-0042"
    assert body["home"]["insee"] == "61168"
    assert 1 <= len(body["items"]) <= 10
    assert [i["rank"] for i in body["items"]] == list(range(1, len(body["items"]) + 1))
    for item in body["items"]:
        assert item["kind"] == "action"
        assert math.isclose(sum(r["contribution"] for r in item["reasons"]), item["score"],
                            abs_tol=1e-6)
        assert all(r["label"] for r in item["reasons"] + item["warnings"])
    # The person has a blocking mobility frein: a mobility action is in the top 3.
    assert any("mobilite" in i["freins_addressed"] for i in body["items"][:3])
    # No Essonne or Sarthe action for an Orne resident.
    ids = {i["id"] for i in body["items"]}
    assert not any(i.startswith(("ess-", "sarthe-")) for i in ids)


def test_include_excluded_lists_reasons(client):
    body = dict(EXAMPLE_BENEFICIARY)
    res = _post(client, {"beneficiary": body, "include_excluded": True, "limit": 100})
    assert res.status_code == 200
    excluded = res.json()["excluded"]
    assert excluded, "a Flers person is excluded from at least the Alençon PLICS actions"
    shown = {i["id"] for i in res.json()["items"]}
    for ex in excluded:
        assert ex["id"] not in shown
        assert ex["reasons"] and all(r["code"] and r["label"] for r in ex["reasons"])


def test_unknown_commune_answers_422_with_suggestions(client):
    res = _post(client, {"beneficiary": {"home": {"commune": "La Ferté-Macxyz"}}})
    assert res.status_code == 422
    body = res.json()
    assert body["errors"][0]["path"] == "beneficiary.home.commune"
    assert any(s["insee"] == "61168" for s in body["suggestions"])
    assert res.headers["content-type"].startswith("application/problem+json")


def test_misspelt_commune_is_understood(client):
    res = _post(client, {"beneficiary": {"home": {"commune": "la ferte mace"}}})
    assert res.status_code == 200
    assert res.json()["home"]["insee"] == "61168"


def test_unknown_kind_is_a_clear_422(client):
    # Every kind of DESIGN §6 is served since issue 3 (offers): only unknown ones are refused.
    res = _post(client, {"beneficiary": {"home": {"insee": "61169"}}, "kinds": ["jobs"]})
    assert res.status_code == 422
    assert res.json()["errors"][0]["path"] == "kinds.0"


MALFORMED = [
    None, [], "x", 42, {}, {"beneficiary": None}, {"beneficiary": {}},
    {"beneficiary": {"home": {}}}, {"beneficiary": {"home": None}},
    {"beneficiary": {"home": {"commune": ""}}},
    {"beneficiary": {"home": {"postcode": "ABCDE"}}},
    {"beneficiary": {"home": {"insee": "99999"}}},
    {"beneficiary": {"home": {"commune": "Flers"}, "age": -3}},
    {"beneficiary": {"home": {"commune": "Flers"}, "age": "old"}},
    {"beneficiary": {"home": {"commune": "Flers"}, "freins": {"mobilite": 7}}},
    {"beneficiary": {"home": {"commune": "Flers"}, "freins": {"unknown_frein": 1}}},
    {"beneficiary": {"home": {"commune": "Flers"}, "freins": ["mobilite"]}},
    {"beneficiary": {"home": {"commune": "Flers"}, "orientation": "autre"}},
    {"beneficiary": {"home": {"commune": "Flers"}, "training_level": "2"}},
    {"beneficiary": {"home": {"commune": "Flers"}, "mobility": {"driving_licence": "c"}}},
    {"beneficiary": {"home": {"commune": "Flers"}, "mobility": {"max_travel_minutes": 1e309}}},
    {"beneficiary": {"home": {"commune": "Flers"}, "history": [{"item_id": "x"}]}},
    {"beneficiary": {"home": {"commune": "Flers"}, "history": "done"}},
    {"beneficiary": {"home": {"commune": "Flers"}, "family": {"children_under_3": -1}}},
    {"beneficiary": {"home": {"commune": "Flers"}, "target_jobs": [""]}},
    {"beneficiary": {"home": {"commune": "Flers"}, "nir": "1850761..."}},
    {"beneficiary": {"home": {"commune": "Flers"}}, "kinds": []},
    {"beneficiary": {"home": {"commune": "Flers"}}, "kinds": ["nope"]},
    {"beneficiary": {"home": {"commune": "Flers"}}, "limit": 0},
    {"beneficiary": {"home": {"commune": "Flers"}}, "limit": 100000},
    {"beneficiary": {"home": {"commune": "Flers"}}, "limit": "ten"},
    {"beneficiary": {"home": {"commune": "Flers"}}, "beneficiary_id": "b-1"},
    {"beneficiary_id": "bad id with spaces"},
    {"beneficiary": {"home": {"commune": "Saint-Denis"}}},
    {"beneficiary": {"home": {"commune": "x" * 500}}},
    {"beneficiary": {"home": {"commune": "Flers", "postcode": "91300"}}},
    {"beneficiary": {"home": {"commune": "Flers"}, "id": "Jean Dupont"}},
    {"beneficiary": {"home": {"commune": "\u0000\u0001"}}},
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_bodies_answer_422_with_a_path(client, body):
    # Sent as text so that values JSON libraries refuse to emit (Infinity) still reach the app.
    res = client.post("/v1/recommendations", content=json.dumps(body),
                      headers={"content-type": "application/json"})
    assert res.status_code == 422, res.text
    problem = res.json()
    assert problem["status"] == 422
    assert problem["errors"], problem
    for err in problem["errors"]:
        assert err["path"] and err["message"] and err["message_fr"]


def test_invalid_json_text_is_422(client):
    res = client.post("/v1/recommendations", content=b"{not json",
                      headers={"content-type": "application/json"})
    assert res.status_code == 422
    assert res.json()["errors"][0]["message_fr"]


def test_actions_listing_filters(client):
    all_ = client.get("/v1/actions", params={"limit": 500}).json()
    assert all_["total"] == len(all_["items"]) > 100
    orne = client.get("/v1/actions", params={"department": "61", "limit": 500}).json()
    assert orne["total"] > 0 and all(a["territory"]["department"] == "61" for a in orne["items"])
    mob = client.get("/v1/actions", params={"frein": "mobilite", "limit": 500}).json()
    assert mob["total"] > 0 and all("mobilite" in a["freins"] for a in mob["items"])
    # Text search ignores case and accents, over title, operator and description.
    text = client.get("/v1/actions", params={"q": "GARAGE itinerant", "limit": 500}).json()
    assert {a["id"] for a in text["items"]} >= {"flers-mobylis-garage-itinerant"}
    assert all("garage" in (a["title"] + a["description_fr"]).lower() for a in text["items"])
    operator = client.get("/v1/actions", params={"q": "mobylis", "limit": 500}).json()
    assert operator["total"] >= 3 and all(a["operator"] == "Mobylis" for a in operator["items"])
    serving = client.get("/v1/actions", params={"insee": "61169", "limit": 500}).json()
    assert all(a["territory"]["department"] == "61" for a in serving["items"])
    assert not any(a["territory"].get("commissions") == ["Alençon"] for a in serving["items"])
    page = client.get("/v1/actions", params={"limit": 5, "offset": 5}).json()
    assert len(page["items"]) == 5 and page["items"][0]["id"] == all_["items"][5]["id"]
    assert client.get("/v1/actions", params={"frein": "nope"}).status_code == 422
    one = all_["items"][0]["id"]
    assert client.get(f"/v1/actions/{one}").json()["id"] == one
    missing = client.get("/v1/actions/does-not-exist")
    assert missing.status_code == 404 and missing.json()["detail"] == \
        "aucune action « does-not-exist »"


def test_every_recommendation_is_audited_without_personal_data(client):
    from insertion_match.service import db

    state = client.app.state.im
    before = len(db.recommendation_log(state.sessions, limit=1000))
    res = _post(client, {"beneficiary": {**EXAMPLE_BENEFICIARY, "id": "audit-7"}, "limit": 3})
    assert res.status_code == 200
    rows = db.recommendation_log(state.sessions, limit=1000)
    assert len(rows) == before + 1
    last = rows[0]
    assert last.beneficiary_id == "audit-7"
    assert last.item_ids == [i["id"] for i in res.json()["items"]]
    assert not hasattr(last, "freins")
