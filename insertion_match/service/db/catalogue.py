"""The stored action catalogue.

- ``actions``: one row per action, its validated JSON document plus the columns used for
  filtering (département, category, active). Replaced atomically by an import.
- ``catalogue_imports``: one row per import (when, how many, content hash, origin).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.domain import Action
from insertion_match.service.db.base import Base, transaction


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
