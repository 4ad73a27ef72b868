"""Stored beneficiaries (caseloads) under pseudonymous ids: create/replace, read, erase, export.

Every route is scoped to the caller's territories: a person outside them answers exactly as an
unknown id (404, same body), and storing under an id used in another territory creates a new
person as for a free id (201), without reading or touching the other one (ids are scoped per
territory: ``db/beneficiaries.py``). Every access to a person's data writes an ``access_log``
row pointing to that person.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from insertion_match.domain import BeneficiaryProfile
from insertion_match.service import db
from insertion_match.service.auth import PERSONAL_ROLES, Principal, PrincipalDep, allow
from insertion_match.service.deps import StateDep
from insertion_match.service.people import store_profile
from insertion_match.service.problems import (
    PROBLEM_RESPONSES,
    UNKNOWN_BENEFICIARY,
    not_found,
    problem_response,
    validation_problem,
)
from insertion_match.service.schemas import (
    AccessAuditPublic,
    BeneficiariesPage,
    BeneficiaryExport,
    BeneficiaryPublic,
    BeneficiarySummary,
    Problem,
    RecommendationAuditPublic,
)
from insertion_match.service.state import ServiceState

router = APIRouter(prefix="/v1/beneficiaries", tags=["beneficiaries"],
                   dependencies=[allow(*PERSONAL_ROLES)])

BeneficiaryId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]


def _visible(state: ServiceState, principal: Principal, beneficiary_id: str) -> db.BeneficiaryRow | None:
    """The stored row under this id in the caller's territories, else None (AmbiguousId when
    several of the caller's territories use the id)."""
    return db.visible_beneficiary(state.sessions, beneficiary_id, principal.territory_filter())


def _audit(state: ServiceState, principal: Principal, beneficiary_id: str, action: str,
           subject: str | None) -> None:
    db.log_access(state.sessions, beneficiary_id=beneficiary_id, action=action, subject=subject,
                  **principal.audit_fields())


@router.get("", response_model=BeneficiariesPage, responses=PROBLEM_RESPONSES)
def list_beneficiaries(
    state: StateDep, principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> BeneficiariesPage:
    """The caseload: ids of the stored people in the caller's territories (no profile data)."""
    rows = db.list_beneficiaries(state.sessions, territories=principal.territory_filter(),
                                 limit=limit, offset=offset)
    return BeneficiariesPage(limit=limit, offset=offset, items=[
        BeneficiarySummary(id=r.id, department=r.department, commission=r.commission,
                           updated_at=r.updated_at) for r in rows
    ])


@router.put("/{beneficiary_id}", response_model=BeneficiaryPublic, responses={
    **PROBLEM_RESPONSES, 201: {"model": BeneficiaryPublic, "description": "Created"}})
def put_beneficiary(
    beneficiary_id: BeneficiaryId, profile: BeneficiaryProfile, state: StateDep,
    principal: PrincipalDep, response: Response,
) -> BeneficiaryPublic | JSONResponse:
    """Create or replace the stored profile (its ``id`` must be the path's, or absent).

    The home must lie in the caller's territories (403 otherwise). An id used by a person of
    another territory is, for this caller, a free id: a new person is created (201) and the
    other one is neither read nor changed.
    """
    if profile.id not in (None, beneficiary_id):
        return problem_response(validation_problem([{
            "loc": ("body", "id"), "type": "value_error",
            "msg": "Value error, the body's id differs from the path's",
        }]))
    stored = store_profile(state, principal, profile.model_copy(update={"id": beneficiary_id}))
    if isinstance(stored, Problem):
        return problem_response(stored)
    response.status_code = 201 if stored.created else 200
    return _public(stored.row)


@router.get("/{beneficiary_id}", response_model=BeneficiaryPublic, responses=PROBLEM_RESPONSES)
def get_beneficiary(
    beneficiary_id: BeneficiaryId, state: StateDep, principal: PrincipalDep
) -> BeneficiaryPublic | JSONResponse:
    row = _visible(state, principal, beneficiary_id)
    if row is None:
        return not_found(UNKNOWN_BENEFICIARY)
    _audit(state, principal, beneficiary_id, "read", row.subject)
    return _public(row)


@router.delete("/{beneficiary_id}", status_code=204, responses=PROBLEM_RESPONSES)
def delete_beneficiary(
    beneficiary_id: BeneficiaryId, state: StateDep, principal: PrincipalDep
) -> Response:
    """Erase the person (right to erasure): profile and outcomes deleted; the audit rows keep
    who did what and when, detached from the person (a random tombstone instead of the id,
    items shown dropped), until the retention purge. The id is then free again and reading it
    shows nothing of this person."""
    row = _visible(state, principal, beneficiary_id)
    if row is None:
        return not_found(UNKNOWN_BENEFICIARY)
    mark = db.erase_beneficiary(state.sessions, row.subject)
    if mark is None:
        return not_found(UNKNOWN_BENEFICIARY)
    _audit(state, principal, mark, "erase", None)
    return Response(status_code=204)


@router.get("/{beneficiary_id}/export", response_model=BeneficiaryExport,
            responses=PROBLEM_RESPONSES)
def export_beneficiary(
    beneficiary_id: BeneficiaryId, state: StateDep, principal: PrincipalDep
) -> BeneficiaryExport | JSONResponse:
    """Everything stored about the person: profile and audit rows (right of access).

    Only the person stored under this id in the caller's territories: an erased person's rows
    are detached from the id and exported by nobody.
    """
    row = _visible(state, principal, beneficiary_id)
    if row is None:
        return not_found(UNKNOWN_BENEFICIARY)
    recommendations, accesses = db.audit_about(state.sessions, subject=row.subject)
    _audit(state, principal, beneficiary_id, "export", row.subject)
    return BeneficiaryExport(
        beneficiary_id=beneficiary_id,
        profile=_public(row),
        recommendations=[RecommendationAuditPublic.model_validate(r, from_attributes=True)
                         for r in recommendations],
        accesses=[AccessAuditPublic.model_validate(a, from_attributes=True) for a in accesses],
    )



def _public(row: db.BeneficiaryRow | None) -> BeneficiaryPublic:
    assert row is not None
    return BeneficiaryPublic(
        id=row.id, department=row.department, commission=row.commission,
        home_insee=row.home_insee, profile=db.profile_of(row),
        created_at=row.created_at, updated_at=row.updated_at,
    )
