"""task keys in byte order on PostgreSQL: a key prefix is a range of the unique index

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A sign-up reads its room's last roster by key prefix. In the database's collation (a
# locale's, on most servers) no prefix is a range of the index, so PostgreSQL read every task
# ever scheduled; in "C" (byte order, as SQLite compares) it is. SQLite needs nothing.


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column(
        "scheduled_tasks",
        "key",
        type_=sa.String(300, collation="C"),
        existing_type=sa.String(300),
        existing_nullable=False,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column(
        "scheduled_tasks",
        "key",
        type_=sa.String(300),
        existing_type=sa.String(300, collation="C"),
        existing_nullable=False,
    )
