"""Store a person's diagnostic under a caller's rights (shared by the web app's diagnostic
form; the same rules as ``PUT /v1/beneficiaries/{id}``)."""

from __future__ import annotations

from dataclasses import dataclass

from insertion_match.domain import BeneficiaryProfile
from insertion_match.geo import GeoError
from insertion_match.service import db
from insertion_match.service.auth import Principal
from insertion_match.service.problems import (
    UNKNOWN_BENEFICIARY,
    forbidden_problem,
    geo_problem,
    home_field,
    not_found_problem,
    outside_detail,
)
from insertion_match.service.schemas import Problem
from insertion_match.service.state import ServiceState


@dataclass(frozen=True)
class Stored:
    row: db.BeneficiaryRow
    created: bool
    home_name: str


def visible_person(state: ServiceState, principal: Principal,
                   beneficiary_id: str) -> db.BeneficiaryRow | None:
    """The stored row if it exists *and* lies in the caller's territories, else None."""
    row = db.get_beneficiary(state.sessions, beneficiary_id)
    if row is None or not principal.covers(row.department, row.commission):
        return None
    return row


def store_profile(state: ServiceState, principal: Principal,
                  profile: BeneficiaryProfile) -> Stored | Problem:
    """Create or replace the stored profile ``profile.id``: the home must lie in the caller's
    territories (403), an id used in another territory answers as unknown (404); audited."""
    assert profile.id
    try:
        home = state.engine.locate(profile, principal.home_territories())
    except GeoError as exc:
        return geo_problem(exc, "home." + home_field(profile))
    commission = state.engine.territories.commission_of(home.insee)
    if not principal.covers(home.department, commission):
        return forbidden_problem(outside_detail(home))
    existing = db.get_beneficiary(state.sessions, profile.id)
    if existing is not None and not principal.covers(existing.department, existing.commission):
        return not_found_problem(UNKNOWN_BENEFICIARY)
    created = db.upsert_beneficiary(state.sessions, profile, department=home.department,
                                    commission=commission, home_insee=home.insee)
    db.log_access(state.sessions, beneficiary_id=profile.id,
                  action="create" if created else "update", **principal.audit_fields())
    row = db.get_beneficiary(state.sessions, profile.id)
    assert row is not None
    return Stored(row, created, home.name)
