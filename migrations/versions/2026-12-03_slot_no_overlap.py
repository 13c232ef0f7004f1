"""slots: end_at, and on PostgreSQL no two overlapping slots of one psychologist

The service refuses a slot that overlaps another, but it checks before it inserts: two
processes adding 10:00 (60 min) and 10:30 (60 min) at once both passed the check. Now the
database decides, as it does for bookings:

- `end_at` = start_at + duration (aware UTC), kept so by the ORM, backfilled here;
- on PostgreSQL, `EXCLUDE USING gist (psychologist_id WITH =, tstzrange(start_at, end_at) WITH &&)`
  (btree_gist, created by 0001, lets the uuid column take part) and a check that `end_at` really
  is start_at + duration, so the ranges the constraint compares are the slots' own.

SQLite has no exclusion constraints; its writers run one at a time (BEGIN IMMEDIATE), so the
service's check already sees every committed slot. SQLite cannot add a NOT NULL column without a
constant default, so there `end_at` gets a placeholder default the backfill overwrites (the ORM
always sets the column).

Overlapping slots that already exist are resolved first, per psychologist: booked slots are kept,
then free ones in order of creation (earliest first, then id), each kept only if it overlaps
nothing kept so far; the other free slots are deleted. Booked slots are never deleted, and
neither are slots that bookings (even cancelled ones) refer to: a session's history outweighs a
free hour. Two booked slots can overlap only in a narrow case (a booking cancelled after its
session had begun leaves its slot booked; an overlapping slot made by the race above can then be
booked): at most one of them holds an active booking, since active bookings cannot overlap. If a
slot that must go is booked or has bookings, the migration stops and names the slots, for an
administrator to decide, rather than delete a session's record.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_PLACEHOLDER = "1970-01-01 00:00:00.000000"

slots = sa.table(
    "slots",
    sa.column("id", sa.Uuid()),
    sa.column("psychologist_id", sa.Uuid()),
    sa.column("start_at", sa.DateTime(timezone=True)),
    sa.column("duration_minutes", sa.Integer()),
    sa.column("end_at", sa.DateTime(timezone=True)),
    sa.column("state", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
bookings = sa.table("bookings", sa.column("slot_id", sa.Uuid()))


def _slots_to_delete(connection: sa.Connection) -> list[Any]:
    """Ids of the free slots that overlap a slot kept before them (see the module docstring)."""
    referenced = set(connection.execute(sa.select(bookings.c.slot_id).distinct()).scalars())
    rows = connection.execute(
        sa.select(
            slots.c.id,
            slots.c.psychologist_id,
            slots.c.start_at,
            slots.c.duration_minutes,
            slots.c.state,
            slots.c.created_at,
        ).order_by(slots.c.psychologist_id)
    ).all()
    doomed: list[Any] = []
    blocked: list[str] = []
    for psychologist_id, group in itertools.groupby(rows, key=lambda row: row.psychologist_id):
        candidates = sorted(
            group,
            key=lambda row: (row.state != "booked", row.id not in referenced, row.created_at, str(row.id)),
        )
        kept_starts: list[Any] = []
        kept_ends: list[Any] = []
        for row in candidates:
            start = row.start_at
            end = start + timedelta(minutes=row.duration_minutes)
            at = bisect.bisect_left(kept_starts, start)
            overlaps = (at > 0 and kept_ends[at - 1] > start) or (
                at < len(kept_starts) and kept_starts[at] < end
            )
            if not overlaps:
                kept_starts.insert(at, start)
                kept_ends.insert(at, end)
            elif row.state == "booked" or row.id in referenced:
                blocked.append(f"{row.id} (psychologist {psychologist_id}, {start:%Y-%m-%d %H:%M} UTC)")
            else:
                doomed.append(row.id)
    if blocked:
        raise RuntimeError(
            "slots that overlap another slot of their psychologist but are booked or have bookings: "
            + "; ".join(blocked)
            + ". Cancel or move those sessions (or shorten a slot), then migrate again."
        )
    return doomed


def _backfill_sqlite(connection: sa.Connection) -> None:
    rows = connection.execute(sa.select(slots.c.id, slots.c.start_at, slots.c.duration_minutes)).all()
    if rows:
        connection.execute(
            sa.update(slots).where(slots.c.id == sa.bindparam("slot_id")).values(end_at=sa.bindparam("end")),
            [
                {"slot_id": row.id, "end": row.start_at + timedelta(minutes=row.duration_minutes)}
                for row in rows
            ],
        )


def upgrade() -> None:
    connection = op.get_bind()
    is_postgres = connection.dialect.name == "postgresql"
    if is_postgres:
        # Nobody adds a slot between the resolution below and the constraint; reads go on.
        op.execute("LOCK TABLE slots IN SHARE ROW EXCLUSIVE MODE")
    doomed = _slots_to_delete(connection)
    for first in range(0, len(doomed), 500):
        connection.execute(sa.delete(slots).where(slots.c.id.in_(doomed[first : first + 500])))

    if is_postgres:
        op.add_column("slots", sa.Column("end_at", sa.DateTime(timezone=True), nullable=True))
        op.execute("UPDATE slots SET end_at = start_at + make_interval(mins => duration_minutes)")
        op.alter_column("slots", "end_at", nullable=False)
        op.execute(
            "ALTER TABLE slots ADD CONSTRAINT ck_slots_end_at "
            "CHECK (end_at = start_at + make_interval(mins => duration_minutes))"
        )
        op.execute(
            "ALTER TABLE slots ADD CONSTRAINT ex_slots_psychologist_overlap "
            "EXCLUDE USING gist (psychologist_id WITH =, tstzrange(start_at, end_at) WITH &&)"
        )
    else:
        op.add_column(
            "slots",
            sa.Column(
                "end_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.text(f"'{SQLITE_PLACEHOLDER}'"),
            ),
        )
        _backfill_sqlite(connection)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE slots DROP CONSTRAINT IF EXISTS ex_slots_psychologist_overlap")
        op.execute("ALTER TABLE slots DROP CONSTRAINT IF EXISTS ck_slots_end_at")
        op.drop_column("slots", "end_at")
    else:
        # In place (SQLite ≥ 3.35): a batch copy would drop the table bookings refer to.
        op.execute("ALTER TABLE slots DROP COLUMN end_at")
