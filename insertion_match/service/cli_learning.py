"""CLI: ``insertion-match synthetic calibration | train | evaluate | evaluate-judged`` (thin,
STYLE 11).

Each command builds (or reads) what it needs and calls library functions of
``insertion_match.synthetic`` and ``insertion_match.matcher.evaluation``; progress bars go to
stderr, results to stdout / files. ``evaluate`` exits with :data:`EXIT_REGRESSION` when a metric
named by ``--fail-on-regression`` is worse than in the previous stored run by more than its
threshold, so it can run from cron or CI. ``evaluate`` also grades the judged test collection
(data/evaluation/judged, no synthetic data); ``evaluate-judged`` runs only that, in seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from insertion_match.service.settings import DATA_ROOT, SHIPPED_MODEL, Settings

EXIT_REGRESSION = 3
DEFAULT_PEOPLE = 20_000
DEFAULT_SEED = 0
MODEL_STEM = "action-ranker"  # settings.SHIPPED_MODEL is models/MODEL_STEM.joblib


def _fail(message: str, code: int = 1) -> int:
    print(f"insertion-match : {message}", file=sys.stderr)
    return code


def _world(args: argparse.Namespace, settings: Settings):
    from insertion_match.features.catalogue import load_catalogue
    from insertion_match.matcher.engine import MatchingEngine
    from insertion_match.synthetic.world import WorldConfig, build_world

    gazetteer, territories = MatchingEngine.load_reference(settings.data_dir)
    actions = load_catalogue(settings.catalogue_dir)
    config = WorldConfig(n_people=args.people, random_state=args.seed)
    return build_world(config, gazetteer, territories, actions, progress=not args.no_progress)


def _experiment(args: argparse.Namespace, world):
    from insertion_match.synthetic.experiment import ExperimentConfig

    return ExperimentConfig(world=world.config, C=args.C,
                            n_bootstrap=getattr(args, "bootstrap", 1000))


def cmd_calibration(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.synthetic.calibration import calibration_table, format_table

    table = calibration_table(_world(args, settings))
    if args.json:
        print(table.to_json(orient="records", force_ascii=False, indent=1))
    else:
        print(format_table(table))
    return 0 if table.within.all() else 1


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.matcher.learning.card import save_model
    from insertion_match.synthetic.experiment import train

    world = _world(args, settings)
    scorer, card = train(world, _experiment(args, world), with_evaluation=True)
    files = save_model(scorer, card, Path(args.out), args.name)
    later = next(v for k, v in card["metrics"].items() if k.startswith("later"))
    print(f"entraîné : {scorer.name} {scorer.version} sur {card['data']['rows']} propositions "
          f"journalisées ({card['data']['window']} ; SYNTHÉTIQUE)")
    print(f"suites journalisées ultérieures : ROC AUC {later['roc_auc']:.3f}, "
          f"Brier {later['brier']:.4f}")
    print(f"écrits : {files.artefact}, {files.card}, {files.markdown}")
    return 0


def _served_model(args: argparse.Namespace, settings: Settings, world, config):
    """(scorer or None, source): the stored artefact when it was trained on this world's
    training window, else None (train in memory: never evaluate on what it was trained on)."""
    from insertion_match.service.model_loading import load_model
    from insertion_match.synthetic.experiment import split_month

    if args.retrain:
        return None, "entraîné en mémoire (--retrain)"
    path = Path(args.model) if args.model else (
        settings.model_path or SHIPPED_MODEL)
    if not path.is_file():
        return None, f"entraîné en mémoire (aucun artefact à {path})"
    loaded = load_model(path, validate=validate_learned)
    if not loaded.ok:
        return None, f"entraîné en mémoire (artefact refusé : {loaded.refused})"
    data = loaded.card.get("data", {})
    same_world = data.get("world") == world.config.as_dict()
    if not same_world or data.get("holdout_from_month") != split_month(world, config):
        return None, ("entraîné en mémoire (l'artefact a été entraîné sur un autre monde ou une "
                      "autre fenêtre : l'évaluer sur cette période réservée risquerait une fuite)")
    return loaded.model, f"artefact {path.name}"


def validate_learned(model: object, card: dict) -> None:
    """Refuse an artefact that is not a :class:`LearnedScorer` matching its card and this code."""
    from insertion_match.matcher.learning.scorer import LearnedScorer

    if not isinstance(model, LearnedScorer):
        raise TypeError(f"{type(model).__name__} n'est pas un LearnedScorer")
    model.check_card(card)


def _rules(args: argparse.Namespace) -> list[tuple[str, float]]:
    rules = []
    for item in args.fail_on_regression or []:
        key, _, value = item.partition("=")
        rules.append((key, float(value) if value else args.threshold))
    return rules


JUDGED_DIR = DATA_ROOT / "evaluation" / "judged"


def _judged_run(args: argparse.Namespace, settings: Settings, worst: int = 3) -> dict:
    """The judged collection's figures for every method (the engine built as ``recommend``
    builds it; the learned model loaded like the service loads it, when it is accepted).
    Raises ``CollectionError`` for an incomplete or inconsistent collection."""
    from insertion_match.features.catalogue import load_catalogue
    from insertion_match.matcher.engine import MatchingEngine
    from insertion_match.matcher.evaluation.judged import (
        default_methods,
        evaluate_judged,
        load_collection,
    )
    from insertion_match.service.model_loading import load_model

    gazetteer, territories = MatchingEngine.load_reference(settings.data_dir)
    actions = load_catalogue(settings.catalogue_dir)
    engine = MatchingEngine.build(actions, gazetteer, territories)
    directory = Path(getattr(args, "judged_dir", None) or JUDGED_DIR)
    collection = load_collection(directory, actions)
    path = Path(args.model) if getattr(args, "model", None) else (
        settings.model_path or SHIPPED_MODEL)
    learned, source = None, f"aucun modèle appris (aucun artefact à {path})"
    if path.is_file():
        loaded = load_model(path, validate=validate_learned)
        if loaded.ok:
            learned, source = loaded.model, f"artefact {path.name}"
        else:
            source = f"aucun modèle appris (artefact refusé : {loaded.refused})"
    result = evaluate_judged(engine, collection, default_methods(engine, learned), worst=worst)
    return {**result, "model_source": source, "directory": str(directory)}


def cmd_evaluate_judged(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.matcher.evaluation.judged import (
        CollectionError,
        format_table,
        format_worst,
    )

    try:
        result = _judged_run(args, settings, worst=args.worst)
    except CollectionError as exc:
        return _fail(str(exc))
    if args.json:
        from insertion_match.matcher.evaluation.store import _clean

        print(json.dumps(_clean(result), indent=1, ensure_ascii=False))
        return 0
    print(format_table(result))
    print(f"modèle appris : {result['model_source']}")
    if args.worst:
        print(format_worst(result))
    return 0


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.matcher.evaluation import store
    from insertion_match.matcher.evaluation.report import TREND_KEYS, render_report
    from insertion_match.synthetic.experiment import evaluate

    try:
        rules = _rules(args)
    except ValueError as exc:
        return _fail(f"--fail-on-regression invalide : {exc}", 2)
    runs_dir = Path(args.runs_dir) if args.runs_dir else settings.var_dir / "evaluations"
    world = _world(args, settings)
    config = _experiment(args, world)
    scorer, source = _served_model(args, settings, world, config)
    print(f"modèle : {source}", file=sys.stderr)
    result = evaluate(world, scorer, config, progress=not args.no_progress, model_source=source)
    if not args.no_judged:
        from insertion_match.matcher.evaluation.judged import CollectionError

        try:
            result = {**result, "judged": _judged_run(args, settings)}
        except CollectionError as exc:
            return _fail(str(exc))
    previous = store.load_runs(runs_dir)
    try:
        regressions = store.check_regressions(result, previous[-1] if previous else None, rules)
    except KeyError as exc:
        return _fail(str(exc.args[0]), 2)
    if not args.no_store:
        path = store.save_run(result, runs_dir)
        result = json.loads(path.read_text(encoding="utf-8"))
        print(f"évaluation {result['run_id']} enregistrée dans {path}", file=sys.stderr)
    else:
        result = {**result, "run_id": "not-stored", "created_at": "now"}
    runs = [*previous, result] if args.no_store else store.load_runs(runs_dir)
    rows = store.trend(runs, list(TREND_KEYS))
    report = Path(args.report) if args.report else runs_dir / f"report-{result['run_id']}.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(render_report(result, rows, [r.describe() for r in regressions] if rules
                                    else None), encoding="utf-8")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=1, ensure_ascii=False),
                                       encoding="utf-8")
    _print_summary(result, rows, report)
    for regression in regressions:
        print(f"RÉGRESSION : {regression.describe()}", file=sys.stderr)
    return EXIT_REGRESSION if regressions else 0


def _print_summary(result: dict, rows: list[dict], report: Path) -> None:
    head = result["headline"]
    d, r = head["difference"], head["ratio_to_oracle"]
    print(f"évaluation SYNTHÉTIQUE, {result['population']['people']} personnes de la période "
          "réservée (hold-out)")
    print(f"{'méthode':<12} {'NDCG@10 [IC 95 %]':<26} {'NDCG@5':>7} {'MAP':>7} {'success@5':>9}")
    for name, s in result["methods"].items():
        n10 = s["ndcg@10"]
        print(f"{name:<12} {n10['mean']:.4f} [{n10['low']:.4f}, {n10['high']:.4f}]   "
              f"{s['ndcg@5']['mean']:>7.4f} {s['map']['mean']:>7.4f} {s['success@5']['mean']:>9.4f}")
    a, b = head["reference"]
    print(f"{a} − {b} NDCG@10 : {d['mean']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] ; "
          f"{a} / oracle : {r['mean']:.3f} [{r['low']:.3f}, {r['high']:.3f}]")
    print(f"tendance : {len(rows)} évaluation(s) ; rapport : {report}")
    if result.get("judged"):
        from insertion_match.matcher.evaluation.judged import format_table

        print(format_table(result["judged"]))


def _world_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--people", type=int, default=DEFAULT_PEOPLE,
                        help=f"personnes synthétiques (défaut {DEFAULT_PEOPLE})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random_state du monde")
    parser.add_argument("--no-progress", action="store_true", help="sans barres de progression")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``synthetic``, ``train`` and ``evaluate`` to the ``insertion-match`` parser."""
    syn = sub.add_parser("synthetic", help="le monde synthétique (toujours signalé comme tel)")
    syn_sub = syn.add_subparsers(dest="synthetic_command", required=True)
    cal = syn_sub.add_parser("calibration", help="chaque statistique documentée à côté de celle "
                                                 "du monde")
    _world_args(cal)
    cal.add_argument("--json", action="store_true", help="afficher le tableau en JSON")
    cal.set_defaults(func=cmd_calibration)

    tr = sub.add_parser("train", help="entraîner le classeur appris sur les suites journalisées "
                                      "(synthétiques)")
    _world_args(tr)
    tr.add_argument("--C", type=float, default=1.0, help="inverse de la régularisation L2")
    tr.add_argument("--out", default="models",  # a clone's models/ when run from its root
                    help="dossier (défaut models/ du dossier courant)")
    tr.add_argument("--name", default=MODEL_STEM, help=f"nom des fichiers sans extension (défaut "
                                                       f"{MODEL_STEM})")
    tr.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="évaluation hors ligne sur une période réservée "
                                         "(hold-out)")
    _world_args(ev)
    ev.add_argument("--C", type=float, default=1.0, help="pour l'entraînement en mémoire")
    ev.add_argument("--model", help=f"artefact (défaut : IM_MODEL_PATH ou models/{MODEL_STEM}"
                                    ".joblib s'il a été entraîné sur le même monde)")
    ev.add_argument("--retrain", action="store_true", help="toujours entraîner en mémoire")
    ev.add_argument("--bootstrap", type=int, default=1000, help="rééchantillonnages bootstrap")
    ev.add_argument("--runs-dir", help="évaluations enregistrées (défaut var/evaluations)")
    ev.add_argument("--report", help="chemin du rapport HTML (défaut : dans le dossier des "
                                     "évaluations)")
    ev.add_argument("--json-out", help="écrire aussi l'évaluation en JSON à ce chemin")
    ev.add_argument("--no-store", action="store_true", help="ne pas enregistrer cette évaluation")
    ev.add_argument("--fail-on-regression", action="append", metavar="METRIC[=THRESHOLD]",
                    help="code de sortie 3 quand METRIC (par ex. learned.ndcg@10) est pire que "
                         "dans l'évaluation précédente de plus de THRESHOLD (répétable)")
    ev.add_argument("--threshold", type=float, default=0.01,
                    help="seuil par défaut de --fail-on-regression (défaut 0.01)")
    ev.add_argument("--no-judged", action="store_true",
                    help="sans la collection de test jugée (data/evaluation/judged)")
    ev.add_argument("--judged-dir", help="collection jugée (défaut data/evaluation/judged)")
    ev.set_defaults(func=cmd_evaluate)

    ej = sub.add_parser("evaluate-judged",
                        help="noter chaque méthode sur la collection de test jugée (rapide, sans "
                             "monde synthétique) : NDCG@5/10 et propositions qu'un référent "
                             "écarterait")
    ej.add_argument("--json", action="store_true", help="afficher tout le résultat en JSON")
    ej.add_argument("--worst", type=int, default=3,
                    help="personas les moins bien servies, montrées avec leurs 5 premières "
                         "propositions (défaut 3 ; 0 : aucune)")
    ej.add_argument("--model", help=f"artefact appris (défaut : IM_MODEL_PATH ou "
                                    f"models/{MODEL_STEM}.joblib)")
    ej.add_argument("--judged-dir", help="collection jugée (défaut data/evaluation/judged)")
    ej.set_defaults(func=cmd_evaluate_judged)
