"""Schema migrations (Alembic), run programmatically: at start-up and by ``insertion-match db``.

The revisions live in ``db/migrations/versions/`` inside the package, so an installed wheel
migrates as well as a clone. An upgrade runs in **one transaction**: every pending revision
commits together or none does (PostgreSQL and SQLite both have transactional DDL; SQLite is
driven in explicit-BEGIN mode by :func:`insertion_match.service.db.base.make_engine`). On
PostgreSQL a transaction-scoped advisory lock serialises workers that start together.

Adding a table: declare it in a module of ``db/`` (any module there is imported here, so it is
part of ``Base.metadata``), then ``insertion-match db revision -m "what"`` writes the next
numbered revision by comparing the metadata with a scratch database at head; review it.
``tests/service/test_migrations.py`` fails while the metadata and the revisions differ.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("insertion_match.service")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Revision whose tables predate migrations (databases made by ``create_all`` are stamped to it).
BASELINE_REVISION = "0001"
BASELINE_TABLES = frozenset({"actions", "catalogue_imports", "beneficiaries", "recommendation_log"})
#: Key of the PostgreSQL advisory lock held while migrating ("im-migrate").
_PG_LOCK_KEY = 0x696D_6D69_6772


def import_table_modules() -> None:
    """Import every module of ``insertion_match.service.db`` so all tables are in the metadata."""
    package = importlib.import_module("insertion_match.service.db")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name not in {"migrations", "migrate"}:
            importlib.import_module(f"{package.__name__}.{info.name}")


def alembic_config(
    connection: Connection | None = None, script_location: Path = MIGRATIONS_DIR
) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads {heads}: merge or renumber them")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(
    engine: Engine, revision: str = "head", script_location: Path = MIGRATIONS_DIR
) -> str | None:
    """Bring the database to ``revision`` in one transaction. Returns the revision reached.

    A database whose tables predate migrations (the baseline tables, no ``alembic_version``)
    is first stamped to :data:`BASELINE_REVISION`. Any failure rolls everything back.
    """
    from insertion_match.service.db.base import write_connection

    with write_connection(engine) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        cfg = alembic_config(conn, script_location)
        tables = set(inspect(conn).get_table_names())
        if "alembic_version" not in tables and BASELINE_TABLES <= tables:
            log.info("stamping a database created before migrations",
                     extra={"kind": BASELINE_REVISION})
            command.stamp(cfg, BASELINE_REVISION)
        command.upgrade(cfg, revision)
        reached = MigrationContext.configure(conn).get_current_revision()
    log.info("database schema ready", extra={"kind": reached})
    return reached


def write_revision(message: str) -> Path:
    """Autogenerate the next numbered revision against a scratch SQLite database at head."""
    from insertion_match.service.db.base import make_engine

    script = ScriptDirectory.from_config(alembic_config())
    head = head_revision()
    next_id = f"{int(head) + 1:04d}" if head.isdigit() else None
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'scratch.sqlite3'}")
        try:
            upgrade(engine)
            with engine.begin() as conn:
                result = command.revision(alembic_config(conn), message=message,
                                          autogenerate=True, rev_id=next_id)
        finally:
            engine.dispose()
    revisions = result if isinstance(result, list) else [result]
    path = revisions[0].path if revisions and revisions[0] is not None else None
    return Path(path) if path else Path(script.versions)
