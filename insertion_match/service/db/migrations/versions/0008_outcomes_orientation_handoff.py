"""outcomes: data·inclusion service id and DORA orientation status (issue 12)

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('di_service_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('orientation_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('orientation_refusal_reasons', sa.String(length=400),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_outcomes_di_service_id'), ['di_service_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcomes_di_service_id'))
        batch_op.drop_column('orientation_refusal_reasons')
        batch_op.drop_column('orientation_status')
        batch_op.drop_column('di_service_id')
