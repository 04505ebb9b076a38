"""wechat: room bindings, account state, send attempts, received messages, bot instances

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "room_bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=False),
        sa.Column("wechat_id", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("bound_by", sa.String(length=20), nullable=False),
        sa.Column("bound_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_bindings")),
        sa.UniqueConstraint("account", "room", name="uq_room_bindings_room"),
        sa.UniqueConstraint("account", "wechat_id", name="uq_room_bindings_wechat_id"),
    )
    op.create_table(
        "account_state",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("self_id", sa.String(length=100), nullable=True),
        sa.Column("gap_from", WHEN, nullable=True),
        sa.Column("gap_to", WHEN, nullable=True),
        sa.Column("login", sa.String(length=20), nullable=False),
        sa.Column("login_changed_at", WHEN, nullable=True),
        sa.Column("qr_url", sa.Text(), nullable=True),
        sa.Column("paused_until", WHEN, nullable=True),
        sa.Column("pause_level", sa.Integer(), nullable=False),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_account_state")),
    )
    op.create_table(
        "send_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("outbox_ids", sa.JSON(), nullable=False),
        sa.Column("to_room", sa.String(length=200), nullable=True),
        sa.Column("to_person", sa.String(length=100), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("chat_message_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_send_attempts")),
    )
    with op.batch_alter_table("send_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_send_attempts_account"), ["account"], unique=False)
        batch_op.create_index(batch_op.f("ix_send_attempts_outcome"), ["outcome"], unique=False)
    op.create_table(
        "received_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("room", sa.String(length=200), nullable=True),
        sa.Column("sender_id", sa.String(length=100), nullable=False),
        sa.Column("sender_name", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("quoted", sa.Text(), nullable=True),
        sa.Column("mentions_bot", sa.Boolean(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("handled_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_received_messages")),
        sa.UniqueConstraint("account", "message_id", name="uq_received_messages_message_id"),
    )
    with op.batch_alter_table("received_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_received_messages_handled_at"), ["handled_at"], unique=False
        )
    op.create_table(
        "bot_instances",
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("last_alive", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("instance", name=op.f("pk_bot_instances")),
    )
    with op.batch_alter_table("bot_instances", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_instances_account"), ["account"], unique=False)


def downgrade() -> None:
    op.drop_table("bot_instances")
    op.drop_table("received_messages")
    op.drop_table("send_attempts")
    op.drop_table("account_state")
    op.drop_table("room_bindings")
