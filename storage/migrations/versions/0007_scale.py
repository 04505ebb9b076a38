"""scale: indexes for the hot queries, so their cost stays flat as the data grows

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns): each replaces a narrower index that is now its prefix, or serves a
# query that scanned the whole table (see storage/models.py for which query uses which).
NEW = [
    ("ix_cases_reporter", "cases", ["reporter_id", "room", "created_at", "id"]),
    ("ix_cases_compound_created", "cases", ["compound", "created_at"]),
    ("ix_cases_board", "cases", ["compound", "kind", "id"]),
    ("ix_cases_assignee", "cases", ["assignee_id", "status"]),
    ("ix_case_events_case_action", "case_events", ["case_id", "action"]),
    ("ix_case_events_action_at", "case_events", ["action", "at"]),
    ("ix_outbox_due", "outbox", ["account", "status", "not_before"]),
    ("ix_scheduled_tasks_due", "scheduled_tasks", ["status", "due_at"]),
]
OLD = [
    ("ix_cases_compound", "cases", ["compound"]),
    ("ix_cases_assignee_id", "cases", ["assignee_id"]),
    ("ix_case_events_case_id", "case_events", ["case_id"]),
    ("ix_outbox_account", "outbox", ["account"]),
    ("ix_outbox_not_before", "outbox", ["not_before"]),
    ("ix_scheduled_tasks_due_at", "scheduled_tasks", ["due_at"]),
    ("ix_scheduled_tasks_status", "scheduled_tasks", ["status"]),
]


def upgrade() -> None:
    for name, table, columns in NEW:
        op.create_index(name, table, columns)
    for name, table, _ in OLD:
        op.drop_index(name, table_name=table)
    # Counters now also carry each compound's activity stamp ("activities:<compound>").
    with op.batch_alter_table("counters") as batch:
        batch.alter_column("name", type_=sa.String(200), existing_type=sa.String(50))


def downgrade() -> None:
    with op.batch_alter_table("counters") as batch:
        batch.alter_column("name", type_=sa.String(50), existing_type=sa.String(200))
    for name, table, columns in OLD:
        op.create_index(name, table, columns)
    for name, table, _ in NEW:
        op.drop_index(name, table_name=table)
