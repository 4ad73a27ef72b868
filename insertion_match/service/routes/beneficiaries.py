"""Stored beneficiaries (caseloads) under pseudonymous ids: create/replace, read, erase."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse

from insertion_match.domain import BeneficiaryProfile
from insertion_match.geo import GeoError
from insertion_match.service import db
from insertion_match.service.deps import StateDep
from insertion_match.service.problems import (
    PROBLEM_RESPONSES,
    geo_problem,
    not_found,
    problem_response,
    validation_problem,
)
from insertion_match.service.schemas import BeneficiaryPublic

router = APIRouter(prefix="/v1/beneficiaries", tags=["beneficiaries"])

BeneficiaryId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]


@router.put("/{beneficiary_id}", response_model=BeneficiaryPublic, responses=PROBLEM_RESPONSES)
def put_beneficiary(
    beneficiary_id: BeneficiaryId, profile: BeneficiaryProfile, state: StateDep, response: Response
) -> BeneficiaryPublic | JSONResponse:
    """Create or replace the stored profile (its ``id`` must be the path's, or absent)."""
    if profile.id not in (None, beneficiary_id):
        return problem_response(validation_problem([{
            "loc": ("body", "id"), "type": "value_error",
            "msg": "Value error, the body's id differs from the path's",
        }]))
    profile = profile.model_copy(update={"id": beneficiary_id})
    try:
        home = state.engine.locate(profile)
    except GeoError as exc:
        return problem_response(geo_problem(exc, "home." + _home_field(profile)))
    created = db.upsert_beneficiary(
        state.sessions, profile, department=home.department,
        commission=state.engine.territories.commission_of(home.insee), home_insee=home.insee,
    )
    response.status_code = 201 if created else 200
    return _public(db.get_beneficiary(state.sessions, beneficiary_id))


@router.get("/{beneficiary_id}", response_model=BeneficiaryPublic,
            responses={404: PROBLEM_RESPONSES[404]})
def get_beneficiary(beneficiary_id: BeneficiaryId, state: StateDep) -> BeneficiaryPublic | JSONResponse:
    row = db.get_beneficiary(state.sessions, beneficiary_id)
    return _public(row) if row is not None else not_found("unknown beneficiary")


@router.delete("/{beneficiary_id}", status_code=204, responses={404: PROBLEM_RESPONSES[404]})
def delete_beneficiary(beneficiary_id: BeneficiaryId, state: StateDep) -> Response:
    """Erase the stored profile (right to erasure). The audit trail keeps the pseudonymous id."""
    if not db.delete_beneficiary(state.sessions, beneficiary_id):
        return not_found("unknown beneficiary")
    return Response(status_code=204)


def _home_field(profile: BeneficiaryProfile) -> str:
    home = profile.home
    return "insee" if home.insee else "commune" if home.commune else "postcode"


def _public(row: db.BeneficiaryRow | None) -> BeneficiaryPublic:
    assert row is not None
    return BeneficiaryPublic(
        id=row.id, department=row.department, commission=row.commission,
        home_insee=row.home_insee, profile=db.profile_of(row),
        created_at=row.created_at, updated_at=row.updated_at,
    )
