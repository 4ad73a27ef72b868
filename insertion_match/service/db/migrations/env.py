"""Alembic environment: the target is ``Base.metadata`` with every table module imported.

Run through :func:`insertion_match.service.db.migrate.upgrade` (start-up, ``insertion-match db
upgrade``), which hands over a connection already inside one transaction: all revisions of an
upgrade commit together or not at all (PostgreSQL and SQLite both have transactional DDL).
"""

from __future__ import annotations

from alembic import context

from insertion_match.service.db.base import Base
from insertion_match.service.db.migrate import import_table_modules

import_table_modules()
config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - always given by db.migrate
    raise RuntimeError("run migrations through insertion_match.service.db.migrate")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    transactional_ddl=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
