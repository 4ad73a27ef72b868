"""``insertion-match offers import FILE | offers purge-expired | offers demo``: thin commands over
library functions (service/offers.py, db/opportunities.py, features/demo_offers.py)."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insertion_match.service.settings import Settings

if TYPE_CHECKING:
    from insertion_match.features.offers_import import Rejection, StreamFormat


def _fail(message: str) -> int:
    print(f"insertion-match : {message}", file=sys.stderr)
    return 1


class _Progress(io.RawIOBase):
    """A binary file that advances a progress bar by the bytes read."""

    def __init__(self, raw: io.RawIOBase, bar: Any) -> None:
        self.raw, self.bar = raw, bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer) or 0
        self.bar.update(n)
        return n

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        position = self.raw.seek(offset, whence)
        self.bar.n = position
        return position

    def tell(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.raw.close()
        super().close()


def format_of(path: Path) -> StreamFormat:
    formats: dict[str, StreamFormat] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
    return formats.get(path.suffix.lower(), "json")


def cmd_offers_import(args: argparse.Namespace, settings: Settings) -> int:
    """Stream the file into the database: no engine is built (running services load the
    stored offers at start)."""
    from tqdm import tqdm

    from insertion_match.geo import Gazetteer
    from insertion_match.service import db
    from insertion_match.service.db.startup import startup_lock
    from insertion_match.service.offers import import_offer_stream, load_rome

    path = Path(args.file)
    fmt: StreamFormat = args.format or format_of(path)  # --format has the same choices
    try:
        raw = path.open("rb", buffering=0)
        size = path.stat().st_size
    except OSError as exc:
        return _fail(f"impossible de lire {path} : {exc}")
    engine_db = db.make_engine(settings.sqlalchemy_url, settings.sqlite_busy_timeout_ms)
    bar = tqdm(total=size, unit="o", unit_scale=True, unit_divisor=1024, file=sys.stderr,
               desc=f"import {path.name}", disable=None if args.progress is None
               else not args.progress, dynamic_ncols=True, mininterval=0.5)

    def rejected(r: Rejection) -> None:
        why = "; ".join(f"{e.field} : {e.message_fr}" for e in r.errors)
        bar.write(f"  enregistrement {r.position} ({r.external_id or 'sans id'}) : {why}",
                  file=sys.stderr)

    def counted(n: int) -> None:
        if n % 10_000 == 0:
            bar.set_postfix_str(f"{n:,} offres".replace(",", " "), refresh=False)

    try:
        with startup_lock(engine_db):
            sessions = db.init_db(engine_db)
        gazetteer, rome = Gazetteer.load(settings.data_dir), load_rome(settings.data_dir)
        with io.BufferedReader(_Progress(raw, bar), 1 << 20) as stream:
            try:
                outcome = import_offer_stream(
                    sessions, stream, fmt, gazetteer, rome, source=args.source,
                    origin=f"cli:{path.name}", skip_invalid=args.skip_invalid,
                    replace_source=args.replace_source, on_rejection=rejected,
                    keep_rejections=False, on_record=counted, jobs=args.jobs)
            except ValueError as exc:
                bar.close()
                return _fail(f"{path} : {exc} ; rien n'a été importé")
    finally:
        bar.close()
        raw.close()
        engine_db.dispose()
    print(f"lu {outcome.received} enregistrement(s) de {path} : {outcome.valid} valide(s), "
          f"{outcome.rejected} refusé(s)", flush=True)
    if not outcome.imported:
        return _fail("rien n'a été importé (--skip-invalid importe les enregistrements valides)")
    report = outcome.report
    assert report is not None
    expired = f", {report.expired} expirée(s)" if args.replace_source else ""
    print(f"importé dans la source {outcome.source!r} : {report.created} créée(s), "
          f"{report.updated} mise(s) à jour, {report.unchanged} inchangée(s){expired}")
    return 0


def cmd_offers_purge(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import date

    from insertion_match.service import db

    sessions = db.init_db(db.make_engine(settings.sqlalchemy_url))
    count = db.purge_expired_opportunities(sessions, date.today())
    print(f"offre(s) expirée(s) supprimée(s) : {count} ; les services en cours les retirent à leur "
          "prochain démarrage (une offre expirée n'est jamais proposée entre-temps)")
    return 0


def cmd_offers_demo(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.features.demo_offers import main as demo_main

    argv = ["--data-dir", str(settings.data_dir), "--seed", str(args.seed)]
    if args.out:
        argv += ["--out", args.out]
    demo_main(argv)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    offers = sub.add_parser("offers", help="importer des offres d'emploi, de bénévolat, "
                                           "d'immersion")
    offers_sub = offers.add_subparsers(dest="offers_command", required=True)
    imp = offers_sub.add_parser(
        "import", help="importer un fichier JSON offres v2 de France Travail, JSON lines ou CSV, "
        "lu enregistrement par enregistrement (mise à jour par source et id, atomique, "
        "idempotent)")
    imp.add_argument("file", help="fichier des offres")
    imp.add_argument("--format", choices=("json", "jsonl", "csv"),
                     help="défaut : d'après l'extension (.csv, .jsonl / .ndjson, sinon json)")
    imp.add_argument("--source", help="nom de la source (défaut france-travail pour JSON, csv)")
    imp.add_argument("--skip-invalid", action="store_true",
                     help="importer les enregistrements valides même si certains sont refusés")
    imp.add_argument("--replace-source", action="store_true",
                     help="rafraîchissement complet de la source : ses offres enregistrées "
                          "absentes "
                     "du fichier expirent (expiration à la veille, withdrawn_at renseigné), dans "
                     "la même transaction")
    imp.add_argument("--jobs", type=int, default=1, metavar="N",
                     help="processus de validation (défaut 1 : tout dans ce processus ; 2 sur deux "
                     "cœurs libres doublent à peu près le débit)")
    imp.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="barre de progression sur stderr (défaut : si stderr est un terminal)")
    imp.set_defaults(func=cmd_offers_import)
    purge = offers_sub.add_parser("purge-expired", help="supprimer les offres dont la date "
                                                        "d'expiration est passée")
    purge.set_defaults(func=cmd_offers_purge)
    demo = offers_sub.add_parser("demo", help="réécrire le fichier des offres synthétiques de "
                                              "démonstration")
    demo.add_argument("--seed", type=int, default=20261123, help="graine aléatoire")
    demo.add_argument("--out", help="défaut : data/demo/offers_demo.json")
    demo.set_defaults(func=cmd_offers_demo)
