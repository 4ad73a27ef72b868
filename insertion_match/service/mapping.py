"""Map matcher results onto API response models."""

from __future__ import annotations

from dataclasses import asdict

from insertion_match.matcher.catalogue_search import filter_actions
from insertion_match.matcher.results import Recommendation
from insertion_match.service.schemas import RecommendationResponse

__all__ = ["filter_actions", "to_response"]


def to_response(
    result: Recommendation, fallback_reason: str | None = None
) -> RecommendationResponse:
    """The API response; ``fallback_reason`` when a learned model was refused at start-up."""
    data = asdict(result)
    return RecommendationResponse.model_validate({
        "beneficiary_id": result.beneficiary_id,
        "model": {"name": result.model_name, "version": result.model_version,
                  "fallback": fallback_reason is not None, "fallback_reason": fallback_reason},
        "home": {"insee": result.home_insee, "commune": result.home_commune},
        "items": data["items"],
        "excluded": data["excluded"],
        "levers": data["levers"],
        "unchecked": list(result.unchecked),
        "assumptions": list(result.assumptions),
        "candidates": result.candidates,
        "eligible": result.eligible,
        "target_jobs_unrecognised": [
            {"text": u.text, "suggestions": [{"label": label, "rome_code": code}
                                             for label, code in u.suggestions]}
            for u in result.target_jobs_unrecognised],
        "counts": data["counts"] or [{"kind": "action", "candidates": result.candidates,
                                      "eligible": result.eligible, "returned": len(result.items)}],
    })
