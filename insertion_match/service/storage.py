"""Storage through SQLAlchemy 2.0: SQLite by default, PostgreSQL with a URL change.

Tables:
- ``actions``: the catalogue, one row per action, its validated JSON document plus the columns
  used for filtering (département, category, active). Replaced atomically by an import.
- ``catalogue_imports``: one row per import (when, how many, content hash).
- ``recommendation_log``: the audit trail of what was shown (pseudonymous id, model, item ids).

Only ids and item ids are written to the log: never freins, never free text from a profile.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    String,
    create_engine,
    delete,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from insertion_match.domain import Action


class Base(DeclarativeBase):
    pass


class ActionRow(Base):
    __tablename__ = "actions"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    department: Mapped[str] = mapped_column(String(3), index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    active: Mapped[bool]
    source_document: Mapped[str] = mapped_column(String(200))
    document: Mapped[dict] = mapped_column(JSON)


class CatalogueImport(Base):
    __tablename__ = "catalogue_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action_count: Mapped[int]
    content_sha256: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(300))


class RecommendationLog(Base):
    __tablename__ = "recommendation_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    beneficiary_id: Mapped[str | None] = mapped_column(String(64), index=True)
    model_name: Mapped[str] = mapped_column(String(80))
    model_version: Mapped[str] = mapped_column(String(40))
    item_ids: Mapped[list] = mapped_column(JSON)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def init_db(engine: Engine) -> sessionmaker[Session]:
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session, session.begin():
        yield session


def catalogue_hash(actions: Sequence[Action]) -> str:
    payload = json.dumps(
        [a.model_dump(mode="json") for a in actions], sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def replace_catalogue(
    factory: sessionmaker[Session], actions: Sequence[Action], origin: str
) -> int:
    """Replace the stored catalogue by ``actions`` in one transaction: all or nothing."""
    with transaction(factory) as session:
        session.execute(delete(ActionRow))
        session.add_all(
            ActionRow(
                id=a.id,
                department=a.territory.department,
                category=a.category.value,
                active=a.active,
                source_document=a.source.document,
                document=a.model_dump(mode="json", exclude_none=True),
            )
            for a in actions
        )
        session.add(CatalogueImport(
            imported_at=datetime.now(UTC), action_count=len(actions),
            content_sha256=catalogue_hash(actions), origin=origin[:300],
        ))
    return len(actions)


def last_import(factory: sessionmaker[Session]) -> CatalogueImport | None:
    with factory() as session:
        stmt = select(CatalogueImport).order_by(CatalogueImport.id.desc()).limit(1)
        return session.scalars(stmt).first()


def count_actions(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(ActionRow)) or 0)


def load_actions(factory: sessionmaker[Session]) -> list[Action]:
    """Every stored action, validated again (the database is not trusted blindly)."""
    with factory() as session:
        rows = session.scalars(select(ActionRow).order_by(ActionRow.source_document, ActionRow.id))
        return [Action.model_validate(r.document) for r in rows]


def log_recommendation(
    factory: sessionmaker[Session],
    actor: str,
    beneficiary_id: str | None,
    model_name: str,
    model_version: str,
    item_ids: Sequence[str],
) -> None:
    with transaction(factory) as session:
        session.add(RecommendationLog(
            created_at=datetime.now(UTC), actor=actor, beneficiary_id=beneficiary_id,
            model_name=model_name, model_version=model_version, item_ids=list(item_ids),
        ))


def recommendation_log(factory: sessionmaker[Session], limit: int = 100) -> list[RecommendationLog]:
    with factory() as session:
        stmt = select(RecommendationLog).order_by(RecommendationLog.id.desc()).limit(limit)
        return list(session.scalars(stmt))
