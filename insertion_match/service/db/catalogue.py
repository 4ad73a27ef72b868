"""The stored action catalogue.

- ``actions``: one row per action, its validated JSON document plus the columns used for
  filtering (département, category, active). Replaced atomically by an import.
- ``catalogue_imports``: one row per import of the curated catalogue (when, how many, content
  hash, origin).
- ``data_inclusion_links``: one row per data·inclusion service imported (``catalogue
  import-di``): the action it created, or the curated action it duplicates (merged), and the
  hash of what was imported (re-importing the same record changes nothing).

The stored catalogue is the curated actions plus the actions created from data·inclusion (their
``source.document`` is :data:`DI_DOCUMENT`). Replacing the curated catalogue keeps the imported
ones; links to curated actions that no longer exist are ignored until the next import-di.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import JSON, Date, DateTime, Integer, String, delete, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from insertion_match.domain import Action, DataInclusionLink
from insertion_match.service.db.base import Base, transaction


class ActionRow(Base):
    __tablename__ = "actions"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    department: Mapped[str] = mapped_column(String(3), index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    active: Mapped[bool]
    source_document: Mapped[str] = mapped_column(String(200))
    document: Mapped[dict] = mapped_column(JSON)


#: ``source.document`` of the actions created from data·inclusion services.
DI_DOCUMENT = "data·inclusion"


class DataInclusionLinkRow(Base):
    __tablename__ = "data_inclusion_links"

    service_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    source: Mapped[str] = mapped_column(String(120))
    structure_id: Mapped[str] = mapped_column(String(300))
    action_id: Mapped[str] = mapped_column(String(120), index=True)
    merged: Mapped[bool]
    date_maj: Mapped[date | None] = mapped_column(Date, nullable=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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
    """Replace the stored curated catalogue by ``actions`` in one transaction: all or nothing.
    The actions imported from data·inclusion stay (unless an id is taken by ``actions``)."""
    ids = [a.id for a in actions]
    with transaction(factory) as session:
        session.execute(delete(ActionRow).where(ActionRow.source_document != DI_DOCUMENT))
        for start in range(0, len(ids), 500):
            session.execute(delete(ActionRow).where(ActionRow.id.in_(ids[start:start + 500])))
        session.add_all(_row_of(a) for a in actions)
        session.add(CatalogueImport(
            imported_at=datetime.now(UTC), action_count=len(actions),
            content_sha256=catalogue_hash(actions), origin=origin[:300],
        ))
    return len(actions)


def last_import(factory: sessionmaker[Session]) -> CatalogueImport | None:
    with factory() as session:
        stmt = select(CatalogueImport).order_by(CatalogueImport.id.desc()).limit(1)
        return session.scalars(stmt).first()


def catalogue_fingerprint(factory: sessionmaker[Session]) -> str:
    """Changes whenever the stored catalogue does: a curated import (its log row), a
    data·inclusion import (actions and links created, deleted or re-imported: counts and the
    latest link stamp). Small aggregate queries: read every few seconds by each worker."""
    with factory() as session:
        last = session.scalar(select(func.max(CatalogueImport.id)))
        actions = session.scalar(select(func.count()).select_from(ActionRow))
        links, stamp = session.execute(select(func.count(), func.max(
            DataInclusionLinkRow.imported_at))).one()
    return f"{last}|{actions}|{links}|{stamp}"


def count_actions(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(ActionRow)) or 0)


def _values_of(action: Action) -> dict:
    return {"id": action.id, "department": action.territory.department,
            "category": action.category.value, "active": action.active,
            "source_document": action.source.document,
            "document": action.model_dump(mode="json", exclude_none=True)}


def _row_of(action: Action) -> ActionRow:
    return ActionRow(**_values_of(action))


def load_di_links(factory: sessionmaker[Session]) -> dict[str, DataInclusionLinkRow]:
    """Every stored data·inclusion link, by service id."""
    with factory() as session:
        return {r.service_id: r for r in session.scalars(select(DataInclusionLinkRow))}


@dataclass(frozen=True)
class DiWrite:
    """What one data·inclusion import writes: actions to create or update, actions to delete
    (a service now merged into a curated action), and the links."""

    upsert_actions: Sequence[Action]
    delete_action_ids: Sequence[str]
    links: Sequence[dict]
    delete_service_ids: Sequence[str] = ()


def apply_di_import(factory: sessionmaker[Session], write: DiWrite) -> None:
    """Write one data·inclusion import in one transaction: all or nothing."""
    now = datetime.now(UTC)
    with transaction(factory) as session:
        ids = list(write.delete_action_ids) + [a.id for a in write.upsert_actions]
        for start in range(0, len(ids), 500):
            session.execute(delete(ActionRow).where(ActionRow.id.in_(ids[start:start + 500])))
        services = [link["service_id"] for link in write.links] + list(write.delete_service_ids)
        for start in range(0, len(services), 500):
            session.execute(delete(DataInclusionLinkRow).where(
                DataInclusionLinkRow.service_id.in_(services[start:start + 500])))
        if write.upsert_actions:  # bulk inserts (thousands of rows in one statement each)
            session.execute(insert(ActionRow), [_values_of(a) for a in write.upsert_actions])
        if write.links:
            session.execute(insert(DataInclusionLinkRow),
                            [{**link, "imported_at": now} for link in write.links])


def attach_links(actions: list[Action], links: Sequence[DataInclusionLinkRow]) -> list[Action]:
    """Curated actions that data·inclusion services duplicate carry their ids (merged)."""
    by_action: dict[str, list[DataInclusionLinkRow]] = {}
    for link in links:
        if link.merged:
            by_action.setdefault(link.action_id, []).append(link)
    out = []
    for action in actions:
        found = by_action.get(action.id)
        if found and action.source.document != DI_DOCUMENT:
            dates = [x.date_maj for x in found if x.date_maj is not None]
            action = action.model_copy(update={"data_inclusion": DataInclusionLink(
                service_ids=tuple(sorted(x.service_id for x in found)),
                source=found[0].source, structure_id=found[0].structure_id,
                date_maj=max(dates) if dates else None, merged=True)})
        out.append(action)
    return out


def load_actions(factory: sessionmaker[Session]) -> list[Action]:
    """Every stored action, validated again (the database is not trusted blindly)."""
    with factory() as session:
        rows = session.scalars(select(ActionRow).order_by(ActionRow.source_document, ActionRow.id))
        actions = [Action.model_validate(r.document) for r in rows]
        links = session.scalars(select(DataInclusionLinkRow).where(DataInclusionLinkRow.merged))
        return attach_links(actions, list(links))
