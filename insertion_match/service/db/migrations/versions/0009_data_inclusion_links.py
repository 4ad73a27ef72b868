"""data·inclusion links: the services imported (created or merged into a curated action)

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('data_inclusion_links',
    sa.Column('service_id', sa.String(length=300), nullable=False),
    sa.Column('source', sa.String(length=120), nullable=False),
    sa.Column('structure_id', sa.String(length=300), nullable=False),
    sa.Column('action_id', sa.String(length=120), nullable=False),
    sa.Column('merged', sa.Boolean(), nullable=False),
    sa.Column('date_maj', sa.Date(), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('service_id')
    )
    with op.batch_alter_table('data_inclusion_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_inclusion_links_action_id'), ['action_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('data_inclusion_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_inclusion_links_action_id'))
    op.drop_table('data_inclusion_links')
