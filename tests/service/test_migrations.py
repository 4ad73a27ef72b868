"""Migrations: the revisions build exactly the tables the code declares, atomically."""

from __future__ import annotations

import shutil

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from insertion_match.service.db import base, migrate
from insertion_match.service.db.base import Base


@pytest.fixture
def engine(database_url):
    eng = base.make_engine(database_url)
    yield eng
    eng.dispose()


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_one_head():
    assert migrate.head_revision()


def test_upgrade_head_on_an_empty_database_gives_exactly_the_declared_tables(engine):
    """Fails when a table module declares a table (or column, index, type) that no revision
    creates: add a revision with ``insertion-match db revision -m ...``."""
    migrate.import_table_modules()
    assert migrate.upgrade(engine) == migrate.head_revision()
    assert _tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == [], diff


def test_upgrade_is_idempotent_and_downgrade_works(engine):
    head = migrate.upgrade(engine)
    assert migrate.upgrade(engine) == head
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "base")
    assert _tables(engine) <= {"alembic_version"}
    assert migrate.upgrade(engine) == head


def test_a_database_created_before_migrations_is_adopted(engine):
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    assert migrate.current_revision(engine) is None
    assert migrate.upgrade(engine) == migrate.head_revision()
    assert "api_keys" in _tables(engine)


FAILING_REVISION = '''"""A revision that fails half-way (test only)."""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("im_half_done", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO im_half_done (id) VALUES (1)")
    raise RuntimeError("boom in the middle of a migration")


def downgrade():
    op.drop_table("im_half_done")
'''


def test_a_failing_upgrade_changes_nothing(engine, tmp_path):
    """All pending revisions commit together or not at all: from 0001, a failure in the last
    revision also undoes the revisions before it."""
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, scripts,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9999_fails.py").write_text(
        FAILING_REVISION.format(head=migrate.head_revision()), encoding="utf-8")
    migrate.upgrade(engine, "0001")
    before = _tables(engine)
    with pytest.raises(RuntimeError, match="boom"):
        migrate.upgrade(engine, "head", script_location=scripts)
    assert _tables(engine) == before
    assert "im_half_done" not in _tables(engine) and "api_keys" not in _tables(engine)
    assert migrate.current_revision(engine) == "0001"


def test_db_cli_upgrades_and_reports(database_url, monkeypatch, tmp_path, capsys):
    import logging

    from insertion_match.service.cli import main as cli_main

    monkeypatch.setenv("IM_DATABASE_URL", database_url)
    monkeypatch.setenv("IM_VAR_DIR", str(tmp_path))
    logger = logging.getLogger("insertion_match")
    saved = (logger.handlers[:], logger.propagate, logger.level)
    try:
        assert cli_main(["db", "current"]) == 0
        assert "aucune (base vide)" in capsys.readouterr().out
        assert cli_main(["db", "upgrade"]) == 0
        head = migrate.head_revision()
        out = capsys.readouterr().out
        assert f"base de données à la révision {head}" in out
        assert "im_test:" not in out  # no password
        assert cli_main(["db", "current"]) == 0
        assert f"révision actuelle : {head}" in capsys.readouterr().out
    finally:
        logger.handlers[:], logger.propagate, logger.level = saved
