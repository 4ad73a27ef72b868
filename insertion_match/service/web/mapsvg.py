"""The département's map as inline SVG: commune outlines from ``data/geo/*.geojson``, the
person's commune highlighted, the sites of the listed actions as numbered dots. No tile
server, no script: a plain equirectangular projection scaled by cos(latitude)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup, escape

from insertion_match.domain import Action
from insertion_match.geo import Gazetteer, GeoError
from insertion_match.matcher.engine import MatchingEngine

OUTLINES = {"61": "communes-61-orne.geojson", "91": "communes-91-essonne.geojson"}
WIDTH = 480.0


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    label: str
    number: int


@dataclass(frozen=True)
class _Outlines:
    paths: dict[str, str]
    lon0: float
    lat1: float
    kx: float
    ky: float
    height: float

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.kx, (self.lat1 - lat) * self.ky


@lru_cache(maxsize=8)
def _outlines(data_dir: str, department: str) -> _Outlines | None:
    name = OUTLINES.get(department)
    path = Path(data_dir) / "geo" / name if name else None
    if path is None or not path.exists():
        return None
    features = json.loads(path.read_text(encoding="utf-8"))["features"]

    def rings(geometry: dict) -> list[list[list[float]]]:
        if geometry["type"] == "Polygon":
            return geometry["coordinates"]
        return [ring for polygon in geometry["coordinates"] for ring in polygon]

    points = [p for f in features for ring in rings(f["geometry"]) for p in ring]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    lon0, lon1, lat0, lat1 = min(lons), max(lons), min(lats), max(lats)
    # kx: pixels per degree of longitude; ky: per degree of latitude (1/cos larger).
    kx = WIDTH / (lon1 - lon0)
    ky = kx / math.cos(math.radians((lat0 + lat1) / 2))
    paths = {}
    for feature in features:
        parts = []
        for ring in rings(feature["geometry"]):
            coords = [((lon - lon0) * kx, (lat1 - lat) * ky) for lon, lat in ring]
            parts.append("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in coords) + "Z")
        paths[str(feature["properties"]["code"])] = "".join(parts)
    return _Outlines(paths, lon0, lat1, kx, ky, (lat1 - lat0) * ky)


def sites_of(engine: MatchingEngine, ranked: list[tuple[int, Action]]) -> list[Point]:
    """One point per site of each listed (rank, action), at its coordinates, else its
    commune's; none for itinerant actions, funds and unnamed places."""
    points = []
    for number, action in ranked:
        if action.itinerant or action.by_dossier:
            continue
        for site in action.sites:
            if site.precision in ("unspecified", "department_seat"):
                continue
            lat, lon = site.lat, site.lon
            if lat is None or lon is None:
                try:
                    commune = engine.gazetteer.by_insee(site.insee)
                except GeoError:  # an unknown code: no dot
                    continue
                lat, lon = commune.lat, commune.lon
            points.append(Point(lat, lon, f"{number}. {action.title} — {site.commune}", number))
    return points


def render(data_dir: Path, gazetteer: Gazetteer, department: str, home_insee: str,
           points: list[Point]) -> Markup | None:
    """The map, or None when the département's outlines are not embedded."""
    outlines = _outlines(str(data_dir), department)
    if outlines is None:
        return None
    try:
        home = gazetteer.by_insee(home_insee)
    except GeoError:
        home = None
    parts = [(f'<svg class="im-map" viewBox="-8 -8 {WIDTH + 16:.0f} {outlines.height + 16:.0f}" '
             'role="img" aria-labelledby="carte-titre carte-desc" '
             'xmlns="http://www.w3.org/2000/svg">'),
             '<title id="carte-titre">Carte du département</title>',
             (f'<desc id="carte-desc">Commune de la personne'
             f'{" : " + escape(home.name) if home else ""} (en bleu) et lieux des actions '
             'proposées (points numérotés selon leur rang dans la liste).</desc>')]
    for insee, d in outlines.paths.items():
        css = "im-map__home" if insee == home_insee else "im-map__commune"
        parts.append(f'<path class="{css}" d="{d}"/>')
    if home is not None:
        x, y = outlines.xy(home.lat, home.lon)
        parts.append(f'<circle class="im-map__home-dot" cx="{x:.1f}" cy="{y:.1f}" r="6">'
                     f'<title>Domicile : {escape(home.name)}</title></circle>')
    places: dict[tuple[float, float], list[Point]] = {}
    for point in points:
        places.setdefault((round(point.lat, 3), round(point.lon, 3)), []).append(point)
    for group in places.values():
        x, y = outlines.xy(group[0].lat, group[0].lon)
        numbers = sorted({p.number for p in group})
        label = ",".join(map(str, numbers[:3])) + ("…" if len(numbers) > 3 else "")
        width = 8 + 7 * len(label)
        titles = " ; ".join(p.label for p in group)
        parts.append(f'<g class="im-map__site"><rect x="{x - width / 2:.1f}" y="{y - 9:.1f}" '
                     f'width="{width}" height="18" rx="9"/><text x="{x:.1f}" y="{y + 4:.1f}" '
                     f'text-anchor="middle">{escape(label)}</text><title>{escape(titles)}'
                     '</title></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
