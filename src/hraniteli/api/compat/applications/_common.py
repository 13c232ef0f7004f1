"""What the application webhook modules share: the intake policy built from the settings."""

from __future__ import annotations

from datetime import timedelta

from hraniteli.api.deps import AppContext
from hraniteli.applications import service as applications


def intake_policy(ctx: AppContext, *, staff: bool = False) -> applications.IntakePolicy:
    """`staff`: the caller holds the service key (the bot side, administrators)."""
    return applications.IntakePolicy(
        window_days=ctx.settings.schedule_window_days,
        min_lead=timedelta(minutes=ctx.settings.min_booking_lead_minutes),
        ladder=ctx.ladder,
        staff=staff,
    )
