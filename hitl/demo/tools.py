"""Offline office tools for the demo agents: they pretend to act and record what they did in state.

Each side-effecting tool returns a `Command` that appends one entry to a ledger list in the
graph state (`sent_emails`, `payments`, `deleted_records`) next to its `ToolMessage`, so a
test or a reviewer can see exactly which actions ran and with which arguments.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from langchain.agents import AgentState
from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.tools import BaseTool, InjectedToolCallId, tool
from langgraph.graph import MessagesState
from langgraph.types import Command
from pydantic import ValidationError
from typing_extensions import NotRequired

__all__ = [
    "LedgerState",
    "OfficeAgentState",
    "OFFICE_TOOLS",
    "SENSITIVE_TOOL_NAMES",
    "send_email",
    "delete_record",
    "make_payment",
    "search_records",
    "run_tool_calls",
    "declined",
    "describe_tool_call",
]

Currency = Literal["USD", "EUR", "GBP"]
"""Currencies `make_payment` accepts."""

SENSITIVE_TOOL_NAMES = frozenset({"send_email", "delete_record", "make_payment"})
"""Tools whose calls need a reviewer's approval in the selective-review demo."""


class LedgerState(MessagesState):
    """Messages plus one list per kind of action the office tools performed."""

    sent_emails: Annotated[list[dict[str, Any]], operator.add]
    """One `{"to", "subject", "body"}` entry per email sent."""

    payments: Annotated[list[dict[str, Any]], operator.add]
    """One `{"recipient", "amount", "currency", "memo", "reference"}` entry per payment."""

    deleted_records: Annotated[list[dict[str, Any]], operator.add]
    """One `{"record_id", "reason"}` entry per deleted record."""


class OfficeAgentState(AgentState[Any]):
    """`create_agent` state with the same action ledgers as `LedgerState`."""

    sent_emails: NotRequired[Annotated[list[dict[str, Any]], operator.add]]
    payments: NotRequired[Annotated[list[dict[str, Any]], operator.add]]
    deleted_records: NotRequired[Annotated[list[dict[str, Any]], operator.add]]


def _recorded(
    ledger: str, entry: dict[str, Any], content: str, *, name: str, tool_call_id: str
) -> Command[Any]:
    return Command(
        update={
            ledger: [entry],
            "messages": [ToolMessage(content, name=name, tool_call_id=tool_call_id)],
        }
    )


@tool(parse_docstring=True)
def send_email(
    to: str,
    subject: str,
    body: str,
    tool_call_id: Annotated[str, InjectedToolCallId],
) -> Command[Any]:
    """Send an email on the user's behalf.

    Args:
        to: Recipient email address.
        subject: Subject line.
        body: Plain-text body of the email.
        tool_call_id: Injected id of the tool call.
    """
    entry = {"to": to, "subject": subject, "body": body}
    content = f"Email sent to {to} (subject: {subject})"
    return _recorded("sent_emails", entry, content, name="send_email", tool_call_id=tool_call_id)


@tool(parse_docstring=True)
def delete_record(
    record_id: str,
    reason: str,
    tool_call_id: Annotated[str, InjectedToolCallId],
) -> Command[Any]:
    """Permanently delete a record from the customer database.

    Args:
        record_id: Identifier of the record, such as "REC-2231".
        reason: Why the record is deleted; kept in the audit trail.
        tool_call_id: Injected id of the tool call.
    """
    entry = {"record_id": record_id, "reason": reason}
    content = f"Record {record_id} deleted ({reason})"
    return _recorded(
        "deleted_records", entry, content, name="delete_record", tool_call_id=tool_call_id
    )


@tool(parse_docstring=True)
def make_payment(
    recipient: str,
    amount: float,
    currency: Currency,
    memo: str,
    tool_call_id: Annotated[str, InjectedToolCallId],
) -> Command[Any]:
    """Pay a recipient from the company account.

    Args:
        recipient: Name of the payee.
        amount: Amount to pay, in `currency`.
        currency: ISO currency code.
        memo: Memo line shown on the transfer, such as the invoice number.
        tool_call_id: Injected id of the tool call.
    """
    reference = "PAY-" + hashlib.sha256(tool_call_id.encode()).hexdigest()[:8].upper()
    entry = {
        "recipient": recipient,
        "amount": amount,
        "currency": currency,
        "memo": memo,
        "reference": reference,
    }
    content = f"Paid {amount:,.2f} {currency} to {recipient} (reference {reference})"
    return _recorded("payments", entry, content, name="make_payment", tool_call_id=tool_call_id)


@tool(parse_docstring=True)
def search_records(query: str) -> str:
    """Search the customer database; read-only.

    Args:
        query: Free-text search, such as "open invoices for Acme GmbH".
    """
    digest = hashlib.sha256(query.lower().encode()).hexdigest()
    hits = [f"REC-{int(digest[i : i + 4], 16) % 9000 + 1000}" for i in (0, 4, 8)]
    return f"Found {len(hits)} records matching {query!r}: {', '.join(hits)}"


OFFICE_TOOLS: list[BaseTool] = [send_email, delete_record, make_payment, search_records]
"""Every demo tool, in the order the agents list them."""


def run_tool_calls(
    tool_calls: Sequence[ToolCall], *, tools: Sequence[BaseTool] = OFFICE_TOOLS
) -> dict[str, list[Any]]:
    """Run `tool_calls` and merge what the tools recorded into one state update.

    Arguments that do not fit a tool's schema (a reviewer's bad edit) give an error
    `ToolMessage` for that call instead of raising, so the other calls still run.
    """
    tools_by_name = {tool.name: tool for tool in tools}
    update: dict[str, list[Any]] = {"messages": []}
    for call in tool_calls:
        selected = tools_by_name.get(call["name"])
        if selected is None:
            available = ", ".join(sorted(tools_by_name))
            update["messages"].append(
                _error(call, f"Unknown tool {call['name']!r}; available tools: {available}.")
            )
            continue
        try:
            result = selected.invoke({**call, "type": "tool_call"})
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg']}"
                for detail in error.errors()
            )
            update["messages"].append(
                _error(call, f"{call['name']} was not run: invalid arguments ({problems}).")
            )
            continue
        if isinstance(result, Command) and isinstance(result.update, dict):
            for key, values in result.update.items():
                update.setdefault(key, []).extend(values)
        else:
            update["messages"].append(result)
    return update


def describe_tool_call(call: ToolCall | dict[str, Any]) -> str:
    """One sentence saying what a tool call would do, for questions shown to reviewers."""
    args = call.get("args") or {}
    name = call.get("name", "")
    if name == "send_email":
        return f"Send an email to {args.get('to')} with subject {args.get('subject')!r}"
    if name == "make_payment":
        amount = args.get("amount")
        shown = f"{amount:,.2f}" if isinstance(amount, int | float) else str(amount)
        return (
            f"Pay {shown} {args.get('currency')} to {args.get('recipient')} "
            f"(memo: {args.get('memo')})"
        )
    if name == "delete_record":
        return f"Delete record {args.get('record_id')} (reason: {args.get('reason')})"
    if name == "search_records":
        return f"Search records for {args.get('query')!r}"
    return f"Run {name} with {args}"


def declined(call: ToolCall, reason: str) -> ToolMessage:
    """The result recorded for a tool call a reviewer did not let run."""
    return _error(call, f"{call['name']} was not run: {reason}")


def _error(call: ToolCall, content: str) -> ToolMessage:
    return ToolMessage(content, name=call["name"], tool_call_id=call["id"], status="error")
