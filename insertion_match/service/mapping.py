"""Map matcher results onto API response models."""

from __future__ import annotations

from insertion_match.matcher.catalogue_search import filter_actions
from insertion_match.matcher.results import Recommendation
from insertion_match.service.schemas import RecommendationResponse

__all__ = ["filter_actions", "to_json", "to_response"]


def to_response(
    result: Recommendation, fallback_reason: str | None = None,
    recommendation_id: int | None = None,
) -> RecommendationResponse:
    """The API response; ``fallback_reason`` when a learned model was refused at start-up.

    Validated once, straight from the result's dataclasses (``from_attributes``: no deep copy
    into dictionaries first)."""
    return RecommendationResponse.model_validate({
        "beneficiary_id": result.beneficiary_id,
        "recommendation_id": recommendation_id,
        "model": {"name": result.model_name, "version": result.model_version,
                  "fallback": fallback_reason is not None, "fallback_reason": fallback_reason},
        "home": {"insee": result.home_insee, "commune": result.home_commune},
        "items": result.items,
        "excluded": result.excluded,
        "levers": result.levers,
        "unchecked": list(result.unchecked),
        "assumptions": list(result.assumptions),
        "candidates": result.candidates,
        "eligible": result.eligible,
        "target_jobs_unrecognised": [
            {"text": u.text, "suggestions": [{"label": label, "rome_code": code}
                                             for label, code in u.suggestions]}
            for u in result.target_jobs_unrecognised],
        "counts": result.counts or [{"kind": "action", "candidates": result.candidates,
                                     "eligible": result.eligible, "returned": len(result.items)}],
    }, from_attributes=True)


def to_json(
    result: Recommendation, fallback_reason: str | None = None,
    recommendation_id: int | None = None,
) -> bytes:
    """The API response as JSON bytes: validated once, serialised once (the route returns
    them as they are, FastAPI does not validate or encode them again)."""
    return to_response(result, fallback_reason, recommendation_id).model_dump_json().encode()
