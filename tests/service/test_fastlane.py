"""The fast lane (service/fastlane.py) answers exactly as the framework does.

Two apps on one state (one database, one engine): the default one, whose ``POST
/v1/recommendations`` and ``GET /healthz`` go through the fast lane, and one built with
``fast_lane=False``, which serves everything through FastAPI. Each request is sent to both:
same status, same headers, same body (the audit row's ``recommendation_id`` aside). The lane's
counter says which requests it answered itself, so each case checks it took the path it
should.
"""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from insertion_match.service import db
from insertion_match.service.app import create_app
from insertion_match.service.schemas import EXAMPLE_BENEFICIARY
from tests.conftest import add_key, fresh_database, make_settings

PATH = "/v1/recommendations"


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    with fresh_database(var) as url:
        fast_app = create_app(make_settings(var, url))
        with TestClient(fast_app) as fast:
            state = fast_app.state.im
            slow_app = create_app(make_settings(var, url, fast_lane=False), state=state)
            with TestClient(slow_app) as slow:
                yield fast, slow


def _keys(app, role: str, *territories: str) -> str:
    return add_key(app, role, *territories)


def _same(fast: TestClient, slow: TestClient, method: str, path: str, **kwargs):
    a = fast.request(method, path, **kwargs)
    b = slow.request(method, path, **kwargs)
    assert a.status_code == b.status_code, (a.text, b.text)
    assert dict(a.headers) | {"content-length": ""} == dict(b.headers) | {"content-length": ""}
    body_a, body_b = a.content, b.content
    if a.headers.get("content-type", "").endswith("json") and a.content:
        body_a, body_b = a.json(), b.json()
        if isinstance(body_a, dict):
            body_a.pop("recommendation_id", None)
            body_b.pop("recommendation_id", None)
    assert body_a == body_b
    return a


def _profile(**changes):
    return {**EXAMPLE_BENEFICIARY, **changes}


def test_ordinary_recommendations_take_the_lane_and_answer_as_the_framework(apps):
    fast, slow = apps
    lane = fast.app.fast_lane
    key = _keys(fast.app, "coach", "61")
    headers = {"X-API-Key": key}
    fast.post(PATH, json={"beneficiary": EXAMPLE_BENEFICIARY}, headers=headers)  # caches the key
    bodies = [
        {"beneficiary": EXAMPLE_BENEFICIARY},
        {"beneficiary": EXAMPLE_BENEFICIARY, "limit": 3, "include_excluded": True},
        {"beneficiary": _profile(freins={"sante": 3, "logement": 2})},
        {"beneficiary": _profile(home={"commune": "Flers"}), "kinds": ["action", "job"]},
        {"beneficiary": _profile(home={"insee": "91228"})},  # Évry: outside the key's 61 → 403
        {"beneficiary": _profile(home={"commune": "Nulle-Part-Sur-Mer"})},  # unknown place → 422
    ]
    for body in bodies:
        before = lane.served
        answer = _same(fast, slow, "POST", PATH, json=body, headers=headers)
        assert lane.served == before + 1, body  # answered by the lane itself
        assert answer.status_code in (200, 403, 422)
    statuses = [fast.post(PATH, json=b, headers=headers).status_code for b in bodies]
    assert statuses == [200, 200, 200, 200, 403, 422]
    bearer = {"Authorization": f"Bearer {key}"}
    before = lane.served
    _same(fast, slow, "POST", PATH, json=bodies[0], headers=bearer)
    assert lane.served == before + 1


def test_every_answer_of_the_lane_is_in_the_audit(apps):
    fast, _ = apps
    key = _keys(fast.app, "platform", "61")
    fast.post(PATH, json={"beneficiary": EXAMPLE_BENEFICIARY}, headers={"X-API-Key": key})
    ids = [fast.post(PATH, json={"beneficiary": EXAMPLE_BENEFICIARY},
                     headers={"X-API-Key": key}).json()["recommendation_id"] for _ in range(5)]
    logged = {r.id: r for r in db.recommendation_log(fast.app.state.im.sessions)}
    assert all(i in logged and logged[i].actor_role == "platform" for i in ids)


@pytest.mark.parametrize("case", [
    "no key", "wrong secret", "unknown key", "evaluator", "invalid body", "not json",
    "text/plain", "too large", "chunked", "stored id",
])
def test_what_the_lane_does_not_serve_goes_to_the_framework_untouched(apps, case):
    fast, slow = apps
    lane = fast.app.fast_lane
    key = _keys(fast.app, "admin")
    fast.post(PATH, json={"beneficiary": EXAMPLE_BENEFICIARY}, headers={"X-API-Key": key})
    headers = {"X-API-Key": key}
    kwargs: dict = {"json": {"beneficiary": EXAMPLE_BENEFICIARY}}
    if case == "no key":
        headers = {}
    elif case == "wrong secret":
        headers = {"X-API-Key": key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")}
    elif case == "unknown key":
        headers = {"X-API-Key": "im_000000000000_" + "x" * 40}
    elif case == "evaluator":
        headers = {"X-API-Key": _keys(fast.app, "evaluator", "*")}
        fast.post(PATH, json={"beneficiary": EXAMPLE_BENEFICIARY}, headers=headers)
    elif case == "invalid body":
        kwargs = {"json": {"beneficiary": {**EXAMPLE_BENEFICIARY, "freins": {"sante": 7}},
                           "limit": -1}}
    elif case == "not json":
        kwargs = {"content": b'{"beneficiary": ', "headers": {"Content-Type": "application/json"}}
    elif case == "text/plain":
        kwargs = {"content": json.dumps({"beneficiary": EXAMPLE_BENEFICIARY}).encode(),
                  "headers": {"Content-Type": "text/plain"}}
    elif case == "too large":
        kwargs = {"content": b'{"beneficiary": {}, "pad": "' + b"x" * 5_000_000 + b'"}',
                  "headers": {"Content-Type": "application/json"}}
    elif case == "chunked":
        raw = json.dumps({"beneficiary": EXAMPLE_BENEFICIARY}).encode()
        kwargs = {"content": iter([raw[:20], raw[20:]]),
                  "headers": {"Content-Type": "application/json"}}
    elif case == "stored id":
        kwargs = {"json": {"beneficiary_id": "nobody-here"}}
    if "headers" in kwargs:
        headers = {**kwargs.pop("headers"), **headers}
    before = lane.served
    if case == "chunked":  # an iterator is consumed once: send it to each app separately
        raw = json.dumps({"beneficiary": EXAMPLE_BENEFICIARY}).encode()
        a = fast.post(PATH, content=iter([raw[:20], raw[20:]]), headers=headers)
        b = slow.post(PATH, content=iter([raw[:20], raw[20:]]), headers=headers)
        assert a.status_code == b.status_code == 200
        assert a.json()["items"] == b.json()["items"]
    else:
        answer = _same(fast, slow, "POST", PATH, headers=headers, **kwargs)
        expected = {"no key": 401, "wrong secret": 401, "unknown key": 401, "evaluator": 403,
                    "invalid body": 422, "not json": 422, "text/plain": 422, "too large": 413,
                    "stored id": 404}[case]
        assert answer.status_code == expected, answer.text
    # "stored id" is served by the lane (it reads the database in the thread pool); the
    # others are the framework's
    assert lane.served == before + (1 if case == "stored id" else 0)


def test_healthz_and_its_access_line_are_the_same(apps, caplog):
    fast, slow = apps
    lane = fast.app.fast_lane
    before = lane.served
    with caplog.at_level(logging.INFO, logger="insertion_match.service"):
        _same(fast, slow, "GET", "/healthz")
    lines = [(r.method, r.path, r.status) for r in caplog.records if r.msg == "request"]
    assert lines == [("GET", "/healthz", 200)] * 2  # one line from each app, the same
    assert lane.served == before + 1


def test_the_lane_can_be_switched_off(apps):
    _, slow = apps
    assert slow.app.fast_lane is None


def test_the_lane_mirrors_the_route_dependencies():
    """The lane does by hand what the route's dependencies do (key, role, body): a dependency
    added to the route, or another set of roles, must be mirrored in fastlane.py first."""
    from fastapi.routing import APIRoute

    from insertion_match.service import fastlane
    from insertion_match.service.auth import authenticate
    from insertion_match.service.routes import recommendations

    route = next(r for r in recommendations.router.routes if isinstance(r, APIRoute)
                 and r.path == PATH and "POST" in r.methods)

    def calls(dependant):
        for d in dependant.dependencies:
            yield d.call
            yield from calls(d)

    found = [c for c in calls(route.dependant)
             if c.__module__.startswith("insertion_match")]
    names = sorted({c.__qualname__ for c in found})
    assert names == ["allow.<locals>._check", "authenticate", "get_state"], names
    check = next(c for c in found if c.__qualname__ == "allow.<locals>._check")
    roles = dict(zip(check.__code__.co_freevars, [c.cell_contents for c in check.__closure__]))
    assert roles["allowed"] == fastlane._ALLOWED
    assert authenticate in found
    assert [p.name for p in route.dependant.body_params] == ["body"]


def test_a_stalled_body_gets_the_middleware_408_after_one_timeout(apps, tmp_path):
    """The lane reads the body with the middleware's own function: a body that never comes
    is answered 408 after one wait for it (not a second one in the framework), with the same
    problem as the framework's."""
    import asyncio

    fast, _ = apps
    state = fast.app.state.im
    key = _keys(fast.app, "admin")
    fast.post(PATH, json={"beneficiary": EXAMPLE_BENEFICIARY}, headers={"X-API-Key": key})
    answers = {}
    for lane in (True, False):
        app = create_app(make_settings(tmp_path, "sqlite://", fast_lane=lane,
                                       body_timeout_seconds=0.3), state=state)
        app.state.im = state
        status, detail, waits = asyncio.run(_stalled(app, key))
        answers[lane] = (status, detail)
        assert waits == 1  # the body was waited for once, then 408
    expected = "le corps de la requête n'est pas arrivé en 0.3 s"
    assert answers[True] == answers[False] == (408, expected)


async def _stalled(app, key: str) -> tuple[int, str, int]:
    """``app`` asked for a recommendation whose body never comes: (status, detail, how many
    times the body was waited for)."""
    import asyncio

    sent: list[dict] = []
    waits: list[int] = []

    async def never() -> dict:
        waits.append(1)
        await asyncio.sleep(3600)
        return {}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": PATH, "raw_path": PATH.encode(),
             "root_path": "", "query_string": b"", "scheme": "http", "http_version": "1.1",
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
             "headers": [(b"x-api-key", key.encode()), (b"content-type", b"application/json"),
                         (b"content-length", b"100")]}
    await app(scope, never, send)
    return sent[0]["status"], json.loads(sent[1]["body"])["detail"], len(waits)
