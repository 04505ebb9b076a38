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
    ("ix_room_bindings_room", "room_bindings", ["room"]),
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


# The grid was mirrored into these on every start and read by nobody (issue 9, item 7); the
# config is the grid, and rooms live on with their account in room_bindings.
GRID_TABLES = ["rooms", "buildings", "roles", "compounds", "people", "communities"]


def upgrade() -> None:
    for table in GRID_TABLES:
        op.drop_table(table)
    for name, table, columns in NEW:
        op.create_index(name, table, columns)
    for name, table, _ in OLD:
        op.drop_index(name, table_name=table)
    # Counters now also carry each compound's activity stamp ("activities:<compound>").
    with op.batch_alter_table("counters") as batch:
        batch.alter_column("name", type_=sa.String(200), existing_type=sa.String(50))


def downgrade() -> None:
    op.create_table(
        "communities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
        sa.UniqueConstraint("name", name=op.f("uq_communities_name")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wechat_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("wechat_id", name=op.f("uq_people_wechat_id")),
    )
    op.create_table(
        "compounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_compounds_community_id_communities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compounds")),
        sa.UniqueConstraint("name", name=op.f("uq_compounds_name")),
    )
    op.create_table(
        "roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("team", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_roles_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("person_id", "role", "scope", name="uq_roles_scope"),
    )
    op.create_table(
        "buildings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["compounds.id"], name=op.f("fk_buildings_compound_id_compounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buildings")),
        sa.UniqueConstraint("compound_id", "number", name="uq_buildings_number"),
    )
    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("buildings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["compounds.id"], name=op.f("fk_rooms_compound_id_compounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("topic", name=op.f("uq_rooms_topic")),
    )
    with op.batch_alter_table("counters") as batch:
        batch.alter_column("name", type_=sa.String(50), existing_type=sa.String(200))
    for name, table, columns in OLD:
        op.create_index(name, table, columns)
    for name, table, _ in NEW:
        op.drop_index(name, table_name=table)
