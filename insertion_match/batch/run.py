"""Rank a whole caseload on Dask: read and check the file, partition by département, rank on
the workers (one engine per worker), write one Parquet file, atomically.

The driver (this process) validates every row with the API's model and resolves every home
with the API's engine before anything is ranked: a bad row stops the run with nothing written,
unless ``skip_invalid``. People are then grouped by the département of their home and cut into
partitions of at most ``partition_size`` people; partitions are submitted in a bounded window
(memory stays bounded whatever the caseload) and written in a fixed order (départements sorted,
then the file's order), so the output does not depend on the number of workers.
"""

from __future__ import annotations

import contextlib
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
            _run_on_dask(settings, parts, kinds, limit, options, tmp, summary, progress)
        os.replace(tmp, out_path)
    except OSError as exc:
        raise BatchFailed(f"erreur d'entrée-sortie en écrivant {out_path} ou en parlant aux "
                          f"workers ({type(exc).__name__} : {exc.strerror or exc})") from exc
    finally:
        tmp.unlink(missing_ok=True)
    summary.people = len(people)
    summary.written = True
    summary.seconds_total = time.perf_counter() - started
    return summary


def _run_on_dask(settings, parts, kinds, limit, options: BatchOptions, tmp: Path,
                 summary: BatchSummary, progress) -> None:
    with dask_client(options.workers, options.scheduler, options.connect_timeout) as client:
        summary.workers = (options.workers if not options.scheduler
                           else sum(client.nthreads().values()))
        token = uuid.uuid4().hex
        _load_engines(client, token, settings)
        ready = time.perf_counter()
        summary.rows = _rank_and_write(client, token, settings, parts, kinds, limit,
                                       options.include_excluded, tmp, summary, progress)
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
                    tmp: Path, summary: BatchSummary, progress) -> int:
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
                    table = future.result()
                except Exception as exc:  # the worker's error, re-raised here
                    raise BatchFailed(
                        f"échec du classement de la partition {written + 1} (département "
                        f"{parts[written][0]}) : {type(exc).__name__} : {exc}") from exc
                if isinstance(table, PartitionFailure):
                    raise BatchFailed(
                        f"échec du classement de la personne {table.person_id} (département "
                        f"{parts[written][0]}) : {table.error}")
                writer.write_table(table)
                rows += table.num_rows
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
