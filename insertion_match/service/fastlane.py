"""The two hot routes without the framework's per-request machinery (issue 11).

``POST /v1/recommendations`` is the service's main call, ``GET /healthz`` the probe every load
balancer sends. Served through FastAPI, each request crosses three ASGI middlewares, Starlette's
error and exception layers, the router's path matching over every route, FastAPI's dependency
solver (five dependencies: state, API key header, bearer header, authentication, role) and its
body parser; profiled under load (``py-spy --gil``), that machinery cost about a quarter of the
CPU of a recommendation and most of ``/healthz``'s.

:class:`ServiceApp` is the FastAPI application with one difference: before the framework, its
``__call__`` gives these two requests to :class:`FastLane`, which answers **only the ordinary
case** and hands everything else to the framework, untouched:

- ``GET /healthz``: the same answer, the same headers, the same access-log line.
- ``POST /v1/recommendations`` when all of these hold: a JSON body with a ``Content-Length``
  within ``IM_MAX_BODY_BYTES``; an API key (``X-API-Key`` or ``Authorization: Bearer``) that
  the key cache verified (``IM_API_KEY_CACHE_SECONDS``) while the database is usable; no
  failed-authentication limit on the client or the key id; a role allowed on the route; a body
  that parses and validates as :class:`RecommendationRequest` (the same ``json.loads`` and
  Python-mode validation as FastAPI). Then the same function as the route
  (``recommending.recommend_json``: scope, rank, audit row committed, answer) runs, and the
  answer carries the same headers.

Anything else — no key, an uncached or wrong key (the framework verifies it in the database and
counts the failure), a rate-limited client, an evaluator, a declared length over the limit, a
chunked upload, a body that does not validate — is passed on to the framework (with the body
already read replayed first), so its answer (401, 403, 413, 422, 429...) is the framework's
own. A body that turns out larger than its declared length allows, arrives late or not at all
is answered by the same functions as ``BodySizeLimit`` (``middleware.read_body`` /
``answer_body_problem``: 413, 408, or the client gone).
An exception raised while ranking is answered by the app's own exception handlers (503 for the
database...). ``IM_FAST_LANE=false`` serves everything through the framework;
``tests/service/test_fastlane.py`` checks both ways give the same answers.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from fastapi import FastAPI
from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from insertion_match.service.auth import PERSONAL_ROLES, Principal, failure_buckets
from insertion_match.service.middleware import (
    access_line,
    answer_body_problem,
    read_body,
    replaying,
    secured,
)
from insertion_match.service.problems import problem_response
from insertion_match.service.recommending import recommend_json
from insertion_match.service.schemas import Problem, RecommendationRequest

RECOMMENDATIONS = "/v1/recommendations"
HEALTHZ = "/healthz"
_HEALTHY = b'{"status":"ok"}'
_JSON = b"application/json"
_HEALTHZ_HEADERS = secured([(b"content-length", str(len(_HEALTHY)).encode()),
                            (b"content-type", _JSON)])
_ALLOWED = frozenset(PERSONAL_ROLES)
#: an answer's headers after its length (built once: the same for every answer)
_JSON_TAIL = secured([(b"content-type", _JSON)])


class ServiceApp(FastAPI):
    """FastAPI, with :class:`FastLane` in front for the ordinary hot requests."""

    fast_lane: FastLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.fast_lane
        if lane is not None and scope["type"] == "http" and not scope.get("root_path"):
            path = scope["path"]
            if path == RECOMMENDATIONS and scope["method"] == "POST":
                passed = await lane.recommendations(scope, receive, send)
                if passed is None:
                    return
                receive = passed
            elif path == HEALTHZ and scope["method"] == "GET":
                await lane.healthz(scope, send)
                return
        await super().__call__(scope, receive, send)


class FastLane:
    def __init__(self, app: FastAPI, max_body_bytes: int, body_timeout: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        #: requests answered here (the others were handed to the framework)
        self.served = 0

    async def healthz(self, scope: Scope, send: Send) -> None:
        start = time.perf_counter()
        await send({"type": "http.response.start", "status": 200, "headers": _HEALTHZ_HEADERS})
        await send({"type": "http.response.body", "body": _HEALTHY})
        self.served += 1
        access_line("GET", HEALTHZ, 200, start)

    def _principal(self, headers: dict[bytes, bytes], scope: Scope) -> Principal | None:
        """The caller when its key is cached and nothing else needs the framework."""
        state = getattr(self.app.state, "im", None)
        if state is None or state.key_cache is None or not state.db_health.usable():
            return None
        raw = headers.get(b"x-api-key")
        if raw is None:
            authorization = headers.get(b"authorization")
            if authorization is None:
                return None
            scheme, credentials = get_authorization_scheme_param(authorization.decode("latin-1"))
            if scheme.lower() != "bearer" or not credentials:
                return None
            key = credentials
        else:
            key = raw.decode("latin-1")
        if not key or len(key) > 200:
            return None
        principal = state.key_cache.get(key)
        if not isinstance(principal, Principal) or principal.role not in _ALLOWED:
            return None
        failures = getattr(self.app.state, "auth_failures", None)
        if failures is not None:
            client = scope.get("client")
            if failures.retry_after(failure_buckets(client[0] if client else None, key)):
                return None
        return principal

    async def recommendations(self, scope: Scope, receive: Receive, send: Send
                              ) -> Receive | None:
        """Answer the request (None) or return the ``receive`` to hand it on with."""
        start = time.perf_counter()
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.lower(), value)
        declared = headers.get(b"content-length")
        content_type = headers.get(b"content-type", b"")
        if (declared is None or not declared.isdigit() or int(declared) > self.max_body_bytes
                or content_type.split(b";", 1)[0].strip().lower() != _JSON
                or b"transfer-encoding" in headers):
            return receive
        principal = self._principal(headers, scope)
        if principal is None:
            return receive
        body, problem = await read_body(receive, self.max_body_bytes, self.body_timeout)
        if problem is not None:  # answered as BodySizeLimit answers it (the same function)
            await answer_body_problem(scope, send, problem, self.max_body_bytes,
                                      self.body_timeout)
            self.served += 1
            if problem == "disconnect":
                access_line("POST", RECOMMENDATIONS, 499, start,
                            "upload aborted by the client", logging.WARNING)
            else:
                access_line("POST", RECOMMENDATIONS, 408 if problem == "timeout" else 413,
                            start)
            return None
        try:
            request = RecommendationRequest.model_validate(json.loads(body))
        except Exception:  # noqa: BLE001 - the framework answers it (422 with every error)
            return replaying(body, receive)
        state = self.app.state.im
        status = 500
        self.served += 1
        try:
            outcome = await recommend_json(state, principal, request)
            if isinstance(outcome, Problem):
                status = outcome.status
                await problem_response(outcome)(scope, receive, _secured_send(send))
            else:
                status = 200
                await send({"type": "http.response.start", "status": 200, "headers": [
                    (b"content-length", str(len(outcome)).encode()), *_JSON_TAIL]})
                await send({"type": "http.response.body", "body": outcome})
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                access_line("POST", RECOMMENDATIONS, 500, start, level=logging.ERROR)
                raise
            response = await handler(Request(scope, receive), exc)
            status = response.status_code
            await response(scope, receive, _secured_send(send))
        access_line("POST", RECOMMENDATIONS, status, start)
        return None

    def _handler_for(self, exc: Exception) -> Any:
        """The app's exception handler for ``exc`` (by class, nearest first), if any."""
        handlers = self.app.exception_handlers
        for cls in type(exc).__mro__:
            if cls in handlers:
                return handlers[cls]
        return None


def _secured_send(send: Send) -> Send:
    async def with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": secured(message.get("headers") or [])}
        await send(message)

    return with_headers
