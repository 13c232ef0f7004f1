"""outbox: messages that go stale

`expires_at`: after it a message is not sent but marked `expired` (a confirmation request or a
reminder for a session that has begun, held while the bot had no token or the person had not
started it). Existing rows get none: they behave as before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.drop_column("expires_at")
