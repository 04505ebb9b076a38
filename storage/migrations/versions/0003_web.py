"""web: 民情码 status links, console login lock-out, generated secrets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_report_links",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_web_report_links_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_web_report_links")),
    )
    with op.batch_alter_table("web_report_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_report_links_case_id"), ["case_id"], unique=False)
    op.create_table(
        "web_login_failures",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_web_login_failures")),
    )
    op.create_table(
        "web_secrets",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_web_secrets")),
    )


def downgrade() -> None:
    op.drop_table("web_secrets")
    op.drop_table("web_login_failures")
    with op.batch_alter_table("web_report_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_report_links_case_id"))
    op.drop_table("web_report_links")
