"""ids scoped to a territory; outcomes and audit rows point to the person (subject)

Stored beneficiaries get an internal key ``subject`` (primary key) and a ``scope`` (their
commission, or département): the pseudonymous id is unique per scope only. Outcomes, access and
recommendation rows get the ``subject`` of the person they are about (filled from the id, which
was unique until now), so a re-used id never reaches another person's history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_INDEXES = ("ix_beneficiaries_commission", "ix_beneficiaries_department",
                "ix_beneficiaries_updated_at")


def _columns() -> list[sa.ColumnClause]:
    return [sa.column("id", sa.String), sa.column("department", sa.String),
            sa.column("commission", sa.String), sa.column("home_insee", sa.String),
            sa.column("profile", sa.JSON), sa.column("created_at", sa.DateTime(True)),
            sa.column("updated_at", sa.DateTime(True))]


def _old_table() -> sa.TableClause:
    return sa.table("beneficiaries", *_columns())


def _new_table() -> sa.TableClause:
    return sa.table("beneficiaries", sa.column("subject", sa.String),
                    sa.column("scope", sa.String), *_columns())


def upgrade() -> None:
    conn = op.get_bind()
    rows = [dict(r._mapping) for r in conn.execute(sa.select(*_old_table().columns))]
    for name in _OLD_INDEXES:
        op.drop_index(name, table_name="beneficiaries")
    op.drop_table("beneficiaries")
    op.create_table(
        "beneficiaries",
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=70), nullable=False),
        sa.Column("department", sa.String(length=3), nullable=False),
        sa.Column("commission", sa.String(length=60), nullable=True),
        sa.Column("home_insee", sa.String(length=5), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject"),
        sa.UniqueConstraint("scope", "id", name="uq_beneficiaries_scope_id"),
    )
    op.create_index("ix_beneficiaries_commission", "beneficiaries", ["commission"])
    op.create_index("ix_beneficiaries_department", "beneficiaries", ["department"])
    op.create_index("ix_beneficiaries_updated_at", "beneficiaries", ["updated_at"])
    op.create_index("ix_beneficiaries_id", "beneficiaries", ["id"])
    if rows:
        for row in rows:
            row["subject"] = uuid.uuid4().hex
            row["scope"] = (f"{row['department']}:{row['commission']}" if row["commission"]
                            else row["department"])
        op.bulk_insert(_new_table(), rows)
    for table in ("outcomes", "access_log", "recommendation_log"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("subject", sa.String(length=32), nullable=True))
            batch_op.create_index(f"ix_{table}_subject", ["subject"], unique=False)
        op.execute(f"UPDATE {table} SET subject = (SELECT b.subject FROM beneficiaries b "
                   f"WHERE b.id = {table}.beneficiary_id)")


def downgrade() -> None:
    for table in ("outcomes", "access_log", "recommendation_log"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(f"ix_{table}_subject")
            batch_op.drop_column("subject")
    conn = op.get_bind()
    seen: dict[str, dict] = {}
    for r in conn.execute(sa.select(*_old_table().columns).order_by(sa.text("scope"))):
        seen.setdefault(r.id, dict(r._mapping))  # one person per id: the first scope wins
    for name in (*_OLD_INDEXES, "ix_beneficiaries_id"):
        op.drop_index(name, table_name="beneficiaries")
    op.drop_table("beneficiaries")
    op.create_table(
        "beneficiaries",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=3), nullable=False),
        sa.Column("commission", sa.String(length=60), nullable=True),
        sa.Column("home_insee", sa.String(length=5), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for name in _OLD_INDEXES:
        op.create_index(name, "beneficiaries", [name.removeprefix("ix_beneficiaries_")])
    if seen:
        op.bulk_insert(_old_table(), list(seen.values()))
