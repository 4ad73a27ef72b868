"""``POST /v1/recommendations`` (DESIGN §6, normative)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from insertion_match.geo import GeoError
from insertion_match.matcher.errors import UnsupportedKind
from insertion_match.service import db
from insertion_match.service.deps import StateDep
from insertion_match.service.mapping import to_response
from insertion_match.service.problems import (
    PROBLEM_RESPONSES,
    geo_problem,
    not_found,
    problem_response,
    validation_problem,
)
from insertion_match.service.schemas import RecommendationRequest, RecommendationResponse

router = APIRouter(prefix="/v1", tags=["matching"])


@router.post("/recommendations", response_model=RecommendationResponse,
             responses={**PROBLEM_RESPONSES})
def recommendations(body: RecommendationRequest, state: StateDep) -> RecommendationResponse | JSONResponse:
    """Rank the eligible actions for one person, each with reasons, warnings and levers.

    Give the profile inline (``beneficiary``) or the id of a stored one (``beneficiary_id``).
    """
    if body.beneficiary is not None:
        profile, home_path = body.beneficiary, "beneficiary.home"
    else:
        row = db.get_beneficiary(state.sessions, body.beneficiary_id or "")
        if row is None:
            return not_found("unknown beneficiary")
        profile, home_path = db.profile_of(row), "beneficiary_id"
    limit = min(body.limit, state.settings.max_limit)
    try:
        result = state.engine.recommend(
            profile, [k.value for k in body.kinds], limit, body.include_excluded
        )
    except GeoError as exc:
        home = profile.home
        field = "insee" if home.insee else "commune" if home.commune else "postcode"
        path = f"{home_path}.{field}" if body.beneficiary is not None else home_path
        return problem_response(geo_problem(exc, path))
    except UnsupportedKind as exc:
        return problem_response(validation_problem([{
            "loc": ("body", "kinds"), "type": "value_error",
            "msg": f"Value error, not served yet: {', '.join(exc.kinds)} (only 'action')",
        }]))
    db.log_recommendation(
        state.sessions, actor="anonymous", beneficiary_id=result.beneficiary_id,
        model_name=result.model_name, model_version=result.model_version,
        item_ids=[i.id for i in result.items],
    )
    return to_response(result)
