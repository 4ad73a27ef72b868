"""Engine, session factory and declarative base shared by every table module.

SQLite (default, embedded) or PostgreSQL (production) through SQLAlchemy 2.0: nothing in the
table modules is specific to either.

**Writes on SQLite.** A deferred ``BEGIN`` that reads then writes fails at once ("database is
locked", no busy wait possible) when another connection commits in between. So every write
transaction (:func:`transaction`, migrations) asks for the write lock first: ``BEGIN
IMMEDIATE``, which waits for the lock up to ``busy_timeout`` (:data:`SQLITE_BUSY_TIMEOUT_MS`)
instead of failing. Reads keep a deferred ``BEGIN`` (WAL: readers never wait for writers).

**Pooled connections** (issue 11). Both SQLite and PostgreSQL connections are pooled: the
PRAGMAs of a SQLite connection run once, when it is opened (the ``connect`` event), never per
request. A pooled SQLite connection keeps its file open, so a database file that is moved away
would go on being written behind the operator's back: each connection remembers the identity
(device, inode) of the file it opened, and is checked out only while the path still names that
file (one ``stat``); otherwise it is discarded and a new one is opened (which fails while the
file is gone: 503). :class:`DatabaseHealth` keeps what the engine last saw (an outage, or the
file identity), so an in-memory cache (API keys) never hides an outage the service knows of.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool


class Base(DeclarativeBase):
    pass


#: Bounded busy wait of a SQLite writer for the write lock (``IM_SQLITE_BUSY_TIMEOUT_MS``).
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Connection execution option: this transaction will write (``BEGIN IMMEDIATE`` on SQLite).
WRITE_OPTION = "im_write"


#: Connections kept open per engine (SQLite and PostgreSQL), and how many more may be opened
#: under load (closed again when returned). A request holds one for a few milliseconds.
POOL_SIZE = 8
POOL_OVERFLOW = 32


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class DatabaseHealth:
    """What the engine last saw of its database, read without touching it.

    ``usable()`` is False after a connection-level error (until a connection succeeds again)
    and, on SQLite, while the path no longer names the file the engine opened (moved away,
    replaced). In-memory caches consult it before answering from memory.
    """

    def __init__(self, sqlite_path: str | None = None) -> None:
        self.sqlite_path = sqlite_path
        self.identity: tuple[int, int] | None = None
        self.down = False
        self._lock = threading.Lock()

    def usable(self) -> bool:
        if self.down:
            return False
        if self.sqlite_path is not None:
            return self.identity is not None and _file_identity(self.sqlite_path) == self.identity
        return True

    def connected(self, identity: tuple[int, int] | None = None) -> None:
        with self._lock:
            self.down = False
            if identity is not None:
                self.identity = identity

    def failed(self) -> None:
        self.down = True


def health_of(engine: Engine | None) -> DatabaseHealth:
    """The :class:`DatabaseHealth` of an engine made by :func:`make_engine` (a fresh one for
    another engine, or None: no engine bound)."""
    health = getattr(engine, "im_health", None)
    return health if health is not None else DatabaseHealth()


def make_engine(url: str, sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """An engine for ``url``. Statement parameters never appear in errors or logs.

    Pooled connections on both (see the module docstring). SQLite: explicit ``BEGIN`` so that
    transactions (DDL included) are real; WAL journal; the PRAGMAs once per connection; a
    pooled connection is used only while the path still names the file it opened. PostgreSQL:
    each connection checked before use (``pool_pre_ping``), so the service recovers by itself
    after a database restart. A SQLite write transaction takes the write lock first (``BEGIN
    IMMEDIATE``) and waits for it at most ``sqlite_busy_timeout_ms``.
    """
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        memory = not path or path == ":memory:" or "mode=memory" in url
        if not memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        pool = ({"poolclass": StaticPool} if memory
                else {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, "pool_timeout": 30})
        engine = create_engine(url, connect_args={"check_same_thread": False},
                               hide_parameters=True, **pool)
        health = DatabaseHealth(None if memory else os.path.abspath(path))
        engine.im_health = health  # type: ignore[attr-defined]

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, record) -> None:
            conn.isolation_level = None  # the driver's implicit transactions off: we BEGIN
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(sqlite_busy_timeout_ms)}")
            cur.close()
            if health.sqlite_path is not None:
                identity = _file_identity(health.sqlite_path)
                record.info["im_file"] = identity
                health.connected(identity)

        sqlite_path = health.sqlite_path  # bound here: narrowed to str inside the listener
        if sqlite_path is not None:
            @event.listens_for(engine, "checkout")
            def _same_file(_conn, record, _proxy) -> None:
                if _file_identity(sqlite_path) != record.info.get("im_file"):
                    health.failed()
                    raise DisconnectionError("the database file was moved or replaced")

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        _track_outages(engine, health)
        return engine
    connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {}
    engine = create_engine(url, pool_pre_ping=True, pool_timeout=10, hide_parameters=True,
                           pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW,
                           connect_args=connect_args)
    health = DatabaseHealth()
    engine.im_health = health  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _connected(_conn, _record) -> None:
        health.connected()

    _track_outages(engine, health)
    return engine


def _track_outages(engine: Engine, health: DatabaseHealth) -> None:
    @event.listens_for(engine, "handle_error")
    def _failed(context) -> None:
        if context.is_disconnect or isinstance(
                context.sqlalchemy_exception, (OperationalError, InterfaceError)):
            health.failed()


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
