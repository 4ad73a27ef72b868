"""``insertion-match catalogue export | import-di``: the catalogue in and out through the
data·inclusion v1 formats (features/data_inclusion.py, features/di_import.py,
service/di_catalogue.py)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from insertion_match.service.settings import Settings


def _fail(message: str) -> int:
    print(f"insertion-match : {message}", file=sys.stderr)
    return 1


def _write_json(records: list, target: str) -> None:
    text = json.dumps(records, ensure_ascii=False, indent=2)
    if target == "-":
        print(text)
    else:
        Path(target).write_text(text + "\n", encoding="utf-8")


def cmd_catalogue_export(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.features.catalogue import load_catalogue
    from insertion_match.features.data_inclusion import export_catalogue
    from insertion_match.features.errors import CatalogueError
    from insertion_match.matcher.engine import MatchingEngine

    directory = Path(args.directory) if args.directory else settings.catalogue_dir
    try:
        actions = load_catalogue(directory)
    except CatalogueError as exc:
        return _fail("catalogue invalide :\n" + "\n".join(exc.problems))
    gazetteer, territories = MatchingEngine.load_reference(settings.data_dir)
    try:
        export = export_catalogue(actions, gazetteer, territories, settings.data_dir)
    except ValueError as exc:
        return _fail(str(exc))
    out = Path(args.output)
    if args.output != "-" and (out.is_dir() or args.output.endswith(("/", "\\"))):
        out.mkdir(parents=True, exist_ok=True)
        services_path, structures_path = str(out / "services.json"), str(out / "structures.json")
    else:
        services_path, structures_path = args.output, args.structures
    _write_json(export.services, services_path)
    if structures_path:
        _write_json(export.structures, structures_path)
    if services_path != "-":
        print(f"{len(export.services)} services data·inclusion v1 écrits dans {services_path}"
              + (f", {len(export.structures)} structures dans {structures_path}"
                 if structures_path else " (structures : --structures FICHIER)"))
    return 0


def cmd_catalogue_import_di(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.features.di_import import DiFormatError, DiReference, read_files
    from insertion_match.service.di_catalogue import import_data_inclusion
    from insertion_match.service.state import build_state

    started = time.perf_counter()
    try:
        batch = read_files(Path(args.services), Path(args.structures))
    except DiFormatError as exc:
        return _fail(f"rien n'est importé : {exc}")
    print(f"lu {batch.total_services} service(s) et {batch.total_structures} structure(s) : "
          f"{len(batch.services)} service(s) valides, {len(batch.rejected)} rejet(s)", flush=True)
    for rejection in batch.rejected:
        print(f"  rejet : {rejection.message_fr()}", file=sys.stderr)
    if batch.rejected and not args.skip_invalid:
        return _fail(f"rien n'est importé : {len(batch.rejected)} enregistrement(s) rejeté(s) "
                     "(--skip-invalid pour importer les enregistrements valides)")
    state = build_state(settings)
    started_import = time.perf_counter()
    try:
        ref = DiReference.load(settings.data_dir, state.engine.gazetteer, state.engine.territories)
        outcome = import_data_inclusion(state, batch, ref, skip_invalid=args.skip_invalid)
    finally:
        state.close()
    plan = outcome.plan
    assert plan is not None
    elapsed, own = time.perf_counter() - started, time.perf_counter() - started_import
    print(f"importé en {elapsed:.1f} s (dont {own:.1f} s après le démarrage du service : "
          f"conversion, dédoublonnage, écriture, moteur) : {plan.new_created} action(s) créée(s), "
          f"{plan.new_merged} service(s) rattaché(s) à une action du catalogue (doublons), "
          f"{plan.updated} mise(s) à jour, {plan.unchanged} inchangé(s), "
          f"{sum(plan.skipped.values())} ignoré(s), {len(batch.rejected)} rejeté(s)")
    for reason, count in sorted(plan.skipped.items(), key=lambda kv: -kv[1]):
        print(f"  ignorés ({count}) : {reason}")
    if plan.withdrawn:
        print(f"  {len(plan.withdrawn)} service(s) importé(s) auparavant et désormais ignoré(s) : "
              "retiré(s) du catalogue")
    if plan.placeless:
        print(f"  {plan.placeless} service(s) importé(s) sans lieu localisable (lieu à préciser)")
    print(f"le moteur sert désormais {outcome.action_count} actions (catalogue + data·inclusion)")
    return 0


def register(cat_sub: argparse._SubParsersAction) -> None:
    exp = cat_sub.add_parser(
        "export", help="écrire le catalogue en services et structures data·inclusion v1")
    exp.add_argument("output", help="dossier de sortie (services.json + structures.json), ou "
                     "le fichier JSON des services, ou - pour la sortie standard")
    exp.add_argument("--structures", help="fichier JSON des structures (quand la sortie est un "
                                          "fichier)")
    exp.add_argument("--directory", help="dossier du catalogue (défaut data/catalogue)")
    exp.set_defaults(func=cmd_catalogue_export)
    imp = cat_sub.add_parser(
        "import-di", help="importer des services et structures data·inclusion v1 (JSON ou JSON "
        "lines) : validés, dédoublonnés avec le catalogue, atomique, idempotent")
    imp.add_argument("services", help="fichier des services (data·inclusion v1)")
    imp.add_argument("structures", help="fichier des structures (data·inclusion v1)")
    imp.add_argument("--skip-invalid", action="store_true",
                     help="importer les enregistrements valides même si certains sont rejetés")
    imp.set_defaults(func=cmd_catalogue_import_di)
