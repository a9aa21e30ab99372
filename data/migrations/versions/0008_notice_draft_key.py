"""notices.draft_key: a workbench draft is sent at most once

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 08:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_key", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_notices_draft_key"), ["draft_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_draft_key"))
        batch_op.drop_column("draft_key")
