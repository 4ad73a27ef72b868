"""Stored opportunities (job, volunteering, internship, immersion offers) and their imports.

- ``opportunities``: one row per offer, keyed by ``(source, external_id)`` (the row id is
  ``"{source}:{external_id}"``), holding the validated document, its content hash and the
  columns used for filtering (kind, département, ROME code, expiry).
- ``opportunity_imports``: one row per import (when, what, how many created / updated /
  unchanged / rejected).

An import is **atomic** (one transaction: every offer of the file or none) and **idempotent**
(an offer whose content hash did not change is not touched: re-importing a file changes no
offer row).
"""

from __future__ import annotations

import hashlib
import json
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Self

from sqlalchemy import (
    JSON,
    CursorResult,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy import update as sa_update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.domain import Opportunity
from insertion_match.service.db.base import WRITE_OPTION, Base, transaction


class OpportunityRow(Base):
    __tablename__ = "opportunities"
    __table_args__ = (UniqueConstraint("source", "external_id",
                                       name="uq_opportunities_source_external_id"),)

    id: Mapped[str] = mapped_column(String(130), primary_key=True)
    source: Mapped[str] = mapped_column(String(40), index=True)
    external_id: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    department: Mapped[str] = mapped_column(String(3), index=True)
    insee: Mapped[str] = mapped_column(String(5))
    rome_code: Mapped[str | None] = mapped_column(String(5), index=True)
    expires_at: Mapped[date | None] = mapped_column(Date, index=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: Set when a ``--replace-source`` refresh no longer had the offer (it then expired).
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OpportunityImport(Base):
    __tablename__ = "opportunity_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(40))
    origin: Mapped[str] = mapped_column(String(300))
    content_sha256: Mapped[str] = mapped_column(String(64))
    received: Mapped[int]
    created: Mapped[int]
    updated: Mapped[int]
    unchanged: Mapped[int]
    rejected: Mapped[int]
    expired: Mapped[int] = mapped_column(default=0, server_default="0")


@dataclass(frozen=True)
class UpsertReport:
    created: int
    updated: int
    unchanged: int
    expired: int = 0


def opportunity_document(opportunity: Opportunity) -> tuple[str, str]:
    """The stored JSON text of an offer (nulls left out) and its content hash (SHA-256 of that
    text): one serialisation, in pydantic's core (about 6 µs, against 50 µs through dicts)."""
    text = opportunity.model_dump_json(exclude_none=True)
    return text, hashlib.sha256(text.encode()).hexdigest()


def opportunity_hash(opportunity: Opportunity) -> str:
    return opportunity_document(opportunity)[1]


def batch_hash(opportunities: Iterable[Opportunity]) -> str:
    """Content hash of a set of offers, whatever their order (see :class:`OfferStaging`)."""
    total = 0
    for opp in opportunities:
        total = (total + int(opportunity_hash(opp), 16)) % _MOD
    return f"{total:064x}"


_MOD = 1 << 256
STAGING = "im_offer_staging"
KEEP = "im_offer_keep"
EXPIRE = "im_offer_expire"
_STAGED = ("position", "id", "source", "external_id", "kind", "department", "insee",
           "rome_code", "expires_at", "content_sha256", "document")
_COPIED = ("id", "source", "external_id", "kind", "department", "insee", "rome_code",
           "expires_at", "content_sha256", "document")


def staged_row(position: int, opportunity: Opportunity) -> tuple:
    """The staging-table row of an offer: its columns, content hash and JSON document (plain
    strings: cheap to send from a validating worker process)."""
    document, digest = opportunity_document(opportunity)
    expires = opportunity.expires_at
    return (position, opportunity.id, opportunity.source, opportunity.external_id,
            opportunity.kind, opportunity.location.department, opportunity.location.insee,
            opportunity.rome_code, expires.isoformat() if expires else None, digest, document)


class OfferStaging:
    """Writes a stream of offers atomically with bounded memory.

    Offers are staged in batches in a **temporary table** of one connection (SQLite: the temp
    database, so the main file's write lock is not taken while a large file is read;
    PostgreSQL: ``COPY`` into a session temp table), then :meth:`merge` applies them to
    ``opportunities`` in **one write transaction**: rows whose content hash changed are updated,
    new ones inserted, unchanged ones untouched; with ``replace_source`` the offers of that
    source absent from the file are expired in the same transaction. Nothing reaches
    ``opportunities`` until then; leaving the ``with`` block without merging drops the stage.
    Duplicate ids within the file are found in the stage (:meth:`duplicates`), not in memory.

        with OfferStaging(sessions) as stage:
            for position, opp in valid: stage.add(position, opp)
            dups = stage.duplicates()
            report = stage.merge(source, origin, received=n, rejected=r)
    """

    def __init__(self, factory: sessionmaker[Session], batch_size: int = 5000) -> None:
        bind = factory.kw.get("bind")
        if bind is None:
            raise ValueError("the session factory has no engine")
        self.engine: Engine = bind
        self.batch_size = batch_size
        self.dialect = self.engine.dialect.name
        self.staged = 0
        self._rows: list[tuple] = []
        self._keep: list[tuple[str]] = []
        self._sum = 0
        self._conn: Connection | None = None
        self._indexed = False

    # ------------------------------------------------------------------ context

    def __enter__(self) -> Self:
        self._conn = self.engine.connect()
        temp = "TEMPORARY"
        self._conn.exec_driver_sql(
            f"CREATE {temp} TABLE {STAGING} (position INTEGER NOT NULL, id VARCHAR(130) NOT "
            "NULL, source VARCHAR(40) NOT NULL, external_id VARCHAR(80) NOT NULL, kind "
            "VARCHAR(20) NOT NULL, department VARCHAR(3) NOT NULL, insee VARCHAR(5) NOT NULL, "
            "rome_code VARCHAR(5), expires_at VARCHAR(10), content_sha256 VARCHAR(64) NOT "
            "NULL, document TEXT NOT NULL)")
        self._conn.exec_driver_sql(f"CREATE {temp} TABLE {KEEP} (id VARCHAR(130) NOT NULL)")
        self._conn.exec_driver_sql(
            f"CREATE {temp} TABLE {EXPIRE} (id VARCHAR(130) NOT NULL PRIMARY KEY)")
        return self

    def __exit__(self, *exc: object) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                conn.rollback()
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGING}")
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {KEEP}")
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {EXPIRE}")
            conn.commit()
        finally:
            conn.close()

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("OfferStaging is used inside a with block")
        return self._conn

    # ------------------------------------------------------------------ staging

    def add(self, position: int, opportunity: Opportunity) -> None:
        self.add_row(staged_row(position, opportunity))

    def add_row(self, row: tuple) -> None:
        """A row made by :func:`staged_row` (possibly in another process)."""
        self._sum = (self._sum + int(row[9], 16)) % _MOD
        self._rows.append(row)
        if len(self._rows) >= self.batch_size:
            self.flush()

    def keep(self, opportunity_id: str) -> None:
        """An offer of the file that was rejected (with ``--skip-invalid``): still published
        by its source, so ``replace_source`` does not expire it."""
        self._keep.append((opportunity_id,))
        if len(self._keep) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        rows, self._rows = self._rows, []
        keep, self._keep = self._keep, []
        if rows:
            self._write(STAGING, _STAGED, rows)
            self.staged += len(rows)
        if keep:
            self._write(KEEP, ("id",), keep)

    def _write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        names = ", ".join(columns)
        if self.dialect == "postgresql":
            cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" if self.engine.dialect.paramstyle == "qmark" else "%s"
                          for _ in columns)
        self.conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    @property
    def content_hash(self) -> str:
        """Order-independent hash of the staged offers (sum of their hashes mod 2²⁵⁶)."""
        return f"{self._sum:064x}"

    def _index(self) -> None:
        self.flush()
        if not self._indexed:
            self.conn.exec_driver_sql(f"CREATE INDEX {STAGING}_id ON {STAGING} (id, position)")
            self.conn.exec_driver_sql(f"CREATE INDEX {KEEP}_id ON {KEEP} (id)")
            self._indexed = True

    def duplicates(self) -> list[tuple[int, str, int]]:
        """``(position, external_id, first position)`` of every record whose id an earlier
        record of the file already had."""
        self._index()
        rows = self.conn.exec_driver_sql(
            f"SELECT s.position, s.external_id, f.first FROM {STAGING} s JOIN (SELECT id, "
            f"MIN(position) AS first FROM {STAGING} GROUP BY id HAVING COUNT(*) > 1) f "
            "ON s.id = f.id WHERE s.position > f.first ORDER BY s.position")
        return [(int(p), str(e), int(f)) for p, e, f in rows]

    def drop_duplicates(self) -> int:
        """Keep the first record of each id; returns how many were dropped."""
        self._index()
        result = self.conn.exec_driver_sql(
            f"DELETE FROM {STAGING} WHERE EXISTS (SELECT 1 FROM {STAGING} t WHERE t.id = "
            f"{STAGING}.id AND t.position < {STAGING}.position)")
        dropped = int(result.rowcount or 0)
        self.staged -= dropped
        return dropped

    # ------------------------------------------------------------------ merging

    def _cast(self, column: str, sql_type: str) -> str:
        return f"CAST({column} AS {sql_type})" if self.dialect == "postgresql" else column

    def merge(self, source: str, origin: str, received: int, rejected: int = 0,
              replace_source: str | None = None, today: date | None = None) -> UpsertReport:
        """Apply the stage to ``opportunities`` in one write transaction, record the import,
        commit. Duplicates must have been dealt with (:meth:`duplicates`)."""
        self._index()
        conn = self.conn
        conn.commit()  # the stage (temp tables) is done; the write transaction starts here
        conn.execution_options(**{WRITE_OPTION: True})  # BEGIN IMMEDIATE on SQLite
        expires = self._cast("s.expires_at", "DATE")
        document = self._cast("s.document", "JSON")
        with conn.begin():
            # the stamp is taken once the write lock is held (SQLite): imports then stamp
            # their offers in the order they commit, and a reader that saw the latest
            # ``updated_at`` misses no offer stamped before it (service/offers.py, which
            # reads what changed "since" the latest update it knows)
            now = datetime.now(UTC)
            stamp = bindparam("now", now, type_=DateTime(timezone=True))
            created = int(conn.scalar(text(
                f"SELECT COUNT(*) FROM {STAGING} s WHERE NOT EXISTS "
                "(SELECT 1 FROM opportunities o WHERE o.id = s.id)")) or 0)
            changed = text(
                "UPDATE opportunities SET source = s.source, external_id = s.external_id, "
                "kind = s.kind, department = s.department, insee = s.insee, rome_code = "
                f"s.rome_code, expires_at = {expires}, content_sha256 = s.content_sha256, "
                f"document = {document}, updated_at = :now, withdrawn_at = NULL FROM {STAGING} "
                "s WHERE opportunities.id = s.id AND opportunities.content_sha256 <> "
                "s.content_sha256").bindparams(stamp)
            updated = int(conn.execute(changed).rowcount or 0)
            copied = ", ".join(f"s.{c}" for c in _COPIED).replace(
                "s.expires_at", expires).replace("s.document", document)
            conn.execute(text(
                f"INSERT INTO opportunities ({', '.join(_COPIED)}, created_at, updated_at) "
                f"SELECT {copied}, :now, :now FROM {STAGING} s WHERE NOT EXISTS "
                "(SELECT 1 FROM opportunities o WHERE o.id = s.id) ORDER BY s.id").bindparams(stamp))
            expired = (self._expire(conn, replace_source, today or date.today(), now)
                       if replace_source else 0)
            unchanged = self.staged - created - updated
            conn.execute(insert(OpportunityImport), [{
                "imported_at": now, "source": source[:40], "origin": origin[:300],
                "content_sha256": self.content_hash, "received": received, "created": created,
                "updated": updated, "unchanged": unchanged, "rejected": rejected,
                "expired": expired}])
        return UpsertReport(created, updated, unchanged, expired)

    def _expire(self, conn: Connection, source: str, today: date, now: datetime) -> int:
        """Offers of ``source`` stored, live, and absent from the file: their expiry day
        becomes yesterday (so they leave the rankings; ``purge-expired`` deletes them later)
        and ``withdrawn_at`` says when they vanished. Their ids are listed in one pass into a
        temp table, then rewritten in pages of 1,000."""
        yesterday = today - timedelta(days=1)
        table = typing.cast(Table, OpportunityRow.__table__)  # a mapped class's is a Table
        conn.execute(text(
            f"INSERT INTO {EXPIRE} (id) SELECT o.id FROM opportunities o WHERE o.source = "
            f":source AND o.withdrawn_at IS NULL AND NOT EXISTS (SELECT 1 FROM {STAGING} s "
            f"WHERE s.id = o.id) AND NOT EXISTS (SELECT 1 FROM {KEEP} k WHERE k.id = o.id)"),
            {"source": source})
        page = text(f"SELECT id FROM {EXPIRE} WHERE id > :after ORDER BY id LIMIT 1000")
        change = (sa_update(table).where(table.c.id == bindparam("b_id"))
                  .values(document=bindparam("b_document", type_=JSON),
                          content_sha256=bindparam("b_hash"),
                          expires_at=bindparam("b_expires", type_=Date),
                          withdrawn_at=now, updated_at=now))
        after, count = "", 0
        while True:
            ids = [r[0] for r in conn.execute(page, {"after": after})]
            if not ids:
                return count
            docs = conn.execute(select(table.c.id, table.c.document)
                                .where(table.c.id.in_(ids)))
            params = []
            for opp_id, doc in docs:
                opp = Opportunity.model_validate(doc)
                if opp.expires_at is None or opp.expires_at > yesterday:
                    opp = opp.model_copy(update={"expires_at": yesterday})
                text_, digest = opportunity_document(opp)
                params.append({"b_id": opp_id, "b_document": json.loads(text_),
                               "b_hash": digest, "b_expires": opp.expires_at})
            conn.execute(change, params)
            count += len(params)
            after = ids[-1]


def upsert_opportunities(
    factory: sessionmaker[Session], opportunities: Iterable[Opportunity], source: str,
    origin: str, rejected: int = 0, replace_source: bool = False,
) -> UpsertReport:
    """Create or update ``opportunities`` by id, in one transaction; unchanged rows untouched.

    Takes any iterable (a generator streams: memory stays bounded). Records the import in
    ``opportunity_imports``. Raises ``ValueError`` for two offers with the same id (the parser
    already rejects them), before anything is written. ``replace_source``: the offers of
    ``source`` not given here expire (see :meth:`OfferStaging.merge`).
    """
    with OfferStaging(factory) as stage:
        for position, opp in enumerate(opportunities, start=1):
            stage.add(position, opp)
        if stage.duplicates():
            raise ValueError("duplicate opportunity ids in one import")
        return stage.merge(source, origin, received=stage.staged + rejected, rejected=rejected,
                           replace_source=source if replace_source else None)


def load_opportunities(factory: sessionmaker[Session]) -> list[Opportunity]:
    """Every stored offer, validated again (the database is not trusted blindly), by id."""
    with factory() as session:
        rows = session.scalars(select(OpportunityRow.document).order_by(OpportunityRow.id))
        return [Opportunity.model_validate(doc) for doc in rows]


def iter_opportunities(factory: sessionmaker[Session], chunk: int = 5_000
                       ) -> Iterator[Opportunity]:
    """Every stored offer, validated again, by id, read ``chunk`` rows at a time (memory
    bounded whatever the table's size)."""
    with factory() as session:
        rows = session.execute(select(OpportunityRow.document).order_by(OpportunityRow.id)
                               .execution_options(yield_per=chunk))
        for (doc,) in rows:
            yield Opportunity.model_validate(doc)


def iter_opportunity_json(factory: sessionmaker[Session], chunk: int = 5_000,
                          since: datetime | None = None) -> Iterator[str]:
    """Every stored offer's document as JSON text (only those updated after ``since`` when
    given), by id, ``chunk`` rows at a time (the caller validates it:
    ``Opportunity.model_validate_json`` parses and validates in one pass, several times
    faster than decoding then validating)."""
    stmt = select(cast(OpportunityRow.document, Text)).order_by(OpportunityRow.id)
    if since is not None:
        stmt = stmt.where(OpportunityRow.updated_at > since)
    with factory() as session:
        rows = session.execute(stmt.execution_options(yield_per=chunk))
        for (doc,) in rows:
            yield doc


def latest_update(factory: sessionmaker[Session]) -> datetime | None:
    """The latest ``updated_at`` of the stored offers (None when there is none): taken before
    an import, :func:`iter_opportunity_json` ``since`` it reads what the import changed."""
    with factory() as session:
        return session.scalar(select(func.max(OpportunityRow.updated_at)))


def opportunities_fingerprint(factory: sessionmaker[Session]) -> str:
    """Changes whenever an offer is created, updated or deleted (count, latest update, first
    and last id): the key of the in-memory index's snapshot."""
    # One query each: a min or max alone is read from the end of its index, a count from the
    # smallest index; asked together they make SQLite scan the table, documents included
    # (1M offers: 1.08 s together, 18 ms apart). Read every IM_REFRESH_SECONDS by each worker.
    with factory() as session:
        latest = session.scalar(select(func.max(OpportunityRow.updated_at)))
        first = session.scalar(select(func.min(OpportunityRow.id)))
        last = session.scalar(select(func.max(OpportunityRow.id)))
        count = session.scalar(select(func.count()).select_from(OpportunityRow))
    return f"{int(count or 0)}|{latest}|{first}|{last}"


def get_opportunity(factory: sessionmaker[Session], opportunity_id: str) -> OpportunityRow | None:
    with factory() as session:
        return session.get(OpportunityRow, opportunity_id)


def count_opportunities(factory: sessionmaker[Session], source: str | None = None) -> int:
    stmt = select(func.count()).select_from(OpportunityRow)
    if source is not None:
        stmt = stmt.where(OpportunityRow.source == source)
    with factory() as session:
        return int(session.scalar(stmt) or 0)


def purge_expired_opportunities(factory: sessionmaker[Session], today: date) -> int:
    """Delete the offers whose expiry day is before ``today``."""
    with transaction(factory) as session:
        result = session.execute(delete(OpportunityRow).where(OpportunityRow.expires_at < today))
        return int(typing.cast("CursorResult[Any]", result).rowcount or 0)  # a DELETE's


def opportunity_imports(
    factory: sessionmaker[Session], limit: int = 100
) -> list[OpportunityImport]:
    with factory() as session:
        stmt = select(OpportunityImport).order_by(OpportunityImport.id.desc()).limit(limit)
        return list(session.scalars(stmt))
