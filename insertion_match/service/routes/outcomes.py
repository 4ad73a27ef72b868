"""Prescriptions and outcomes: record one event, list a person's, import a CSV file.

Outcomes are recorded for **stored** people (``PUT /v1/beneficiaries/{id}``), whose territory
decides who may record and read them: a person outside the caller's territories answers as an
unknown one. An admin may also record for ids that are not stored (historical imports). A CSV
import is all or nothing: one invalid line and nothing is stored; the answer lists every
problem of every rejected line. Events point to the stored person (``subject``), not to the id:
erasing the person deletes them, and another territory's person under the same id never sees
them. The import parses and stores in a worker thread: the event loop keeps serving.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from insertion_match.domain import OutcomeRecord
from insertion_match.features.outcomes_csv import OutcomesCsvError, parse_outcomes_csv
from insertion_match.service import db
from insertion_match.service.auth import PERSONAL_ROLES, Principal, PrincipalDep, Role, allow
from insertion_match.service.deps import StateDep
from insertion_match.service.problems import (
    PROBLEM_RESPONSES,
    UNKNOWN_BENEFICIARY,
    not_found,
    problem_response,
    validation_problem,
)
from insertion_match.service.proposals import NotShown, tie_to_recommendation
from insertion_match.service.schemas import Problem, ProblemError
from insertion_match.service.schemas_outcomes import (
    OutcomeCreate,
    OutcomePublic,
    OutcomesImported,
    OutcomesPage,
)
from insertion_match.service.state import ServiceState

router = APIRouter(prefix="/v1/outcomes", tags=["outcomes"], dependencies=[allow(*PERSONAL_ROLES)])


class _Nobody(Enum):
    NOBODY = "nobody"


#: May not record for this id: answer as for an unknown person (an enum member, so that
#: ``subject is _NOBODY`` narrows the type).
_NOBODY: Final = _Nobody.NOBODY


def _subject(state: ServiceState, principal: Principal,
             beneficiary_id: str) -> str | None | Literal[_Nobody.NOBODY]:
    """The stored person of this id in the caller's territories (their ``subject``), None for
    an admin recording for someone not stored, else ``_NOBODY``."""
    row = db.visible_beneficiary(state.sessions, beneficiary_id, principal.territory_filter())
    if row is None:
        return None if principal.role is Role.admin else _NOBODY
    return row.subject


def _known_item(state: ServiceState, kind: str, item_id: str) -> bool:
    return kind != "action" or state.engine.action(item_id) is not None


def _public(row: db.OutcomeRow) -> OutcomePublic:
    record = row.record()
    return OutcomePublic(**record.model_dump(), id=row.id, source=row.source,
                         recorded_at=row.recorded_at, positive_exit=record.success)


@router.post("", status_code=201, response_model=OutcomePublic, responses=PROBLEM_RESPONSES)
def post_outcome(body: OutcomeCreate, state: StateDep,
                 principal: PrincipalDep) -> OutcomePublic | JSONResponse:
    """Record one event: a proposal (with the rank and model that produced it) or what
    followed. A later event without rank and model inherits them from the proposal.

    With ``recommendation_id`` (from the answer of ``POST /v1/recommendations``) the event is
    tied to the list shown: the item must be in it, and rank and model are read from it."""
    subject = _subject(state, principal, body.beneficiary_id)
    if subject is _NOBODY:
        return not_found(UNKNOWN_BENEFICIARY)
    if not _known_item(state, body.item_kind.value, body.item_id):
        return problem_response(validation_problem([{
            "loc": ("body", "item_id"), "type": "value_error",
            "msg": f"Value error, unknown action {body.item_id!r}"}]))
    record = tie_to_recommendation(state, OutcomeRecord.model_validate(body.model_dump()),
                                   subject)
    if isinstance(record, NotShown):
        return problem_response(Problem(
            type="https://insertion-match.example/problems/validation", title="Invalid request",
            status=422, detail=f"recommendation_id : {record.message_fr}",
            errors=[ProblemError(path="recommendation_id", message=record.message,
                                 message_fr=record.message_fr)]))
    row = db.add_outcomes(state.sessions, [record], source="api", subjects=[subject])[0]
    return _public(row)


@router.get("", response_model=OutcomesPage, responses=PROBLEM_RESPONSES)
def list_outcomes(
    state: StateDep, principal: PrincipalDep,
    beneficiary_id: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> OutcomesPage | JSONResponse:
    """A person's recorded events, oldest first."""
    subject = _subject(state, principal, beneficiary_id)
    if subject is _NOBODY:
        return not_found(UNKNOWN_BENEFICIARY)
    total, rows = db.list_outcomes(state.sessions, beneficiary_id, limit, offset,
                                   subject=subject)
    return OutcomesPage(beneficiary_id=beneficiary_id, total=total, limit=limit, offset=offset,
                        items=[_public(r) for r in rows])


@router.post(
    "/import", response_model=OutcomesImported, responses=PROBLEM_RESPONSES,
    dependencies=[allow(Role.admin, Role.platform)],
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {
        "schema": {"type": "string"},
        "example": "beneficiary_id,item_id,status,occurred_on,refusal_reason,exit_kind,rank,"
                   "model_name,model_version\nb-0042,flers-mobylis-permis-b,proposed,2024-03-01"
                   ",,,1,transparent-additive,1.0.0\n"}}}},
)
async def import_outcomes(request: Request, state: StateDep, principal: PrincipalDep,
                          response: Response,
                          dry_run: bool = False) -> OutcomesImported | JSONResponse:
    """Import a CSV file of events (``text/csv``, columns in ``features/outcomes_csv.py``),
    atomically. 422 with every rejected line (``errors[].path`` = ``line N: field``)."""
    body = await request.body()
    return await run_in_threadpool(_import_outcomes, state, principal, body, dry_run)


def _subjects_of(state: ServiceState, principal: Principal,
                 ids: list[str]) -> dict[str, list[str]]:
    """The stored people (subjects) of each id in the caller's territories, in a few queries."""
    found: dict[str, list[str]] = {}
    territories = principal.territory_filter()
    with state.sessions() as session:
        for start in range(0, len(ids), 500):
            for row in db.find_beneficiaries_in(session, ids[start:start + 500], territories):
                found.setdefault(row.id, []).append(row.subject)
    return found


def _import_outcomes(state: ServiceState, principal: Principal, body: bytes,
                     dry_run: bool) -> OutcomesImported | JSONResponse:
    try:
        parsed = parse_outcomes_csv(body, lambda kind, item: _known_item(state, kind, item))
    except OutcomesCsvError as exc:
        return problem_response(Problem(
            type="https://insertion-match.example/problems/csv", title="Unreadable CSV file",
            status=422, detail=f"fichier CSV illisible : {exc}",
            errors=[ProblemError(path="file", message=str(exc), message_fr="fichier illisible")]))
    errors = [ProblemError(path=f"line {r.line}: {p.field}", message=p.message,
                           message_fr=p.message_fr) for r in parsed.rejected for p in r.problems]
    stored = _subjects_of(state, principal,
                          sorted({rec.beneficiary_id for rec in parsed.records}))
    subjects: list[str | None] = []
    hidden = 0
    for line, rec in zip(parsed.lines, parsed.records, strict=True):
        people = stored.get(rec.beneficiary_id, [])
        if len(people) == 1:
            subjects.append(people[0])
        elif not people and principal.role is Role.admin:
            subjects.append(None)
        else:
            hidden += 1
            errors.append(ProblemError(
                path=f"line {line}: beneficiary_id",
                message=UNKNOWN_BENEFICIARY if not people else "ambiguous id",
                message_fr="personne inconnue" if not people
                else "identifiant utilisé dans plusieurs de vos territoires"))
    if errors:
        rejected = len(parsed.rejected) + hidden
        return problem_response(Problem(
            type="https://insertion-match.example/problems/validation",
            title="Invalid outcomes: nothing imported", status=422,
            detail=f"{rejected} ligne(s) refusée(s) sur "
                   f"{len(parsed.records) + len(parsed.rejected)} ; rien n'a été enregistré",
            errors=errors))
    imported = 0 if dry_run else db.import_outcomes(state.sessions, parsed.records, "csv",
                                                    subjects=subjects)
    return OutcomesImported(imported=imported, valid=len(parsed.records), dry_run=dry_run)
