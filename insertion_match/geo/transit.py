"""Public-transport times from a network's timetables (GTFS), door to door, vectorised.

A :class:`TransitNetwork` is the stop-to-stop table one ``insertion-match transit import`` builds
from a GTFS feed (``geo/gtfs_import.py``): for every pair of stops (a, b), the typical minutes
from arriving at stop a to alighting at stop b on a weekday morning, waiting included — at least
one ride, transfers allowed. A trip from a home to a place is then

``walk to a stop + table[stop a, stop b] + walk from stop b``

minimised over the stops within ``ACCESS_RADIUS_KM`` (crow-fly) of each end. Where no stop is
near one end, or the table has no journey between the stops near both ends, the feed does not
cover the trip and ``geo.travel`` falls back to its documented estimate.

Constants (edit them here; ``docs/transit.md`` explains them):

=========================  ==============  ================================================
what                       value           why
=========================  ==============  ================================================
walking speed              4.5 km/h × 1.3  ``travel``'s walk mode: ordinary pace, detour 1.3
access radius              1.5 km          ≈ 26 min on foot; places are commune centroids
transfer radius            0.4 km          two stops of one station or square (≈ 7 min)
morning window             06:00–09:30     departures to reach work or training
wait at a boarding         ½ headway in    headway = window / departures from that stop to
                           [2, 15] min     that stop; on sparse lines people time their
                                           arrival, so the wait is bounded
longest table entry        240 min         beyond, unreachable (``travel`` caps at 240 too)
=========================  ==============  ================================================

The networks loaded at start-up (``install_networks``) are process-wide and read-only: every
server worker loads the same files once (``service/state.py``). A feed imported while a server
runs is served from its next start.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from insertion_match.geo.distance import haversine_km

log = logging.getLogger("insertion_match.geo")

#: Walking: the ``walk`` mode of ``geo.travel`` (4.5 km/h, crow-fly × 1.3).
WALK_SPEED_KMH = 4.5
WALK_DETOUR = 1.3
#: A stop serves a place within this crow-fly distance of it (km).
ACCESS_RADIUS_KM = 1.5
#: Two stops this close (km, crow-fly) allow a transfer on foot.
TRANSFER_RADIUS_KM = 0.4
#: Departures counted for the typical weekday morning (seconds after midnight).
WINDOW_START_S = 6 * 3600
WINDOW_END_S = 9 * 3600 + 30 * 60
#: Waiting at a boarding: half the headway, bounded to these minutes.
MIN_WAIT_MINUTES = 2.0
MAX_WAIT_MINUTES = 15.0
#: Table entries beyond this are dropped (no journey).
MAX_TABLE_MINUTES = 240.0
#: The table is stored in tenths of a minute; this value means "no journey".
_NO_JOURNEY = np.iinfo(np.uint16).max
#: Version of the stored file format (``TransitNetwork.save``).
FORMAT_VERSION = 1
#: A network name: what ``travel.source`` says after "gtfs:" and the stored file's name.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_KM_PER_DEG = 111.195  # km per degree of latitude on the haversine sphere
_CELL_BASE = 1 << 20  # cell key = lat cell × base + lon cell (cells of a few km)


def walk_minutes(km: ArrayLike) -> NDArray[np.float64]:
    """Minutes on foot for crow-fly ``km`` (the ``walk`` mode's speed and detour)."""
    return np.asarray(km, dtype=float) * WALK_DETOUR / WALK_SPEED_KMH * 60.0


def wait_minutes(headway_minutes: ArrayLike) -> NDArray[np.float64]:
    """Expected wait at a boarding: half the headway, within [MIN, MAX]_WAIT_MINUTES."""
    return np.clip(np.asarray(headway_minutes, dtype=float) / 2.0, MIN_WAIT_MINUTES,
                   MAX_WAIT_MINUTES)


@dataclass(frozen=True)
class TransitNetwork:
    """One network's stops and stop-to-stop table (minutes, ``inf`` = no journey)."""

    name: str
    stop_ids: NDArray[np.str_]
    stop_names: NDArray[np.str_]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    minutes: NDArray[np.float32]  # (S, S) from arriving at stop a to alighting at stop b
    meta: dict = field(default_factory=dict)  # service date, window, feed hash, counts...
    _tree: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        from scipy.spatial import cKDTree

        object.__setattr__(self, "_lat0", float(np.mean(self.lat)) if self.lat.size else 0.0)
        object.__setattr__(self, "_tree", cKDTree(self._xy(self.lat, self.lon))
                           if self.lat.size else None)
        # coarse cells at least the access radius wide: a point can reach a stop only from
        # the 3 × 3 cells around that stop's cell (a cheap, vectorised prefilter)
        cell_lat = ACCESS_RADIUS_KM / _KM_PER_DEG * 1.05
        widest = np.cos(np.radians(min(float(np.max(np.abs(self.lat))), 85.0))) \
            if self.lat.size else 1.0
        cell_lon = cell_lat / widest
        object.__setattr__(self, "_cell", (cell_lat, cell_lon))
        i = np.floor(self.lat / cell_lat).astype(np.int64)
        j = np.floor(self.lon / cell_lon).astype(np.int64)
        near = [(i + di) * _CELL_BASE + (j + dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)]
        object.__setattr__(self, "_cells", np.unique(np.concatenate(near)) if near else
                           np.empty(0, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.lat.size)

    @property
    def source(self) -> str:
        """What an answer's ``travel.source`` says when this network gave the time."""
        return f"gtfs:{self.name}"

    def _xy(self, lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
        """Local equirectangular km (good to well under 1 % over a département)."""
        lat_a, lon_a = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
        scale = np.cos(np.radians(self._lat0))  # type: ignore[attr-defined]
        return np.column_stack([lon_a * scale * _KM_PER_DEG, lat_a * _KM_PER_DEG])

    def _near(self, lat: NDArray[np.float64], lon: NDArray[np.float64]
              ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """Stops within ``ACCESS_RADIUS_KM`` of each point: (point, stop, walk minutes), flat.
        NaN points have no stop."""
        ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        if self._tree is None or ok.size == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, np.empty(0)
        # a little slack on the planar radius; the haversine distance decides
        hits = self._tree.query_ball_point(self._xy(lat[ok], lon[ok]),  # type: ignore[attr-defined]
                                           r=ACCESS_RADIUS_KM * 1.01)
        counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        point = np.repeat(ok, counts)
        stop = np.fromiter((s for h in hits for s in h), dtype=np.int64, count=int(counts.sum()))
        km = haversine_km(lat[point], lon[point], self.lat[stop], self.lon[stop])
        keep = km <= ACCESS_RADIUS_KM
        return point[keep], stop[keep], walk_minutes(km[keep])

    def door_to_door(self, origin_lat: ArrayLike, origin_lon: ArrayLike, dest_lat: ArrayLike,
                     dest_lon: ArrayLike) -> NDArray[np.float64]:
        """Minutes from each origin to each destination (numpy broadcasting: one origin × n
        destinations, m origins × one destination, or pairs); ``inf`` where the network does
        not cover the trip. Work grows with the distinct origins (the smaller side)."""
        olat, olon, dlat, dlon = (a.ravel() for a in np.broadcast_arrays(
            *(np.asarray(v, dtype=float) for v in (origin_lat, origin_lon, dest_lat, dest_lon))))
        shape = np.broadcast_shapes(*(np.shape(v) for v in (origin_lat, origin_lon, dest_lat,
                                                            dest_lon)))
        out = np.full(olat.size, np.inf)
        if out.size == 0 or len(self) == 0:
            return out.reshape(shape)
        # only pairs whose both ends lie in the network's box (plus the access radius): most
        # people and places are far from any stop, and cost nothing more
        work = np.flatnonzero(self._in_box(olat, olon) & self._in_box(dlat, dlon))
        if work.size == 0:
            return out.reshape(shape)
        o_keys, o_inv = np.unique(olat[work] + 1j * olon[work], return_inverse=True)
        d_keys, d_inv = np.unique(dlat[work] + 1j * dlon[work], return_inverse=True)
        o_inv, d_inv = o_inv.ravel(), d_inv.ravel()
        reverse = o_keys.size > d_keys.size
        if reverse:  # few destinations, many origins: run from the destinations backwards
            table = self.minutes.T
            o_keys, d_keys, o_inv, d_inv = d_keys, o_keys, d_inv, o_inv
        else:
            table = self.minutes
        o_pt, o_stop, o_walk = self._near(o_keys.real, o_keys.imag)
        d_pt, d_stop, d_walk = self._near(d_keys.real, d_keys.imag)
        best = np.full((o_keys.size, d_keys.size), np.inf)
        for k in np.unique(o_pt):  # distinct origins: one for a person's request
            sel = o_pt == k
            # best minutes from origin k to alighting at every stop, walk to the stop included
            at_stop = np.min(o_walk[sel, np.newaxis] + table[o_stop[sel]], axis=0)
            total = at_stop[d_stop] + d_walk
            np.minimum.at(best[k], d_pt, total)
        out[work] = best[o_inv, d_inv]  # (swapped together with the keys when reversed)
        return out.reshape(shape)

    def _in_box(self, lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Points that may have a stop within the access radius (False for NaN)."""
        cell_lat, cell_lon = self._cell  # type: ignore[attr-defined]
        ok = np.isfinite(lat) & np.isfinite(lon)
        keys = np.full(lat.shape, -1, dtype=np.int64)
        keys[ok] = (np.floor(lat[ok] / cell_lat).astype(np.int64) * _CELL_BASE
                    + np.floor(lon[ok] / cell_lon).astype(np.int64))
        return ok & np.isin(keys, self._cells)  # type: ignore[attr-defined]

    # -- storage ---------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the network atomically (a temporary file renamed over ``path``): a reader
        sees the old file or the new one, never half of one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tenths = np.where(np.isfinite(self.minutes),
                          np.minimum(np.round(self.minutes * 10.0), _NO_JOURNEY - 1),
                          _NO_JOURNEY).astype(np.uint16)
        meta = {**self.meta, "name": self.name, "format": FORMAT_VERSION}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, stop_ids=self.stop_ids.astype(str),
                                    stop_names=self.stop_names.astype(str), lat=self.lat,
                                    lon=self.lon, tenths=tenths,
                                    meta=np.array(json.dumps(meta, ensure_ascii=False)))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> TransitNetwork:
        """Read a file written by :meth:`save`. Raises ``ValueError`` for a file that is not one
        (or of another format version)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                tenths = z["tenths"]
                arrays = {k: z[k] for k in ("stop_ids", "stop_names", "lat", "lon")}
        except (OSError, KeyError, ValueError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not a transit network file ({exc})") from exc
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path}: format {meta.get('format')!r}, expected {FORMAT_VERSION}")
        s = arrays["lat"].size
        if tenths.shape != (s, s):
            raise ValueError(f"{path}: table of shape {tenths.shape} for {s} stops")
        minutes = np.where(tenths == _NO_JOURNEY, np.inf, tenths / 10.0).astype(np.float32)
        return cls(name=str(meta["name"]), stop_ids=arrays["stop_ids"],
                   stop_names=arrays["stop_names"], lat=arrays["lat"].astype(float),
                   lon=arrays["lon"].astype(float), minutes=minutes, meta=meta)


def network_path(directory: Path, name: str) -> Path:
    return directory / f"{name}.npz"


def load_networks(directory: Path | None) -> tuple[TransitNetwork, ...]:
    """Every network stored in ``directory`` (``*.npz``, by name). A file that cannot be read
    is skipped with one log line: the estimate then serves for its trips."""
    if directory is None or not directory.is_dir():
        return ()
    networks = []
    for path in sorted(directory.glob("*.npz")):
        try:
            networks.append(TransitNetwork.load(path))
        except ValueError as exc:
            log.error(f"transit network refused, the estimate serves: {exc}",
                      extra={"error": "transit_refused"})
    return tuple(networks)


_ACTIVE: tuple[TransitNetwork, ...] = ()


_GENERATION = 0


def install_networks(networks: tuple[TransitNetwork, ...] | list[TransitNetwork]) -> None:
    """Make ``networks`` the ones every travel estimate of this process uses (start-up)."""
    global _ACTIVE, _GENERATION
    _ACTIVE = tuple(networks)
    _GENERATION += 1


def networks_generation() -> int:
    """Changes whenever the installed networks change: part of the key of memoised trips."""
    return _GENERATION


def active_networks() -> tuple[TransitNetwork, ...]:
    return _ACTIVE


def transit_door_to_door(
    origin_lat: ArrayLike, origin_lon: ArrayLike, dest_lat: ArrayLike, dest_lon: ArrayLike,
    networks: tuple[TransitNetwork, ...] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Best minutes over the networks (the installed ones by default) and which network gave
    them (index into ``networks``, -1 where none covers the trip: minutes ``inf``)."""
    nets = active_networks() if networks is None else networks
    shape = np.broadcast_shapes(*(np.shape(v) for v in (origin_lat, origin_lon, dest_lat,
                                                        dest_lon)))
    best = np.full(shape, np.inf)
    which = np.full(shape, -1, dtype=np.int64)
    for k, net in enumerate(nets):
        minutes = net.door_to_door(origin_lat, origin_lon, dest_lat, dest_lon)
        better = minutes < best
        best = np.where(better, minutes, best)
        which = np.where(better, k, which)
    return best, which
