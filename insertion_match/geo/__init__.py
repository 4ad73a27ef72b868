"""Where people and places are, and how long it takes to get from one to the other.

- ``gazetteer``: INSEE code / postcode / (misspelt) name → ``Commune`` with coordinates;
- ``resolution``: a home as the caller means it (their territories, then the served
  départements, then population) → ``Resolution`` saying how;
- ``distance``: crow-fly ``haversine_km``, vectorised;
- ``travel``: modes a person really has and estimated ``travel_minutes`` per mode;
- ``territories``: the Orne's Commissions RSA / DTAS per commune;
- ``errors``: the error tree.

Load ``Gazetteer`` and ``Territories`` once at start-up; everything else is pure and vectorised.
"""

from insertion_match.geo.commune import Commune, Suggestion
from insertion_match.geo.distance import EARTH_RADIUS_KM, check_coordinates, haversine_km
from insertion_match.geo.errors import (
    AmbiguousCommune,
    CoordinateError,
    GeoError,
    NotServed,
    SharedPostcode,
    UnknownCommission,
    UnknownCommune,
)
from insertion_match.geo.gazetteer import Gazetteer
from insertion_match.geo.names import normalise_name
from insertion_match.geo.resolution import HomeScope, Resolution
from insertion_match.geo.territories import COMMISSIONS_61, Territories
from insertion_match.geo.travel import (
    DEFAULT_MAX_TRAVEL_MINUTES,
    MIN_TRIP_KM,
    MODE_LABELS_FR,
    Mode,
    ModeAvailability,
    available_modes,
    best_travel,
    travel_minutes,
)

__all__ = [
    "COMMISSIONS_61",
    "DEFAULT_MAX_TRAVEL_MINUTES",
    "EARTH_RADIUS_KM",
    "MIN_TRIP_KM",
    "MODE_LABELS_FR",
    "AmbiguousCommune",
    "Commune",
    "CoordinateError",
    "Gazetteer",
    "GeoError",
    "HomeScope",
    "Mode",
    "ModeAvailability",
    "NotServed",
    "Resolution",
    "SharedPostcode",
    "Suggestion",
    "Territories",
    "UnknownCommission",
    "UnknownCommune",
    "available_modes",
    "best_travel",
    "check_coordinates",
    "haversine_km",
    "normalise_name",
    "travel_minutes",
]
