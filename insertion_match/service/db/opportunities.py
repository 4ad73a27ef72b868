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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
    cast,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.domain import Opportunity
from insertion_match.service.db.base import Base, transaction

_CHUNK = 500


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


@dataclass(frozen=True)
class UpsertReport:
    created: int
    updated: int
    unchanged: int


def opportunity_hash(opportunity: Opportunity) -> str:
    payload = json.dumps(opportunity.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def batch_hash(opportunities: Sequence[Opportunity]) -> str:
    digest = hashlib.sha256()
    for opp in sorted(opportunities, key=lambda o: o.id):
        digest.update(opportunity_hash(opp).encode())
    return digest.hexdigest()


def upsert_opportunities(
    factory: sessionmaker[Session], opportunities: Sequence[Opportunity], source: str,
    origin: str, rejected: int = 0,
) -> UpsertReport:
    """Create or update ``opportunities`` by id, in one transaction; unchanged rows untouched.

    Records the import in ``opportunity_imports``. Raises ``ValueError`` for two offers with
    the same id (the parser already rejects them).
    """
    ids = [o.id for o in opportunities]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate opportunity ids in one import")
    now = datetime.now(UTC)
    created = updated = unchanged = 0
    # Hash and serialise before the write transaction: the write lock is held for the writes only.
    prepared = [(opp, opportunity_hash(opp), opp.model_dump(mode="json", exclude_none=True))
                for opp in opportunities]
    content = batch_hash(opportunities)
    with transaction(factory) as session:
        existing: dict[str, str] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            existing.update((i, h) for i, h in session.execute(
                select(OpportunityRow.id, OpportunityRow.content_sha256)
                .where(OpportunityRow.id.in_(chunk))))
        inserts, updates = [], []
        for opp, digest, document in prepared:
            stored = existing.get(opp.id)
            if stored is not None and stored == digest:
                unchanged += 1
                continue
            fields = {
                "id": opp.id, "source": opp.source, "external_id": opp.external_id,
                "kind": opp.kind, "department": opp.location.department,
                "insee": opp.location.insee, "rome_code": opp.rome_code,
                "expires_at": opp.expires_at, "content_sha256": digest, "document": document,
                "updated_at": now,
            }
            if stored is None:
                inserts.append({**fields, "created_at": now})
            else:
                updates.append(fields)
        for start in range(0, len(inserts), _CHUNK):
            session.execute(insert(OpportunityRow), inserts[start:start + _CHUNK])
        for start in range(0, len(updates), _CHUNK):
            session.execute(update(OpportunityRow), updates[start:start + _CHUNK])
        created, updated = len(inserts), len(updates)
        session.add(OpportunityImport(
            imported_at=now, source=source[:40], origin=origin[:300],
            content_sha256=content, received=len(opportunities) + rejected,
            created=created, updated=updated, unchanged=unchanged, rejected=rejected,
        ))
    return UpsertReport(created, updated, unchanged)


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


def iter_opportunity_json(factory: sessionmaker[Session], chunk: int = 5_000
                          ) -> Iterator[str]:
    """Every stored offer's document as JSON text, by id, ``chunk`` rows at a time (the
    caller validates it: ``Opportunity.model_validate_json`` parses and validates in one
    pass, several times faster than decoding then validating)."""
    with factory() as session:
        rows = session.execute(select(cast(OpportunityRow.document, Text))
                               .order_by(OpportunityRow.id).execution_options(yield_per=chunk))
        for (doc,) in rows:
            yield doc


def opportunities_fingerprint(factory: sessionmaker[Session]) -> str:
    """One aggregate query that changes whenever an offer is created, updated or deleted
    (count, latest update, first and last id): the key of the in-memory index's snapshot."""
    with factory() as session:
        count, latest, first, last = session.execute(select(
            func.count(), func.max(OpportunityRow.updated_at), func.min(OpportunityRow.id),
            func.max(OpportunityRow.id))).one()
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
        return int(result.rowcount or 0)


def opportunity_imports(
    factory: sessionmaker[Session], limit: int = 100
) -> list[OpportunityImport]:
    with factory() as session:
        stmt = select(OpportunityImport).order_by(OpportunityImport.id.desc()).limit(limit)
        return list(session.scalars(stmt))
