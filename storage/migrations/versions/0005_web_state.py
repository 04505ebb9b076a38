"""web: server-side sessions, counters, form uses, login tokens, held reports, contacts, photos

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01 23:31:12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_web_counters")),
    )
    with op.batch_alter_table("web_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_counters_window_start"), ["window_start"], unique=False
        )

    op.create_table(
        "web_form_uses",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=300), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_web_form_uses")),
    )
    with op.batch_alter_table("web_form_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_form_uses_used_at"), ["used_at"], unique=False)

    op.create_table(
        "web_login_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_login_tokens")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("password_fp", sa.String(length=64), nullable=False),
        sa.Column("flash", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_sessions_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_web_sessions_user"), ["user"], unique=False)

    op.create_table(
        "web_contacts",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_web_contacts_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_web_contacts")),
    )
    op.create_table(
        "web_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_web_photos_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_photos")),
        sa.UniqueConstraint("token", name=op.f("uq_web_photos_token")),
    )
    with op.batch_alter_table("web_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_photos_case_id"), ["case_id"], unique=False)

    op.create_table(
        "web_held_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("compound", sa.String(length=100), nullable=False),
        sa.Column("building", sa.String(length=20), nullable=False),
        sa.Column("wish", sa.Boolean(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_web_held_reports_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["web_photos.id"], name=op.f("fk_web_held_reports_photo_id_web_photos")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_held_reports")),
        sa.UniqueConstraint("code", name=op.f("uq_web_held_reports_code")),
    )
    with op.batch_alter_table("web_held_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_held_reports_compound"), ["compound"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_web_held_reports_status"), ["status"], unique=False)

    # Phone numbers left on the 民情码 form move out of the case log (which the API shows and
    # nothing ever deleted) into web_contacts, where they are deleted after the case closes.
    op.execute(
        "INSERT INTO web_contacts (case_id, phone, created_at) "
        "SELECT case_id, SUBSTR(note, 1, 40), at FROM case_events WHERE id IN "
        "(SELECT MAX(id) FROM case_events WHERE action = 'contact' GROUP BY case_id)"
    )
    op.execute("DELETE FROM case_events WHERE action = 'contact'")
    # The SLA deadlines the escalation chain works to, so the console reads the same ones.
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accept_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolve_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_cases_accept_due_at"), ["accept_due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cases_resolve_due_at"), ["resolve_due_at"], unique=False
        )
    # Login attempts are counted in web_counters now, by (user, address) and by user.
    op.drop_table("web_login_failures")


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_resolve_due_at"))
        batch_op.drop_index(batch_op.f("ix_cases_accept_due_at"))
        batch_op.drop_column("resolve_due_at")
        batch_op.drop_column("accept_due_at")
    # The phone numbers stay in web_contacts' place: they are not written back into case logs.
    op.create_table(
        "web_login_failures",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_web_login_failures")),
    )
    with op.batch_alter_table("web_held_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_held_reports_status"))
        batch_op.drop_index(batch_op.f("ix_web_held_reports_compound"))

    op.drop_table("web_held_reports")
    with op.batch_alter_table("web_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_photos_case_id"))

    op.drop_table("web_photos")
    op.drop_table("web_contacts")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user"))
        batch_op.drop_index(batch_op.f("ix_web_sessions_expires_at"))

    op.drop_table("web_sessions")
    op.drop_table("web_login_tokens")
    with op.batch_alter_table("web_form_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_form_uses_used_at"))

    op.drop_table("web_form_uses")
    with op.batch_alter_table("web_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_counters_window_start"))

    op.drop_table("web_counters")
