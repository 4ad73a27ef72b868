"""A small, valid GTFS feed written by the tests (and ``bench/transit_demo.py``).

Two networks in one feed, with realistic timetables (invented, not copied from a real feed):

- Orne, TER line Argentan – Surdon – Alençon: three trains each way on weekday mornings,
  Argentan → Surdon 12 min, Surdon → Alençon 16 min (28 min in all);
- Essonne, an RER-like line Étampes – Étréchy – Brétigny every 15 min (24 min), and a bus
  Brétigny (gare routière, 150 m from the train stop) – Évry-Courcouronnes every 20 min
  (28 min): Étampes → Évry needs a transfer on foot.

Stops are placed near the communes' centroids as the gazetteer knows them (about 600 m off):
places are known by their commune's centroid, and a station farther than the access radius
would not serve them.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from insertion_match.geo import Gazetteer

#: commune INSEE → (stop id, stop name, offset north km, offset east km)
STOPS = {
    "61006": ("ARG", "Argentan gare", 0.5, -0.3),
    "61101": ("SUR", "Surdon gare", -0.4, -0.3),
    "61001": ("ALE", "Alençon gare", 0.4, 0.2),
    "91223": ("ETA", "Étampes gare", 0.6, 0.2),
    "91226": ("ETR", "Étréchy gare", 0.2, 0.3),
    "91103": ("BRE", "Brétigny gare", 0.4, 0.3),
    "91228": ("EVR", "Évry-Courcouronnes gare", 0.3, -0.4),
}
BUS_STOP = ("BREB", "Brétigny gare routière")  # 150 m east of the train stop


def _hms(minutes: float) -> str:
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}:00"


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def stop_rows(gazetteer: Gazetteer) -> list[dict]:
    rows = []
    for insee, (sid, name, north, east) in STOPS.items():
        c = gazetteer.resolve(insee=insee)
        lat = c.lat + north / 111.195
        lon = c.lon + east / (111.195 * 0.6631)  # cos(48.5°)
        rows.append({"stop_id": sid, "stop_name": name, "stop_lat": f"{lat:.6f}",
                     "stop_lon": f"{lon:.6f}"})
        if sid == "BRE":
            rows.append({"stop_id": BUS_STOP[0], "stop_name": BUS_STOP[1],
                         "stop_lat": f"{lat:.6f}", "stop_lon": f"{lon + 0.15 / 73.73:.6f}"})
    return rows


def _trips(route: str, prefix: str, pattern: list[tuple[str, float]], departures: list[int]
           ) -> tuple[list[dict], list[dict]]:
    trips, times = [], []
    for k, dep in enumerate(departures):
        trip_id = f"{prefix}{k + 1}"
        trips.append({"route_id": route, "service_id": "SEM", "trip_id": trip_id})
        for seq, (stop, offset) in enumerate(pattern, start=1):
            t = _hms(dep + offset)
            times.append({"trip_id": trip_id, "arrival_time": t, "departure_time": t,
                          "stop_id": stop, "stop_sequence": seq})
    return trips, times


def feed_tables(gazetteer: Gazetteer) -> dict[str, str]:
    """The feed's files (name → CSV text)."""
    h = 60
    ter = [("ARG", 0), ("SUR", 12), ("ALE", 28)]
    ter_back = [("ALE", 0), ("SUR", 16), ("ARG", 28)]
    rer = [("ETA", 0), ("ETR", 8), ("BRE", 24)]
    bus = [("BREB", 0), ("EVR", 28)]
    parts = [
        _trips("TER-ARG-ALE", "T", ter, [6 * h + 12, 7 * h + 5, 8 * h + 18]),
        _trips("TER-ARG-ALE", "R", ter_back, [6 * h + 40, 7 * h + 50, 9 * h]),
        _trips("RERC", "C", rer, list(range(6 * h, 9 * h + 30, 15))),
        _trips("BUS-91", "B", bus, list(range(6 * h + 5, 9 * h + 30, 20))),
    ]
    trips = [t for p in parts for t in p[0]]
    times = [t for p in parts for t in p[1]]
    return {
        "agency.txt": _csv([
            {"agency_id": "TERN", "agency_name": "TER Normandie (test)",
             "agency_url": "https://example.org/ter", "agency_timezone": "Europe/Paris"},
            {"agency_id": "IDFM", "agency_name": "Essonne (test)",
             "agency_url": "https://example.org/idf", "agency_timezone": "Europe/Paris"}]),
        "stops.txt": _csv(stop_rows(gazetteer)),
        "routes.txt": _csv([
            {"route_id": "TER-ARG-ALE", "agency_id": "TERN", "route_short_name": "TER",
             "route_long_name": "Argentan – Alençon", "route_type": 2},
            {"route_id": "RERC", "agency_id": "IDFM", "route_short_name": "C",
             "route_long_name": "Étampes – Brétigny", "route_type": 2},
            {"route_id": "BUS-91", "agency_id": "IDFM", "route_short_name": "91",
             "route_long_name": "Brétigny – Évry", "route_type": 3}]),
        "trips.txt": _csv(trips),
        "stop_times.txt": _csv(times),
        "calendar.txt": _csv([{"service_id": "SEM", "monday": 1, "tuesday": 1, "wednesday": 1,
                               "thursday": 1, "friday": 1, "saturday": 0, "sunday": 0,
                               "start_date": "20260105", "end_date": "20271231"}]),
    }


def write_feed(path: Path, gazetteer: Gazetteer, replace: dict[str, str] | None = None,
               drop: tuple[str, ...] = ()) -> Path:
    """Write the feed as a zip at ``path``; ``replace`` swaps a file's text, ``drop`` omits
    files (to build bad feeds)."""
    tables = {**feed_tables(gazetteer), **(replace or {})}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in tables.items():
            if name not in drop:
                z.writestr(name, text)
    return path
