"""``insertion-match batch PEOPLE OUT``: rank a whole caseload on Dask (docs/batch.md).

A thin command over :func:`insertion_match.batch.run_batch`. Refused rows are listed on stderr
(line, field, French reason) and nothing is written, unless ``--skip-invalid``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from insertion_match.service.settings import Settings


def _fail(message: str) -> int:
    print(f"insertion-match : {message}", file=sys.stderr)
    return 1


def _kinds(text: str) -> tuple[str, ...]:
    from insertion_match.batch.run import KINDS

    kinds = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in KINDS]
    if not kinds or unknown:
        raise argparse.ArgumentTypeError(
            f"type(s) inconnu(s) : {', '.join(unknown) or '(aucun)'} ; possibles : "
            f"{', '.join(KINDS)}")
    return kinds


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"entier positif attendu : {text!r}")
    return value


def _actor(text: str) -> str:
    name = text.strip()
    if not name or len(name) > 120:
        raise argparse.ArgumentTypeError("un nom de 1 à 120 caractères")
    return name


def cmd_batch(args: argparse.Namespace, settings: Settings) -> int:
    from insertion_match.batch import BatchFailed, BatchOptions, PeopleFileError, run_batch

    out = Path(args.out)
    if not out.parent.is_dir():
        return _fail(f"dossier de sortie introuvable : {out.parent}")
    options = BatchOptions(kinds=args.kinds, limit=args.limit,
                           include_excluded=args.include_excluded, workers=args.workers,
                           scheduler=args.scheduler, partition_size=args.partition_size,
                           skip_invalid=args.skip_invalid, actor=args.actor)
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit=" partition", file=sys.stderr, leave=False)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    try:
        summary = run_batch(settings, Path(args.people), out, options, progress)
    except PeopleFileError as exc:
        return _fail(f"{args.people} : {exc} ; rien n'a été écrit")
    except BatchFailed as exc:
        return _fail(f"{exc} ; rien n'a été écrit")
    finally:
        if bar is not None:
            bar.close()
    for error in summary.errors:
        print(f"  {error}", file=sys.stderr)
    refused = len({e.line for e in summary.errors})
    if summary.errors and not summary.written:
        return _fail(f"{refused} ligne(s) refusée(s) dans {args.people} : rien n'a "
                     "été écrit (--skip-invalid pour classer les lignes valides)")
    skipped = f", {refused} ligne(s) refusée(s) ignorée(s)" if summary.errors else ""
    where = ", ".join(f"{d} : {n}" for d, n in summary.departments.items())
    print(f"{summary.people} personne(s) classée(s){skipped} ({where or 'aucune'}) ; "
          f"{summary.rows} ligne(s) écrite(s) dans {out}")
    print(f"{summary.audited} recommandation(s) inscrite(s) au journal d'audit (acteur "
          f"{args.actor or 'login du système'})")
    print(f"{summary.people_per_second:.1f} personnes/s sur {summary.workers} worker(s), "
          f"{summary.partitions} partition(s) ({summary.seconds_ranking:.1f} s de classement, "
          f"{summary.seconds_total:.1f} s en tout)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    batch = sub.add_parser(
        "batch", help="classer toute une file active (CSV ou Parquet de profils) sur Dask, une "
        "ligne Parquet par personne et proposition")
    batch.add_argument("people", help="profils, un par ligne : .csv ou .parquet (docs/batch.md)")
    batch.add_argument("out", help="fichier Parquet de sortie (écrit de façon atomique)")
    batch.add_argument("--kinds", type=_kinds, default=("action",),
                       help="types séparés par des virgules, par ex. action,job (défaut action)")
    batch.add_argument("--limit", type=int, default=10, choices=range(1, 101), metavar="N",
                       help="propositions par type et par personne (défaut 10)")
    batch.add_argument("--include-excluded", action="store_true",
                       help="écrire aussi les propositions exclues, avec leurs raisons")
    batch.add_argument("--workers", type=int, default=1, choices=range(1, 129), metavar="N",
                       help="processus workers du cluster Dask local (défaut 1)")
    batch.add_argument("--scheduler", metavar="ADDRESS",
                       help="un ordonnanceur Dask existant (par ex. tcp://10.0.0.5:8786) au lieu "
                            "d'un "
                       "cluster local ; ses workers ont besoin de ce paquet et de la même base")
    batch.add_argument("--partition-size", type=_positive, default=500, metavar="N",
                       help="personnes par partition, dans un même département (défaut 500)")
    batch.add_argument("--skip-invalid", action="store_true",
                       help="classer les lignes valides et signaler les refusées (défaut : refuser "
                       "tout le fichier)")
    batch.add_argument("--actor", metavar="NOM", type=_actor,
                       help="qui lance le classement, inscrit au journal d'audit avec chaque "
                       "personne classée (défaut : le login du système)")
    batch.set_defaults(func=cmd_batch)
