"""Great-circle (crow-fly) distances in kilometres.

Positions are WGS84 degrees. Road distances are longer: ``travel`` applies a detour factor per
mode on top of these.
"""

from __future__ import annotations

from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from insertion_match.geo.errors import CoordinateError

#: Mean Earth radius (IUGG), kilometres.
EARTH_RADIUS_KM = 6371.0088


def check_coordinates(lat: ArrayLike, lon: ArrayLike) -> None:
    """Raise ``CoordinateError`` naming the first point whose latitude is outside [-90, 90] or
    longitude outside [-180, 180]. NaN passes (an unknown position gives a NaN distance).

    Vectorised and cheap. It catches a lat/lon swap only when the swapped latitude exceeds 90,
    so not for France (lon -5..10): the range check is a guard, not a proof.
    """
    lat_a, lon_a = np.broadcast_arrays(np.asarray(lat, dtype=float), np.asarray(lon, dtype=float))
    bad_lat = np.abs(lat_a) > 90.0
    bad_lon = np.abs(lon_a) > 180.0
    if bad_lat.any() or bad_lon.any():
        where = np.argwhere(bad_lat | bad_lon)[0]
        point = tuple(int(i) for i in where)
        la, lo = float(lat_a[point]), float(lon_a[point])
        if bad_lat[point]:
            problem = f"latitude {la} is outside [-90, 90]"
        else:
            problem = f"longitude {lo} is outside [-180, 180]"
        raise CoordinateError(la, lo, problem)


@overload
def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float: ...
@overload
def haversine_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]: ...
def haversine_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> float | NDArray[np.float64]:
    """Crow-fly distance in km between (lat1, lon1) and (lat2, lon2), in degrees.

    Inputs broadcast like numpy arrays: one origin against N destinations, N pairs, or an
    (N, 1) column against an (M,) row for an N×M matrix. Scalars in, a float out. The haversine
    formula on a sphere of radius ``EARTH_RADIUS_KM``: within 0.5 % of the ellipsoidal distance.
    Raises ``CoordinateError`` for out-of-range values (see ``check_coordinates``).
    """
    check_coordinates(lat1, lon1)
    check_coordinates(lat2, lon2)
    phi1, lam1, phi2, lam2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2)
    )
    a = (
        np.sin((phi2 - phi1) / 2.0) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2.0) ** 2
    )
    distance = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    if np.ndim(distance) == 0:
        return float(distance)
    return np.asarray(distance, dtype=np.float64)
