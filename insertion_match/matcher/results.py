"""Plain result types of the matcher; the service maps them onto its response models."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    code: str
    label: str  # French
    contribution: float


@dataclass(frozen=True)
class Warning:
    code: str
    label: str  # French


@dataclass(frozen=True)
class Travel:
    mode: str | None
    minutes: float | None
    source: str | None = None  # "estimate" | "gtfs:NAME" (geo.travel); None: no trip timed


@dataclass(frozen=True)
class RankedItem:
    rank: int
    kind: str
    id: str
    title: str
    provider: str | None
    commune: str | None
    category: str
    score: float
    distance_km: float | None
    travel: Travel
    reasons: tuple[Reason, ...]
    warnings: tuple[Warning, ...]
    freins_addressed: tuple[str, ...]
    opportunity: dict | None = None  # the offer's own facts (ROME, contract...); None: action


@dataclass(frozen=True)
class ExcludedItem:
    kind: str
    id: str
    title: str
    reasons: tuple[Warning, ...]


@dataclass(frozen=True)
class Lever:
    frein: str
    label: str  # French
    unlocks: int
    actions: tuple[str, ...] = ()  # catalogue actions that address this frein
    unlocks_kind: str = "action"  # what ``unlocks`` counts: "action", "job", or "opportunity"
    change: str | None = None  # "licence", "vehicle", "licence_vehicle", "childcare"
    items: tuple[str, ...] = ()  # ids of the items that become reachable (the first ones)


@dataclass(frozen=True)
class KindCount:
    """Per requested kind: items considered, eligible, and returned."""

    kind: str
    candidates: int
    eligible: int
    returned: int


@dataclass(frozen=True)
class UnrecognisedTargetJob:
    """A target job no ROME fiche matched, with the closest appellations (label, ROME code)."""

    text: str
    suggestions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Recommendation:
    beneficiary_id: str | None
    model_name: str
    model_version: str
    home_insee: str
    home_commune: str
    items: tuple[RankedItem, ...]
    excluded: tuple[ExcludedItem, ...]
    levers: tuple[Lever, ...]
    unchecked: tuple[str, ...] = ()  # French: what could not be checked, and why
    assumptions: tuple[str, ...] = ()  # French: what was assumed for unknown fields
    candidates: int = 0
    eligible: int = 0
    counts: tuple[KindCount, ...] = ()
    target_jobs_unrecognised: tuple[UnrecognisedTargetJob, ...] = ()  # offers asked only


@dataclass(frozen=True)
class CandidateItem:
    rank: int
    beneficiary_id: str
    commune: str
    score: float
    distance_km: float
    travel: Travel
    reasons: tuple[Reason, ...]
    warnings: tuple[Warning, ...]


@dataclass(frozen=True)
class CandidateExcluded:
    beneficiary_id: str
    reasons: tuple[Warning, ...]


@dataclass(frozen=True)
class Candidates:
    opportunity_id: str
    title: str
    model_name: str
    model_version: str
    items: tuple[CandidateItem, ...]
    excluded: tuple[CandidateExcluded, ...]
    candidates: int  # people in scope
    eligible: int
