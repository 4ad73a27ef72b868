"""Request and response models of the outcomes resource (STYLE 3: one schema family)."""

from __future__ import annotations

from datetime import datetime  # noqa: F401  (pydantic resolves the annotations)

from pydantic import BaseModel, ConfigDict, Field

from insertion_match.domain import OutcomeRecord
from insertion_match.service.schemas import UtcDatetime

EXAMPLE_OUTCOME = {
    "beneficiary_id": "b-0042", "item_id": "flers-mobylis-permis-b", "item_kind": "action",
    "status": "proposed", "occurred_on": "2024-03-01", "rank": 1,
    "model_name": "transparent-additive", "model_version": "1.0.0",
}


EXAMPLE_HANDOFF = {
    "beneficiary_id": "b-0042", "item_id": "flers-mobylis-permis-b",
    "occurred_on": "2024-03-08", "di_service_id": "dora:a1b2c3",
    "orientation_status": "refusée", "orientation_refusal_reasons": ["bénéficiaire-non-mobile"],
}


def _status_optional(schema: dict) -> None:
    """``status`` may be omitted when ``orientation_status`` (DORA) is given: it is derived."""
    schema["required"] = [f for f in schema.get("required", []) if f != "status"]
    schema["examples"] = [EXAMPLE_OUTCOME, {
        "beneficiary_id": "b-0042", "item_id": "flers-mobylis-permis-b",
        "status": "refused", "refusal_reason": "not_mobile", "occurred_on": "2024-03-08"},
        EXAMPLE_HANDOFF]


class OutcomeCreate(OutcomeRecord):
    """One event of a prescription (see ``OutcomeRecord``). An orientation handed off through
    DORA carries ``orientation_status`` (and ``di_service_id``): ``status`` is then derived
    (ouverte → proposed, validée → accepted, refusée → refused with the reason read from
    ``orientation_refusal_reasons``), or checked against it when given."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True,
        json_schema_extra=_status_optional)


class OutcomePublic(OutcomeRecord):
    id: int
    source: str = Field(description="'api' or 'csv'")
    recorded_at: UtcDatetime
    positive_exit: bool = Field(description="Exited as emploi durable or sortie dynamique")


class OutcomesPage(BaseModel):
    beneficiary_id: str
    total: int
    limit: int
    offset: int
    items: list[OutcomePublic]


class OutcomesImported(BaseModel):
    imported: int = Field(description="Events stored (0 on a dry run)")
    valid: int = Field(description="Lines that passed validation")
    dry_run: bool
