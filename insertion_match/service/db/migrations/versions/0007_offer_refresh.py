"""offers: withdrawn_at (expired by a --replace-source refresh), expired count of an import,
content hash over the stored JSON text

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:00:00

The content hash of an offer is now the SHA-256 of its stored JSON text (pydantic's
``model_dump_json(exclude_none=True)``, one serialisation instead of two): the stored hashes are
recomputed here, so that re-importing an unchanged file after the upgrade still changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAGE = 1000


def upgrade() -> None:
    with op.batch_alter_table('opportunities') as batch:
        batch.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('opportunity_imports') as batch:
        batch.add_column(sa.Column('expired', sa.Integer(), nullable=False, server_default='0'))
    _rehash()


def _rehash() -> None:
    from insertion_match.domain import Opportunity

    conn = op.get_bind()
    table = sa.table('opportunities', sa.column('id', sa.String), sa.column('document', sa.JSON),
                     sa.column('content_sha256', sa.String))
    change = (sa.update(table).where(table.c.id == sa.bindparam('b_id'))
              .values(content_sha256=sa.bindparam('b_hash')))
    after = ''
    while True:
        rows = conn.execute(sa.select(table.c.id, table.c.document).where(table.c.id > after)
                            .order_by(table.c.id).limit(_PAGE)).all()
        if not rows:
            return
        params = []
        for opp_id, document in rows:
            text = Opportunity.model_validate(document).model_dump_json(exclude_none=True)
            params.append({'b_id': opp_id, 'b_hash': hashlib.sha256(text.encode()).hexdigest()})
        conn.execute(change, params)
        after = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('opportunity_imports') as batch:
        batch.drop_column('expired')
    with op.batch_alter_table('opportunities') as batch:
        batch.drop_column('withdrawn_at')
