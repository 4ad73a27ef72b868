"""Demo and figures: a trip by train between two served communes, before and after a GTFS feed.

1. Writes the test feed (``tests/geo/gtfs_feed.py``: TER Argentan – Surdon – Alençon, an
   Essonne line Étampes – Brétigny and a bus on to Évry), imports it as ``insertion-match transit
   import`` does, and prints door-to-door minutes by public transport before (the crow-fly
   estimate) and after (the timetables), with the source the answer gives, and a trip the feed
   does not cover (the estimate stays).
2. Times one person's ranking (actions, and jobs over the 2,375 demo offers) with and without
   the network installed: medians over ``--repeat`` runs.
3. ``--stops N``: builds a synthetic network of about N stops (a grid of bus lines) and times
   the import and one door-to-door query against all the demo offers' places.

Figures only, no assertion::

    .venv/bin/python bench/transit_demo.py [--repeat 50] [--stops 1500]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from insertion_match.domain import BeneficiaryProfile
from insertion_match.features.catalogue import load_catalogue
from insertion_match.features.demo_offers import DEMO_FILE, DEMO_SOURCE
from insertion_match.features.offers_import import parse_france_travail
from insertion_match.features.rome import RomeReferential
from insertion_match.geo import Gazetteer, Mode, Territories, haversine_km
from insertion_match.geo.gtfs_import import read_network
from insertion_match.geo.transit import install_networks
from insertion_match.geo.travel import best_travel_between
from insertion_match.matcher.engine import MatchingEngine
from tests.geo.gtfs_feed import write_feed

DATA = REPO / "data"
TRIPS = [("61006", "61001", "TER"), ("61001", "61006", "TER, retour"),
         ("91223", "91228", "RER + bus, une correspondance"),
         ("61006", "61169", "pas de gare à Flers : hors du flux")]


def trips(gazetteer: Gazetteer, network) -> None:
    modes = (Mode.walk, Mode.public_transport)
    print("Trajet en transports en commun (porte à porte)         avant (estimation)  "
          "après (flux)")
    for a, b, what in TRIPS:
        ca, cb = gazetteer.resolve(insee=a), gazetteer.resolve(insee=b)
        install_networks(())
        before, _, src_b = best_travel_between(ca.lat, ca.lon, [cb.lat], [cb.lon], modes)
        install_networks([network])
        after, _, src_a = best_travel_between(ca.lat, ca.lon, [cb.lat], [cb.lon], modes)
        km = haversine_km(ca.lat, ca.lon, cb.lat, cb.lon)
        label = f"{ca.name} → {cb.name} ({km:.0f} km, {what})"
        print(f"  {label:<52} {before[0]:5.0f} min {src_b[0]:<9} {after[0]:5.0f} min "
              f"{src_a[0]}")
    install_networks(())


def median_ms(fn, repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def ranking(gazetteer: Gazetteer, network, repeat: int) -> None:
    territories = Territories.load(DATA)
    rome = RomeReferential.load(DATA)
    offers = parse_france_travail(json.loads((DATA / DEMO_FILE).read_text(encoding="utf-8")),
                                  gazetteer, rome, DEMO_SOURCE).opportunities
    engine = MatchingEngine.build(load_catalogue(DATA / "catalogue"), gazetteer, territories,
                                  rome=rome, opportunities=offers)
    profile = BeneficiaryProfile.model_validate({
        "id": "bench", "home": {"insee": "61006"}, "freins": {"mobilite": 2, "sante": 2,
                                                             "recherche_emploi": 2},
        "mobility": {"driving_licence": "none", "vehicle": "none", "public_transport": True,
                     "max_travel_minutes": 75},
        "target_jobs": ["K2204", "agent de nettoyage"]})
    print(f"\nClassement pour une personne d'Argentan (médiane sur {repeat}) :")
    for kinds in (["action"], ["job"]):
        install_networks(())
        without = median_ms(lambda k=kinds: engine.recommend(profile, kinds=k), repeat)
        r_before = engine.recommend(profile, kinds=kinds, limit=100)
        install_networks([network])
        with_net = median_ms(lambda k=kinds: engine.recommend(profile, kinds=k), repeat)
        r_after = engine.recommend(profile, kinds=kinds, limit=100)
        install_networks(())

        def shown(r, kind=kinds[0]) -> str:
            by_feed = sum(1 for i in r.items if (i.travel.source or "").startswith("gtfs:"))
            counts = {c.kind: c for c in r.counts}
            c = counts.get(kind)
            eligible, candidates = (c.eligible, c.candidates) if c else (r.eligible,
                                                                          r.candidates)
            return f"{eligible}/{candidates} éligibles, {by_feed} montrés d'après le flux"

        print(f"  {kinds[0]:<7} sans flux {without:6.2f} ms   avec flux {with_net:6.2f} ms   "
              f"(×{with_net / without:.2f}) ; {shown(r_before)} → {shown(r_after)}")


def synthetic_feed(path: Path, stops: int, lat0: float = 48.6, lon0: float = 0.1) -> Path:
    """A grid of bus lines over about ``stops`` stops (600 m apart), a bus every 20 min."""
    side = max(2, int(stops ** 0.5))
    step = 0.6 / 111.195
    rows = ["stop_id,stop_name,stop_lat,stop_lon"]
    for i in range(side):
        for j in range(side):
            rows.append(f"S{i}_{j},Arrêt {i}-{j},{lat0 + i * step:.6f},"
                        f"{lon0 + j * step / 0.66:.6f}")
    trips, times, routes = ["route_id,service_id,trip_id"], [
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence"], [
        "route_id,agency_id,route_short_name,route_type"]
    for axis in ("H", "V"):
        for k in range(0, side, 3):  # a line every third row / column
            route = f"{axis}{k}"
            routes.append(f"{route},A,{route},3")
            for n, dep in enumerate(range(6 * 60, 9 * 60 + 30, 20)):
                trip = f"{route}-{n}"
                trips.append(f"{route},SEM,{trip}")
                for s in range(side):
                    stop = f"S{k}_{s}" if axis == "H" else f"S{s}_{k}"
                    t = dep + 2 * s
                    hms = f"{t // 60:02d}:{t % 60:02d}:00"
                    times.append(f"{trip},{hms},{hms},{stop},{s + 1}")
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
                      "A,Réseau synthétique,https://example.org,Europe/Paris\n",
        "stops.txt": "\n".join(rows) + "\n", "routes.txt": "\n".join(routes) + "\n",
        "trips.txt": "\n".join(trips) + "\n", "stop_times.txt": "\n".join(times) + "\n",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
                        "start_date,end_date\nSEM,1,1,1,1,1,0,0,20260105,20261231\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    path.write_bytes(buffer.getvalue())
    return path


def large(stops: int, gazetteer: Gazetteer) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        feed = synthetic_feed(Path(tmp) / "grid.zip", stops)
        t = time.perf_counter()
        summary = read_network(feed, "grid")
        build_s = time.perf_counter() - t
        net = summary.network
        stored = Path(tmp) / "grid.npz"
        net.save(stored)
        print(f"\nRéseau synthétique : {len(net)} arrêts, {summary.legs} trajets directs, "
              f"{summary.trips} courses : import {build_s:.1f} s, fichier "
              f"{stored.stat().st_size / 1e6:.1f} Mo, table {net.minutes.nbytes / 1e6:.1f} Mo "
              "en mémoire")
        rng = np.random.default_rng(0)
        n = 2375
        dlat = 48.6 + rng.uniform(0, len(net) ** 0.5 * 0.6 / 111.195, n)
        dlon = 0.1 + rng.uniform(0, len(net) ** 0.5 * 0.6 / 111.195 / 0.66, n)
        ms = median_ms(lambda: net.door_to_door(48.61, 0.12, dlat, dlon), 20)
        ms_unique = median_ms(lambda: net.door_to_door(48.61, 0.12, dlat[:300], dlon[:300]), 20)
        print(f"  porte à porte, une origine × {n} destinations distinctes : {ms:.1f} ms ; "
              f"× 300 : {ms_unique:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--stops", type=int, default=0, help="also time a synthetic network")
    args = parser.parse_args()
    gazetteer = Gazetteer.load(DATA)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        summary = read_network(write_feed(Path(tmp) / "test.zip", gazetteer), "test")
        print(f"Flux de test importé en {time.perf_counter() - t:.2f} s : {summary.stops} "
              f"arrêts, {summary.legs} trajets directs, jour {summary.service_date}\n")
    trips(gazetteer, summary.network)
    ranking(gazetteer, summary.network, args.repeat)
    if args.stops:
        large(args.stops, gazetteer)


if __name__ == "__main__":
    main()
