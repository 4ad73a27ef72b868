"""Engine, session factory and declarative base shared by every table module.

SQLite (default, embedded) or PostgreSQL (production) through SQLAlchemy 2.0: nothing in the
table modules is specific to either.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
    """An engine for ``url``. Statement parameters never appear in errors or logs.

    SQLite: a new connection per session (``NullPool``: cheap for a file, and a database file
    that disappears and comes back is seen at once), explicit ``BEGIN`` so that transactions
    (DDL included) are real; WAL journal. PostgreSQL: pooled, each connection checked before
    use (``pool_pre_ping``), so the service recovers by itself after a database restart.
    """
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False},
                               poolclass=NullPool, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record) -> None:
            conn.isolation_level = None  # the driver's implicit transactions off: we BEGIN
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, pool_timeout=10, hide_parameters=True,
                         connect_args=connect_args)


def init_db(engine: Engine) -> sessionmaker[Session]:
    """Migrate the database to the latest schema (Alembic) and return the session factory."""
    from insertion_match.service.db.migrate import upgrade

    upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any exception."""
    with factory() as session, session.begin():
        yield session
