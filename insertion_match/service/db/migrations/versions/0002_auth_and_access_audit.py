"""API keys, personal-data access audit, who and where in the recommendation log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("territories", sa.JSON(), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_api_keys_key_id", "api_keys", ["key_id"], unique=True)

    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("actor_name", sa.String(length=120), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("beneficiary_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_log_beneficiary_id", "access_log", ["beneficiary_id"])
    op.create_index("ix_access_log_created_at", "access_log", ["created_at"])

    with op.batch_alter_table("recommendation_log") as batch_op:
        batch_op.add_column(sa.Column("actor_name", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("actor_role", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("department", sa.String(length=3), nullable=True))
        batch_op.create_index("ix_recommendation_log_department", ["department"])


def downgrade() -> None:
    with op.batch_alter_table("recommendation_log") as batch_op:
        batch_op.drop_index("ix_recommendation_log_department")
        batch_op.drop_column("department")
        batch_op.drop_column("actor_role")
        batch_op.drop_column("actor_name")
    op.drop_table("access_log")
    op.drop_table("api_keys")
