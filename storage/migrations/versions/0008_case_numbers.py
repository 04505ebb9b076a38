"""case numbers per compound: #12 in each compound, short enough to read in a city

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Each compound's counter starts at the highest number its cases have, so numbers given
    # before (unique across compounds) stay as they are and new ones never collide with them.
    op.execute(
        sa.text(
            "INSERT INTO counters (name, value) "
            "SELECT 'case:' || kind || ':' || compound, MAX(number) FROM cases "
            "GROUP BY kind, compound"
        )
    )
    # On SQLite the table is rebuilt; storage.schema.upgrade turns foreign keys off around it.
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("uq_cases_kind_number", type_="unique")
        batch.create_unique_constraint(
            "uq_cases_kind_compound_number", ["kind", "compound", "number"]
        )
        batch.create_index("ix_cases_kind_number", ["kind", "number"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_kind_number")
        batch.drop_constraint("uq_cases_kind_compound_number", type_="unique")
        batch.create_unique_constraint("uq_cases_kind_number", ["kind", "number"])
    op.execute(sa.text("DELETE FROM counters WHERE name LIKE 'case:%:%'"))
