"""API keys, roles and territories (DESIGN §9): who may see, rank or even learn of whom."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from insertion_match.service import db
from insertion_match.service.auth import PUBLIC_PATHS, Grant, InvalidGrant, Role, parse_grants
from insertion_match.service.schemas import EXAMPLE_BENEFICIARY

FLERS = {"insee": "61169"}  # commission Flers
ALENCON = {"insee": "61001"}  # commission Alençon
EVRY = {"insee": "91228"}  # Essonne


def _store(client, beneficiary_id: str, home: dict) -> None:
    res = client.put(f"/v1/beneficiaries/{beneficiary_id}",
                     json={**EXAMPLE_BENEFICIARY, "id": None, "home": home})
    assert res.status_code in (200, 201), res.text


@pytest.fixture(scope="module")
def people(client):
    """One stored person in Flers, one in Alençon, one in Essonne (stored by the admin)."""
    _store(client, "auth-flers-1", FLERS)
    _store(client, "auth-alencon-1", ALENCON)
    _store(client, "auth-evry-1", EVRY)
    return {"flers": "auth-flers-1", "alencon": "auth-alencon-1", "evry": "auth-evry-1"}


@pytest.fixture(scope="module")
def coach_flers(client_as):
    return client_as("coach", "61:Flers", name="coach Flers")


# -- keys --------------------------------------------------------------------------------------


def test_every_non_public_operation_requires_a_key(client, anonymous):
    """Walks the OpenAPI schema, so routes added later are covered without editing this test."""
    paths = client.get("/openapi.json").json()["paths"]
    checked = 0
    for path, operations in paths.items():
        if path in PUBLIC_PATHS:
            continue
        concrete = path.replace("{beneficiary_id}", "someone").replace("{action_id}", "x")
        concrete = concrete.replace("{", "").replace("}", "")
        for method in operations:
            res = anonymous.request(method.upper(), concrete)
            assert res.status_code == 401, (method, path, res.status_code)
            assert res.headers["content-type"].startswith("application/problem+json")
            assert "WWW-Authenticate" in res.headers
            checked += 1
    assert checked >= 8


def test_public_paths_need_no_key(anonymous):
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/readyz").status_code == 200
    assert anonymous.get("/docs").status_code == 200
    assert anonymous.get("/openapi.json").status_code == 200


@pytest.mark.parametrize("key", ["", "nonsense", "im_000000000000_wrong", "im_x_y", "a" * 500])
def test_bad_keys_are_401(anonymous, key):
    res = anonymous.get("/v1/actions", headers={"X-API-Key": key})
    assert res.status_code == 401


def test_key_works_as_bearer_and_revocation_is_immediate(client):
    key = _new_key(client, "coach", "61:Flers")
    res = client.get("/v1/actions", headers={"X-API-Key": "", "Authorization": f"Bearer {key}"})
    assert res.status_code == 200
    key_id = key.split("_")[1]
    assert db.revoke_api_key(client.app.state.im.sessions, key_id)
    res = client.get("/v1/actions", headers={"X-API-Key": key})
    assert res.status_code == 401


def test_keys_are_stored_hashed(client):
    key = _new_key(client, "platform", "61")
    key_id, secret = key.split("_", 2)[1:]
    with client.app.state.im.sessions() as session:
        row = session.scalars(select(db.ApiKeyRow).where(db.ApiKeyRow.key_id == key_id)).one()
    stored = " ".join(str(v) for v in (row.name, row.salt, row.secret_sha256, row.territories))
    assert secret not in stored and key not in stored
    assert len(row.secret_sha256) == 64


def _new_key(client, role, *territories):
    grants = [str(g) for g in parse_grants(Role(role), territories)]
    return db.create_api_key(client.app.state.im.sessions, f"test {role}", role, grants).key


def test_grants_are_validated():
    assert str(Grant.parse("61:Flers")) == "61:Flers"
    assert Grant.parse("61").covers("61", "Alençon")
    assert not Grant.parse("61:Flers").covers("61", "Alençon")
    assert not Grant.parse("61:Flers").covers("72", None)
    assert Grant.parse("*").covers("91", None)
    for bad in ("61:Paris", "Flers", "6", "61:", "*:Flers", "72:Flers", ""):
        with pytest.raises(InvalidGrant):
            parse_grants(Role.platform, [bad])
    with pytest.raises(InvalidGrant):
        parse_grants(Role.coach, ["*"])
    with pytest.raises(InvalidGrant):
        parse_grants(Role.coach, [])
    with pytest.raises(InvalidGrant):
        parse_grants(Role.admin, ["61"])
    assert parse_grants(Role.evaluator, []) == ()


# -- coach: scoped to territories, and the rest does not exist -----------------------------------


def test_coach_sees_and_ranks_people_of_their_territory(coach_flers, people):
    pid = people["flers"]
    assert coach_flers.get(f"/v1/beneficiaries/{pid}").status_code == 200
    res = coach_flers.post("/v1/recommendations", json={"beneficiary_id": pid, "limit": 3})
    assert res.status_code == 200 and res.json()["items"]
    assert coach_flers.get(f"/v1/beneficiaries/{pid}/export").status_code == 200
    res = coach_flers.put(f"/v1/beneficiaries/{pid}",
                          json={**EXAMPLE_BENEFICIARY, "id": None, "home": FLERS, "age": 40})
    assert res.status_code == 200


def _same_answer(a, b) -> None:
    assert a.status_code == b.status_code
    assert a.json() == b.json()
    assert a.headers["content-type"] == b.headers["content-type"]


@pytest.mark.parametrize("other", ["alencon", "evry"])
def test_coach_cannot_learn_of_a_person_elsewhere(coach_flers, people, other):
    """Read, rank, export, erase, overwrite: each answers exactly as for an id never stored."""
    pid, ghost = people[other], "never-stored-anywhere"
    for method, suffix, body in [
        ("GET", "", None), ("GET", "/export", None), ("DELETE", "", None),
        ("PUT", "", {**EXAMPLE_BENEFICIARY, "id": None, "home": FLERS}),
    ]:
        real = coach_flers.request(method, f"/v1/beneficiaries/{pid}{suffix}", json=body)
        unknown = coach_flers.request(method, f"/v1/beneficiaries/{ghost}{suffix}", json=body)
        if method == "PUT":  # ids are scoped per territory: both are free ids here (201)
            assert unknown.status_code == real.status_code == 201
            assert {k for k in real.json()} == {k for k in unknown.json()}
            assert real.json()["profile"] == {**unknown.json()["profile"], "id": pid}
            mine = coach_flers.get(f"/v1/beneficiaries/{pid}").json()
            assert mine["commission"] == "Flers" and mine["profile"]["age"] == real.json()[
                "profile"]["age"]  # the coach's own new person, nothing of the other one
            assert coach_flers.get(f"/v1/beneficiaries/{pid}/export").json()["recommendations"] == []
            assert coach_flers.delete(f"/v1/beneficiaries/{pid}").status_code == 204
            assert coach_flers.delete(f"/v1/beneficiaries/{ghost}").status_code == 204
            continue
        _same_answer(real, unknown)
        assert real.status_code == 404
    real = coach_flers.post("/v1/recommendations", json={"beneficiary_id": pid})
    unknown = coach_flers.post("/v1/recommendations", json={"beneficiary_id": ghost})
    _same_answer(real, unknown)
    listed = coach_flers.get("/v1/beneficiaries", params={"limit": 500}).json()["items"]
    assert pid not in {p["id"] for p in listed}
    assert people["flers"] in {p["id"] for p in listed}
    # Nothing was erased or changed by those attempts.
    assert coach_flers.get(f"/v1/beneficiaries/{people['flers']}").status_code == 200


def test_person_of_elsewhere_is_untouched_by_a_coach(client, coach_flers, people):
    before = client.get(f"/v1/beneficiaries/{people['alencon']}").json()
    coach_flers.delete(f"/v1/beneficiaries/{people['alencon']}")
    assert coach_flers.put(f"/v1/beneficiaries/{people['alencon']}",
                           json={**EXAMPLE_BENEFICIARY, "id": None, "home": FLERS}
                           ).status_code == 201  # a new person of Flers under the same id
    assert coach_flers.delete(f"/v1/beneficiaries/{people['alencon']}").status_code == 204
    after = client.get(f"/v1/beneficiaries/{people['alencon']}").json()
    assert after == before


def test_coach_cannot_rank_or_store_an_inline_person_elsewhere(coach_flers):
    res = coach_flers.post("/v1/recommendations",
                           json={"beneficiary": {**EXAMPLE_BENEFICIARY, "home": ALENCON}})
    assert res.status_code == 403
    assert res.headers["content-type"].startswith("application/problem+json")
    res = coach_flers.put("/v1/beneficiaries/auth-new-1",
                          json={**EXAMPLE_BENEFICIARY, "id": None, "home": ALENCON})
    assert res.status_code == 403
    res = coach_flers.post("/v1/recommendations",
                           json={"beneficiary": {**EXAMPLE_BENEFICIARY, "home": FLERS}})
    assert res.status_code == 200


def test_coach_of_two_territories(client_as, people):
    coach = client_as("coach", "61:Flers", "61:Alençon")
    assert coach.get(f"/v1/beneficiaries/{people['alencon']}").status_code == 200
    assert coach.get(f"/v1/beneficiaries/{people['flers']}").status_code == 200
    assert coach.get(f"/v1/beneficiaries/{people['evry']}").status_code == 404


def test_coach_may_not_batch(coach_flers):
    res = coach_flers.post("/v1/recommendations/batch",
                           json={"requests": [{"beneficiary": {"home": FLERS}}]})
    assert res.status_code == 403


# -- platform, evaluator, admin ------------------------------------------------------------------


def test_platform_has_its_departements_and_batch(client_as, people):
    platform = client_as("platform", "61")
    assert platform.get(f"/v1/beneficiaries/{people['alencon']}").status_code == 200
    assert platform.get(f"/v1/beneficiaries/{people['flers']}").status_code == 200
    assert platform.get(f"/v1/beneficiaries/{people['evry']}").status_code == 404
    res = platform.post("/v1/recommendations/batch", json={"requests": [
        {"beneficiary_id": people["flers"], "limit": 2},
        {"beneficiary_id": people["evry"], "limit": 2},
    ]})
    assert res.status_code == 200
    lines = res.text.splitlines()
    assert [line.count('"status": 200') for line in lines] == [1, 0]


def test_evaluator_gets_aggregates_only(client_as, people):
    evaluator = client_as("evaluator", "*")
    assert evaluator.get("/v1/actions", params={"limit": 2}).status_code == 200
    stats = evaluator.get("/v1/stats/recommendations")
    assert stats.status_code == 200 and stats.json()["total"] >= 0
    for method, path, body in [
        ("GET", f"/v1/beneficiaries/{people['flers']}", None),
        ("GET", "/v1/beneficiaries", None),
        ("GET", f"/v1/beneficiaries/{people['flers']}/export", None),
        ("DELETE", f"/v1/beneficiaries/{people['flers']}", None),
        ("PUT", "/v1/beneficiaries/eval-1", {"home": FLERS}),
        ("POST", "/v1/recommendations", {"beneficiary": {"home": FLERS}}),
        ("POST", "/v1/recommendations", {"beneficiary_id": people["flers"]}),
        ("POST", "/v1/recommendations/batch", {"requests": [{"beneficiary": {"home": FLERS}}]}),
    ]:
        res = evaluator.request(method, path, json=body)
        assert res.status_code == 403, (method, path)
        assert "flers" not in res.text.lower()


def test_evaluator_is_denied_by_default_on_unmarked_routes(client):
    """A router added later (no role check at all) serves the evaluator only on the routes
    marked ``aggregates_only``; every other role gets both."""
    from fastapi import APIRouter, Depends, FastAPI
    from fastapi.testclient import TestClient

    from insertion_match.service.auth import aggregates_only, authenticate

    router = APIRouter()

    @router.get("/unmarked")
    def unmarked() -> dict:
        return {"personal": True}

    @router.get("/marked")
    @aggregates_only
    def marked() -> dict:
        return {"count": 1}

    app = FastAPI()
    app.state.im = client.app.state.im
    app.include_router(router, dependencies=[Depends(authenticate)])
    evaluator = TestClient(app, raise_server_exceptions=False,
                           headers={"X-API-Key": _new_key(client, "evaluator", "*")})
    coach = TestClient(app, headers={"X-API-Key": _new_key(client, "coach", "61")})
    assert evaluator.get("/marked").status_code == 200
    assert evaluator.get("/unmarked").status_code == 403
    assert coach.get("/marked").status_code == 200
    assert coach.get("/unmarked").status_code == 200


def test_stats_count_recommendations_per_departement(client, client_as, people):
    before = client.get("/v1/stats/recommendations").json()
    client.post("/v1/recommendations", json={"beneficiary_id": people["evry"], "limit": 1})
    after = client.get("/v1/stats/recommendations").json()
    assert after["total"] == before["total"] + 1
    orne_only = client_as("evaluator", "61").get("/v1/stats/recommendations").json()
    assert {g["department"] for g in orne_only["groups"]} <= {"61"}
    assert client_as("coach", "61").get("/v1/stats/recommendations").status_code == 403


def test_admin_sees_everyone(client, people):
    for pid in people.values():
        assert client.get(f"/v1/beneficiaries/{pid}").status_code == 200
