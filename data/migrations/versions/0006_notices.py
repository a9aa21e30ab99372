"""notices: notices and consultations, per-household receipts, votes, the resident's 「不要再打了」

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("residents") as batch_op:
        batch_op.add_column(
            sa.Column("no_notice_calls", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("sender_staff_id", sa.Integer(), nullable=False),
        sa.Column("sender_identity_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("scope_kind", sa.String(length=12), nullable=False),
        sa.Column("scope_ref", sa.String(length=32), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("per_resident", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closes_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"]),
        sa.ForeignKeyConstraint(["sender_staff_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["sender_identity_id"], ["identities.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notices_community_id", "notices", ["community_id"])
    op.create_index("ix_notices_sender_staff_id", "notices", ["sender_staff_id"])
    op.create_index("ix_notices_created_at", "notices", ["created_at"])
    op.create_index("ix_notices_closes_at", "notices", ["closes_at"])
    op.create_table(
        "notice_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_via", sa.String(length=16), nullable=False),
        sa.Column("call_state", sa.String(length=12), nullable=False),
        sa.Column("call_due_at", sa.DateTime(), nullable=True),
        sa.Column("call_attempts", sa.Integer(), nullable=False),
        sa.Column("called_at", sa.DateTime(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("call_result", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"]),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_id", "household_id", name="uq_notice_household"),
    )
    op.create_index("ix_notice_receipts_notice_id", "notice_receipts", ["notice_id"])
    op.create_index("ix_notice_calls_due", "notice_receipts", ["call_state", "call_due_at"])
    op.create_table(
        "notice_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=16), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=4), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"]),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_id", "voter", name="uq_notice_voter"),
    )
    op.create_index("ix_notice_votes_notice_id", "notice_votes", ["notice_id"])


def downgrade() -> None:
    op.drop_table("notice_votes")
    op.drop_table("notice_receipts")
    op.drop_table("notices")
    with op.batch_alter_table("residents") as batch_op:
        batch_op.drop_column("no_notice_calls")
