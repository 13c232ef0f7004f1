"""proofs and contact keys

- `service_secrets`: the signing key of the proofs in the links the service sends (re-booking,
  feedback, Helpful Hand, the bot's start link), generated here so that every process shares it.
- `applications.contact_key`: the contact reduced to one comparable form (`tel:79991234567`,
  `tg:anna_k`): the bot recognises a client by it, and the one-active-booking rule and the rate
  limits count by it. Existing rows are filled in.
- `research_responses.submitter_key`: a keyed hash of the submitter's address, so that
  `get-sheets-row-number` answers each person their own row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 20:00:00
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hraniteli.kit.contacts import contact_key

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    secrets_table = op.create_table(
        "service_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_secrets")),
    )
    op.bulk_insert(
        secrets_table,
        [
            {
                "name": "signing",
                "value": secrets.token_hex(32),
                "created_at": datetime.now(UTC).replace(tzinfo=None)
                if op.get_bind().dialect.name == "sqlite"
                else datetime.now(UTC),
            }
        ],
    )
    with op.batch_alter_table("applications") as batch_op:
        batch_op.add_column(sa.Column("contact_key", sa.String(length=320), nullable=True))
        batch_op.create_index(batch_op.f("ix_applications_contact_key"), ["contact_key"], unique=False)
    with op.batch_alter_table("research_responses") as batch_op:
        batch_op.add_column(sa.Column("submitter_key", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_research_responses_submitter_key"), ["submitter_key"], unique=False
        )

    bind = op.get_bind()
    applications = sa.table(
        "applications",
        sa.column("id", sa.Uuid()),
        sa.column("contact_type", sa.String()),
        sa.column("contact", sa.String()),
        sa.column("contact_key", sa.String()),
    )
    rows = bind.execute(
        sa.select(applications.c.id, applications.c.contact_type, applications.c.contact).where(
            applications.c.contact.is_not(None)
        )
    ).all()
    for row in rows:
        bind.execute(
            applications.update()
            .where(applications.c.id == row.id)
            .values(contact_key=contact_key(row.contact_type, row.contact))
        )


def downgrade() -> None:
    with op.batch_alter_table("research_responses") as batch_op:
        batch_op.drop_index(batch_op.f("ix_research_responses_submitter_key"))
        batch_op.drop_column("submitter_key")
    with op.batch_alter_table("applications") as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_contact_key"))
        batch_op.drop_column("contact_key")
    op.drop_table("service_secrets")
