"""Store a person's diagnostic under a caller's rights: the one function behind
``PUT /v1/beneficiaries/{id}`` and the web app's diagnostic form."""

from __future__ import annotations

from dataclasses import dataclass

from insertion_match.domain import BeneficiaryProfile
from insertion_match.geo import GeoError
from insertion_match.service import db
from insertion_match.service.auth import Principal
from insertion_match.service.problems import (
    ambiguous_problem,
    forbidden_problem,
    geo_problem,
    home_field,
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
    """The stored person of that id in the caller's territories, else None (ids are scoped per
    territory; an id two of the caller's territories use is ambiguous: None as well)."""
    try:
        return db.visible_beneficiary(state.sessions, beneficiary_id,
                                      principal.territory_filter())
    except db.AmbiguousId:
        return None


def store_profile(state: ServiceState, principal: Principal,
                  profile: BeneficiaryProfile) -> Stored | Problem:
    """Create or replace the stored profile ``profile.id`` in the home's territory: the home must
    lie in the caller's territories (403); an id used in another territory is another person
    (ids are scoped per territory); an id two of the caller's territories use is ambiguous
    (409); audited."""
    assert profile.id
    try:
        home = state.engine.locate(profile, principal.home_territories())
    except GeoError as exc:
        return geo_problem(exc, "home." + home_field(profile))
    commission = state.engine.territories.commission_of(home.insee)
    if not principal.covers(home.department, commission):
        return forbidden_problem(outside_detail(home))
    try:
        row, created = db.store_beneficiary(
            state.sessions, profile, department=home.department, commission=commission,
            home_insee=home.insee, territories=principal.territory_filter())
    except db.AmbiguousId as exc:  # two of the caller's territories use the id: 409
        return ambiguous_problem(exc)
    db.log_access(state.sessions, beneficiary_id=profile.id,
                  action="create" if created else "update", subject=row.subject,
                  **principal.audit_fields())
    return Stored(row, created, home.name)
