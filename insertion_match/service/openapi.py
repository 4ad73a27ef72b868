"""The OpenAPI document says what the service answers (issue 9).

FastAPI documents each route's success answer and the errors named in ``responses=``; the
middleware and the dependencies answer more. :func:`complete_openapi` adds, to every operation,
each status it can answer, and documents every error as ``application/problem+json`` with the
:class:`Problem` schema (``/readyz``'s 503 excepted: it is its usual JSON body):

- 401 and 429 (with ``Retry-After``) where a key is needed, 403 for roles and territories;
- 400 (unparsable body), 408 (body too slow), 413 (body too large) where there is a body;
- 404 where the path names something, 409 where a beneficiary id is resolved (ambiguous id);
- 422 for invalid input, 503 (with ``Retry-After``) wherever the database is read.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from insertion_match.service.problems import PROBLEM_JSON

_DESCRIPTIONS = {
    "400": "The body cannot be parsed",
    "401": "API key missing, unknown or revoked",
    "403": "Role or territory not allowed",
    "404": "Not found (or outside the caller's territories)",
    "408": "The request body did not arrive in time",
    "409": "The id names people in several of the caller's territories",
    "413": "Request body too large",
    "422": "Invalid input, with field paths (and suggestions)",
    "429": "Too many failed authentications; see Retry-After",
    "503": "Database unavailable; see Retry-After",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}}
_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_WITH_BENEFICIARY = ("/v1/beneficiaries/{beneficiary_id}", "/v1/recommendations",
                     "/v1/outcomes")


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[str]:
    if path == "/healthz":
        return set()
    if path == "/readyz":
        return {"503"}
    statuses = {"422", "503"}
    if operation.get("security"):
        statuses |= {"401", "403", "429"}
    if "requestBody" in operation:
        statuses |= {"400", "408", "413"}
    if "{" in path:
        statuses.add("404")
    if path.startswith(_WITH_BENEFICIARY) and path != "/v1/beneficiaries":
        statuses |= {"404", "409"}
    return statuses


def complete_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                         description=app.description, routes=app.routes)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, method, operation):
                responses.setdefault(status, {"description": _DESCRIPTIONS[status]})
            for status, response in responses.items():
                if not status.isdigit() or int(status) < 400:
                    continue
                if path == "/readyz":
                    response["content"] = {"application/json": {"schema": {"type": "object"}}}
                else:
                    response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM}}
                if status in ("429", "503"):
                    response["headers"] = _RETRY_AFTER
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = schema
    return schema
