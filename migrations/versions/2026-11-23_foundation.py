"""foundation: psychologists, clients, slots, bookings

On PostgreSQL an exclusion constraint also forbids two active bookings of one psychologist
whose time ranges overlap (btree_gist lets the uuid column take part in a GiST index).

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:42:13.630868
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("telegram_id", sa.String(length=64), nullable=True),
        sa.Column("telegram_username", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(length=16), nullable=True),
        sa.Column("contact_type", sa.String(length=32), nullable=True),
        sa.Column("contact", sa.String(length=300), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_clients_telegram_id")),
    )
    op.create_table(
        "psychologists",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("telegram_id", sa.String(length=64), nullable=True),
        sa.Column("editor_secret", sa.String(length=128), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("city", sa.String(length=200), nullable=True),
        sa.Column("about", sa.Text(), nullable=True),
        sa.Column("experience", sa.String(length=64), nullable=True),
        sa.Column("personal_therapy_type", sa.Text(), nullable=True),
        sa.Column("personal_therapy_duration", sa.Text(), nullable=True),
        sa.Column("main_modal", sa.String(length=200), nullable=True),
        sa.Column("additional_modals", sa.JSON(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("queries", sa.JSON(), nullable=False),
        sa.Column("telegram_link", sa.String(length=300), nullable=True),
        sa.Column("site_link", sa.String(length=300), nullable=True),
        sa.Column("vk_link", sa.String(length=300), nullable=True),
        sa.Column("photo_url", sa.String(length=500), nullable=True),
        sa.Column("video_url", sa.String(length=500), nullable=True),
        sa.Column("contact", sa.String(length=300), nullable=True),
        sa.Column("is_married", sa.Boolean(), nullable=True),
        sa.Column("has_children", sa.Boolean(), nullable=True),
        sa.Column("is_verified", sa.Boolean(), nullable=False),
        sa.Column("in_community", sa.Boolean(), nullable=False),
        sa.Column("is_onboarding_finished", sa.Boolean(), nullable=False),
        sa.Column("min_price", sa.Integer(), nullable=True),
        sa.Column("max_price", sa.Integer(), nullable=True),
        sa.Column("is_first_free", sa.Boolean(), nullable=False),
        sa.Column("is_help_hand", sa.Boolean(), nullable=False),
        sa.Column("is_all_with_price", sa.Boolean(), nullable=False),
        sa.Column("group", sa.String(length=32), nullable=False),
        sa.Column("debt", sa.Integer(), nullable=False),
        sa.Column("sessions_provided", sa.Integer(), nullable=False),
        sa.Column("client_sex", sa.String(length=16), nullable=False),
        sa.Column("min_client_age", sa.Integer(), nullable=False),
        sa.Column("max_client_age", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("allow_assignment", sa.Boolean(), nullable=False),
        sa.Column("schedule_revision", sa.Integer(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("debt >= 0", name=op.f("ck_psychologists_debt_not_negative")),
        sa.CheckConstraint(
            "min_client_age <= max_client_age", name=op.f("ck_psychologists_client_age_range")
        ),
        sa.CheckConstraint(
            "min_price IS NULL OR max_price IS NULL OR min_price <= max_price",
            name=op.f("ck_psychologists_price_range"),
        ),
        sa.CheckConstraint(
            "sessions_provided >= 0", name=op.f("ck_psychologists_sessions_provided_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psychologists")),
        sa.UniqueConstraint("editor_secret", name=op.f("uq_psychologists_editor_secret")),
        sa.UniqueConstraint("name", name=op.f("uq_psychologists_name")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_psychologists_telegram_id")),
    )
    op.create_table(
        "psychologist_education",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("psychologist_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("program_title", sa.Text(), nullable=False),
        sa.Column("doc_type", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["psychologist_id"],
            ["psychologists.id"],
            name=op.f("fk_psychologist_education_psychologist_id_psychologists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psychologist_education")),
    )
    with op.batch_alter_table("psychologist_education", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_psychologist_education_psychologist_id"),
            ["psychologist_id"],
            unique=False,
        )

    op.create_table(
        "slots",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("psychologist_id", sa.Uuid(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("repeat_rule", sa.String(length=16), nullable=False),
        sa.Column("repeat_root_id", sa.Uuid(), nullable=True),
        sa.Column("is_over_event", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('free', 'booked')", name=op.f("ck_slots_state")),
        sa.CheckConstraint(
            "duration_minutes > 0 AND duration_minutes <= 480", name=op.f("ck_slots_duration")
        ),
        sa.ForeignKeyConstraint(
            ["psychologist_id"],
            ["psychologists.id"],
            name=op.f("fk_slots_psychologist_id_psychologists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repeat_root_id"],
            ["slots.id"],
            name=op.f("fk_slots_repeat_root_id_slots"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slots")),
        sa.UniqueConstraint("psychologist_id", "start_at", name="uq_slots_psychologist_start"),
    )
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slots_psychologist_id"), ["psychologist_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_slots_repeat_root_id"), ["repeat_root_id"], unique=False)
        batch_op.create_index("ix_slots_start_at_state", ["start_at", "state"], unique=False)

    op.create_table(
        "bookings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slot_id", sa.Uuid(), nullable=False),
        sa.Column("psychologist_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("application_ref", sa.String(length=64), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_confirmed", sa.Boolean(), nullable=False),
        sa.Column("is_auto_assigned", sa.Boolean(), nullable=False),
        sa.Column("is_auto_canceled", sa.Boolean(), nullable=False),
        sa.Column("is_helpful_hand", sa.Boolean(), nullable=False),
        sa.Column("meeting_link", sa.String(length=500), nullable=True),
        sa.Column("meeting_id", sa.String(length=200), nullable=True),
        sa.Column("calendar_meeting_id", sa.String(length=200), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_bookings_client_id_clients"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["psychologist_id"],
            ["psychologists.id"],
            name=op.f("fk_bookings_psychologist_id_psychologists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_bookings_slot_id_slots"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_bookings_idempotency_key")),
        sa.CheckConstraint("end_at > start_at", name=op.f("ck_bookings_time_range")),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'cancelled', 'completed', 'missed')",
            name=op.f("ck_bookings_status"),
        ),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_application_ref"), ["application_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_bookings_psychologist_start", ["psychologist_id", "start_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_slot_id"), ["slot_id"], unique=False)
        batch_op.create_index(
            "uq_bookings_active_slot",
            ["slot_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('pending', 'confirmed')"),
            postgresql_where=sa.text("status IN ('pending', 'confirmed')"),
        )

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_psychologist_overlap "
            "EXCLUDE USING gist (psychologist_id WITH =, tstzrange(start_at, end_at) WITH &&) "
            "WHERE (status IN ('pending', 'confirmed'))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bookings DROP CONSTRAINT IF EXISTS ex_bookings_psychologist_overlap")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bookings_active_slot",
            sqlite_where=sa.text("status IN ('pending', 'confirmed')"),
            postgresql_where=sa.text("status IN ('pending', 'confirmed')"),
        )
        batch_op.drop_index(batch_op.f("ix_bookings_slot_id"))
        batch_op.drop_index("ix_bookings_psychologist_start")
        batch_op.drop_index(batch_op.f("ix_bookings_client_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_application_ref"))

    op.drop_table("bookings")
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.drop_index("ix_slots_start_at_state")
        batch_op.drop_index(batch_op.f("ix_slots_repeat_root_id"))
        batch_op.drop_index(batch_op.f("ix_slots_psychologist_id"))

    op.drop_table("slots")
    with op.batch_alter_table("psychologist_education", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_psychologist_education_psychologist_id"))

    op.drop_table("psychologist_education")
    op.drop_table("psychologists")
    op.drop_table("clients")
