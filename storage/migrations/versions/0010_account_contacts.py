"""account contacts: who each account can message privately, for routing private sends

Also: the room look-up of routing carries the account, so it reads only the index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_contacts",
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("contact_id", sa.String(length=100), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account", "contact_id", name=op.f("pk_account_contacts")),
    )
    op.create_index("ix_account_contacts_contact", "account_contacts", ["contact_id", "account"])
    op.drop_index("ix_room_bindings_room", table_name="room_bindings")
    op.create_index("ix_room_bindings_room", "room_bindings", ["room", "account"])


def downgrade() -> None:
    op.drop_index("ix_room_bindings_room", table_name="room_bindings")
    op.create_index("ix_room_bindings_room", "room_bindings", ["room"])
    op.drop_index("ix_account_contacts_contact", table_name="account_contacts")
    op.drop_table("account_contacts")
