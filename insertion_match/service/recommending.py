"""One recommendation request under a caller's rights: scope, rank, audit, map.

Shared by ``POST /v1/recommendations``, the batch route and the web app, so all apply the same
territory rules and write the same audit rows. Returns the response or the :class:`Problem` to
answer.

Three steps, so the HTTP route can run each where it costs least: :func:`rank_for` (CPU and
reads: in the thread pool), the audit row (group commit, awaited on the event loop:
:func:`recommend_for_async`), :func:`response_of` (the answer, built once).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from insertion_match.geo import GeoError
from insertion_match.matcher.errors import UnsupportedKind
from insertion_match.matcher.results import Recommendation
from insertion_match.service import db
from insertion_match.service.auth import Principal
from insertion_match.service.mapping import to_json, to_response
from insertion_match.service.problems import (
    UNKNOWN_BENEFICIARY,
    ambiguous_problem,
    forbidden_problem,
    geo_problem,
    home_field,
    not_found_problem,
    outside_detail,
    validation_problem,
)
from insertion_match.service.schemas import Problem, RecommendationRequest, RecommendationResponse
from insertion_match.service.state import ServiceState


@dataclass(frozen=True)
class Ranked:
    """A ranking to answer: the result and its audit row (``db.log_recommendation`` fields)."""

    result: Recommendation
    audit: dict[str, Any]


def recommend_for(
    state: ServiceState, principal: Principal, body: RecommendationRequest, path: str = ""
) -> RecommendationResponse | Problem:
    """Rank for the person of ``body`` if ``principal`` may see them; audit what is shown.

    ``path`` prefixes the field paths of problems (``requests.3.`` in a batch). A stored person
    outside the caller's territories answers exactly as an unknown one. From a thread: waits
    for the audit row's commit (the row is written before the answer exists).
    """
    ranked = rank_for(state, principal, body, path)
    if isinstance(ranked, Problem):
        return ranked
    if state.audit is not None:
        recommendation_id = state.audit.write(**ranked.audit)
    else:
        recommendation_id = db.log_recommendation(state.sessions, **ranked.audit)
    return response_of(state, ranked.result, recommendation_id)


async def recommend_json(
    state: ServiceState, principal: Principal, body: RecommendationRequest
) -> bytes | Problem:
    """The route's path: rank, await the audit row's group commit on the event loop, then the
    JSON answer, validated and serialised once.

    Where the ranking runs: a request that reads the database (``beneficiary_id``, or an
    inline profile with an ``id``) in the shared thread pool, so a slow or unreachable database
    never holds up the event loop or the other rankings; an inline profile (CPU only) on the
    ``IM_RANKING_THREADS`` dedicated threads (1 by default), in arrival order — CPU-bound
    Python gains nothing from more threads (the GIL) but contention, and one ranking thread
    still leaves the event loop the GIL every switch interval, so ``/healthz`` and the
    answers' I/O go on while rankings queue (measured: ``bench/bench_http.py``, "healthz while
    ranking"); 0 ranks them on the event loop itself (no hand-off, but a probe then waits for
    every ranking queued before it).
    """
    if body.beneficiary is None or body.beneficiary.id:
        ranked = await run_in_threadpool(rank_for, state, principal, body)
    elif state.ranking is not None:
        ranked = await asyncio.get_running_loop().run_in_executor(
            state.ranking, rank_for, state, principal, body)
    else:
        ranked = rank_for(state, principal, body)  # no I/O: CPU only, on the loop
    if isinstance(ranked, Problem):
        return ranked
    if state.audit is not None:
        recommendation_id = await state.audit.write_async(**ranked.audit)
    else:
        recommendation_id = await run_in_threadpool(
            lambda: db.log_recommendation(state.sessions, **ranked.audit))
    status = state.model_status
    return to_json(ranked.result, status.reason if status.fallback else None, recommendation_id)


def response_of(
    state: ServiceState, result: Recommendation, recommendation_id: int | None
) -> RecommendationResponse:
    status = state.model_status
    return to_response(result, status.reason if status.fallback else None, recommendation_id)


def rank_for(
    state: ServiceState, principal: Principal, body: RecommendationRequest, path: str = ""
) -> Ranked | Problem:
    """Scope and rank (no write): the result and its audit row, or the problem to answer."""
    if body.beneficiary is not None:
        profile = body.beneficiary
        # A bare name or a shared postcode is read within the caller's territories first.
        territories = principal.home_territories()
        try:
            home = state.engine.locate(profile, territories)
        except GeoError as exc:
            return geo_problem(exc, f"{path}beneficiary.home.{home_field(profile)}")
        department = home.department
        commission = state.engine.territories.commission_of(home.insee)
        if not principal.covers(department, commission):
            return forbidden_problem(outside_detail(home))
        subject = None
        if profile.id:  # the stored person of that id *in the home's own territory*, if any
            with state.sessions() as session:
                same = [r for r in db.find_beneficiaries(session, profile.id)
                        if r.scope == db.scope_of(department, commission)]
            subject = same[0].subject if same else None
    else:
        try:
            row = db.visible_beneficiary(state.sessions, body.beneficiary_id or "",
                                         principal.territory_filter())
        except db.AmbiguousId as exc:
            return ambiguous_problem(exc)
        if row is None:
            return not_found_problem(UNKNOWN_BENEFICIARY)
        profile, department, subject = db.profile_of(row), row.department, row.subject
        # Read the stored home where it was understood when stored: the person's territory.
        territories = ((row.department, row.commission),)
    limit = min(body.limit, state.settings.max_limit)
    try:
        result = state.engine.recommend(
            profile, [k.value for k in body.kinds], limit, body.include_excluded,
            caller_territories=territories,
        )
    except GeoError as exc:
        where = (f"beneficiary.home.{home_field(profile)}" if body.beneficiary is not None
                 else "beneficiary_id")
        return geo_problem(exc, path + where)
    except UnsupportedKind as exc:
        return validation_problem([{
            "loc": ("body", *[p for p in path.split(".") if p], "kinds"),
            "type": "value_error",
            "msg": f"Value error, not served yet: {', '.join(exc.kinds)} (only 'action')",
        }])
    audit = {"beneficiary_id": result.beneficiary_id, "model_name": result.model_name,
             "model_version": result.model_version, "item_ids": [i.id for i in result.items],
             "department": department, "subject": subject, **principal.audit_fields()}
    return Ranked(result, audit)
