"""outbox: index messages by state in claim order, and by chat

The sender claims the oldest due messages: `WHERE state = 'pending' AND next_attempt_at <= now
ORDER BY created_at, id LIMIT n`. With the (state, next_attempt_at) index every claim read and
sorted every due row (13 ms per claim on a 20,000-message backlog on SQLite); an index on
(state, created_at, id) is in claim order, so a claim reads about as many rows as it takes
(0.7 ms). It also serves the outbox listing by state (newest first) and the few queries by
state alone; the due checks read the pending rows, which are few once sent.

(chat_id, state, created_at, id): one chat's pending messages in order — the oldest due message
of a chat with a backlog (claimed apart from the others), and holding a chat's later messages
behind a retried one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:25:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_messages_state_order", "outbox_messages", ["state", "created_at", "id"])
    op.create_index("ix_outbox_messages_chat", "outbox_messages", ["chat_id", "state", "created_at", "id"])
    op.drop_index("ix_outbox_messages_due", table_name="outbox_messages")


def downgrade() -> None:
    op.create_index("ix_outbox_messages_due", "outbox_messages", ["state", "next_attempt_at"])
    op.drop_index("ix_outbox_messages_chat", table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_state_order", table_name="outbox_messages")
