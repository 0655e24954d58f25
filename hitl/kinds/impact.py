"""What approving a pending interrupt does, read from its payload, for any kind.

`read_impact(value, kind=...)` names the tool calls an approval lets run (tool, target,
amount and currency, and whether each moves money, deletes or cannot be undone) and says it in
one line: "Approving runs make_payment: 1,250.00 EUR to Acme GmbH · moves money · irreversible".
Kinds without a tool call get a line of their own ("Approving answers yes to: Proceed?"), with
amounts and risky words read from their text. `calls_impact` says the same about the calls an
answer actually approves (`PayloadKind.approved_calls`), for the confirmation step.

The reading never raises and never decides what is sent: it only describes. When it cannot
tell, it leans to the careful side (an amount that cannot be read counts as moving money).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hitl.amounts import currency_of, read_amount
from hitl.kinds import classify, kind_of
from hitl.kinds.common import ToolCallInfo, compact, get, one_line

__all__ = ["CallImpact", "Impact", "read_impact", "calls_impact", "format_amount"]

_MONEY_WORDS = frozenset(
    "pay payment payments payout transfer refund wire charge purchase buy order invoice withdraw remit "
    "disburse payroll checkout budget".split()
)
_DELETE_WORDS = frozenset("delete remove drop purge destroy erase truncate wipe rm unlink deletion".split())
_FINAL_WORDS = frozenset(
    "send email mail post publish notify tweet sms deploy restart shutdown reboot merge release".split()
)
"""Actions that leave the system (a sent email cannot be unsent): irreversible, though no money moves."""

_AMOUNT_KEYS = ("amount", "total", "total_amount", "amount_due", "price", "sum", "value", "budget")
_CURRENCY_KEYS = ("currency", "currency_code", "ccy")
_TO_KEYS = ("to", "recipient", "recipients", "payee", "beneficiary", "vendor", "supplier", "customer", "email",
            "account", "account_id", "iban", "user", "user_id", "channel", "hotel_name")
_ON_KEYS = ("record_id", "record", "id", "path", "file", "filename", "table", "url", "resource", "target", "name",
            "order_id", "ticket_id", "query")
_FLAG_KEYS = {"irreversible": "irreversible", "moves_money": "moves_money", "destructive": "deletes",
              "deletes": "deletes"}
"""Flags a payload (or one call) may declare itself; read as well as the words."""

_SAID_KINDS = frozenset({"confirm", "question", "stage", "approval_level"})
"""Kinds whose approval is a yes to their own text: amounts and risky words are read from it."""

_TEXT_AMOUNT = re.compile(
    r"(?:[$€£¥₹]|\b[A-Z]{3}\b)\s?\d[\d,.'’ ]*\d(?:\.\d+)?(?:\s?(?:k|m|bn)\b)?"
    r"|\b\d[\d,.'’ ]*\d(?:\.\d+)?\s?(?:[A-Z]{3}\b|[$€£¥₹])"
)


@dataclass(frozen=True, kw_only=True)
class CallImpact:
    """One tool call an approval lets run."""

    tool: str
    target: str = ""
    """Who or what it acts on ("Acme GmbH", "REC-2231"); empty when no argument names one."""
    preposition: str = "to"
    """How the line joins the target: "to Acme GmbH", "on REC-2231"."""
    amount: float | None = None
    amount_text: str = ""
    """The amount as the payload wrote it when it could not be read as a number."""
    currency: str = ""
    moves_money: bool = False
    deletes: bool = False
    irreversible: bool = False

    def phrase(self) -> str:
        """ "make_payment: 1,250.00 EUR to Acme GmbH", "delete_record on REC-2231"."""
        text = self.tool
        money = format_amount(self.amount, self.currency) if self.amount is not None else self.amount_text
        if money:
            text += f": {money}"
        if self.target:
            text += f" {self.preposition} {self.target}"
        return text


@dataclass(frozen=True, kw_only=True)
class Impact:
    """What approving one interrupt does."""

    kind: str
    line: str
    """One sentence for the top of the card."""
    calls: tuple[CallImpact, ...] = ()
    per_call: bool = False
    """The card offers a choice per call (approve some, reject others)."""
    moves_money: bool = False
    deletes: bool = False
    irreversible: bool = False
    amount: float | None = None
    currency: str = ""
    flags: tuple[str, ...] = field(default=())
    """"moves money", "deletes", "irreversible": the line's tail."""

    @property
    def tool(self) -> str:
        """The tool (or tools, comma-separated) for a table column."""
        return ", ".join(dict.fromkeys(call.tool for call in self.calls))

    @property
    def target(self) -> str:
        return ", ".join(dict.fromkeys(call.target for call in self.calls if call.target))

    @property
    def amount_label(self) -> str:
        return format_amount(self.amount, self.currency) if self.amount is not None else ""

    @property
    def needs_confirmation(self) -> bool:
        """Approving moves money, deletes, or lets more than one call run: ask twice."""
        return self.moves_money or self.deletes or len(self.calls) > 1


def format_amount(amount: float | None, currency: str = "") -> str:
    """ "1,250.00 EUR"; "" without an amount."""
    if amount is None:
        return ""
    text = f"{amount:,.2f}" if abs(amount) < 1e15 else f"{amount:,.0f}"
    return f"{text} {currency}".strip()


def _words(text: str) -> set[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return {word for word in re.split(r"[^a-z]+", spaced.lower()) if word}


def _as_text(value: Any, limit: int = 80) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_as_text(item, limit) for item in value[:3]) + (", …" if len(value) > 3 else "")
    return one_line(compact(value, budget=limit), limit)


def _first(args: Mapping[str, Any], keys: Sequence[str]) -> tuple[str, Any] | None:
    lowered = {str(key).lower(): key for key in args}
    for key in keys:
        if key in lowered and args[lowered[key]] not in (None, "", [], {}):
            return key, args[lowered[key]]
    return None


def _declared(source: Any) -> set[str]:
    flags = set()
    for key, flag in _FLAG_KEYS.items():
        if get(source, key) is True:
            flags.add(flag)
    if get(source, "reversible") is False:
        flags.add("irreversible")
    return flags


def call_impact(name: str, args: Any, *, declared: Iterable[str] = ()) -> CallImpact:
    """One tool call's impact from its name and arguments."""
    args = args if isinstance(args, Mapping) else {}
    words = _words(name)
    amount: float | None = None
    amount_text = ""
    unreadable = False
    found = _first(args, _AMOUNT_KEYS)
    if found is not None:
        try:
            amount = read_amount(found[1])
        except ValueError:
            unreadable = True
            amount_text = f"{_as_text(found[1], 30)} (not a readable amount)"
    currency_found = _first(args, _CURRENCY_KEYS)
    currency = _as_text(currency_found[1], 8).upper() if currency_found else (currency_of(found[1]) if found else "")
    target, preposition = "", "to"
    to = _first(args, _TO_KEYS)
    on = _first(args, _ON_KEYS)
    if to is not None:
        target = _as_text(to[1])
    elif on is not None:
        target, preposition = _as_text(on[1]), "for" if on[0] == "query" else "on"
    flags = set(declared) | _declared(args)
    moves_money = ("moves_money" in flags or bool(words & _MONEY_WORDS)
                   or (found is not None and (bool(currency) or unreadable)))
    deletes = "deletes" in flags or bool(words & _DELETE_WORDS)
    irreversible = "irreversible" in flags or moves_money or deletes or bool(words & _FINAL_WORDS)
    return CallImpact(tool=name, target=target, preposition=preposition, amount=amount, amount_text=amount_text,
                      currency=currency, moves_money=moves_money, deletes=deletes, irreversible=irreversible)


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        parts = [v for k, v in value.items() if isinstance(v, str) and k not in ("type",)]
        return " ".join(parts)
    return ""


def _text_amount(text: str) -> tuple[float | None, str]:
    for match in _TEXT_AMOUNT.finditer(text):
        try:
            amount = read_amount(match.group(0).strip())
        except ValueError:
            continue
        if amount is not None:
            return amount, currency_of(match.group(0))
    return None, ""


def _tail(moves_money: bool, deletes: bool, irreversible: bool) -> tuple[str, ...]:
    return tuple(flag for flag, on in (("moves money", moves_money), ("deletes", deletes),
                                       ("irreversible", irreversible)) if on)


def calls_impact(calls: Sequence[Mapping[str, Any]], *, kind: str = "", verb: str = "Approving",
                 per_call: bool = False, declared: Iterable[str] = ()) -> Impact:
    """The impact of letting these calls (`{"name", "args"}`) run, with its line."""
    declared = set(declared)
    impacts = tuple(call_impact(str(get(call, "name", "?")), get(call, "args"), declared=declared | _declared(call))
                    for call in calls)
    moves = any(c.moves_money for c in impacts)
    deletes = any(c.deletes for c in impacts)
    final = any(c.irreversible for c in impacts)
    flags = _tail(moves, deletes, final)
    if not impacts:
        line = f"{verb} runs no tool call." if verb == "Approving" else f"{verb} runs nothing."
    elif len(impacts) == 1:
        line = f"{verb} runs {impacts[0].phrase()}"
    else:
        shown = "; ".join(c.phrase() for c in impacts[:5]) + (f"; and {len(impacts) - 5:,} more" if len(impacts) > 5 else "")
        line = f"{verb} runs {len(impacts):,} tool calls: {shown}"
    if flags:
        line += " · " + " · ".join(flags)
    amounts = [c for c in impacts if c.amount is not None]
    currencies = {c.currency for c in amounts}
    total = sum(c.amount for c in amounts) if amounts and len(currencies) == 1 else None  # type: ignore[misc]
    return Impact(kind=kind, line=line, calls=impacts, per_call=per_call, moves_money=moves, deletes=deletes,
                  irreversible=final, amount=total, currency=currencies.pop() if total is not None else "",
                  flags=flags)


def _round(value: Any) -> str:
    """ "round 2 of 5" from a feedback payload's message or iteration."""
    match = re.search(r"round\s+(\d+)\s+of\s+(\d+)", _text_of(value), re.IGNORECASE)
    if match:
        return f"round {match.group(1)} of {match.group(2)}"
    iteration = get(value, "iteration")
    return f"revision {iteration + 1}" if isinstance(iteration, int) and not isinstance(iteration, bool) else ""


def _fallback(kind: str, value: Any) -> tuple[str, str]:
    """(line, what it is about) for kinds without a tool call."""
    if kind == "confirm":
        return "Approving answers yes to: " + one_line(str(value), 140), ""
    if kind == "question":
        question = get(value, "question")
        return "Approving answers yes to: " + one_line(compact(question or value), 140), ""
    if kind == "edit":
        return "Approving sends the draft as shown in the editor (your edits included).", ""
    if kind == "stage":
        return f"Approving passes stage “{one_line(compact(get(value, 'stage', '')), 60)}”; the graph goes on to the next.", ""
    if kind == "approval_level":
        level = one_line(compact(get(value, "level", "")), 40) or "approver"
        step = re.search(r"step\s+\d+\s+of\s+\d+", _text_of(value), re.IGNORECASE)
        return f"Approving signs as {level}" + (f" ({step.group(0)})" if step else ""), ""
    if kind == "state_edit":
        return "Approving continues with the state shown (your edits included).", ""
    if kind == "feedback":
        at = _round(value)
        return "Approving accepts this version" + (f" ({at})" if at else "") + " and ends the loop.", ""
    if kind == "schema":
        return "Submitting sends the answer in the form.", ""
    return "Submitting sends the answer you type; the desk cannot tell what it lets happen.", ""


def read_impact(value: Any, response_schema: Any = None, *, kind: str | None = None) -> Impact:
    """What approving this interrupt does (every call it asks about, as proposed). Never raises."""
    try:
        return _read(value, response_schema, kind)
    except Exception:  # a hostile payload: say so rather than break the card
        return Impact(kind=kind or "json", line="The desk could not read what approving does; read the request below.")


def _read(value: Any, response_schema: Any, kind: str | None) -> Impact:
    name = kind or classify(value, response_schema)
    declared = _declared(value)
    calls: list[ToolCallInfo] = kind_of(name).tool_calls(value)
    if name == "question" and isinstance(get(value, "action"), str) and get(value, "action").strip():
        details = get(value, "details")
        calls = [ToolCallInfo(name=get(value, "action").strip(), args=dict(details) if isinstance(details, Mapping) else {})]
    if calls:
        per_call = name in ("hitl_request", "agent_inbox", "tool_review") and len(calls) > 1
        impact = calls_impact(calls, kind=name, per_call=per_call, verb="Approving all" if per_call else "Approving",
                              declared=declared)
        if not any(c.target or c.amount is not None for c in impact.calls):
            amount, currency = _text_amount(_text_of(value) + " " + _text_of(get(value, "details")))
            if amount is not None:
                return _with_text_amount(impact, amount, currency)
        return impact
    line, _ = _fallback(name, value)
    # A stage's `result` is the work being passed on (an outline that mentions "payments"), not
    # what approving does: only its message asks the question.
    text = _text_of(get(value, "message")) if name == "stage" else _text_of(value)
    words = _words(text)
    # Only where approving is a yes to the text itself; a form or an editor's text says nothing
    # about what the answer will let happen.
    said = name in _SAID_KINDS
    amount, currency = _text_amount(text) if said else (None, "")
    moves = "moves_money" in declared or (said and bool(words & _MONEY_WORDS))
    deletes = "deletes" in declared or (said and bool(words & _DELETE_WORDS))
    final = "irreversible" in declared or moves or deletes
    if amount is not None:
        line += f": {format_amount(amount, currency)}"
    flags = _tail(moves, deletes, final)
    if flags:
        line = line.rstrip(".") + " · " + " · ".join(flags)
    return Impact(kind=name, line=line, moves_money=moves, deletes=deletes, irreversible=final, amount=amount,
                  currency=currency, flags=flags)


def _with_text_amount(impact: Impact, amount: float, currency: str) -> Impact:
    money = format_amount(amount, currency)
    head, sep, tail = impact.line.partition(" · ")
    return Impact(kind=impact.kind, line=f"{head} ({money}){sep}{tail}", calls=impact.calls, per_call=impact.per_call,
                  moves_money=impact.moves_money, deletes=impact.deletes, irreversible=impact.irreversible,
                  amount=amount, currency=currency, flags=impact.flags)
