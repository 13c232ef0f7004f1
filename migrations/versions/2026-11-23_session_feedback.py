"""session feedback

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 14:18:01.628630
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "session_feedback",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("application_number", sa.String(length=64), nullable=True),
        sa.Column("psychologist_id", sa.Uuid(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "rating IS NULL OR (rating >= 1 AND rating <= 5)", name=op.f("ck_session_feedback_rating")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_session_feedback_booking_id_bookings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["psychologist_id"],
            ["psychologists.id"],
            name=op.f("fk_session_feedback_psychologist_id_psychologists"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_feedback")),
    )
    with op.batch_alter_table("session_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_session_feedback_application_number"), ["application_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_session_feedback_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_session_feedback_psychologist_id"), ["psychologist_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("session_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_feedback_psychologist_id"))
        batch_op.drop_index(batch_op.f("ix_session_feedback_booking_id"))
        batch_op.drop_index(batch_op.f("ix_session_feedback_application_number"))

    op.drop_table("session_feedback")
