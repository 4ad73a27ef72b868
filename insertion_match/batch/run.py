"""Rank a whole caseload on Dask: read and check the file, partition by département, rank on
the workers (one engine per worker), write one Parquet file, atomically.

The driver (this process) validates every row with the API's model and resolves every home
with the API's engine before anything is ranked: a bad row stops the run with nothing written,
unless ``skip_invalid``. People are then grouped by the département of their home and cut into
partitions of at most ``partition_size`` people; partitions are submitted in a bounded window
(memory stays bounded whatever the caseload) and written in a fixed order (départements sorted,
then the file's order), so the output does not depend on the number of workers.

Every person ranked is in the audit (DESIGN §9: every recommendation shown, who, when, which
person, model version, items), as for ``POST /v1/recommendations``: one ``recommendation_log``
row per person (tied to the stored person of that id in their home's territory, if any, as
the API does), committed with each partition as it is written, before the output file
appears. The actor is ``cli:batch``, its name the operator's (``--actor``, else the login),
its role ``admin``. A run that fails after some partitions leaves their rows in the audit (it
errs on the side of recording what may have been seen), never an output without its rows.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insertion_match.batch.people import (
    PersonRow,
    RowError,
    parse_rows,
    read_people_file,
)
from insertion_match.domain import ItemKind
from insertion_match.geo import GeoError

if TYPE_CHECKING:
    from distributed import Future

KINDS = tuple(k.value for k in ItemKind)


class BatchFailed(Exception):
    """The run could not finish (cluster, worker, output): nothing was written. French."""


@dataclass(frozen=True)
class BatchOptions:
    kinds: tuple[str, ...] = ("action",)
    limit: int = 10
    include_excluded: bool = False
    #: Local cluster size (worker processes, one thread each); ignored with ``scheduler``.
    workers: int = 1
    #: Address of an existing Dask scheduler (``tcp://host:8786``); None: a local cluster.
    scheduler: str | None = None
    partition_size: int = 500
    skip_invalid: bool = False
    #: Seconds to wait for ``scheduler`` before giving up.
    connect_timeout: float = 20.0
    #: Who runs the batch, for the audit (``actor_name``); None: the operating system login.
    actor: str | None = None


@dataclass
class BatchSummary:
    people: int = 0  # ranked
    rows: int = 0  # written
    partitions: int = 0
    workers: int = 0  # worker processes (threads with a remote scheduler)
    errors: list[RowError] = field(default_factory=list)  # refused rows
    written: bool = False
    seconds_ranking: float = 0.0  # from the workers ready to the file written
    seconds_total: float = 0.0
    #: Engines built per worker for this run (the engine is built once per worker).
    engine_loads: dict[str, int] = field(default_factory=dict)
    departments: dict[str, int] = field(default_factory=dict)  # people per département
    audited: int = 0  # recommendation_log rows written (one per person ranked)
    #: CPU seconds each worker process used while ranking (on a shared machine, compare with
    #: ``seconds_ranking``: a worker that got a fraction of a core ranks that much slower).
    worker_cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def people_per_second(self) -> float:
        return self.people / self.seconds_ranking if self.seconds_ranking > 0 else 0.0


def check_people(raw, engine) -> tuple[list[PersonRow], list[RowError]]:
    """Every row validated (API model) and located (API engine, served départements)."""
    from insertion_match.service.problems import geo_problem, home_field

    valid: list[PersonRow] = []
    errors: list[RowError] = []
    for line, parsed in parse_rows(raw):
        if isinstance(parsed, list):
            errors.extend(parsed)
            continue
        try:
            home = engine.locate(parsed)
        except GeoError as exc:
            path = f"home.{home_field(parsed)}"
            problem = geo_problem(exc, path)
            message = problem.errors[0].message_fr
            if problem.suggestions:
                message += " ; vouliez-vous dire : " + ", ".join(
                    f"{s.name} ({s.insee})" for s in problem.suggestions[:5]) + " ?"
            errors.append(RowError(line, parsed.id, path, message))
            continue
        valid.append(PersonRow.of(line, parsed, home.department))
    return valid, errors


def partition(people: Sequence[PersonRow], size: int) -> list[tuple[str, list[PersonRow]]]:
    """People grouped by département (sorted), each group cut into chunks of ``size``."""
    by_department: dict[str, list[PersonRow]] = defaultdict(list)
    for person in people:
        by_department[person.department].append(person)
    return [(dept, group[i:i + size]) for dept in sorted(by_department)
            for group in (by_department[dept],) for i in range(0, len(group), size)]


@contextmanager
def dask_client(workers: int, scheduler: str | None, connect_timeout: float = 20.0) -> Iterator:
    """A client of ``scheduler``, or of a local cluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=connect_timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            raise BatchFailed(f"impossible de joindre le planificateur Dask {scheduler} "
                              f"({type(exc).__name__} : {exc})") from exc
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address="127.0.0.1:0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def run_batch(
    settings, people_path: Path, out_path: Path, options: BatchOptions = BatchOptions(),
    progress: Callable[[int, int], None] | None = None,
) -> BatchSummary:
    """Rank every person of ``people_path`` and write ``out_path`` (Parquet), atomically.

    Raises ``PeopleFileError`` (the file cannot be read) and :class:`BatchFailed`; refused rows
    are in the summary (``written`` False unless ``skip_invalid``). ``progress(done, total)`` is
    called after each partition written.
    """
    from insertion_match.service.state import build_state

    started = time.perf_counter()
    unsupported = sorted(set(options.kinds) - set(KINDS))
    if unsupported or not options.kinds:
        raise BatchFailed(f"types inconnus : {', '.join(unsupported) or '(aucun)'} (possibles : "
                          f"{', '.join(KINDS)})")
    raw = read_people_file(Path(people_path))
    state = build_state(settings)  # migrates and seeds as the API does, under its lock
    try:
        engine = state.engine
    finally:
        state.close()
    people, errors = check_people(raw, engine)
    territories = engine.territories  # the audit's scopes (commissions)
    del engine
    summary = BatchSummary(errors=errors)
    if errors and not options.skip_invalid:
        summary.seconds_total = time.perf_counter() - started
        return summary
    parts = partition(people, max(1, options.partition_size))
    summary.partitions = len(parts)
    summary.departments = dict(sorted(Counter(p.department for p in people).items()))
    kinds = list(dict.fromkeys(options.kinds))
    limit = min(options.limit, settings.max_limit)  # as the API caps it
    out_path = Path(out_path)
    tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        if not parts:  # nobody to rank: an empty answer, no cluster
            import pyarrow.parquet as pq

            from insertion_match.batch.rows import SCHEMA

            pq.write_table(SCHEMA.empty_table(), tmp, compression="zstd")
        else:
            _run_on_dask(settings, parts, kinds, limit, options, tmp, summary, progress,
                         territories)
        os.replace(tmp, out_path)  # after every partition's audit rows are committed
    except OSError as exc:
        raise BatchFailed(f"erreur d'entrée-sortie en écrivant {out_path} ou en parlant aux "
                          f"workers ({type(exc).__name__} : {exc.strerror or exc})") from exc
    finally:
        tmp.unlink(missing_ok=True)
    summary.people = len(people)
    summary.written = True
    summary.seconds_total = time.perf_counter() - started
    return summary


BATCH_ACTOR = "cli:batch"


def _operator() -> str:
    """The login of whoever runs the batch (the audit's ``actor_name`` without ``--actor``)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name known (a container's bare uid)
        return f"uid:{os.getuid()}"


def _auditor(settings, options: BatchOptions, territories
             ) -> tuple[Callable[[str, Any], int], Callable[[], None]]:
    """(write the audit rows of one partition, close): its own connections to the database.
    A row is tied to the stored person of that id in the scope of their home (``subject``:
    their export lists it), as ``POST /v1/recommendations`` ties an inline profile."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import sessionmaker

    from insertion_match.service import db

    engine = db.make_engine(settings.sqlalchemy_url, settings.sqlite_busy_timeout_ms)
    sessions = sessionmaker(engine, expire_on_commit=False)
    who = {"actor": BATCH_ACTOR, "actor_name": (options.actor or _operator())[:120],
           "actor_role": "admin"}

    def write(department: str, shown) -> int:
        try:
            ids = sorted({person_id for person_id, *_ in shown if person_id})
            subjects: dict[tuple[str, str], str] = {}
            if ids:
                B = db.BeneficiaryRow
                with sessions() as session:
                    subjects = {(i, scope): subject for i, scope, subject in session.execute(
                        select(B.id, B.scope, B.subject).where(B.id.in_(ids)))}
            rows = [{**who, "beneficiary_id": person_id or None, "department": department,
                     "subject": subjects.get((person_id, db.scope_of(
                         department, territories.commission_of(home_insee)))),
                     "model_name": model_name, "model_version": model_version,
                     "item_ids": list(items)}
                    for person_id, home_insee, model_name, model_version, items in shown]
            return db.log_recommendations(sessions, rows)
        except SQLAlchemyError as exc:
            raise BatchFailed("le journal d'audit n'a pas pu être écrit "
                              f"({type(exc).__name__}) : aucune proposition n'est livrée sans "
                              "y être inscrite") from exc

    return write, engine.dispose


def _run_on_dask(settings, parts, kinds, limit, options: BatchOptions, tmp: Path,
                 summary: BatchSummary, progress, territories) -> None:
    audit, close_audit = _auditor(settings, options, territories)
    with contextlib.ExitStack() as stack:
        stack.callback(close_audit)
        client = stack.enter_context(
            dask_client(options.workers, options.scheduler, options.connect_timeout))
        summary.workers = (options.workers if not options.scheduler
                           else sum(client.nthreads().values()))
        token = uuid.uuid4().hex
        _load_engines(client, token, settings)
        ready = time.perf_counter()
        summary.rows = _rank_and_write(client, token, settings, parts, kinds, limit,
                                       options.include_excluded, tmp, summary, progress, audit)
        summary.seconds_ranking = time.perf_counter() - ready


def _load_engines(client, token: str, settings) -> None:
    """Register the plugin: every worker builds the run's engine now, once."""
    from insertion_match.batch.worker import EngineOnWorker

    try:
        client.register_plugin(EngineOnWorker(token, settings))
    except Exception as exc:
        raise BatchFailed(f"les workers n'ont pas pu charger le moteur : "
                          f"{type(exc).__name__} : {exc}") from exc


def _rank_and_write(client, token: str, settings, parts, kinds, limit, include_excluded,
                    tmp: Path, summary: BatchSummary, progress, audit) -> int:
    import pyarrow.parquet as pq

    from insertion_match.batch.rows import SCHEMA
    from insertion_match.batch.worker import (
        EngineOnWorker,
        PartitionFailure,
        engine_loads,
        rank_partition,
    )

    window = max(2, 2 * sum(client.nthreads().values()))
    cpu_before = client.run(time.process_time)
    futures: dict[int, Future[Any]] = {}
    submitted = written = rows = 0
    try:
        with pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
            while written < len(parts):
                while submitted < len(parts) and submitted - written < window:
                    department, people = parts[submitted]
                    futures[submitted] = client.submit(
                        rank_partition, token, settings, people, kinds, limit,
                        include_excluded, key=f"im-batch-{token}-{submitted}-{department}")
                    submitted += 1
                future = futures.pop(written)
                try:
                    ranked = future.result()
                except Exception as exc:  # the worker's error, re-raised here
                    raise BatchFailed(
                        f"échec du classement de la partition {written + 1} (département "
                        f"{parts[written][0]}) : {type(exc).__name__} : {exc}") from exc
                if isinstance(ranked, PartitionFailure):
                    raise BatchFailed(
                        f"échec du classement de la personne {ranked.person_id} (département "
                        f"{parts[written][0]}) : {ranked.error}")
                writer.write_table(ranked.table)
                summary.audited += audit(parts[written][0], ranked.shown)
                rows += ranked.table.num_rows
                written += 1
                if progress is not None:
                    progress(written, len(parts))
        summary.engine_loads = client.run(engine_loads, token)
        cpu_after = client.run(time.process_time)
        summary.worker_cpu_seconds = {w: cpu_after[w] - cpu_before.get(w, 0.0)
                                      for w in cpu_after}
    finally:
        for future in futures.values():
            future.cancel()
        with contextlib.suppress(Exception):  # a closing cluster: nothing left to free
            client.unregister_worker_plugin(EngineOnWorker.name)  # frees the workers' engines
    return rows
