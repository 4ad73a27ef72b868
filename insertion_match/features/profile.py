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
    HomeScope,
    Mode,
    ModeAvailability,
    Resolution,
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


def _label(commune: Commune) -> str:
    return f"{commune.name} ({commune.department})"


def home_assumptions(found: Resolution, scope: HomeScope, code_in_commune: bool) -> list[str]:
    """What the answer must say about how the home was understood (French), when a choice was
    made: a name or postcode read within the caller's territories, the served départements or
    by population, a misspelt name, a code given as the commune, a home outside the served
    départements. Nothing when the home was given unambiguously."""
    notes: list[str] = []
    where = ("vos territoires" if found.tier == "territory"
             else f"les départements servis ({', '.join(scope.served)})")
    home, query = _label(found.commune), found.query
    if found.how == "exact" and found.tier is not None:
        others = found.among - 1
        notes.append(f"Commune « {query} » comprise comme {home} : seule commune de ce nom dans "
                     f"{where} ({others} autre{'s' if others > 1 else ''} en France)")
    elif found.how == "prefix":
        notes.append(f"Commune « {query} » comprise comme {home} : seule commune de ce nom "
                     f"dans {where}")
    elif found.how == "fuzzy":
        notes.append(f"Commune « {query} » comprise comme {home} : nom le plus proche dans "
                     f"{where}")
    elif found.how == "postcode" and found.tier == "territory":
        notes.append(f"Code postal {query} compris comme {home} : seule de ses {found.among} "
                     "communes dans vos territoires")
    elif found.how == "postcode" and found.tier == "population":
        notes.append(f"Code postal {query} compris comme {home} : la plus peuplée des "
                     f"{found.among} communes concernées ({round(100 * (found.share or 0))} % des "
                     "habitants) ; précisez la commune si la personne habite ailleurs")
    elif found.how == "postcode" and code_in_commune:
        notes.append(f"« {query} » lu comme un code postal : {home}")
    elif found.how == "code_insee":
        notes.append(f"« {query} » lu comme un code INSEE : {home}")
    if found.also_insee is not None:
        notes.append(f"« {query} » est aussi le code INSEE de {_label(found.also_insee)} : "
                     "donnez-le dans le champ insee si c'est cette commune")
    if found.outside_served:
        notes.append(f"{home} est hors des départements servis ({', '.join(scope.served)}) : "
                     "aucune action ni offre de ce territoire n'est proposée")
    return notes


def person_context(
    profile: BeneficiaryProfile,
    gazetteer: Gazetteer,
    territories: Territories,
    scope: HomeScope | None = None,
) -> PersonContext:
    """Resolve the home commune and derive the person's means. Raises geo errors as they are.

    With a ``scope`` (the caller's territories and the served départements), a bare name or a
    shared postcode is resolved as the caller means it (``geo.resolution``) and the answer's
    assumptions say how; without one, as ``Gazetteer.resolve`` (all France, no preference).
    """
    assumptions: list[str] = []
    if scope is None:
        home = gazetteer.resolve(
            commune=profile.home.commune, postcode=profile.home.postcode, insee=profile.home.insee
        )
    else:
        found = gazetteer.resolve_home(profile.home.commune, profile.home.postcode,
                                       profile.home.insee, scope, territories)
        home = found.commune
        assumptions = home_assumptions(found, scope, code_in_commune=bool(profile.home.commune))
    mob = profile.mobility
    modes = available_modes(
        driving_licence=mob.driving_licence.value if mob.driving_licence else None,
        vehicle=mob.vehicle.value if mob.vehicle else None,
        public_transport=mob.public_transport,
    )
    assumptions.extend(modes.assumptions)
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
