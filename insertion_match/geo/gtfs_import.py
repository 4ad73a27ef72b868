"""Build a :class:`~insertion_match.geo.transit.TransitNetwork` from a GTFS feed (a zip file).

Read with ``gtfs-kit``; nothing is downloaded (a local file only). Steps:

1. check the feed: the required files, stops with coordinates in range, stop times with
   readable times, references between trips, stops and stop times; every problem is listed
   (French) and nothing is built if there is one (:class:`FeedError`);
2. the typical weekday: the Monday–Friday date of the feed's calendar with the most trips
   (``gtfs_kit.compute_busiest_date``); its trips and stop times;
3. stations: a stop with a ``parent_station`` counts as its station (platforms of one station
   are one place);
4. ride legs: every (board at stop a, alight at a later stop b) of every trip departing from a
   within the morning window (``transit.WINDOW_*``); per pair, the median in-vehicle minutes
   and the number of departures, whose headway gives the wait (``transit.wait_minutes``);
5. the table: shortest journeys over a two-layer graph (layer 0: at a stop before any ride;
   layer 1: at a stop after a ride). Each leg (a, b) links a₀→b₁ and a₁→b₁ weighted
   wait + in-vehicle; stops within ``TRANSFER_RADIUS_KM`` are linked on foot in layer 1 only.
   Dijkstra from every a₀ (scipy) gives table[a, b] = dist(a₀, b₁): every journey rides at
   least once (walking alone is the walk mode's business), transfers cost their walk and wait.

Cost: one Dijkstra per stop over (2 stops, legs) — seconds for a département's train and
coach network, minutes for a dense urban bus network; the table is S × S (2 bytes per entry
stored).
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from insertion_match.geo.distance import haversine_km
from insertion_match.geo.transit import (
    MAX_TABLE_MINUTES,
    TRANSFER_RADIUS_KM,
    WINDOW_END_S,
    WINDOW_START_S,
    TransitNetwork,
    wait_minutes,
    walk_minutes,
)

REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
NO_WEEKDAY = "aucune course un jour de semaine (lundi–vendredi) dans le calendrier du flux"
#: Problems listed in full; beyond, a count.
MAX_LISTED = 50


class FeedError(ValueError):
    """A GTFS feed that cannot be used; ``problems`` lists every reason, in French."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))


@dataclass(frozen=True)
class ImportSummary:
    network: TransitNetwork
    service_date: str
    trips: int
    legs: int
    stops: int
    routes: int


def _seconds(times: pd.Series) -> np.ndarray:
    """HH:MM:SS (hours may pass 24) → seconds; NaN where unreadable or missing."""
    parts = times.astype("string").str.strip().str.extract(r"^(\d{1,3}):([0-5]\d):([0-5]\d)$")
    h, m, s = (pd.to_numeric(parts[i], errors="coerce") for i in range(3))
    return (h * 3600 + m * 60 + s).to_numpy(dtype=float)


def _check_zip(path: Path) -> None:
    if not path.is_file():
        raise FeedError([f"fichier introuvable : {path}"])
    if not zipfile.is_zipfile(path):
        raise FeedError([f"{path.name} n'est pas une archive zip (un flux GTFS est un .zip)"])
    with zipfile.ZipFile(path) as z:
        names = {Path(n).name for n in z.namelist()}
    missing = [f for f in REQUIRED_FILES if f not in names]
    if "calendar.txt" not in names and "calendar_dates.txt" not in names:
        missing.append("calendar.txt ou calendar_dates.txt")
    if missing:
        raise FeedError([f"fichier(s) GTFS manquant(s) : {', '.join(missing)}"])


def _listed(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_LISTED:
        return problems
    return problems[:MAX_LISTED] + [f"… et {len(problems) - MAX_LISTED} autre(s) problème(s)"]


def _read_raw(path: Path) -> SimpleNamespace:
    """The tables we check, as text (no conversion can fail here), wherever they are in the
    archive. Raises :class:`FeedError` for a file that is not readable CSV."""
    tables: dict[str, pd.DataFrame | None] = {}
    with zipfile.ZipFile(path) as z:
        members = {Path(n).name: n for n in z.namelist() if not n.endswith("/")}
        for table in ("stops", "routes", "trips", "stop_times"):
            member = members.get(f"{table}.txt")
            if member is None:
                tables[table] = None
                continue
            try:
                with z.open(member) as fh:
                    frame = pd.read_csv(fh, dtype=str, keep_default_na=False,
                                        encoding="utf-8-sig")
            except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
                raise FeedError([f"{table}.txt illisible (CSV UTF-8 attendu) : {exc}"]) from exc
            frame.columns = [str(c).strip() for c in frame.columns]
            tables[table] = frame.replace("", None)
    return SimpleNamespace(**tables)


def _cell(table: pd.DataFrame, col: str, i: int) -> str:
    return str(table[col].iloc[i]) if col in table.columns else "—"


def _check_tables(feed) -> list[str]:
    """Every problem of the tables we use (French, with the file and line: line 2 is the first
    record after the header)."""
    problems: list[str] = []
    for table in ("stops", "routes", "trips", "stop_times"):
        if getattr(feed, table, None) is None or len(getattr(feed, table)) == 0:
            problems.append(f"{table}.txt est vide")
    if problems:
        return problems
    stops, trips, st = feed.stops, feed.trips, feed.stop_times
    for name, col in (("stops", "stop_id"), ("stops", "stop_lat"), ("stops", "stop_lon"),
                      ("routes", "route_id"), ("trips", "trip_id"), ("trips", "route_id"),
                      ("trips", "service_id"), ("stop_times", "trip_id"),
                      ("stop_times", "stop_id"), ("stop_times", "stop_sequence")):
        if col not in getattr(feed, name).columns:
            problems.append(f"{name}.txt : colonne {col} manquante")
    if problems:
        return problems
    lat = pd.to_numeric(stops["stop_lat"], errors="coerce")
    lon = pd.to_numeric(stops["stop_lon"], errors="coerce")
    kind = pd.to_numeric(stops.get("location_type", pd.Series(0, index=stops.index)),
                         errors="coerce").fillna(0)
    placed = kind.isin([0, 1])  # stops and stations need a position; entrances, nodes may not
    bad = placed & ~(lat.between(-90, 90) & lon.between(-180, 180))
    for i in np.flatnonzero(bad.to_numpy()):
        problems.append(f"stops.txt ligne {i + 2} ({stops['stop_id'].iloc[i]}) : coordonnées "
                        f"absentes ou hors limites ({stops['stop_lat'].iloc[i]}, "
                        f"{stops['stop_lon'].iloc[i]})")
    dup = stops["stop_id"].duplicated()
    for i in np.flatnonzero(dup.to_numpy()):
        problems.append(f"stops.txt ligne {i + 2} : identifiant {stops['stop_id'].iloc[i]} "
                        "en double")
    known_stops = set(stops["stop_id"].astype(str))
    known_trips = set(trips["trip_id"].astype(str))
    known_routes = set(feed.routes["route_id"].astype(str))
    for i in np.flatnonzero(~trips["route_id"].astype(str).isin(known_routes).to_numpy()):
        problems.append(f"trips.txt ligne {i + 2} ({trips['trip_id'].iloc[i]}) : ligne "
                        f"{trips['route_id'].iloc[i]} inconnue de routes.txt")
    unreadable = np.zeros(len(st), dtype=bool)
    for col in ("arrival_time", "departure_time"):
        if col in st.columns:
            text = st[col].astype("string").str.strip()
            given = (text.notna() & (text != "")).fillna(False).to_numpy(dtype=bool)
            unreadable |= given & np.isnan(_seconds(st[col]))
    seq = pd.to_numeric(st["stop_sequence"], errors="coerce")
    for i in np.flatnonzero(unreadable):
        problems.append(f"stop_times.txt ligne {i + 2} (course {st['trip_id'].iloc[i]}) : "
                        f"horaire illisible ({_cell(st, 'arrival_time', int(i))}, "
                        f"{_cell(st, 'departure_time', int(i))}) ; attendu HH:MM:SS")
    for i in np.flatnonzero(~st["stop_id"].astype(str).isin(known_stops).to_numpy()):
        problems.append(f"stop_times.txt ligne {i + 2} : arrêt {st['stop_id'].iloc[i]} inconnu "
                        "de stops.txt")
    for i in np.flatnonzero(~st["trip_id"].astype(str).isin(known_trips).to_numpy()):
        problems.append(f"stop_times.txt ligne {i + 2} : course {st['trip_id'].iloc[i]} inconnue "
                        "de trips.txt")
    for i in np.flatnonzero(seq.isna().to_numpy()):
        problems.append(f"stop_times.txt ligne {i + 2} : stop_sequence illisible")
    return problems


def _busiest_weekday(feed) -> str:
    import gtfs_kit as gk

    dates = gk.get_dates(feed)
    weekdays = [d for d in dates if datetime.strptime(d, "%Y%m%d").weekday() < 5]
    if not weekdays:
        raise FeedError([NO_WEEKDAY])
    # the busiest weekday of each of the first weeks covers school and holiday calendars alike
    return str(gk.compute_busiest_date(feed, weekdays[:31]))


def read_network(path: Path, name: str) -> ImportSummary:
    """Check the feed at ``path`` and build its network; raises :class:`FeedError` (French
    problems) for a feed that cannot be used. Nothing is written here."""
    _check_zip(path)
    problems = _check_tables(_read_raw(path))  # as text first: every problem, by line
    if problems:
        raise FeedError(_listed(problems))
    try:
        import gtfs_kit as gk
    except ImportError as exc:  # an optional extra: servers only read the stored networks
        raise FeedError([("gtfs-kit n'est pas installé sur cette machine : "
                          "pip install 'insertion-match[transit]'")]) from exc

    try:
        feed = gk.read_feed(path, dist_units="km")
    except Exception as exc:  # any parsing failure of a third-party reader
        raise FeedError([f"flux GTFS illisible : {type(exc).__name__}: {exc}"]) from exc
    service_date = _busiest_weekday(feed)
    try:
        trips = gk.get_trips(feed, service_date)
        st = gk.get_stop_times(feed, service_date)
    except Exception as exc:  # the reader's own failures, whatever they are
        raise FeedError([f"calendrier du flux illisible : {type(exc).__name__}: {exc}"]) from exc
    if trips is None or len(trips) == 0:
        raise FeedError([NO_WEEKDAY])
    st = st[st["trip_id"].isin(trips["trip_id"])].copy()
    st["arr"] = _seconds(st["arrival_time"])
    st["dep"] = _seconds(st["departure_time"])
    st["arr"] = st["arr"].fillna(st["dep"])
    st["dep"] = st["dep"].fillna(st["arr"])
    st = st.dropna(subset=["arr"])  # untimed intermediate stops: not boarding points
    st["seq"] = pd.to_numeric(st["stop_sequence"])
    st = st.sort_values(["trip_id", "seq"], kind="stable")

    stops = feed.stops.copy()
    stops["stop_id"] = stops["stop_id"].astype(str)
    parent = stops.get("parent_station")
    station_of = dict(zip(stops["stop_id"], stops["stop_id"], strict=True))
    if parent is not None:
        known = set(stops["stop_id"])
        for sid, par in zip(stops["stop_id"], parent.astype("string"), strict=True):
            if isinstance(par, str) and par.strip() and par in known:
                station_of[sid] = par
    st["station"] = st["stop_id"].astype(str).map(station_of)

    # ride legs of every trip: (board i, alight j > i), boarding in the morning window
    _, trip_code = np.unique(st["trip_id"].astype(str).to_numpy(), return_inverse=True)
    station = st["station"].to_numpy()
    arr, dep = st["arr"].to_numpy(), st["dep"].to_numpy()
    longest = int(np.bincount(trip_code).max()) if len(trip_code) else 0
    boards, alights, rides = [], [], []
    for d in range(1, longest):
        same = trip_code[:-d] == trip_code[d:]
        board = np.flatnonzero(same)
        alight = board + d
        ok = ((dep[board] >= WINDOW_START_S) & (dep[board] < WINDOW_END_S)
              & (station[board] != station[alight]) & (arr[alight] >= dep[board]))
        boards.append(station[board[ok]])
        alights.append(station[alight[ok]])
        rides.append((arr[alight[ok]] - dep[board[ok]]) / 60.0)
    if not boards or not sum(len(b) for b in boards):
        window = (f"{WINDOW_START_S // 3600:02d}h00 et {WINDOW_END_S // 3600:02d}h"
                  f"{WINDOW_END_S % 3600 // 60:02d}")
        message = (f"aucun départ entre {window} le {service_date} (jour de semaine le plus "
                   "chargé du flux) : rien à calculer")
        raise FeedError([message])
    legs = pd.DataFrame({"a": np.concatenate(boards), "b": np.concatenate(alights),
                         "ride": np.concatenate(rides)})
    # departures per (a, b): one per trip (a loop passing twice counts once)
    per_pair = legs.groupby(["a", "b"], sort=True).agg(ride=("ride", "median"),
                                                       departures=("ride", "size")).reset_index()
    window_minutes = (WINDOW_END_S - WINDOW_START_S) / 60.0
    per_pair["weight"] = wait_minutes(window_minutes / per_pair["departures"]) + per_pair["ride"]

    used = np.unique(np.concatenate([per_pair["a"].to_numpy(), per_pair["b"].to_numpy()]))
    by_id = stops.set_index("stop_id")
    lat = pd.to_numeric(by_id.loc[used, "stop_lat"]).to_numpy(dtype=float)
    lon = pd.to_numeric(by_id.loc[used, "stop_lon"]).to_numpy(dtype=float)
    names = (by_id.loc[used, "stop_name"].astype(str).to_numpy() if "stop_name" in by_id
             else used.astype(str))
    minutes = _table(per_pair, used, lat, lon)
    network = TransitNetwork(
        name=name, stop_ids=used.astype(str), stop_names=names.astype(str), lat=lat, lon=lon,
        minutes=minutes,
        meta={"service_date": service_date, "window": ["06:00", "09:30"],
              "feed_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
              "feed_file": path.name, "built_at": datetime.now(UTC).isoformat(),
              "agencies": sorted(feed.agency["agency_name"].astype(str).unique().tolist())
              if feed.agency is not None and "agency_name" in feed.agency else []},
    )
    return ImportSummary(network=network, service_date=service_date,
                         trips=int(trips["trip_id"].nunique()), legs=len(per_pair),
                         stops=len(used), routes=int(trips["route_id"].nunique()))


def _table(per_pair: pd.DataFrame, used: np.ndarray, lat: np.ndarray, lon: np.ndarray
           ) -> np.ndarray:
    """(S, S) float32 minutes from arriving at stop a to alighting at stop b (``inf`` none)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    s = used.size
    pos = {sid: i for i, sid in enumerate(used.tolist())}
    a = per_pair["a"].map(pos).to_numpy(dtype=np.int64)
    b = per_pair["b"].map(pos).to_numpy(dtype=np.int64)
    w = per_pair["weight"].to_numpy(dtype=float)
    rows = [a, a + s]
    cols = [b + s, b + s]
    weights = [w, w]
    # transfers on foot between close stops, after a ride (layer 1)
    ti, tj = _close_pairs(lat, lon, TRANSFER_RADIUS_KM)
    km = np.asarray(haversine_km(lat[ti], lon[ti], lat[tj], lon[tj]), dtype=float)
    rows.append(ti + s)
    cols.append(tj + s)
    weights.append(np.maximum(walk_minutes(km), 1.0))
    edges = pd.DataFrame({"r": np.concatenate(rows), "c": np.concatenate(cols),
                          "w": np.concatenate(weights)}).groupby(["r", "c"]).w.min().reset_index()
    graph = coo_matrix((edges["w"].to_numpy(), (edges["r"].to_numpy(), edges["c"].to_numpy())),
                       shape=(2 * s, 2 * s)).tocsr()
    dist = dijkstra(graph, directed=True, indices=np.arange(s), limit=MAX_TABLE_MINUTES)
    table = np.asarray(dist[:, s:], dtype=np.float32)
    np.fill_diagonal(table, np.inf)  # a round trip back to the same stop is no journey
    return table


def _close_pairs(lat: np.ndarray, lon: np.ndarray, km: float) -> tuple[np.ndarray, np.ndarray]:
    """Both orders of every pair of distinct stops within ``km`` crow-fly of each other."""
    from scipy.spatial import cKDTree

    if lat.size < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    scale = np.cos(np.radians(float(np.mean(lat))))
    xy = np.column_stack([lon * scale * 111.195, lat * 111.195])
    pairs = cKDTree(xy).query_pairs(r=km * 1.01, output_type="ndarray")
    if pairs.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    i, j = pairs[:, 0], pairs[:, 1]
    close = np.asarray(haversine_km(lat[i], lon[i], lat[j], lon[j])) <= km
    i, j = i[close], j[close]
    return np.concatenate([i, j]).astype(np.int64), np.concatenate([j, i]).astype(np.int64)


def default_name(path: Path) -> str:
    """A network name from the file name: letters, digits, dot, dash, underscore."""
    import re

    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-.") or "reseau"
    return stem[:64]


__all__ = ["FeedError", "ImportSummary", "default_name", "read_network"]
