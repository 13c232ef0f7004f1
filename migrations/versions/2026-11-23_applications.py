"""applications, matching candidates, form analytics, research rows

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:53:11.769834
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "form_answers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_answers")),
    )
    with op.batch_alter_table("form_answers", schema=None) as batch_op:
        batch_op.create_index("uq_form_answers_number_field", ["number", "field"], unique=True)

    op.create_table(
        "form_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("form_type", sa.String(length=200), nullable=True),
        sa.Column("last_step", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_sessions")),
        sa.UniqueConstraint("number", name=op.f("uq_form_sessions_number")),
    )
    with op.batch_alter_table("form_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_form_sessions_form_type"), ["form_type"], unique=False)

    op.create_table(
        "form_steps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_steps")),
    )
    with op.batch_alter_table("form_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_form_steps_step"), ["step"], unique=False)
        batch_op.create_index("uq_form_steps_number_step", ["number", "step"], unique=True)

    op.create_table(
        "research_responses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("contact_type", sa.String(length=32), nullable=True),
        sa.Column("contact", sa.String(length=300), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("application_number", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_responses")),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("client_name", sa.String(length=200), nullable=True),
        sa.Column("client_age", sa.Integer(), nullable=True),
        sa.Column("client_sex", sa.String(length=16), nullable=True),
        sa.Column("contact_type", sa.String(length=32), nullable=True),
        sa.Column("contact", sa.String(length=300), nullable=True),
        sa.Column("time_zone_label", sa.String(length=64), nullable=True),
        sa.Column("time_offset_hours", sa.Float(), nullable=False),
        sa.Column("requests", sa.JSON(), nullable=False),
        sa.Column("client_states", sa.JSON(), nullable=False),
        sa.Column("traumatic_events", sa.JSON(), nullable=False),
        sa.Column("diagnoses", sa.JSON(), nullable=False),
        sa.Column("takes_medication", sa.Boolean(), nullable=True),
        sa.Column("preferences", sa.JSON(), nullable=False),
        sa.Column("wanted_psychologist_sex", sa.String(length=16), nullable=True),
        sa.Column("experience", sa.Text(), nullable=True),
        sa.Column("price_category", sa.String(length=64), nullable=True),
        sa.Column("price_rub", sa.Integer(), nullable=True),
        sa.Column("promocode", sa.String(length=300), nullable=True),
        sa.Column("utm", sa.JSON(), nullable=False),
        sa.Column("wanted_psychologists", sa.JSON(), nullable=False),
        sa.Column("chosen_slots", sa.JSON(), nullable=False),
        sa.Column("chosen_slot_ids", sa.JSON(), nullable=False),
        sa.Column("claimed_by_id", sa.Uuid(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("previous_id", sa.Uuid(), nullable=True),
        sa.Column("research_row_id", sa.Integer(), nullable=True),
        sa.Column("result_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_applications_booking_id_bookings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by_id"],
            ["psychologists.id"],
            name=op.f("fk_applications_claimed_by_id_psychologists"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_applications_client_id_clients"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"],
            ["applications.id"],
            name=op.f("fk_applications_previous_id_applications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("number", name=op.f("uq_applications_number")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_claimed_by_id"), ["claimed_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_applications_kind_status", ["kind", "status"], unique=False)

    op.create_table(
        "application_candidates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("psychologist_id", sa.Uuid(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_candidates_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["psychologist_id"],
            ["psychologists.id"],
            name=op.f("fk_application_candidates_psychologist_id_psychologists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_candidates")),
        sa.UniqueConstraint("application_id", "psychologist_id", name="uq_candidates_pair"),
    )
    with op.batch_alter_table("application_candidates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_candidates_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_application_candidates_psychologist_id"), ["psychologist_id"], unique=False
        )

    op.create_table(
        "application_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_events_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_events")),
    )
    with op.batch_alter_table("application_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_events_application_id"), ["application_id"], unique=False
        )

    with op.batch_alter_table("psychologists", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("does_diagnostics", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("psychologists", schema=None) as batch_op:
        batch_op.drop_column("does_diagnostics")

    with op.batch_alter_table("application_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_events_application_id"))

    op.drop_table("application_events")
    with op.batch_alter_table("application_candidates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_candidates_psychologist_id"))
        batch_op.drop_index(batch_op.f("ix_application_candidates_application_id"))

    op.drop_table("application_candidates")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_kind_status")
        batch_op.drop_index(batch_op.f("ix_applications_client_id"))
        batch_op.drop_index(batch_op.f("ix_applications_claimed_by_id"))

    op.drop_table("applications")
    op.drop_table("research_responses")
    with op.batch_alter_table("form_steps", schema=None) as batch_op:
        batch_op.drop_index("uq_form_steps_number_step")
        batch_op.drop_index(batch_op.f("ix_form_steps_step"))

    op.drop_table("form_steps")
    with op.batch_alter_table("form_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_sessions_form_type"))

    op.drop_table("form_sessions")
    with op.batch_alter_table("form_answers", schema=None) as batch_op:
        batch_op.drop_index("uq_form_answers_number_field")

    op.drop_table("form_answers")
