"""``insertion-match transit import FEED.zip [--name NAME] | transit list``: public-transport
timetables (GTFS) for the travel estimate (``geo/gtfs_import.py``, ``geo/transit.py``,
``docs/transit.md``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from insertion_match.service.settings import Settings


def _fail(message: str) -> int:
    print(f"insertion-match : {message}", file=sys.stderr)
    return 1


def cmd_transit_import(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.geo.gtfs_import import FeedError, default_name, read_network
    from insertion_match.geo.transit import NAME_PATTERN, network_path

    path = Path(args.feed)
    name = args.name or default_name(path)
    if not NAME_PATTERN.match(name):
        return _fail(f"nom de réseau invalide « {name} » : lettres, chiffres, « . », « - », "
                     "« _ », 64 caractères au plus")
    try:
        summary = read_network(path, name)
    except FeedError as exc:
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return _fail(f"flux GTFS refusé ({len(exc.problems)} problème(s)) : rien n'est "
                     "enregistré")
    target = network_path(settings.transit_path, name)
    replaced = target.exists()
    try:
        summary.network.save(target)
    except OSError as exc:
        return _fail(f"impossible d'écrire {target} : {exc}")
    net = summary.network
    reachable = int((net.minutes < float("inf")).sum())
    print(f"réseau « {name} » ({', '.join(net.meta.get('agencies') or []) or 'sans agence'}) : "
          f"{summary.routes} ligne(s), {summary.trips} course(s) le {summary.service_date} "
          f"(jour de semaine le plus chargé), {summary.stops} arrêt(s) desservi(s) entre 06h00 "
          f"et 09h30, {summary.legs} trajet(s) directs, {reachable} couple(s) d'arrêts reliés")
    print(f"{'remplacé' if replaced else 'enregistré'} : {target} ; servi au prochain "
          "démarrage du serveur (source « gtfs:" + name + " »)")
    return 0


def cmd_transit_list(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.geo.transit import TransitNetwork

    directory = settings.transit_path
    files = sorted(directory.glob("*.npz")) if directory.is_dir() else []
    if not files:
        print(f"aucun réseau enregistré dans {directory}")
        return 0
    status = 0
    for path in files:
        try:
            net = TransitNetwork.load(path)
        except ValueError as exc:
            print(f"{path.name} : illisible ({exc})", file=sys.stderr)
            status = 1
            continue
        print(f"{net.name} : {len(net)} arrêts, jour {net.meta.get('service_date')}, fichier "
              f"{net.meta.get('feed_file')} importé le {net.meta.get('built_at', '?')[:10]}")
    return status


def register(sub: argparse._SubParsersAction) -> None:
    transit = sub.add_parser("transit", help="horaires de transports en commun (GTFS) pour les "
                             "temps de trajet")
    transit_sub = transit.add_subparsers(dest="transit_command", required=True)
    imp = transit_sub.add_parser("import", help="calculer les temps d'arrêt à arrêt d'un flux GTFS "
                                 "(zip) et les enregistrer pour le prochain démarrage du serveur")
    imp.add_argument("feed", help="flux GTFS, un fichier .zip")
    imp.add_argument("--name", help="nom du réseau (défaut : le nom du fichier) ; travel.source "
                     "indique gtfs:NAME ; réimporter le même nom le remplace")
    imp.set_defaults(func=cmd_transit_import)
    lst = transit_sub.add_parser("list", help="les réseaux enregistrés")
    lst.set_defaults(func=cmd_transit_list)
