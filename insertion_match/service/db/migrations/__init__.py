"""Alembic migrations of the service's database (run by ``db.migrate.upgrade``)."""
