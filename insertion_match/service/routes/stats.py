"""Aggregates without personal data, for the evaluator role (and admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from insertion_match.service import db
from insertion_match.service.auth import PrincipalDep, Role, aggregates_only, allow
from insertion_match.service.deps import StateDep
from insertion_match.service.problems import PROBLEM_RESPONSES
from insertion_match.service.schemas import RecommendationCount, RecommendationStats

router = APIRouter(prefix="/v1/stats", tags=["aggregates"],
                   dependencies=[allow(Role.evaluator, Role.admin)])


@router.get("/recommendations", response_model=RecommendationStats, responses=PROBLEM_RESPONSES)
@aggregates_only
def recommendation_stats(
    state: StateDep, principal: PrincipalDep,
    since: Annotated[datetime | None, Query(description="Only recommendations from then on")] = None,
) -> RecommendationStats:
    """How many recommendations were shown, by département and model version (counts only).

    An evaluator sees the départements of its grants (every one with ``*``).
    """
    scope = principal.territory_filter()
    departments = None if scope is None else {d for d, _ in scope}
    groups = [
        RecommendationCount(department=d, model_name=n, model_version=v, recommendations=c)
        for d, n, v, c in db.recommendation_counts(state.sessions, since)
        if departments is None or d in departments
    ]
    return RecommendationStats(since=since, total=sum(g.recommendations for g in groups),
                               groups=groups)
