"""``insertion-match offers import-siae FILE``: the open positions of SIAE (les emplois de
l'inclusion's SIAE API format, ``features/siae_import.py``) as IAE job offers.

Stored through :func:`insertion_match.service.offers.import_offers` (the one function that
writes a list of offers atomically and swaps in an engine serving them): one rejected record
and nothing is written, unless ``--skip-invalid``; re-importing the same file changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from insertion_match.service.settings import Settings


def _fail(message: str) -> int:
    print(f"insertion-match : {message}", file=sys.stderr)
    return 1


def cmd_import_siae(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.features.siae_import import parse_siae, read_structures
    from insertion_match.service.offers import import_offers
    from insertion_match.service.state import build_state

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(f"impossible de lire {path} : {exc}")
    try:
        structures = read_structures(text)
    except ValueError as exc:
        return _fail(f"{path} : fichier SIAE illisible ({exc})")
    try:
        today = date.fromisoformat(args.today) if args.today else date.today()
    except ValueError:
        return _fail(f"--today : date ISO attendue (AAAA-MM-JJ), reçu « {args.today} »")
    state = build_state(settings)
    try:
        rome = state.engine.rome
        if rome is None:  # build_state always loads it (with_stored_offers)
            raise RuntimeError("l'import SIAE a besoin du référentiel ROME")
        parsed = parse_siae(structures, state.engine.gazetteer, rome,
                            state.engine.opportunities, today)
        batch = parsed.batch
        print(f"{path} : {parsed.structures} structure(s), {parsed.open_positions} poste(s) "
              f"ouvert(s) valide(s), {len(parsed.skipped)} ignoré(s), "
              f"{len(batch.rejected)} rejeté(s), {len(parsed.expired)} poste(s) fermé(s) "
              "depuis l'import précédent", flush=True)
        for s in parsed.skipped:
            print(f"  ignoré {s.where} ({s.external_id or 'sans id'}) : {s.reason_fr}")
        for r in batch.rejected:
            why = "; ".join(f"{e.field} : {e.message_fr}" for e in r.errors)
            print(f"  rejeté : poste {r.position} ({r.external_id or 'sans id'}) : {why}",
                  file=sys.stderr)
        outcome = import_offers(state, batch, f"cli:{path.name}", args.skip_invalid)
    finally:
        state.close()
    if not outcome.imported:
        return _fail("rien n'a été importé (--skip-invalid importe les postes valides)")
    report = outcome.report
    assert report is not None
    print(f"importé (source {batch.source!r}) : {report.created} créé(s), {report.updated} "
          f"mis à jour, {report.unchanged} inchangé(s)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``import-siae`` to the ``offers`` command (registered before, in cli_offers)."""
    offers = sub.choices["offers"]
    offers_sub = next(a for a in offers._actions if isinstance(a, argparse._SubParsersAction))
    imp = offers_sub.add_parser(
        "import-siae", help="importer les postes ouverts des SIAE (les emplois de l'inclusion, "
        "format de l'API SIAE) comme offres d'emploi IAE (atomique, idempotent ; les postes "
        "fermés expirent)")
    imp.add_argument("file", help="JSON : une page de l'API {results: [...]}, une liste de "
                                  "structures, "
                     "une structure, ou JSON lines")
    imp.add_argument("--skip-invalid", action="store_true",
                     help="importer les postes valides même si certains sont rejetés")
    imp.add_argument("--today", help="jour de l'import, ISO (défaut : aujourd'hui) ; pour les "
                                     "tests "
                     "et les rejeux")
    imp.set_defaults(func=cmd_import_siae)
