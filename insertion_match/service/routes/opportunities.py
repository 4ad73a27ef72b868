"""Job, volunteering, internship and immersion offers: import, listing, reverse matching."""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from insertion_match.domain import Opportunity
from insertion_match.matcher.candidates import Scope, rank_candidates
from insertion_match.matcher.opportunity_search import filter_opportunities
from insertion_match.service import db
from insertion_match.service.auth import PERSONAL_ROLES, PrincipalDep, Role, allow
from insertion_match.service.deps import StateDep
from insertion_match.service.offers import import_into_service
from insertion_match.service.opportunity_schemas import (
    CandidatesResponse,
    ImportReportPublic,
    OpportunitiesPage,
)
from insertion_match.service.problems import (
    PROBLEM_RESPONSES,
    not_found,
    problem_response,
    validation_problem,
)
from insertion_match.service.schemas import Problem, ProblemError

router = APIRouter(prefix="/v1/opportunities", tags=["opportunities"])

OpportunityId = Annotated[str, Path(
    max_length=130, pattern=r"^[a-z0-9][a-z0-9_.-]*:[A-Za-z0-9][A-Za-z0-9_.-]*$",
    examples=["demo-synthetic:DEMO61J00000"])]
Department = Annotated[str | None, Query(pattern=r"^\d[\dAB]$|^\d{3}$")]


@router.post(
    "/import", response_model=ImportReportPublic, dependencies=[allow(Role.platform, Role.admin)],
    responses={**PROBLEM_RESPONSES, 422: {
        "model": Problem, "description": "Invalid document, or rejected records (nothing "
        "imported): one error per problem, path ``records.N.field``"}},
)
async def import_opportunities(
    request: Request,
    state: StateDep,
    format: Annotated[Literal["json", "jsonl", "csv"] | None, Query(
        description="json (France Travail offres v2: a list, one offer, or {resultats: [...]}), "
        "jsonl (one offer per line) or csv; default from the Content-Type (text/csv, "
        "application/x-ndjson), else json")] = None,
    source: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=40,
                                        description="default france-travail (json), csv")] = None,
    on_error: Annotated[Literal["reject", "skip"], Query(
        description="reject: one bad record and nothing is written; skip: store the valid "
        "ones and report the others")] = "reject",
) -> ImportReportPublic | JSONResponse:
    """Import offers; upsert by (source, external id); atomic; re-importing changes nothing."""
    content_type = request.headers.get("content-type", "")
    fmt = format or ("csv" if "csv" in content_type else
                     "jsonl" if "ndjson" in content_type or "jsonl" in content_type else "json")
    raw = await request.body()
    try:
        outcome = await run_in_threadpool(  # then swaps in an engine serving them
            import_into_service, state, io.BytesIO(raw), fmt, source=source,
            origin=f"api:{fmt}", skip_invalid=on_error == "skip")
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        return problem_response(validation_problem([{
            "loc": ("body",), "type": "value_error", "msg": f"Value error, {reason}"}]))
    report = outcome.report
    body = ImportReportPublic(
        source=outcome.source, imported=outcome.imported, received=outcome.received,
        valid=outcome.valid, created=report.created if report else 0,
        updated=report.updated if report else 0, unchanged=report.unchanged if report else 0,
        rejected=[{"position": r.position, "external_id": r.external_id,
                   "errors": [vars(e) for e in r.errors]} for r in outcome.rejections],
    )
    if not outcome.imported:
        errors = [ProblemError(path=f"records.{r.position}.{e.field}", message=e.message,
                               message_fr=e.message_fr)
                  for r in outcome.rejections for e in r.errors]
        problem = Problem(
            type="https://insertion-match.example/problems/import", title="Records rejected",
            status=422, detail=f"{outcome.rejected} offre(s) refusée(s) sur {outcome.received} "
            "; rien n'a été importé (on_error=skip importe les offres valides)", errors=errors)
        return problem_response(problem)
    return body


@router.get("", response_model=OpportunitiesPage, responses=PROBLEM_RESPONSES)
def list_opportunities(
    state: StateDep,
    kind: Literal["job", "volunteering", "internship", "immersion"] | None = None,
    department: Department = None,
    insee: Annotated[str | None, Query(pattern=r"^\d[\dAB]\d{3}$")] = None,
    rome: Annotated[str | None, Query(pattern=r"^[A-Na-n](\d{0,4})$",
                                      description="ROME code or prefix (K22)")] = None,
    contract: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$")] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> OpportunitiesPage:
    """The stored offers, filtered (expired ones included: see ``expires_at``)."""
    found = filter_opportunities(state.engine, kind=kind, department=department, insee=insee,
                                 rome=rome, contract=contract, q=q)
    return OpportunitiesPage(total=len(found), limit=limit, offset=offset,
                             items=found[offset: offset + limit])


@router.get("/{opportunity_id}", response_model=Opportunity,
            responses={404: PROBLEM_RESPONSES[404]})
def get_opportunity(opportunity_id: OpportunityId, state: StateDep) -> Opportunity | JSONResponse:
    found = state.engine.opportunity(opportunity_id)
    if found is None:
        return not_found(f"aucune offre « {opportunity_id} »")
    index, position = found
    return index.opportunities[position]


@router.get("/{opportunity_id}/candidates", response_model=CandidatesResponse,
            responses=PROBLEM_RESPONSES, dependencies=[allow(*PERSONAL_ROLES)])
def candidates(
    opportunity_id: OpportunityId,
    state: StateDep,
    principal: PrincipalDep,
    department: Department = None,
    commission: Annotated[str | None, Query(max_length=60)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    include_excluded: bool = False,
) -> CandidatesResponse | JSONResponse:
    """The stored beneficiaries of the caller's territories ranked for this offer, with the
    same reasons, walls and warnings as the forward ranking. ``department`` / ``commission``
    narrow the scope further."""
    found = state.engine.opportunity(opportunity_id)
    if found is None:
        return not_found(f"aucune offre « {opportunity_id} »")
    territories = principal.territory_filter()
    scope = Scope(
        departments=frozenset({department}) if department else None,
        commissions=frozenset({commission}) if commission else None,
        territories=tuple(territories) if territories is not None else None,
    )
    people = state.people.get(state.sessions, state.engine)
    result = rank_candidates(*found, people, state.engine.opportunity_scorer, scope, limit,
                             include_excluded)
    if result.items:  # who saw which person (DESIGN §9): each row points to that person
        with state.sessions() as session:
            rows = db.find_beneficiaries_in(session, [i.beneficiary_id for i in result.items],
                                            territories)
        for row in rows:
            db.log_access(state.sessions, beneficiary_id=row.id, action="read",
                          subject=row.subject, **principal.audit_fields())
    return CandidatesResponse.model_validate({
        "opportunity_id": result.opportunity_id, "title": result.title,
        "model": {"name": result.model_name, "version": result.model_version},
        "items": [vars(i) | {"travel": vars(i.travel),
                             "reasons": [vars(r) for r in i.reasons],
                             "warnings": [vars(w) for w in i.warnings]} for i in result.items],
        "excluded": [{"beneficiary_id": e.beneficiary_id,
                      "reasons": [vars(r) for r in e.reasons]} for e in result.excluded],
        "candidates": result.candidates, "eligible": result.eligible,
    })
