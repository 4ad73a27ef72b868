"""One start-up at a time: several workers (``serve --workers N``) or servers starting together
on one database migrate and seed it one after the other.

The first to take the lock migrates and seeds; the others wait, then find the database at head
and seeded, and only read. PostgreSQL: a session-level advisory lock on its own connection;
SQLite: an exclusive ``flock`` on a file beside the database (``<file>.startup.lock``); an
in-memory database needs none.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger("insertion_match.service")

#: Key of the PostgreSQL advisory lock held during start-up ("im-start").
_PG_STARTUP_KEY = 0x696D_7374_6172


@contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """Hold the start-up lock of ``engine``'s database for the duration of the block."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_STARTUP_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_STARTUP_KEY})
                conn.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with file_lock(Path(f"{database}.startup.lock")):  # blocks while another process starts
        yield


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if needed) for the duration of the block:
    the processes of one machine take turns (also ``service.offers.snapshot_lock``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
