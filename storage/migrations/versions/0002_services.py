"""services: activities, sign-ups, case supporters (附议)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 04:17:39.664098
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("compound", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
        sa.UniqueConstraint("key", name=op.f("uq_activities_key")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activities_compound"), ["compound"], unique=False)
        batch_op.create_index(batch_op.f("ix_activities_status"), ["status"], unique=False)

    op.create_table(
        "case_supporters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=100), nullable=False),
        sa.Column("person_name", sa.String(length=100), nullable=False),
        sa.Column("source_message_id", sa.String(length=200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_supporters_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_supporters")),
        sa.UniqueConstraint("case_id", "person_id", name="uq_case_supporters_person"),
    )
    with op.batch_alter_table("case_supporters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_supporters_case_id"), ["case_id"], unique=False)

    op.create_table(
        "signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=100), nullable=False),
        sa.Column("person_name", sa.String(length=100), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_signups_activity_id_activities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signups")),
        sa.UniqueConstraint("activity_id", "person_id", name="uq_signups_person"),
    )
    with op.batch_alter_table("signups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signups_activity_id"), ["activity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_signups_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signups_status"))
        batch_op.drop_index(batch_op.f("ix_signups_activity_id"))

    op.drop_table("signups")
    with op.batch_alter_table("case_supporters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_supporters_case_id"))

    op.drop_table("case_supporters")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_status"))
        batch_op.drop_index(batch_op.f("ix_activities_compound"))

    op.drop_table("activities")
