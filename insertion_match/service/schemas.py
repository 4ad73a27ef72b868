"""Request and response models of API v1 (DESIGN §6, normative core), with examples for /docs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from insertion_match.domain import Action, BeneficiaryProfile, ItemKind

EXAMPLE_BENEFICIARY = {
    "id": "b-0042",
    "home": {"commune": "La Ferté-Macé", "postcode": "61600", "insee": None},
    "age": 34,
    "family": {"situation": "isole", "children_under_3": 1, "children_3_to_11": 1,
               "children_12_plus": 0},
    "orientation": "sociale",
    "rsa_months": 40,
    "training_level": "infra3",
    "mobility": {"driving_licence": "none", "vehicle": "none", "public_transport": True,
                 "max_travel_minutes": 45},
    "freins": {"mobilite": 3, "garde_enfants": 2, "isolement_confiance": 2},
    "status": {"independent_worker": False, "farmer": False, "foreign_newcomer": False,
               "rqth": False, "qpv": False},
    "target_jobs": ["agent d'entretien", "K2204"],
    "availability": {"hours_per_week": 20, "atypical_hours": False},
    "history": [],
}


class RecommendationRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "beneficiary": EXAMPLE_BENEFICIARY, "kinds": ["action"], "limit": 10,
            "include_excluded": False,
        }]},
    )

    beneficiary: BeneficiaryProfile | None = None
    beneficiary_id: str | None = Field(
        default=None, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
    )
    kinds: list[ItemKind] = Field(default_factory=lambda: [ItemKind.action], min_length=1)
    limit: int = Field(default=10, ge=1, le=100)
    include_excluded: bool = False

    @model_validator(mode="after")
    def _one_person(self) -> RecommendationRequest:
        if (self.beneficiary is None) == (self.beneficiary_id is None):
            raise ValueError("give exactly one of 'beneficiary' and 'beneficiary_id'")
        return self


class ReasonPublic(BaseModel):
    code: str = Field(examples=["frein.mobilite"])
    label: str = Field(examples=["Répond au frein mobilité (bloquant)"])
    contribution: float = Field(examples=[0.3])


class WarningPublic(BaseModel):
    code: str = Field(examples=["cost"])
    label: str = Field(examples=["Participation de 250 € demandée"])


class TravelPublic(BaseModel):
    mode: Literal["walk", "bike", "two_wheeler", "car", "public_transport", "itinerant"] | None
    minutes: float | None


class ItemPublic(BaseModel):
    rank: int
    kind: ItemKind
    id: str
    title: str
    provider: str | None
    commune: str | None
    category: str
    score: float = Field(description="Sum of the reasons' contributions")
    distance_km: float | None
    travel: TravelPublic
    reasons: list[ReasonPublic]
    warnings: list[WarningPublic]
    freins_addressed: list[str]


class ExcludedPublic(BaseModel):
    kind: ItemKind
    id: str
    title: str
    reasons: list[WarningPublic]


class LeverPublic(BaseModel):
    frein: str
    label: str
    unlocks: int
    actions: list[str] = Field(default_factory=list, description="Actions addressing the frein")


class ModelPublic(BaseModel):
    name: str
    version: str


class HomePublic(BaseModel):
    insee: str
    commune: str


class RecommendationResponse(BaseModel):
    beneficiary_id: str | None
    model: ModelPublic
    home: HomePublic
    items: list[ItemPublic]
    excluded: list[ExcludedPublic]
    levers: list[LeverPublic]
    unchecked: list[str] = Field(description="What could not be checked (unknown fields), French")
    assumptions: list[str] = Field(description="What was assumed for unknown fields, French")
    candidates: int = Field(description="Actions of the person's département considered")
    eligible: int


class BeneficiaryPublic(BaseModel):
    id: str
    department: str
    commission: str | None
    home_insee: str
    profile: BeneficiaryProfile
    created_at: datetime
    updated_at: datetime


class ActionsPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[Action]


class ProblemError(BaseModel):
    path: str = Field(description="Dotted path of the field, e.g. beneficiary.home.commune")
    message: str
    message_fr: str


class Suggestion(BaseModel):
    insee: str
    name: str
    postcodes: list[str]
    department: str
    score: float


class Problem(BaseModel):
    """RFC 9457 problem details, extended with the field errors and commune suggestions."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[ProblemError] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(default_factory=list)
