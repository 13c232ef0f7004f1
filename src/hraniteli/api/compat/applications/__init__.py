"""Legacy application webhooks: intake, form analytics, Helpful Hand, bot-side automatch, re-booking."""

from fastapi import APIRouter

from hraniteli.api.compat.applications import analytics, bot_side, helpful_hand, intake, rebooking

router = APIRouter(tags=["compat: applications"])
# In the order the single module registered them, so the OpenAPI document keeps its order.
for _module in (intake, analytics, helpful_hand, bot_side, rebooking):
    router.include_router(_module.router)

__all__ = ["router"]
