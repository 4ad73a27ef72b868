"""The two value types of the gazetteer: a located commune and a ranked suggestion."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Commune:
    """A current French commune (or arrondissement municipal), positioned at its centroid.

    ``lat``/``lon`` are WGS84 degrees of the polygon's area-weighted centroid (not the town
    hall); ``population`` is the latest legal population (0 when unknown).
    """

    insee: str
    name: str
    postcodes: tuple[str, ...]
    lat: float
    lon: float
    population: int
    department: str


@dataclass(frozen=True)
class Suggestion:
    """A candidate commune for a query: ``score`` 0–100 (100 = exact), ``reason`` in English."""

    commune: Commune
    score: float
    reason: str
