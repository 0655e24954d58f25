"""Starting inputs for the demo graphs: `DEMO_INPUTS[graph_id](index)` is a realistic request.

Inputs vary with the index (recipients, amounts, topics, record ids) and stay valid for any
non-negative index: tables wrap around and invoice numbers and amounts shift on each pass.
They are plain data (`{"role": "user", "content": ...}` messages), so they travel over HTTP too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

__all__ = ["DEMO_INPUTS"]

_T = TypeVar("_T")

_EMAILS = [
    ("Q3 revenue report", "finance@acme.example"),
    ("signed NDA", "legal@globex.example"),
    ("onboarding checklist", "maria.lopez@northwind.example"),
    ("incident postmortem for the checkout outage", "sre-leads@initech.example"),
    ("updated price list", "sales@umbrella.example"),
    ("board meeting agenda", "kenji.tanaka@contoso.example"),
    ("April payroll summary", "hr@hooli.example"),
]
_PAYMENTS = [
    ("Acme GmbH", 1250.00, "EUR", 1042),
    ("Globex Ltd", 4800.00, "USD", 2207),
    ("Northwind Traders", 732.50, "GBP", 3310),
    ("Initech LLC", 15000.00, "USD", 4471),
    ("Umbrella Logistics", 2390.75, "EUR", 5128),
    ("Stark Supplies", 560.00, "GBP", 6093),
]
_DELETIONS = [
    ("REC-2231", "the duplicate record {id}"),
    ("CUST-88123", "customer record {id} under the GDPR erasure request"),
    ("ORD-55410", "order {id} because it was a test order"),
    ("LEAD-3307", "lead {id} because it was imported twice"),
    ("CONT-9012", "contact {id} per the customer's opt-out request"),
]
_SEARCHES = [
    "open invoices for Acme GmbH",
    "the contract renewal date for Globex Ltd",
    "overdue tickets for Northwind Traders",
    "recent orders from Initech LLC",
    "unpaid expenses from the Berlin office",
]
_DRAFTS = [
    ("Dana Whitfield", "the delayed order ORD-5521"),
    ("Omar Haddad", "a double charge on his March invoice"),
    ("Priya Natarajan", "the missing API keys after her plan upgrade"),
    ("Lucas Moreau", "his request to cancel the annual subscription"),
    ("Aiko Sato", "the damaged monitor delivered last week"),
    ("Grace Okafor", "access to the shared analytics workspace"),
]
_REPORTS = [
    "Prepare the customer-churn analysis for the Q3 board pack",
    "Write the vendor risk review for the payments platform",
    "Prepare the cloud cost review for the last two quarters",
    "Write the hiring plan summary for the data team",
    "Prepare the post-launch review of the mobile checkout",
]
_PURCHASES = [
    "Purchase 40 laptops for the Berlin office, budget 52,000 EUR",
    "Buy a three-year observability platform renewal, budget $86,400",
    "Order ergonomic chairs for the Austin support team, budget $18,250",
    "Purchase an external penetration test, budget £24,000",
    "Buy 12 conference-room displays for the London office, budget £15,600",
]
_DIGESTS = [
    ("payments-api incident review", "engineering", ["incident", "payments"]),
    ("data warehouse migration", "data", ["migration", "analytics"]),
    ("new on-call rotation", "engineering", ["on-call", "process"]),
    ("Q3 security audit results", "all-staff", ["security", "audit"]),
    ("mobile release 5.2", "product", ["release", "mobile"]),
]
_PRODUCTS = [
    "the Aurora standing desk",
    "the new team billing dashboard",
    "offline mode in the mobile app",
    "single sign-on on the Starter plan",
    "the Helios noise-cancelling headset",
]
_TICKETS = [
    ("TKT-40211", "Dana Whitfield", "The blender from order ORD-5521 arrived with a cracked jar."),
    ("TKT-40388", "Omar Haddad", "I was charged twice for my March subscription."),
    ("TKT-40412", "Priya Natarajan", "The headset's left ear cup stopped working after a week."),
    ("TKT-40457", "Lucas Moreau", "My order ORD-61207 shipped in the wrong colour."),
    ("TKT-40503", "Aiko Sato", "The monitor stand is missing two screws and a bracket."),
]
_TIMED_AGES_HOURS = [0, 3, 18, 30]
"""How long ago the timed approvals were requested; 30 hours is already past the window."""


def _pick(table: Sequence[_T], index: int) -> _T:
    return table[index % len(table)]


def _user(content: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content}]}


def _email_clause(index: int, verb: str = "email") -> str:
    topic, address = _pick(_EMAILS, index)
    return f"{verb} the {topic} to {address}"


def _payment_clause(index: int) -> str:
    recipient, amount, currency, invoice = _pick(_PAYMENTS, index)
    scaled = amount * (1 + 0.25 * (index // len(_PAYMENTS)))
    return f"pay {recipient} {scaled:,.2f} {currency} for invoice INV-{invoice + index}"


def _deletion_clause(index: int) -> str:
    record_id, phrase = _pick(_DELETIONS, index)
    number = int(record_id.rsplit("-", 1)[1]) + 7 * (index // len(_DELETIONS))
    return "delete " + phrase.format(id=f"{record_id.rsplit('-', 1)[0]}-{number}")


def _search_clause(index: int) -> str:
    return f"look up {_pick(_SEARCHES, index)}"


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def email_approval_input(index: int) -> dict[str, Any]:
    """A single email to send."""
    verb = ("Email", "Send", "Please email")[index % 3]
    return _user(_email_clause(index, verb) + ".")


def two_stage_input(index: int) -> dict[str, Any]:
    """A report to outline, then write."""
    return _user(_pick(_REPORTS, index) + ".")


def simple_confirm_input(index: int) -> dict[str, Any]:
    """One record to delete."""
    return _user(_capitalized(_deletion_clause(index)) + ".")


def draft_edit_input(index: int) -> dict[str, Any]:
    """A customer reply to draft."""
    name, topic = _pick(_DRAFTS, index)
    return _user(f"Draft a reply to {name} about {topic}.")


def approval_chain_input(index: int) -> dict[str, Any]:
    """A purchase that needs three levels of sign-off."""
    return _user(_pick(_PURCHASES, index) + ".")


def tool_review_input(index: int) -> dict[str, Any]:
    """A search, an email and a deletion, reviewed together."""
    return _user(
        f"{_capitalized(_search_clause(index))}, {_email_clause(index + 1)} "
        f"and {_deletion_clause(index)}."
    )


def selective_review_input(index: int) -> dict[str, Any]:
    """A harmless search plus one sensitive action (a payment or an email)."""
    sensitive = _payment_clause(index) if index % 2 == 0 else _email_clause(index + 2)
    return _user(f"{_capitalized(_search_clause(index + 1))} and {sensitive}.")


def state_edit_input(index: int) -> dict[str, Any]:
    """A digest entry to write, with the metadata it will be published under."""
    topic, audience, tags = _pick(_DIGESTS, index)
    return {
        **_user(f"Summarize the {topic} for the weekly digest."),
        "metadata": {"channel": "weekly-digest", "audience": audience, "tags": list(tags)},
    }


def feedback_loop_input(index: int) -> dict[str, Any]:
    """An announcement to iterate on."""
    return _user(f"Write a product announcement for {_pick(_PRODUCTS, index)}.")


def timed_approval_input(index: int) -> dict[str, Any]:
    """A payment whose approval was requested some hours ago (some already expired)."""
    hours = _pick(_TIMED_AGES_HOURS, index)
    requested_at = datetime.now(UTC) - timedelta(hours=hours)
    return {
        **_user(_capitalized(_payment_clause(index + 1)) + "."),
        "requested_at": requested_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def agent_input(index: int) -> dict[str, Any]:
    """An email, a payment, a deletion and a search in one request."""
    return _user(
        f"{_capitalized(_email_clause(index))}, {_payment_clause(index)}, "
        f"{_deletion_clause(index)} and {_search_clause(index)}."
    )


def agent_inbox_input(index: int) -> dict[str, Any]:
    """One email or one payment for the Agent Inbox review."""
    clause = _email_clause(index + 3, "send") if index % 2 == 0 else _payment_clause(index + 2)
    return _user(_capitalized(clause) + ".")


def schema_form_input(index: int) -> dict[str, Any]:
    """A support ticket to resolve with a refund or a replacement."""
    ticket_id, customer, complaint = _pick(_TICKETS, index)
    number = int(ticket_id.split("-")[1]) + 100 * (index // len(_TICKETS))
    ticket_id = f"TKT-{number}"
    return {
        **_user(f"Ticket {ticket_id} from {customer}: {complaint}"),
        "ticket_id": ticket_id,
        "customer": customer,
        "complaint": complaint,
    }


DEMO_INPUTS: dict[str, Callable[[int], dict[str, Any]]] = {
    "email_approval": email_approval_input,
    "two_stage": two_stage_input,
    "simple_confirm": simple_confirm_input,
    "draft_edit": draft_edit_input,
    "approval_chain": approval_chain_input,
    "tool_review": tool_review_input,
    "selective_review": selective_review_input,
    "state_edit": state_edit_input,
    "feedback_loop": feedback_loop_input,
    "timed_approval": timed_approval_input,
    "agent_batched": agent_input,
    "agent_per_call": agent_input,
    "agent_inbox": agent_inbox_input,
    "schema_form": schema_form_input,
}
"""For each demo graph id, a function from a seed index to that graph's starting input."""
