"""``POST /v1/recommendations`` (DESIGN §6, normative)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.exc import SQLAlchemyError

from insertion_match.service.auth import PERSONAL_ROLES, PrincipalDep, Role, allow
from insertion_match.service.deps import StateDep
from insertion_match.service.problems import (
    PROBLEM_RESPONSES,
    problem_response,
    validation_problem,
)
from insertion_match.service.recommending import recommend_for, recommend_json
from insertion_match.service.schemas import (
    BatchLine,
    BatchRequest,
    Problem,
    RecommendationRequest,
    RecommendationResponse,
)

router = APIRouter(prefix="/v1", tags=["matching"])
log = logging.getLogger("insertion_match.service")


@router.post("/recommendations", response_model=RecommendationResponse,
             responses={**PROBLEM_RESPONSES}, dependencies=[allow(*PERSONAL_ROLES)])
async def recommendations(
    body: RecommendationRequest, state: StateDep, principal: PrincipalDep
) -> Response:
    """Rank the eligible actions for one person, each with reasons, warnings and levers.

    Give the profile inline (``beneficiary``) or the id of a stored one (``beneficiary_id``).
    The person must live in the caller's territories; each answer is written to the audit log
    (committed before the answer is sent).
    """
    # Async: the key check and the role check run on the event loop; the ranking is the one
    # thread-pool hand-off, the audit row joins the next group commit (recommending.py).
    outcome = await recommend_json(state, principal, body)
    if isinstance(outcome, Problem):
        return problem_response(outcome)
    return Response(outcome, media_type="application/json")


NDJSON = "application/x-ndjson"


@router.post(
    "/recommendations/batch", dependencies=[allow(Role.platform, Role.admin)],
    response_model=None,
    responses={**PROBLEM_RESPONSES, 200: {
        "description": "NDJSON: one line per request, in order: "
        '`{"index", "status": 200, "recommendation"}` or `{"index", "status", "problem"}`',
        "model": BatchLine, "content": {NDJSON: {}},
    }},
)
def recommendations_batch(
    body: BatchRequest, state: StateDep, principal: PrincipalDep
) -> StreamingResponse | JSONResponse:
    """Recommendations for many people (platform role), streamed as NDJSON as they are ranked.

    At most ``IM_BATCH_MAX`` requests. Each line carries the request's ``index`` and either the
    same response as ``POST /v1/recommendations`` or the problem that request alone would get
    (a person outside the key's territories is "unknown", as there).
    """
    limit = state.settings.batch_max
    if len(body.requests) > limit:
        return problem_response(validation_problem([{
            "loc": ("body", "requests"), "type": "too_long",
            "msg": f"List should have at most {limit} items (IM_BATCH_MAX)",
            "ctx": {"max_length": limit},
        }]))

    def lines() -> Iterator[bytes]:
        for index, request in enumerate(body.requests):
            try:
                outcome = recommend_for(state, principal, request, f"requests.{index}.")
            except SQLAlchemyError as exc:
                log.error("database error in batch", extra={"error": type(exc).__name__})
                outcome = Problem(title="Database unavailable", status=503,
                                  detail="base de données indisponible : réessayez plus tard")
            if isinstance(outcome, Problem):
                line = {"index": index, "status": outcome.status,
                        "problem": outcome.model_dump(mode="json")}
            else:
                line = {"index": index, "status": 200,
                        "recommendation": outcome.model_dump(mode="json")}
            yield json.dumps(line, ensure_ascii=False).encode() + b"\n"

    return StreamingResponse(lines(), media_type=NDJSON)
