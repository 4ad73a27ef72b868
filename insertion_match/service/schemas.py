"""Request and response models of API v1 (DESIGN §6, normative core), with examples for /docs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from insertion_match.domain import Action, BeneficiaryProfile, ItemKind

EXAMPLE_BENEFICIARY: dict[str, Any] = {
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



def _utc(value: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored in UTC): every timestamp answered carries its
    UTC offset, on both databases."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: A timestamp as answered: ISO 8601 with its offset (``+00:00``).
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


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
    kinds: list[ItemKind] = Field(
        default_factory=lambda: [ItemKind.action], min_length=1,
        description="Kinds to rank, any of action, job, volunteering, internship, immersion. "
        "With several kinds, ``items`` holds for each kind, in this order, up to ``limit`` items "
        "of that kind; ``rank`` is the rank within its kind; ``counts`` gives per kind the "
        "items considered, eligible and returned.",
    )
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
    mode: Literal["walk", "bike", "two_wheeler", "car", "public_transport", "itinerant",
                  "dossier"] | None = Field(description="How the person gets there: one of their "
                                            "own modes; 'itinerant' (comes to the person, at home "
                                            "or at a distance); 'dossier' (applied for by the "
                                            "référent, no trip); null when no own mode reaches "
                                            "it or the document names no place (see warnings)")
    minutes: float | None
    source: str | None = Field(
        default=None, examples=["estimate", "gtfs:tao-orne"],
        description="Where minutes come from: 'gtfs:NAME' when public transport was timed by "
        "the timetables of the network NAME (insertion-match transit import), 'estimate' for "
        "the documented crow-fly estimate (every other mode, and public transport where no "
        "feed covers the trip); null when no trip is timed")


class OpportunityFacts(BaseModel):
    """The offer's own facts, on items of kind job, volunteering, internship, immersion."""

    rome_code: str | None = Field(examples=["K2204"])
    rome_label: str | None = Field(description="The ROME appellation of the offer")
    contract_type: str | None = Field(examples=["CDI"], description="France Travail code")
    contract_label: str | None
    hours_per_week: float | None
    atypical_hours: list[str] = Field(examples=[["early_late"]])
    positions: int
    url: str | None
    source: str
    synthetic: bool = Field(description="A synthetic demo offer, not a real one")
    iae: bool = Field(default=False, description="A position in a work-integration structure "
                      "(SIAE), with support on the job")
    siae_kind: str | None = Field(default=None, examples=["ACI"],
                                  description="ACI, AI, EI, EITI or ETTI")


class ItemPublic(BaseModel):
    rank: int = Field(description="Rank within its kind")
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
    opportunity: OpportunityFacts | None = Field(
        default=None, description="Offers only (absent on actions): ROME code, contract...")

    @model_serializer(mode="wrap")
    def _no_null_opportunity(self, handler: SerializerFunctionWrapHandler) -> dict:
        data = handler(self)
        if data.get("opportunity") is None:
            data.pop("opportunity", None)  # action items keep their original shape
        return data


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
    unlocks_kind: str = Field(default="action", description="What ``unlocks`` counts: 'action', "
                              "'job' (job offers) or 'opportunity' (offers of the kinds asked)")
    change: str | None = Field(default=None, description="What the person would gain (only "
                               "what they lack): 'licence', 'vehicle', 'licence_vehicle' or "
                               "'childcare'")
    items: list[str] = Field(default_factory=list, description="Ids of the items that become "
                             "reachable with the change (the first ones)")


class KindCountPublic(BaseModel):
    kind: ItemKind
    candidates: int = Field(description="Items of this kind considered")
    eligible: int
    returned: int


class ModelPublic(BaseModel):
    name: str
    version: str
    fallback: bool = Field(
        default=False, description="True when a configured learned model was refused at "
        "start-up (corrupt or incompatible file) and the transparent scorer serves instead")
    fallback_reason: str | None = Field(default=None, description="Why the model was refused")


class HomePublic(BaseModel):
    insee: str
    commune: str


class TargetSuggestion(BaseModel):
    label: str = Field(description="ROME 4.0 appellation")
    rome_code: str


class UnrecognisedTargetPublic(BaseModel):
    text: str = Field(description="The target job as written")
    suggestions: list[TargetSuggestion] = Field(
        default_factory=list, description="Closest appellations, best first (may be empty)")


class RecommendationResponse(BaseModel):
    beneficiary_id: str | None
    recommendation_id: int | None = Field(
        default=None, description="Id of this answer in the audit log: give it with each "
        "outcome of an item it proposed (POST /v1/outcomes), so the outcome is tied to the "
        "list that was shown")
    model: ModelPublic
    home: HomePublic
    items: list[ItemPublic]
    excluded: list[ExcludedPublic]
    levers: list[LeverPublic]
    unchecked: list[str] = Field(description="What could not be checked (unknown fields), French")
    assumptions: list[str] = Field(
        description="What was assumed for unknown fields, and how the home was understood "
                    "(a name or postcode read within the caller's territories...), French")
    candidates: int = Field(description="Items considered: the actions of the person's "
                            "département, plus the live offers within reach, all kinds asked")
    eligible: int
    counts: list[KindCountPublic] = Field(
        default_factory=list, description="Per requested kind, in request order")
    target_jobs_unrecognised: list[UnrecognisedTargetPublic] = Field(
        default_factory=list, description="Target jobs (titles, ROME codes or ROME 4.0 "
        "appellation codes 'code OGR') that match no ROME fiche, with the closest appellations; "
        "filled when offers are asked (the actions do not use target jobs). Each also has a "
        "French note in ``unchecked``")


class BeneficiaryPublic(BaseModel):
    id: str
    department: str
    commission: str | None
    home_insee: str
    profile: BeneficiaryProfile
    created_at: UtcDatetime
    updated_at: UtcDatetime


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


# --------------------------------------------------------------------------------------------
# Batch, export, caseload, aggregates (issue 5)
# --------------------------------------------------------------------------------------------


class BatchRequest(BaseModel):
    """Up to ``IM_BATCH_MAX`` recommendation requests; answered as NDJSON, one line each."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"requests": [
            {"beneficiary": EXAMPLE_BENEFICIARY, "limit": 5},
            {"beneficiary_id": "b-0043", "limit": 5},
        ]}]},
    )

    requests: list[RecommendationRequest] = Field(min_length=1, max_length=100_000)


class BatchLine(BaseModel):
    """One NDJSON line of a batch answer: the recommendation, or a problem for that person."""

    index: int = Field(description="Position of the request in ``requests``")
    status: int = Field(description="The HTTP status this request alone would have had")
    recommendation: RecommendationResponse | None = None
    problem: Problem | None = None


class RecommendationAuditPublic(BaseModel):
    created_at: UtcDatetime
    actor: str = Field(description="Key id of the caller; `cli:batch` for the batch command "
                       "(its operator in `actor_name`)")
    actor_name: str | None
    actor_role: str | None
    model_name: str
    model_version: str
    item_ids: list[str]


class AccessAuditPublic(BaseModel):
    created_at: UtcDatetime
    actor: str
    actor_name: str | None
    actor_role: str | None
    action: str = Field(description="read | create | update | erase | export")


class BeneficiaryExport(BaseModel):
    """Everything stored about one person (right of access, GDPR art. 15)."""

    beneficiary_id: str
    profile: BeneficiaryPublic | None = Field(description="None once erased")
    recommendations: list[RecommendationAuditPublic]
    accesses: list[AccessAuditPublic]


class BeneficiarySummary(BaseModel):
    id: str
    department: str
    commission: str | None
    updated_at: UtcDatetime


class BeneficiariesPage(BaseModel):
    limit: int
    offset: int
    items: list[BeneficiarySummary]


class RecommendationCount(BaseModel):
    department: str | None
    model_name: str
    model_version: str
    recommendations: int


class RecommendationStats(BaseModel):
    """Aggregates only: how many recommendations were shown, by département and model."""

    since: UtcDatetime | None
    total: int
    groups: list[RecommendationCount]
