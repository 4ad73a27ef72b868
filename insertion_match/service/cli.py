"""Command line: ``insertion-match serve | recommend | catalogue ... | db ... | keys ... | purge``.

Thin commands over library functions (STYLE 11). Errors print a message on stderr and exit
non-zero (1 bad input, 2 usage); they never end in a traceback for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from pydantic import ValidationError

from insertion_match.domain import BeneficiaryProfile
from insertion_match.features.catalogue import load_catalogue
from insertion_match.features.errors import CatalogueError
from insertion_match.geo import MODE_LABELS_FR, AmbiguousCommune, GeoError, Mode, UnknownCommune
from insertion_match.matcher.engine import MatchingEngine
from insertion_match.matcher.errors import MatcherError
from insertion_match.matcher.results import Recommendation
from insertion_match.service import argparse_fr
from insertion_match.service.logging import configure_logging
from insertion_match.service.mapping import to_response
from insertion_match.service.settings import Settings


def _fail(message: str, code: int = 1) -> int:
    print(f"insertion-match : {message}", file=sys.stderr)
    return code


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve with uvicorn: one process, or ``--workers N`` processes sharing the port (each
    builds the app from the environment with the same JSON logging, ``app.serve_app``; the
    first to start migrates and seeds the database, the others wait: ``db/startup.py``)."""
    import uvicorn

    from insertion_match.service.app import create_app

    options = {
        "host": args.host, "port": args.port, "log_config": None, "access_log": False,
        "log_level": settings.log_level.lower(), "server_header": False,
        "timeout_keep_alive": settings.keep_alive_seconds, "timeout_graceful_shutdown": 10,
        "h11_max_incomplete_event_size": 16 * 1024,  # request line and headers
        # behind a reverse proxy: client address (per-address limits, logs) and scheme from
        # X-Forwarded-For/-Proto, trusted from IM_FORWARDED_ALLOW_IPS only (docs/production.md)
        "proxy_headers": settings.proxy_headers,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }
    workers = args.workers or settings.workers
    if workers > 1:
        uvicorn.run("insertion_match.service.app:serve_app", factory=True,
                    workers=workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
    return 0


def _print_recommendation(result: Recommendation) -> None:
    print(f"Domicile : {result.home_commune} ({result.home_insee}) — modèle "
          f"{result.model_name} {result.model_version}")
    kind_fr = {"action": "action(s)", "job": "offre(s) d'emploi", "volunteering": "bénévolat(s)",
               "internship": "stage(s)", "immersion": "immersion(s)"}
    counts = {c.kind: c for c in result.counts}
    if not counts:
        print(f"{result.eligible} action(s) éligible(s) sur {result.candidates} du département")
    current = None
    for item in result.items:
        if item.kind != current:
            current = item.kind
            c = counts.get(item.kind)
            if c is not None:
                print(f"\n{c.eligible} {kind_fr.get(c.kind, c.kind)} éligible(s) sur "
                      f"{c.candidates} :")
        print(f"{item.rank:>2}. {item.title} — {item.provider or 'opérateur non précisé'}, "
              f"{_where_fr(item)}  score {item.score:.3f}")
        for r in item.reasons:
            print(f"      {r.contribution:+.3f}  {r.label}")
        for w in item.warnings:
            print(f"      ⚠ {w.label}")
    if result.excluded:
        print("\nExclues :")
        for ex in result.excluded:
            print(f"   - {ex.title} : " + " ; ".join(r.label for r in ex.reasons))
    for lever in result.levers:
        print(f"\nLevier ({lever.frein}) : {lever.label}")
    for note in (*result.unchecked, *result.assumptions):
        print(f"\nNon vérifié / supposé : {note}")


def _where_fr(item) -> str:
    """Where and how far, in French, as a coach reads it."""
    travel = item.travel
    if travel.mode == "itinerant":
        return f"{item.commune or 'sur le territoire'} (se déplace jusqu'à la personne)"
    if travel.mode == "dossier":
        return "sur dossier par le référent (sans déplacement)"
    if item.distance_km is None:
        return "lieux à préciser"
    if travel.minutes is None:
        return f"{item.commune} ({item.distance_km} km, pas de trajet possible par ses moyens)"
    mode = MODE_LABELS_FR.get(Mode(travel.mode), travel.mode)
    return f"{item.commune} ({item.distance_km} km, {travel.minutes:.0f} min {mode})"


def cmd_recommend(args: argparse.Namespace, settings: Settings) -> int:
    try:
        raw = json.loads(Path(args.profile).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return _fail(f"impossible de lire le profil {args.profile} : {exc}")
    kinds, limit, include_excluded = ["action"], 10, False
    try:
        if isinstance(raw, dict) and "beneficiary" in raw:  # a whole API request body
            from insertion_match.service.schemas import RecommendationRequest

            request = RecommendationRequest.model_validate(raw)
            profile = request.beneficiary
            kinds = [k.value for k in request.kinds]
            limit, include_excluded = request.limit, request.include_excluded
        else:
            profile = BeneficiaryProfile.model_validate(raw)
    except ValidationError as exc:
        from insertion_match.validation import field_errors

        lines = [f"  {e.field} : {e.message_fr}" for e in field_errors(exc.errors())]
        return _fail("profil invalide :\n" + "\n".join(lines))
    if profile is None:
        return _fail("la requête doit contenir un « beneficiary » (pas un beneficiary_id)")
    if args.kinds:
        kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    from insertion_match.service.state import build_state

    state = None
    try:
        state = build_state(settings)
        result = state.engine.recommend(profile, kinds=kinds, limit=args.limit or limit,
                                        include_excluded=args.include_excluded or include_excluded)
    except (UnknownCommune, AmbiguousCommune) as exc:
        options = exc.suggestions if isinstance(exc, UnknownCommune) else exc.candidates
        hint = ", ".join(f"{s.commune.name} ({'/'.join(s.commune.postcodes)})" for s in options)
        what = "commune inconnue" if isinstance(exc, UnknownCommune) else "commune ambiguë"
        return _fail(f"{what} : « {exc.query} »"
                     + (f" ; vouliez-vous dire : {hint} ?" if hint else ""))
    except (GeoError, MatcherError, CatalogueError) as exc:
        return _fail(str(exc))
    finally:
        if state is not None:
            state.close()  # release the database connections (PostgreSQL) before exiting
    if args.json:
        print(to_response(result).model_dump_json(indent=2))
    else:
        _print_recommendation(result)
    return 0


def cmd_catalogue_validate(args: argparse.Namespace, settings: Settings) -> int:
    directory = Path(args.directory) if args.directory else settings.catalogue_dir
    try:
        actions = load_catalogue(directory)
        gazetteer, territories = MatchingEngine.load_reference(settings.data_dir)
        MatchingEngine.build(actions, gazetteer, territories)
    except CatalogueError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return _fail(f"catalogue invalide : {len(exc.problems)} problème(s)")
    per_source = Counter(a.source.document for a in actions)
    per_dept = Counter(a.territory.department for a in actions)
    print(f"catalogue valide : {len(actions)} actions")
    for source, n in sorted(per_source.items()):
        print(f"  {source} : {n}")
    print("  par département : " + ", ".join(f"{d} : {n}" for d, n in sorted(per_dept.items())))
    return 0


def cmd_catalogue_import(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.service.state import build_state

    directory = Path(args.directory) if args.directory else settings.catalogue_dir
    state = None
    try:
        actions = load_catalogue(directory)
        state = build_state(settings)
        print(f"lu {len(actions)} action(s) valide(s) de {directory} : remplacement du catalogue "
              "enregistré en une seule transaction", flush=True)
        count = state.import_catalogue(actions, origin=str(directory))
    except CatalogueError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return _fail(f"rien n'a été importé : {len(exc.problems)} problème(s)")
    finally:
        if state is not None:
            state.close()
    print(f"importé : {count} action(s) dans {settings.sqlalchemy_url.split('@')[-1]}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    argparse_fr.install()  # argparse's own words (usage, errors) in French too
    parser = argparse.ArgumentParser(
        prog="insertion-match", description="Ligne de commande d'insertion-match : serve | "
        "recommend | catalogue … | db … | keys … | purge, etc.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="servir l'API HTTP (SQLite embarqué par défaut)")
    serve.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (défaut 8000)")
    serve.add_argument("--workers", type=int, choices=range(1, 65), metavar="N",
                       help="processus serveurs (défaut : IM_WORKERS, sinon 1)")
    serve.set_defaults(func=cmd_serve)

    rec = sub.add_parser("recommend", help="afficher les actions classées et expliquées pour un "
                                           "profil")
    rec.add_argument("profile", help="fichier JSON : un profil de bénéficiaire ou un corps de "
                                     "requête")
    rec.add_argument("--limit", type=int, choices=range(1, 101), metavar="N",
                     help="propositions par type (défaut : celui du corps de requête, sinon 10)")
    rec.add_argument("--kinds", help="types séparés par des virgules, par ex. action,job (défaut : "
                     "ceux du corps de requête, sinon action)")
    rec.add_argument("--include-excluded", action="store_true",
                     help="montrer aussi les propositions exclues, avec leurs raisons")
    rec.add_argument("--json", action="store_true", help="afficher la réponse de l'API en JSON")
    rec.set_defaults(func=cmd_recommend)

    cat = sub.add_parser("catalogue", help="valider ou importer le catalogue d'actions")
    cat_sub = cat.add_subparsers(dest="catalogue_command", required=True)
    val = cat_sub.add_parser("validate", help="valider les fichiers du catalogue (défaut "
                                              "data/catalogue)")
    val.add_argument("directory", nargs="?", help="dossier du catalogue")
    val.set_defaults(func=cmd_catalogue_validate)
    imp = cat_sub.add_parser("import", help="remplacer le catalogue enregistré, de façon atomique")
    imp.add_argument("directory", nargs="?", help="dossier du catalogue (défaut data/catalogue)")
    imp.set_defaults(func=cmd_catalogue_import)
    from insertion_match.service.cli_catalogue_di import register as register_di_commands

    register_di_commands(cat_sub)  # catalogue export, catalogue import-di (data·inclusion v1)
    from insertion_match.service.cli_admin import register as register_admin_commands

    register_admin_commands(sub)  # db upgrade|current|revision, keys ..., purge
    from insertion_match.service.cli_offers import register as register_offer_commands

    register_offer_commands(sub)  # offers import FILE, offers demo
    from insertion_match.service.cli_siae import register as register_siae_commands

    register_siae_commands(sub)  # offers import-siae FILE (les emplois de l'inclusion)
    from insertion_match.service.cli_learning import register as register_learning_commands

    register_learning_commands(sub)  # synthetic calibration, train, evaluate, evaluate-judged
    from insertion_match.service.cli_users import register as register_user_commands

    register_user_commands(sub)  # users create|password|disable|list (web accounts)
    from insertion_match.service.cli_transit import register as register_transit_commands

    register_transit_commands(sub)  # transit import FEED.zip, transit list (GTFS)
    from insertion_match.service.cli_batch import register as register_batch_command

    register_batch_command(sub)  # batch PEOPLE OUT (Dask)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        return _fail(f"configuration invalide : {exc}")
    configure_logging(settings.log_level)
    return int(args.func(args, settings))


if __name__ == "__main__":
    sys.exit(main())
