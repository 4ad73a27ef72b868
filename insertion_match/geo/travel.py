"""Door-to-door travel time estimates by mode, from crow-fly distances. An estimate, not a router.

``minutes = overhead + detour × distance_km / speed_kmh × 60`` for each mode, with these
constants (edit them here; they are documented nowhere else):

================  ==========================  ======  ========  =========
mode              speed (km/h)                detour  overhead  usable up to
================  ==========================  ======  ========  =========
walk              4.5                         1.3     0 min     60 min
bike              15                          1.3     0 min     60 min
two_wheeler       35                          1.3     2 min     —
car               30 for the first 5 road-km,  1.3     5 min     —
                  75 beyond
public_transport  25 (effective, incl. stops)  1.4     15 min    —
================  ==========================  ======  ========  =========

Reasoning, in words:

- *Detour factor* (road distance / crow-fly distance): network studies commonly report ratios of
  about 1.2 to 1.4 for French and European road networks, higher over short distances and in
  the bocage; 1.3 is the usual middle value. Buses and coaches follow fixed lines through
  villages, so 1.4.
- *Walk*: 4.5 km/h is an ordinary adult pace (4–5 km/h), without hurry. *Bike*: 15 km/h is a
  common figure for utility cycling on an ordinary bike. Both only count up to 60 minutes: a
  person is not expected to walk or cycle further than that every day.
- *Two-wheeler* (moped or scooter, often 50 cm³ limited to 45 km/h): 35 km/h effective, plus
  2 minutes to park and take the helmet off.
- *Car*: slow in town (30 km/h, the first 5 road-km: leaving the town, traffic lights,
  roundabouts) then 75 km/h effective on departmental roads limited to 80 or 90 km/h; plus
  5 minutes to park and walk to the door. Alençon–Flers (59 km crow-fly between the commune
  centroids) comes out at about 73 minutes, 20 km at about 32 minutes. Not calibrated against
  a router or survey data: revisit once real trip times are available.
- *Public transport*: in the rural Orne, regular lines are few (regional coaches, a few TER
  stations, on-demand transport), so an effective 25 km/h over the line distance plus 15 minutes
  to reach the stop and wait. When a person says they have access, we assume a usable line
  exists; the real timetable may well be worse (one coach a day), which is why coaches see the
  mode used and can correct it.

Where a GTFS feed imported with ``insertion-match transit import`` covers a trip (a stop near
both ends and a journey between them), the public-transport time is the timetable's instead of
the estimate: walk to the stop + wait + in-vehicle + walk (``geo/transit.py``,
``docs/transit.md``). ``mode_minutes_between`` and ``best_travel_between`` take the positions
of both ends for that, and say per trip which was used (``ESTIMATE_SOURCE`` or
``"gtfs:NAME"``); ``travel_minutes`` and ``best_travel`` stay the estimate alone.

Times are minutes, distances kilometres; every function is vectorised over numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from insertion_match.geo.distance import haversine_km
from insertion_match.geo.transit import ACCESS_RADIUS_KM, active_networks, transit_door_to_door

#: Default maximum acceptable one-way travel time when the person did not say (minutes).
DEFAULT_MAX_TRAVEL_MINUTES = 45


class Mode(StrEnum):
    walk = "walk"
    bike = "bike"
    two_wheeler = "two_wheeler"
    car = "car"
    public_transport = "public_transport"


MODE_LABELS_FR: dict[Mode, str] = {
    Mode.walk: "à pied",
    Mode.bike: "à vélo",
    Mode.two_wheeler: "en deux-roues",
    Mode.car: "en voiture",
    Mode.public_transport: "en transports en commun",
}

#: Cruising speed, km/h (for the car: beyond the first ``CAR_TOWN_KM`` road kilometres).
SPEED_KMH: dict[Mode, float] = {
    Mode.walk: 4.5,
    Mode.bike: 15.0,
    Mode.two_wheeler: 35.0,
    Mode.car: 75.0,
    Mode.public_transport: 25.0,
}
#: Road (or line) distance divided by crow-fly distance.
DETOUR_FACTOR: dict[Mode, float] = {
    Mode.walk: 1.3,
    Mode.bike: 1.3,
    Mode.two_wheeler: 1.3,
    Mode.car: 1.3,
    Mode.public_transport: 1.4,
}
#: Fixed minutes per trip: parking, walking to the stop, waiting.
OVERHEAD_MINUTES: dict[Mode, float] = {
    Mode.walk: 0.0,
    Mode.bike: 0.0,
    Mode.two_wheeler: 2.0,
    Mode.car: 5.0,
    Mode.public_transport: 15.0,
}
#: Beyond this many minutes a mode is not a realistic daily option (``best_travel`` ignores it).
MAX_MINUTES: dict[Mode, float] = {Mode.walk: 60.0, Mode.bike: 60.0}
#: Shortest crow-fly trip assumed between a home and a site (km). Places are known only by
#: their commune's centroid, so a home and a site in the same commune are 0 km apart; callers
#: floor distances at this value before estimating times (a typical trip inside a small town).
MIN_TRIP_KM = 1.5
#: The car's first road kilometres are driven at ``CAR_TOWN_SPEED_KMH``.
CAR_TOWN_KM = 5.0
CAR_TOWN_SPEED_KMH = 30.0

_LICENCES = frozenset({"none", "code", "b"})
_VEHICLES = frozenset({"none", "car", "two_wheeler", "bike"})


def travel_minutes(distance_km: ArrayLike, mode: Mode) -> NDArray[np.float64]:
    """Estimated one-way door-to-door minutes for crow-fly ``distance_km`` (same shape).

    Strictly increasing in distance for every mode; 0 km gives the mode's overhead. NaN
    distances give NaN. No cap is applied here (see ``best_travel``). Raises ``ValueError`` for
    a negative distance.
    """
    distance = np.asarray(distance_km, dtype=float)
    if np.any(distance < 0):
        raise ValueError(f"distance_km must be >= 0, got min {np.nanmin(distance)}")
    road_km = distance * DETOUR_FACTOR[mode]
    if mode is Mode.car:
        town_km = np.minimum(road_km, CAR_TOWN_KM)
        hours = town_km / CAR_TOWN_SPEED_KMH + (road_km - town_km) / SPEED_KMH[mode]
    else:
        hours = road_km / SPEED_KMH[mode]
    return np.asarray(OVERHEAD_MINUTES[mode] + 60.0 * hours, dtype=float)


@dataclass(frozen=True)
class ModeAvailability:
    """The modes a person can use (in ``Mode`` order, walk always first) and, in French, what
    was assumed because an answer was missing."""

    modes: tuple[Mode, ...]
    assumptions: tuple[str, ...] = ()


def available_modes(
    driving_licence: str | None, vehicle: str | None, public_transport: bool | None
) -> ModeAvailability:
    """Modes from the mobility diagnostic (``domain.Mobility`` values; None = unknown).

    Walking always. Car only with a B licence *and* a car ("code" is not a licence). Two-wheeler
    and bike only when it is the person's vehicle. Public transport when the person has access
    or did not say (assumed, and said so). An unknown licence or vehicle never yields a car.
    Raises ``ValueError`` for a value outside the domain's enumerations.
    """
    if driving_licence is not None and driving_licence not in _LICENCES:
        raise ValueError(f"driving_licence must be one of {sorted(_LICENCES)} or None")
    if vehicle is not None and vehicle not in _VEHICLES:
        raise ValueError(f"vehicle must be one of {sorted(_VEHICLES)} or None")
    modes = {Mode.walk}
    assumptions: list[str] = []
    if vehicle is None:
        assumptions.append(
            "Véhicule non renseigné : ni voiture, ni deux-roues, ni vélo ne sont comptés."
        )
    if driving_licence is None and vehicle in (None, "car"):
        assumptions.append("Permis de conduire non renseigné : la voiture n'est pas comptée.")
    if vehicle == "car" and driving_licence == "b":
        modes.add(Mode.car)
    elif vehicle == "two_wheeler":
        modes.add(Mode.two_wheeler)
    elif vehicle == "bike":
        modes.add(Mode.bike)
    if public_transport is None:
        assumptions.append("Accès aux transports en commun non renseigné : supposé disponible.")
        modes.add(Mode.public_transport)
    elif public_transport:
        modes.add(Mode.public_transport)
    return ModeAvailability(tuple(m for m in Mode if m in modes), tuple(assumptions))


def best_travel(
    distance_km: ArrayLike, modes: tuple[Mode, ...]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Per destination, the fastest usable mode: (minutes, index into ``modes``).

    Walking and cycling count only up to ``MAX_MINUTES``. Where no mode is usable (too far to
    walk with no other mode, or ``modes`` empty) minutes is ``inf`` and the index ``-1``; where
    the distance is NaN, minutes is NaN and the index ``-1``. Check for ``-1`` before indexing
    ``modes``. Ties go to the mode listed first.
    """
    distance = np.asarray(distance_km, dtype=float)
    if not modes:
        return np.full(distance.shape, np.inf), np.full(distance.shape, -1, dtype=np.int64)
    stacked = np.stack([travel_minutes(distance, mode) for mode in modes])
    for i, mode in enumerate(modes):
        if mode in MAX_MINUTES:
            stacked[i] = np.where(stacked[i] > MAX_MINUTES[mode], np.inf, stacked[i])
    stacked = np.where(np.isnan(stacked), np.inf, stacked)
    index = np.argmin(stacked, axis=0)
    minutes = np.take_along_axis(stacked, index[np.newaxis], axis=0)[0]
    minutes = np.where(np.isnan(distance), np.nan, minutes)
    index = np.where(np.isfinite(minutes), index, -1).astype(np.int64)
    return np.asarray(minutes, dtype=float), index


#: What ``travel.source`` says where the documented estimate above gave the time.
ESTIMATE_SOURCE = "estimate"
_ESTIMATE = np.array(ESTIMATE_SOURCE, dtype=object)


def mode_minutes_between(
    origin_lat: ArrayLike, origin_lon: ArrayLike, dest_lat: ArrayLike, dest_lon: ArrayLike,
    modes: tuple[Mode, ...], distance_km: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.object_]]:
    """Minutes by each of ``modes`` between positions (broadcast to N trips), and the source of
    the public-transport time of each trip.

    Returns ``(minutes (len(modes), N), source (N,))``. Every mode is the estimate of
    ``travel_minutes`` over ``max(distance_km, MIN_TRIP_KM)`` (``distance_km`` defaults to the
    crow-fly distance), uncapped, except public transport where an installed network covers the
    trip (``geo.transit``): then its timetable time, and ``source`` says ``"gtfs:NAME"``; else
    ``ESTIMATE_SOURCE``. A trip whose ends are within ``transit.ACCESS_RADIUS_KM`` of each other
    is local (same stops at both ends): the estimate stands.
    """
    olat, olon, dlat, dlon = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (origin_lat, origin_lon, dest_lat, dest_lon)))
    distance = (np.asarray(haversine_km(olat, olon, dlat, dlon), dtype=float)
                if distance_km is None else np.broadcast_to(
                    np.asarray(distance_km, dtype=float), olat.shape))
    trip = np.maximum(distance, MIN_TRIP_KM)
    shape = np.broadcast_shapes(olat.shape, trip.shape)
    stacked = np.stack([np.broadcast_to(travel_minutes(trip, m), shape) for m in modes]) \
        if modes else np.empty((0, *shape))
    source = np.broadcast_to(_ESTIMATE, shape)  # read-only, costs nothing
    networks = active_networks()
    if Mode.public_transport in modes and networks:
        feed, which = transit_door_to_door(olat, olon, dlat, dlon, networks)
        with np.errstate(invalid="ignore"):
            covered = np.isfinite(feed) & (distance > ACCESS_RADIUS_KM)
        pt = modes.index(Mode.public_transport)
        stacked[pt] = np.where(covered, feed, stacked[pt])
        labels = np.array([n.source for n in networks], dtype=object)
        source = np.where(covered, labels[np.maximum(which, 0)], source)
    return stacked, source


def best_travel_between(
    origin_lat: ArrayLike, origin_lon: ArrayLike, dest_lat: ArrayLike, dest_lon: ArrayLike,
    modes: tuple[Mode, ...], distance_km: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.object_]]:
    """``best_travel`` between positions, public transport by the timetables where a feed
    covers the trip: (minutes, index into ``modes``, source). ``source`` is ``"gtfs:NAME"``
    where the fastest mode is public transport timed by that feed, ``ESTIMATE_SOURCE`` for any
    other usable mode, None where no mode is usable (index -1)."""
    stacked, pt_source = mode_minutes_between(origin_lat, origin_lon, dest_lat, dest_lon, modes,
                                              distance_km)
    shape = stacked.shape[1:]
    if not modes:
        return (np.full(shape, np.inf), np.full(shape, -1, dtype=np.int64),
                np.full(shape, None, dtype=object))
    stacked = stacked.copy()
    for i, mode in enumerate(modes):
        if mode in MAX_MINUTES:
            stacked[i] = np.where(stacked[i] > MAX_MINUTES[mode], np.inf, stacked[i])
    nan = np.isnan(stacked).all(axis=0)
    stacked = np.where(np.isnan(stacked), np.inf, stacked)
    index = np.argmin(stacked, axis=0)
    minutes = np.take_along_axis(stacked, index[np.newaxis], axis=0)[0]
    minutes = np.where(nan, np.nan, minutes)
    index = np.where(np.isfinite(minutes), index, -1).astype(np.int64)
    source = np.full(shape, None, dtype=object)
    source = np.where(index >= 0, ESTIMATE_SOURCE, source)
    if Mode.public_transport in modes:
        by_pt = index == modes.index(Mode.public_transport)
        source = np.where(by_pt, pt_source, source)
    return np.asarray(minutes, dtype=float), index, source


def best_travel_to_sites(
    origin_lat: float, origin_lon: float, site_lat: ArrayLike, site_lon: ArrayLike,
    site_start: ArrayLike, site_ignored: ArrayLike | None, modes: tuple[Mode, ...],
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.object_]]:
    """For places with one or more sites (flat site arrays, ``site_start`` = first site of each
    place, every place with at least one): the quickest trip from the origin to any of the
    place's usable sites by the fastest mode, as ``best_travel_between`` (minutes, mode index,
    source). ``site_ignored`` sites are never used. A place no mode reaches gets ``inf``, -1,
    None; with the estimate alone the quickest site is the nearest one."""
    lat = np.asarray(site_lat, dtype=float)
    lon = np.asarray(site_lon, dtype=float)
    start = np.asarray(site_start, dtype=np.int64)
    if start.size == 0:
        return np.empty(0), np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    if site_ignored is not None:
        ignored = np.asarray(site_ignored, dtype=bool)
        lat, lon = np.where(ignored, np.nan, lat), np.where(ignored, np.nan, lon)
    distance = np.asarray(haversine_km(origin_lat, origin_lon, lat, lon), dtype=float)
    distance = np.where(np.isnan(distance), np.inf, distance)  # an unusable site is unreachable
    minutes, index, source = best_travel_between(origin_lat, origin_lon, lat, lon, modes,
                                                 distance_km=distance)
    m = np.where(np.isnan(minutes), np.inf, minutes)
    best = np.minimum.reduceat(m, start)
    counts = np.diff(np.append(start, m.size))
    group = np.repeat(np.arange(start.size), counts)
    first = np.zeros(start.size, dtype=np.int64)
    hits = np.flatnonzero(m == best[group])[::-1]
    first[group[hits]] = hits  # reversed: the first quickest site of each place wins
    index = np.where(np.isfinite(best), index[first], -1).astype(np.int64)
    source = np.where(index >= 0, source[first], np.array(None, dtype=object))
    return best, index, source


def timetable_note(sources: ArrayLike | None, i: int) -> str:
    """French words to append to a travel time read from a feed's timetables
    (« , d'après les horaires du réseau X »), nothing for the estimate."""
    if sources is None:
        return ""
    value = np.asarray(sources, dtype=object)[i]
    if isinstance(value, str) and value.startswith("gtfs:"):
        return f", d'après les horaires du réseau {value.removeprefix('gtfs:')}"
    return ""


def source_at(sources: ArrayLike | None, i: int) -> str:
    """``travel.source`` of trip ``i``: ``"gtfs:NAME"`` or ``ESTIMATE_SOURCE`` (also when the
    caller kept no sources)."""
    value = None if sources is None else np.asarray(sources, dtype=object)[i]
    return str(value) if isinstance(value, str) and value else ESTIMATE_SOURCE
