"""The audit trail (DESIGN §9): what was shown to whom, and who touched whose data.

- ``recommendation_log``: every recommendation shown (who: key id, name and role; when; which
  pseudonymous person and their département; model name and version; the item ids shown);
- ``access_log``: every access to a stored person's data (read, create, update, erase, export).

Only pseudonymous ids, the model and item ids are stored: never freins, never free text. Each
row points to the person's internal ``subject`` (see ``beneficiaries``), so a person's export
reads their rows only, never those of someone else of another territory under the same id.
Rows outlive an erased profile (accountability: who did what, when) but detached from the
person: the id is replaced by a random tombstone, ``subject`` is cleared and the items shown
are dropped; the retention purge removes them later.

**Group commit** (issue 11): the service writes ``recommendation_log`` rows through one
:class:`AuditWriter` per process: a single writer thread takes every row waiting in its queue,
inserts them in one transaction and commits, then hands each request its row id. A request is
answered only after its row is committed, so no answered recommendation can be missing from the
audit after a crash (``kill -9``), while one commit (one fsync) serves many requests under load.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import JSON, CursorResult, DateTime, Integer, String, delete, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.service.db.base import Base, transaction

log = logging.getLogger("insertion_match.service")


class RecommendationLog(Base):
    __tablename__ = "recommendation_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    beneficiary_id: Mapped[str | None] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(32), index=True)
    model_name: Mapped[str] = mapped_column(String(80))
    model_version: Mapped[str] = mapped_column(String(40))
    item_ids: Mapped[list] = mapped_column(JSON)
    actor_name: Mapped[str | None] = mapped_column(String(120))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(3), index=True)


class AccessLog(Base):
    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    actor_name: Mapped[str | None] = mapped_column(String(120))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    beneficiary_id: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(20))


#: What ``access_log.action`` may say.
ACCESS_ACTIONS = frozenset({"read", "create", "update", "erase", "export"})


def log_recommendation(
    factory: sessionmaker[Session],
    actor: str,
    beneficiary_id: str | None,
    model_name: str,
    model_version: str,
    item_ids: Sequence[str],
    *,
    actor_name: str | None = None,
    actor_role: str | None = None,
    department: str | None = None,
    subject: str | None = None,
) -> int:
    """Store one recommendation shown; returns its id (the answer's ``recommendation_id``)."""
    with transaction(factory) as session:
        row = RecommendationLog(
            created_at=datetime.now(UTC), actor=actor, beneficiary_id=beneficiary_id,
            subject=subject,
            model_name=model_name, model_version=model_version, item_ids=list(item_ids),
            actor_name=actor_name, actor_role=actor_role, department=department,
        )
        session.add(row)
        session.flush()
        return int(row.id)


def log_recommendations(factory: sessionmaker[Session], rows: Sequence[dict]) -> int:
    """Store many recommendations shown (each a dict of :func:`log_recommendation`'s
    arguments) in one transaction, one INSERT; returns how many (the batch CLI: a partition)."""
    if not rows:
        return 0
    now = datetime.now(UTC)
    with transaction(factory) as session:
        session.connection().execute(insert(RecommendationLog),
                                     [_values(now, **fields) for fields in rows])
    return len(rows)


#: Most rows committed in one transaction by the :class:`AuditWriter`.
GROUP_MAX = 256


class AuditWriter:
    """One writer thread committing the recommendation rows of many requests together.

    :meth:`submit` queues a row (the keyword arguments of :func:`log_recommendation`) and
    returns a future of its id, resolved once the transaction holding it is committed (or
    failed with the database's exception). The thread takes whatever is waiting — up to
    :data:`GROUP_MAX` rows — into one transaction: under load, requests that arrive while a
    commit is in progress share the next one. A group that fails is retried row by row, so a
    row the database refuses fails alone.
    """

    _STOP = object()

    def __init__(self, factory: sessionmaker[Session], group_max: int = GROUP_MAX) -> None:
        self.factory, self.group_max = factory, group_max
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="im-audit-writer", daemon=True)
        self._started = False
        self._closed = False
        self._start_lock = threading.Lock()
        self.commits = 0  # transactions committed (for benchmarks: rows per commit)
        self.rows = 0

    def submit(self, **fields: object) -> Future[int]:
        future: Future[int] = Future()
        with self._start_lock:  # never queued behind the stop: close() takes the same lock
            if not self._closed:
                if not self._started:
                    self._thread.start()
                    self._started = True
                self._queue.put((fields, future))
                return future
        future.set_running_or_notify_cancel()  # after shutdown: written at once, here
        try:
            future.set_result(log_recommendation(self.factory, **fields))  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            future.set_exception(exc)
        return future

    def write(self, **fields: object) -> int:
        """Queue a row and wait until it is committed (for threads: the batch, the web app)."""
        return self.submit(**fields).result()

    async def write_async(self, **fields: object) -> int:
        """Queue a row and await its commit without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(**fields))

    def close(self, timeout: float = 30) -> None:
        """Commit what is queued, then stop the thread (later rows are written directly)."""
        with self._start_lock:
            self._closed = True
            started = self._started
        if started:
            self._queue.put(self._STOP)
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is self._STOP:
                return
            group = [item]
            stop = False
            while len(group) < self.group_max:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is self._STOP:
                    stop = True
                    break
                group.append(more)
            self._commit(group)
            if stop:
                return

    def _commit(self, group: list) -> None:
        try:
            ids = self._insert([fields for fields, _ in group])
        except Exception as exc:  # noqa: BLE001 - every waiting request gets the outcome
            if len(group) == 1:
                _fail(group[0][1], exc)
                return
            for item in group:  # one refused row must not fail the others
                self._commit([item])
            return
        for (_, future), row_id in zip(group, ids, strict=True):
            if future.set_running_or_notify_cancel():
                future.set_result(row_id)

    def _insert(self, rows: list[dict]) -> list[int]:
        """One INSERT of every row (Core, not the ORM's unit of work: a fifth of the cost),
        their ids returned in the rows' order."""
        now = datetime.now(UTC)
        values = [_values(now, **fields) for fields in rows]
        with transaction(self.factory) as session:
            result = session.connection().execute(_INSERT_RETURNING_ID, values)
            ids = [int(row_id) for row_id in result.scalars()]
        self.commits += 1
        self.rows += len(rows)
        return ids


#: The group's INSERT; ``sort_by_parameter_order`` ties each returned id to its row, also
#: when SQLAlchemy sends the rows as one multi-row INSERT.
_INSERT_RETURNING_ID = insert(RecommendationLog).returning(
    RecommendationLog.id, sort_by_parameter_order=True)


def _fail(future: Future, exc: BaseException) -> None:
    if future.set_running_or_notify_cancel():
        future.set_exception(exc)


def _values(
    created_at: datetime, actor: str, beneficiary_id: str | None, model_name: str,
    model_version: str, item_ids: Sequence[str], *, actor_name: str | None = None,
    actor_role: str | None = None, department: str | None = None, subject: str | None = None,
) -> dict[str, object]:
    """One ``recommendation_log`` row as the Core INSERT's parameters."""
    return {
        "created_at": created_at, "actor": actor, "beneficiary_id": beneficiary_id,
        "subject": subject, "model_name": model_name, "model_version": model_version,
        "item_ids": list(item_ids), "actor_name": actor_name, "actor_role": actor_role,
        "department": department,
    }


def get_recommendation(factory: sessionmaker[Session], recommendation_id: int
                       ) -> RecommendationLog | None:
    """One recommendation shown, by its id."""
    with factory() as session:
        return session.get(RecommendationLog, recommendation_id)


def log_access(
    factory: sessionmaker[Session], actor: str, beneficiary_id: str, action: str, *,
    actor_name: str | None = None, actor_role: str | None = None, subject: str | None = None,
) -> None:
    if action not in ACCESS_ACTIONS:
        raise ValueError(f"unknown access action {action!r}")
    with transaction(factory) as session:
        session.add(AccessLog(
            created_at=datetime.now(UTC), actor=actor, actor_name=actor_name,
            actor_role=actor_role, beneficiary_id=beneficiary_id, action=action, subject=subject,
        ))


def audit_about(
    factory: sessionmaker[Session], beneficiary_id: str | None = None, *,
    subject: str | None = None,
) -> tuple[list[RecommendationLog], list[AccessLog]]:
    """Every audit row about one person (``subject``; or, for tools, every row carrying
    ``beneficiary_id``), oldest first (for their export)."""
    if subject is not None:
        rec_where, acc_where = RecommendationLog.subject == subject, AccessLog.subject == subject
    else:
        rec_where = RecommendationLog.beneficiary_id == beneficiary_id
        acc_where = AccessLog.beneficiary_id == beneficiary_id
    with factory() as session:
        recs = session.scalars(select(RecommendationLog).where(rec_where)
                               .order_by(RecommendationLog.id))
        accesses = session.scalars(select(AccessLog).where(acc_where).order_by(AccessLog.id))
        return list(recs), list(accesses)


def purge_audit(factory: sessionmaker[Session], before: datetime) -> tuple[int, int]:
    """Delete audit rows created before ``before``: (recommendation rows, access rows)."""
    with transaction(factory) as session:
        # a DELETE's result is a CursorResult (execute() is typed as returning any Result)
        recs = cast("CursorResult[Any]", session.execute(
            delete(RecommendationLog).where(RecommendationLog.created_at < before))).rowcount
        accesses = cast("CursorResult[Any]", session.execute(
            delete(AccessLog).where(AccessLog.created_at < before))).rowcount
    return int(recs or 0), int(accesses or 0)


def recommendation_counts(
    factory: sessionmaker[Session], since: datetime | None = None
) -> list[tuple[str | None, str, str, int]]:
    """Aggregates only: (département, model name, model version, recommendations shown)."""
    keys = (RecommendationLog.department, RecommendationLog.model_name,
            RecommendationLog.model_version)
    stmt = select(*keys, func.count()).group_by(*keys).order_by(*keys)
    if since is not None:
        stmt = stmt.where(RecommendationLog.created_at >= since)
    with factory() as session:
        return [(d, n, v, int(c)) for d, n, v, c in session.execute(stmt)]


def recommendation_log(factory: sessionmaker[Session], limit: int = 100) -> list[RecommendationLog]:
    with factory() as session:
        stmt = select(RecommendationLog).order_by(RecommendationLog.id.desc()).limit(limit)
        return list(session.scalars(stmt))
