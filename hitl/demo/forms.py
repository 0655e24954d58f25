"""The response schema of the `schema_form` demo: a support-ticket resolution form.

It exercises what a generated form must handle: a nested model, enums (an `Enum` and
`Literal`s), lists, optional fields with defaults, field descriptions and a discriminated
union (`resolution` is a refund or a replacement, told apart by `kind`).
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["Priority", "Refund", "Replacement", "CustomerReply", "TicketResolution"]


class Priority(str, Enum):
    """How urgently the resolution must be carried out."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Refund(BaseModel):
    """Give the customer money back."""

    kind: Literal["refund"]
    amount: float = Field(gt=0, description="Amount to refund.")
    currency: Literal["USD", "EUR", "GBP"] = Field("USD", description="Currency of the refund.")


class Replacement(BaseModel):
    """Ship the customer a replacement item."""

    kind: Literal["replace"]
    sku: str = Field(min_length=3, description="Stock-keeping unit of the replacement item.")
    expedited: bool = Field(False, description="Ship with next-day delivery.")


class CustomerReply(BaseModel):
    """The message sent to the customer once the ticket is resolved."""

    channel: Literal["email", "sms", "phone"] = Field(
        "email", description="How the customer is contacted."
    )
    message: str = Field(min_length=1, description="Text sent to the customer.")
    cc: list[str] = Field(default_factory=list, description="Extra addresses to copy in.")


class TicketResolution(BaseModel):
    """How the reviewer resolves a support ticket."""

    resolution: Refund | Replacement = Field(
        discriminator="kind", description="Refund the customer or ship a replacement."
    )
    priority: Priority = Field(Priority.NORMAL, description="How urgently to act.")
    reply: CustomerReply = Field(description="Message to the customer.")
    tags: list[str] = Field(default_factory=list, description="Labels for reporting.")
    internal_note: str | None = Field(None, description="Note for the support team only.")
    follow_up_days: int | None = Field(
        None, ge=1, le=30, description="Check back with the customer after this many days."
    )
