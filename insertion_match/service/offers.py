"""Offers in the service: the ROME referential and stored offers at start-up, the embedded demo
offers on first start, file imports (API and CLI), and the people index of reverse matching.

Library functions over ``ServiceState``; routes and CLI commands stay thin.
"""

from __future__ import annotations

import io
import json
import logging
import multiprocessing
import os
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from insertion_match.domain import Opportunity
from insertion_match.features.demo_offers import DEMO_FILE, DEMO_SOURCE
from insertion_match.features.offers_import import (
    ImportBatch,
    Rejection,
    collect_batch,
    default_source,
    duplicate_rejection,
    parse_france_travail,
    read_records,
    validate_records,
)
from insertion_match.features.opportunity_index import SNAPSHOT_VERSION, OfferTable
from insertion_match.features.people import (
    PeopleArrays,
    PersonRecord,
    build_people,
    patch_in_order,
    resolve_targets,
)
from insertion_match.features.rome import RomeReferential
from insertion_match.geo import Gazetteer
from insertion_match.matcher.engine import MatchingEngine
from insertion_match.service import db
from insertion_match.service.db import opportunities as stored_offers
from insertion_match.service.db.opportunities import OfferStaging, UpsertReport, staged_row
from insertion_match.service.db.startup import file_lock
from insertion_match.service.settings import Settings

if TYPE_CHECKING:
    from insertion_match.service.state import ServiceState

log = logging.getLogger("insertion_match.service")

Format = Literal["json", "jsonl", "csv"]


@lru_cache(maxsize=4)
def load_rome(data_dir: Path) -> RomeReferential:
    """The ROME referential of ``data_dir``, loaded once per process (it is immutable)."""
    return RomeReferential.load(data_dir)


def parse_offers(
    text: str, fmt: Format, gazetteer: Gazetteer, rome: RomeReferential, source: str | None
) -> ImportBatch:
    """Parse a France Travail JSON, JSON-lines or CSV document held in memory (small files;
    :func:`import_offer_stream` for files of any size). Raises ``ValueError`` for a document
    that is not JSON / has the wrong shape / a bad CSV header (nothing to report per record)."""
    source = source or default_source(fmt)
    records = read_records(io.BytesIO(text.encode("utf-8")), fmt)
    return collect_batch(validate_records(records, fmt, gazetteer, rome, source), source)


@dataclass
class StreamImport:
    """What an offers import did. ``rejections`` holds every rejected record when the caller
    kept them (the API); the CLI prints them as they come and keeps only the count."""

    source: str
    received: int = 0
    valid: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    imported: bool = False
    report: UpsertReport | None = None


def import_offer_stream(
    sessions: sessionmaker[Session], stream: BinaryIO, fmt: Format, gazetteer: Gazetteer,
    rome: RomeReferential, *, source: str | None, origin: str, skip_invalid: bool,
    replace_source: bool = False, on_rejection: Callable[[Rejection], None] | None = None,
    keep_rejections: bool = True, on_record: Callable[[int], None] | None = None,
    batch_size: int = 5000, today: date | None = None, jobs: int = 1,
) -> StreamImport:
    """Read, validate and store the offers of ``stream`` record by record, atomically.

    Valid offers are staged in batches (``db.OfferStaging``: a temporary table, memory
    bounded whatever the file's size); at the end, if no record was rejected (or with
    ``skip_invalid``), they are merged into ``opportunities`` in one transaction (upsert by id
    and content hash: re-importing the same file changes no row). With ``replace_source`` the
    stored offers of the source that the file no longer has expire in that same transaction.
    Otherwise nothing is written. Raises ``ValueError`` for an unusable document (nothing
    written). Does not refresh any engine: see :func:`refresh_offers`.

    ``jobs`` > 1: records are validated (and serialised, hashed) by that many forked worker
    processes, in order, a bounded number of chunks in flight; reading and writing stay here.
    """
    outcome = StreamImport(source=source or default_source(fmt))

    def rejected(rejection: Rejection) -> None:
        outcome.rejected += 1
        if keep_rejections:
            outcome.rejections.append(rejection)
        if on_rejection is not None:
            on_rejection(rejection)

    parallel = jobs > 1 and "fork" in multiprocessing.get_all_start_methods()
    records = read_records(stream, fmt, raw=parallel)
    with _validated(records, fmt, gazetteer, rome, outcome.source, jobs) as results, \
            OfferStaging(sessions, batch_size) as stage:
        for result in results:
            outcome.received += 1
            if isinstance(result, Rejection):
                rejected(result)
                if replace_source and result.external_id:
                    stage.keep(f"{outcome.source}:{result.external_id}")
            else:
                stage.add_row(result)
            if on_record is not None:
                on_record(outcome.received)
        for position, external_id, first in stage.duplicates():
            rejected(duplicate_rejection(position, external_id, first))
        outcome.valid = outcome.received - outcome.rejected
        outcome.rejections.sort(key=lambda r: r.position)
        if outcome.rejected and not skip_invalid:
            return outcome  # the stage is dropped: nothing written
        stage.drop_duplicates()
        started = time.perf_counter()
        outcome.report = stage.merge(
            outcome.source, origin, received=outcome.received, rejected=outcome.rejected,
            replace_source=outcome.source if replace_source else None, today=today)
        outcome.imported = True
        log.info("offers merged (write transaction)", extra={
            "count": stage.staged, "ms": round((time.perf_counter() - started) * 1000)})
    log.info("offers imported", extra={"kind": outcome.source, "count": outcome.valid})
    return outcome


#: Records per chunk sent to a validating worker, and chunks in flight per worker.
_CHUNK = 250
_IN_FLIGHT = 3
_WORKER: tuple | None = None  # (fmt, gazetteer, rome, source), inherited by forked workers


def _validate_chunk(chunk: list[tuple[int, object]]) -> list[tuple | Rejection]:
    assert _WORKER is not None
    fmt, gazetteer, rome, source = _WORKER
    return [r if isinstance(r, Rejection) else staged_row(position, r)
            for position, r in validate_records(chunk, fmt, gazetteer, rome, source)]


def _chunks(records: Iterator[tuple[int, object]], size: int) -> Iterator[list]:
    chunk: list = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def _validated(records: Iterator[tuple[int, object]], fmt: Format, gazetteer: Gazetteer,
               rome: RomeReferential, source: str, jobs: int
               ) -> Iterator[Iterator[tuple | Rejection]]:
    """Staging rows (:func:`db.staged_row`) or rejections, in the file's order."""
    global _WORKER
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield (r if isinstance(r, Rejection) else staged_row(position, r)
               for position, r in validate_records(records, fmt, gazetteer, rome, source))
        return
    _WORKER = (fmt, gazetteer, rome, source)
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            def ordered() -> Iterator[tuple | Rejection]:
                pending: deque = deque()
                for chunk in _chunks(records, _CHUNK):
                    pending.append(pool.apply_async(_validate_chunk, (chunk,)))
                    if len(pending) >= jobs * _IN_FLIGHT:
                        yield from pending.popleft().get()
                while pending:
                    yield from pending.popleft().get()
            yield ordered()
    finally:
        _WORKER = None


def refresh_offers(state: ServiceState, since: datetime | None = None,
                   incremental: bool = False) -> None:
    """Swap in an engine that serves the stored offers (after an import)."""
    with state._lock:
        state.engine = _refreshed(state, since, incremental)


def _refreshed(state: ServiceState, since: datetime | None, incremental: bool
               ) -> MatchingEngine:
    """After an import: with ``incremental``, only the offers it created or changed (updated
    after ``since``, the latest update before it; expired by ``--replace-source`` included)
    are turned into arrays and added to the engine's table (the others are reused), and the
    snapshot is rewritten; else (or without a table yet) everything is reloaded."""
    engine = state.engine
    if not incremental or engine.opportunity_table is None or engine.rome is None:
        engine = with_stored_offers(state.settings, state.sessions, engine)
    else:
        changed = [Opportunity.model_validate_json(doc)
                   for doc in stored_offers.iter_opportunity_json(state.sessions, since=since)]
        if changed:
            engine = engine.with_opportunities_added(changed)
        save_offers_snapshot(state.settings, state.sessions, engine)
        log.info("offers refreshed", extra={"count": len(changed), "kind": "incremental"})
    if engine.rome is not None:  # this process is up to date: its follower need not reload
        state.offers_seen = offers_fingerprint(state.sessions, engine.rome)
    return engine


def import_into_service(state: ServiceState, stream: BinaryIO, fmt: Format, **kwargs: Any
                        ) -> StreamImport:
    """:func:`import_offer_stream` for a running service: one import at a time in this
    process (as before: two merges of the same new ids must not race), then the engine is
    refreshed so that the new offers are served at once."""
    with state._lock:
        rome = state.engine.rome
        if rome is None:  # build_state always loads it (with_stored_offers)
            raise RuntimeError("the offer import needs the ROME referential")
        since = stored_offers.latest_update(state.sessions)
        outcome = import_offer_stream(state.sessions, stream, fmt, state.engine.gazetteer,
                                      rome, **kwargs)
        if outcome.imported:
            state.engine = _refreshed(state, since, incremental=True)
    return outcome


@dataclass(frozen=True)
class ImportOutcome:
    batch: ImportBatch
    imported: bool
    report: db.UpsertReport | None


def import_offers(
    state: ServiceState, batch: ImportBatch, origin: str, skip_invalid: bool,
    replace_source: bool = False,
) -> ImportOutcome:
    """Store a parsed batch atomically and swap in an engine that serves it (for records
    parsed elsewhere, e.g. SIAE postings).

    Without ``skip_invalid``, one rejected record means nothing is written (the report still
    lists every rejection). Re-importing the same file changes no offer.
    """
    if batch.rejected and not skip_invalid:
        return ImportOutcome(batch, imported=False, report=None)
    since = stored_offers.latest_update(state.sessions)
    report = db.upsert_opportunities(state.sessions, batch.opportunities, batch.source,
                                     origin, rejected=len(batch.rejected),
                                     replace_source=replace_source)
    refresh_offers(state, since, incremental=True)
    log.info("offers imported", extra={"kind": batch.source, "count": len(batch.opportunities)})
    return ImportOutcome(batch, imported=True, report=report)


#: The columnar snapshot of the stored offers, under the var dir (see docs/scale.md).
SNAPSHOT_FILE = "offers-index.npz"


def offers_fingerprint(sessions: sessionmaker[Session], rome: RomeReferential) -> str:
    """The state of the offers table and of the ROME referential the arrays depend on."""
    codes = zlib.crc32("|".join(rome.codes).encode())
    return f"{stored_offers.opportunities_fingerprint(sessions)}|rome:{len(rome.codes)}:{codes}"


def with_stored_offers(
    settings: Settings, sessions: sessionmaker[Session], engine: MatchingEngine
) -> MatchingEngine:
    """``engine`` with the ROME referential and the stored offers (the demo offers are seeded
    before, under the start-up lock: :func:`seed_demo_offers`).

    The offers' columnar table is loaded from its snapshot (``var/offers-index.npz``) when
    the offers table has not changed since it was written (same fingerprint); otherwise it
    is built from the stored documents, read a chunk at a time, and the snapshot rewritten.
    """
    rome = load_rome(settings.data_dir)
    engine = replace(engine, rome=rome)
    fingerprint = offers_fingerprint(sessions, rome)
    path = settings.var_dir / SNAPSHOT_FILE
    table = OfferTable.load(path, fingerprint)
    source = "snapshot"
    if table is None:
        source = "snapshot+changes"
        table = _brought_up_to_date(path, fingerprint, sessions, rome)
        if table is None:
            source = "database"
            parts = _fingerprint_parts(fingerprint)
            table = OfferTable.build_from_json(
                stored_offers.iter_opportunity_json(sessions), rome,
                workers=_build_workers(parts[0] if parts else 0))
        _save_snapshot(table, path, fingerprint)
    log.info("offers ready", extra={"count": len(table), "kind": source})
    return engine.with_opportunities(table)


#: From this many stored offers, a rebuild validates them in several processes.
PARALLEL_BUILD_FROM = 100_000


def _build_workers(count: int) -> int:
    """Processes validating the stored offers of a rebuild: one per core this process may use
    (at most 4) for a large table (1M offers: 37 s with 2 against about 65 s with one); one
    below :data:`PARALLEL_BUILD_FROM` (starting the workers costs a few seconds)."""
    if count < PARALLEL_BUILD_FROM:
        return 1
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere every core
    cores = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    return max(1, min(4, cores))


def _fingerprint_parts(fingerprint: str) -> tuple[int, datetime | None, str, str, str] | None:
    """(count, latest update, first id, last id, ROME part) of an :func:`offers_fingerprint`,
    None when it cannot be read so (then the table is rebuilt)."""
    rows, sep, rome = fingerprint.rpartition("|rome:")
    parts = rows.split("|")
    if not sep or len(parts) != 4 or not parts[0].isdigit():
        return None
    try:
        latest = None if parts[1] == "None" else datetime.fromisoformat(parts[1])
    except ValueError:
        return None
    return int(parts[0]), latest, parts[2], parts[3], rome


def _brought_up_to_date(path: Path, fingerprint: str, sessions: sessionmaker[Session],
                        rome: RomeReferential) -> OfferTable | None:
    """The snapshot of an earlier state of the offers table with the offers created or changed
    since it was written read from the database (the restart after the daily import reads the
    day's changes, not a million documents); None when that cannot give the stored table:
    no snapshot, another snapshot version or ROME referential, or offers deleted since."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = z["meta"].tolist()
    except (OSError, KeyError, ValueError):
        return None
    if len(meta) != 2 or meta[0] != SNAPSHOT_VERSION:
        return None
    old, now = _fingerprint_parts(str(meta[1])), _fingerprint_parts(fingerprint)
    if old is None or now is None or old[4] != now[4] or old[1] is None:
        return None
    stale = OfferTable.load(path, str(meta[1]))
    if stale is None:
        return None
    changed = [Opportunity.model_validate_json(doc)
               for doc in stored_offers.iter_opportunity_json(sessions, since=old[1])]
    table = stale.with_added(changed, rome) if changed else stale
    # every offer created or changed since is in ``changed`` (updated after the snapshot's
    # latest update): the table then holds one more offer than the database for each offer
    # deleted since, so the counts agree only when none was
    if len(table) != now[0]:
        return None
    log.info("offers snapshot brought up to date", extra={"count": len(changed)})
    return table


def save_offers_snapshot(settings: Settings, sessions: sessionmaker[Session],
                         engine: MatchingEngine) -> None:
    """Write the snapshot of ``engine``'s offers (after an import that stored them), so that
    the next start loads it instead of rebuilding."""
    if engine.opportunity_table is None or engine.rome is None:
        return
    _save_snapshot(engine.opportunity_table, settings.var_dir / SNAPSHOT_FILE,
                   offers_fingerprint(sessions, engine.rome))


def _save_snapshot(table: OfferTable, path: Path, fingerprint: str) -> None:
    try:
        table.save(path, fingerprint)
    except OSError as exc:  # a read-only var dir: serve anyway, rebuild at the next start
        log.warning("offers snapshot not written", extra={"kind": type(exc).__name__})


@contextmanager
def snapshot_lock(var_dir: Path) -> Iterator[None]:
    """One process of this var dir at a time brings its offers up to date: the first rewrites
    the snapshot, the next ones load it instead of building their own, and the machine holds
    one table being built at a time (service/follow.py)."""
    with file_lock(var_dir / "offers-index.lock"):
        yield


@lru_cache(maxsize=2)
def _demo_batch(path: Path, mtime: float, gazetteer: Gazetteer, rome: RomeReferential
                ) -> ImportBatch:
    return parse_france_travail(json.loads(path.read_text(encoding="utf-8")), gazetteer, rome,
                                DEMO_SOURCE)


def seed_demo_offers(settings: Settings, sessions: sessionmaker[Session], gazetteer: Gazetteer,
                     rome: RomeReferential) -> None:
    """Import ``data/demo/offers_demo.json`` (synthetic) when no demo offer is stored yet.
    Called under the start-up lock; the upsert is idempotent besides (by id and content)."""
    path = settings.data_dir / DEMO_FILE
    if not path.exists() or db.count_opportunities(sessions, source=DEMO_SOURCE) > 0:
        return
    batch = _demo_batch(path, path.stat().st_mtime, gazetteer, rome)
    if batch.rejected:
        raise RuntimeError(f"{path}: {len(batch.rejected)} demo offers rejected: "
                           f"{batch.rejected[0]}")
    db.upsert_opportunities(sessions, batch.opportunities, DEMO_SOURCE,
                            origin=f"embedded:data/{DEMO_FILE}")
    log.info("demo offers imported", extra={"count": len(batch.opportunities)})


# ---------------------------------------------------------------------- the people index


@dataclass
class PeopleIndex:
    """The stored beneficiaries as :class:`PeopleArrays`, rebuilt only when they change.

    Freshness: each :meth:`get` reads the people's fingerprint (count, latest update); when it
    differs, only the profiles created, updated or deleted since are read, and their rows
    patched into the arrays (``patch_in_order``: the others' rows are moved, not rebuilt);
    a change of more than ``patch_share`` of the people rebuilds the arrays whole. Rows are in
    (id, commission, subject) order either way (the order of equal scores).
    """

    #: Changes up to this share of the people are patched in; more rebuild the arrays.
    patch_share: float = 0.1
    _fingerprint: tuple[int, str] | None = None
    _records: dict[str, tuple[datetime, PersonRecord]] = field(default_factory=dict)
    _arrays: PeopleArrays | None = None
    _keys: list[tuple[str, str, str]] = field(default_factory=list)  # of the rows, ascending
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, sessions: sessionmaker[Session], engine: MatchingEngine) -> PeopleArrays:
        if engine.rome is None:
            raise RuntimeError("the people index needs the ROME referential")
        fingerprint = db.beneficiaries_fingerprint(sessions)
        if fingerprint == self._fingerprint and self._arrays is not None:
            return self._arrays
        with self._lock:
            if fingerprint == self._fingerprint and self._arrays is not None:
                return self._arrays
            stamps = db.beneficiary_stamps(sessions)
            gone = set(self._records) - set(stamps)
            changed = [i for i, ts in stamps.items()
                       if i not in self._records or self._records[i][0] != ts]
            drop = [_order_key(s, self._records[s][1]) for s in (*gone, *changed)
                    if s in self._records]
            for s in (*gone, *changed):  # the changed are read again below (unless deleted since)
                self._records.pop(s, None)
            add: dict[tuple[str, str, str], PersonRecord] = {}
            for row in db.beneficiaries_by_ids(sessions, changed):
                profile = db.profile_of(row)
                record = PersonRecord(profile, engine.gazetteer.by_insee(row.home_insee),
                                      row.commission, resolve_targets(profile, engine.rome))
                self._records[row.subject] = (row.updated_at, record)
                add[_order_key(row.subject, record)] = record
            patched = None
            if (self._arrays is not None
                    and len(drop) + len(add) <= self.patch_share * len(self._records)):
                try:
                    patched = patch_in_order(self._arrays, self._keys, drop, add, engine.rome)
                except (KeyError, ValueError):  # out of step (an earlier get failed midway)
                    log.warning("people index out of step with the stored profiles: rebuilt")
            if patched is not None:
                self._arrays, self._keys = patched
            else:
                self._keys = sorted(_order_key(s, r) for s, (_, r) in self._records.items())
                by_key = {_order_key(s, r): r for s, (_, r) in self._records.items()}
                self._arrays = build_people([by_key[k] for k in self._keys],
                                            engine.rome).with_grid()
            self._fingerprint = fingerprint
            return self._arrays


def _order_key(subject: str, record: PersonRecord) -> tuple[str, str, str]:
    return record.profile.id or "", record.commission or "", subject
