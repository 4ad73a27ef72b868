"""Request and response models of the opportunity endpoints (``/v1/opportunities``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from insertion_match.domain import Opportunity
from insertion_match.service.schemas import ModelPublic, ReasonPublic, TravelPublic, WarningPublic


class OpportunitiesPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[Opportunity]


class RecordErrorPublic(BaseModel):
    field: str = Field(examples=["lieuTravail"])
    message: str = Field(examples=["work place not found: unknown INSEE code '99999'"])
    message_fr: str = Field(examples=["lieu de travail introuvable : code INSEE inconnu"])


class RejectionPublic(BaseModel):
    position: int = Field(description="1-based record number (CSV: line number)")
    external_id: str | None
    errors: list[RecordErrorPublic]


class ImportReportPublic(BaseModel):
    """What an import did. Without ``on_error=skip``, one rejected record means nothing was
    written (``imported`` false, answered 422 with the same body in ``report``)."""

    source: str
    imported: bool
    received: int
    valid: int
    created: int = Field(description="New offers stored")
    updated: int = Field(description="Stored offers whose content changed")
    unchanged: int = Field(description="Stored offers already identical (re-import)")
    rejected: list[RejectionPublic]


class CandidatePublic(BaseModel):
    rank: int
    beneficiary_id: str
    commune: str
    score: float = Field(description="Sum of the reasons' contributions")
    distance_km: float
    travel: TravelPublic
    reasons: list[ReasonPublic]
    warnings: list[WarningPublic]


class CandidateExcludedPublic(BaseModel):
    beneficiary_id: str
    reasons: list[WarningPublic]


class CandidatesResponse(BaseModel):
    opportunity_id: str
    title: str
    model: ModelPublic
    items: list[CandidatePublic]
    excluded: list[CandidateExcludedPublic]
    candidates: int = Field(description="Stored beneficiaries in scope considered")
    eligible: int
