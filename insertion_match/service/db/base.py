"""Engine, session factory and declarative base shared by every table module.

SQLite (default, embedded) or PostgreSQL (production) through SQLAlchemy 2.0: nothing in the
table modules is specific to either.

**Writes on SQLite.** A deferred ``BEGIN`` that reads then writes fails at once ("database is
locked", no busy wait possible) when another connection commits in between. So every write
transaction (:func:`transaction`, migrations) asks for the write lock first: ``BEGIN
IMMEDIATE``, which waits for the lock up to ``busy_timeout`` (:data:`SQLITE_BUSY_TIMEOUT_MS`)
instead of failing. Reads keep a deferred ``BEGIN`` (WAL: readers never wait for writers).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool


class Base(DeclarativeBase):
    pass


#: Bounded busy wait of a SQLite writer for the write lock (``IM_SQLITE_BUSY_TIMEOUT_MS``).
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Connection execution option: this transaction will write (``BEGIN IMMEDIATE`` on SQLite).
WRITE_OPTION = "im_write"


def make_engine(url: str, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """An engine for ``url``. Statement parameters never appear in errors or logs.

    SQLite: a new connection per session (``NullPool``: cheap for a file, and a database file
    that disappears and comes back is seen at once), explicit ``BEGIN`` so that transactions
    (DDL included) are real; WAL journal. PostgreSQL: pooled, each connection checked before
    use (``pool_pre_ping``), so the service recovers by itself after a database restart.
    A SQLite write transaction takes the write lock first (``BEGIN IMMEDIATE``) and waits for
    it at most ``sqlite_busy_timeout_ms``.
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
            cur.execute(f"PRAGMA busy_timeout={int(sqlite_busy_timeout_ms)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

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
    """One unit of work that writes: committed on success, rolled back on any exception.

    On SQLite it starts with ``BEGIN IMMEDIATE`` (the write lock first, with a bounded wait),
    so a transaction that reads then writes cannot fail because another one committed between.
    """
    with factory() as session, session.begin():
        session.connection(execution_options={WRITE_OPTION: True})
        yield session


def write_connection(engine: Engine) -> Connection:
    """A connection whose transactions write (``BEGIN IMMEDIATE`` on SQLite): for migrations."""
    return engine.connect().execution_options(**{WRITE_OPTION: True})
