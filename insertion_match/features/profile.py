"""Turn a beneficiary profile into the context the matcher needs, once per request.

`PersonContext` holds what is derived from the profile and the gazetteer: the home commune and its
coordinates, the Commission RSA territory, the travel modes the person really has, the freins as a
dense severity vector, and the list of assumptions made because a field was unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from insertion_match.domain import FREINS, BeneficiaryProfile
from insertion_match.geo import (
    DEFAULT_MAX_TRAVEL_MINUTES,
    Commune,
    Gazetteer,
    Mode,
    ModeAvailability,
    Territories,
    available_modes,
)


@dataclass(frozen=True)
class PersonContext:
    """Everything the matcher reads about one person. Built by :func:`person_context`."""

    profile: BeneficiaryProfile
    home: Commune
    commission: str | None
    modes: ModeAvailability
    max_travel_minutes: float
    severities: np.ndarray  # shape (len(FREINS),), 0..3, aligned with domain.FREINS
    history: dict[str, str] = field(default_factory=dict)  # item id -> last status
    assumptions: tuple[str, ...] = ()

    @property
    def department(self) -> str:
        return self.home.department

    @property
    def has_car(self) -> bool:
        return Mode.car in self.modes.modes


def severity_vector(freins: dict) -> np.ndarray:
    vec = np.zeros(len(FREINS), dtype=np.float64)
    for i, key in enumerate(FREINS):
        vec[i] = float(freins.get(key, 0))
    return vec


def person_context(
    profile: BeneficiaryProfile, gazetteer: Gazetteer, territories: Territories
) -> PersonContext:
    """Resolve the home commune and derive the person's means. Raises geo errors as they are."""
    home = gazetteer.resolve(
        commune=profile.home.commune, postcode=profile.home.postcode, insee=profile.home.insee
    )
    mob = profile.mobility
    modes = available_modes(
        driving_licence=mob.driving_licence.value if mob.driving_licence else None,
        vehicle=mob.vehicle.value if mob.vehicle else None,
        public_transport=mob.public_transport,
    )
    assumptions = list(modes.assumptions)
    if mob.max_travel_minutes is None:
        max_minutes = float(DEFAULT_MAX_TRAVEL_MINUTES)
        assumptions.append(
            f"Temps de trajet maximum non renseigné : {DEFAULT_MAX_TRAVEL_MINUTES} min retenues"
        )
    else:
        max_minutes = float(mob.max_travel_minutes)
    history: dict[str, str] = {}
    for entry in profile.history:  # later entries win: the history is chronological
        history[entry.item_id] = entry.status.value
    return PersonContext(
        profile=profile,
        home=home,
        commission=territories.commission_of(home.insee),
        modes=modes,
        max_travel_minutes=max_minutes,
        severities=severity_vector(profile.freins),
        history=history,
        assumptions=tuple(assumptions),
    )
