"""``insertion-match offers import FILE | offers purge-expired | offers demo``: thin commands over
library functions (service/offers.py, db/opportunities.py, features/demo_offers.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from insertion_match.service.settings import Settings


def _fail(message: str) -> int:
    print(f"insertion-match: {message}", file=sys.stderr)
    return 1


def cmd_offers_import(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.service.offers import import_offers, parse_offers
    from insertion_match.service.state import build_state

    path = Path(args.file)
    fmt = args.format or ("csv" if path.suffix.lower() == ".csv" else "json")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(f"cannot read {path}: {exc}")
    state = build_state(settings)
    try:
        try:
            batch = parse_offers(text, fmt, state.engine.gazetteer, state.engine.rome,
                                 args.source)
        except ValueError as exc:
            return _fail(f"{path}: {exc}")
        print(f"read {batch.total} record(s) from {path}: {len(batch.opportunities)} valid, "
              f"{len(batch.rejected)} rejected", flush=True)
        for r in batch.rejected:
            why = "; ".join(f"{e.field}: {e.message_fr}" for e in r.errors)
            print(f"  record {r.position} ({r.external_id or 'sans id'}): {why}", file=sys.stderr)
        outcome = import_offers(state, batch, f"cli:{path.name}", args.skip_invalid)
    finally:
        state.close()
    if not outcome.imported:
        return _fail("nothing imported (use --skip-invalid to import the valid records)")
    report = outcome.report
    assert report is not None
    print(f"imported into source {batch.source!r}: {report.created} created, {report.updated} "
          f"updated, {report.unchanged} unchanged")
    return 0


def cmd_offers_purge(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import date

    from insertion_match.service import db

    sessions = db.init_db(db.make_engine(settings.sqlalchemy_url))
    count = db.purge_expired_opportunities(sessions, date.today())
    print(f"deleted {count} expired offer(s); running services drop them at their next start "
          "(expired offers are never proposed meanwhile)")
    return 0


def cmd_offers_demo(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.features.demo_offers import main as demo_main

    argv = ["--data-dir", str(settings.data_dir), "--seed", str(args.seed)]
    if args.out:
        argv += ["--out", args.out]
    demo_main(argv)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    offers = sub.add_parser("offers", help="import job / volunteering / immersion offers")
    offers_sub = offers.add_subparsers(dest="offers_command", required=True)
    imp = offers_sub.add_parser(
        "import", help="import a France Travail offres v2 JSON file or a CSV file (upsert by "
        "source and id, atomic, idempotent)")
    imp.add_argument("file")
    imp.add_argument("--format", choices=("json", "csv"), help="default: from the extension")
    imp.add_argument("--source", help="source name (default france-travail for JSON, csv)")
    imp.add_argument("--skip-invalid", action="store_true",
                     help="import the valid records even if some are rejected")
    imp.set_defaults(func=cmd_offers_import)
    purge = offers_sub.add_parser("purge-expired", help="delete the offers past their expiry day")
    purge.set_defaults(func=cmd_offers_purge)
    demo = offers_sub.add_parser("demo", help="rewrite the synthetic demo offers file")
    demo.add_argument("--seed", type=int, default=20261123)
    demo.add_argument("--out", help="default: data/demo/offers_demo.json")
    demo.set_defaults(func=cmd_offers_demo)
