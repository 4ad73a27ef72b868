"""Initial schema: catalogue, imports, stored beneficiaries, recommendation log.

The tables as they were created by ``Base.metadata.create_all`` before migrations existed:
databases made then are stamped to this revision by ``db.migrate.upgrade``.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "actions",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("department", sa.String(length=3), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("source_document", sa.String(length=200), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_actions_category", "actions", ["category"])
    op.create_index("ix_actions_department", "actions", ["department"])

    op.create_table(
        "catalogue_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action_count", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )

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
    op.create_index("ix_beneficiaries_commission", "beneficiaries", ["commission"])
    op.create_index("ix_beneficiaries_department", "beneficiaries", ["department"])
    op.create_index("ix_beneficiaries_updated_at", "beneficiaries", ["updated_at"])

    op.create_table(
        "recommendation_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("beneficiary_id", sa.String(length=64), nullable=True),
        sa.Column("model_name", sa.String(length=80), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=False),
        sa.Column("item_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recommendation_log_beneficiary_id", "recommendation_log",
                    ["beneficiary_id"])
    op.create_index("ix_recommendation_log_created_at", "recommendation_log", ["created_at"])


def downgrade() -> None:
    op.drop_table("recommendation_log")
    op.drop_table("beneficiaries")
    op.drop_table("catalogue_imports")
    op.drop_table("actions")
