"""resources and activities: provider identities, referrals, activities and sign-ups

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch_op:
        batch_op.add_column(sa.Column("resource_code", sa.String(length=48), nullable=True))
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("resource_code", sa.String(length=48), nullable=False),
        sa.Column("provider_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("referred_by", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("referred_at", sa.DateTime(), nullable=False),
        sa.Column("accept_due_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("returned_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_referrals_ticket_id", "referrals", ["ticket_id"])
    op.create_index("ix_referrals_provider_status", "referrals", ["provider_id", "status"])
    op.create_index("ix_referrals_resource_code", "referrals", ["resource_code"])
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_no", sa.String(length=12), nullable=False, unique=True),
        sa.Column("community_id", sa.Integer(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=True),
        sa.Column("grid_id", sa.Integer(), sa.ForeignKey("grids.id"), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False, server_default="open"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_activities_starts_at", "activities", ["starts_at"])
    op.create_table(
        "activity_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), sa.ForeignKey("activities.id"), nullable=False),
        sa.Column("resident_id", sa.Integer(), sa.ForeignKey("residents.id"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("activity_id", "resident_id", name="uq_activity_signup"),
    )
    op.create_index("ix_activity_signups_activity_id", "activity_signups", ["activity_id"])


def downgrade() -> None:
    op.drop_table("activity_signups")
    op.drop_index("ix_activities_starts_at", table_name="activities")
    op.drop_table("activities")
    op.drop_index("ix_referrals_resource_code", table_name="referrals")
    op.drop_index("ix_referrals_provider_status", table_name="referrals")
    op.drop_index("ix_referrals_ticket_id", table_name="referrals")
    op.drop_table("referrals")
    with op.batch_alter_table("staff") as batch_op:
        batch_op.drop_column("resource_code")
