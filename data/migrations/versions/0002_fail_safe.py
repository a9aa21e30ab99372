"""fail safe: safety questions asked (risk_checks) and messages for a person (tickets.kind)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("cues", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["identity_id"], ["identities.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("risk_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_checks_identity_id"), ["identity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_risk_checks_asked_at"), ["asked_at"], unique=False)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="request"))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("kind")
    with op.batch_alter_table("risk_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_checks_asked_at"))
        batch_op.drop_index(batch_op.f("ix_risk_checks_identity_id"))
    op.drop_table("risk_checks")
