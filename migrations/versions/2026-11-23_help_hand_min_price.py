"""psychologists.help_hand_min_price: lowest price accepted from a Helpful Hand client

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("psychologists", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("help_hand_min_price", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("psychologists", schema=None) as batch_op:
        batch_op.drop_column("help_hand_min_price")
