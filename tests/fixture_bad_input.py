"""A graph that asks a human about awkward payloads, for tests/test_bad_input.py.

`probe` interrupts with the payload named by the state's `mode`; once answered it logs
what it got. Payloads are built inside the node, so the awkward value lives only in the
interrupt write, as it would when an agent puts a tool's raw result in front of a human.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

BIG_BYTES = 10 * 1024 * 1024
"""Size of the `big` payload's text: 10 MB."""

HOSTILE = {
    "html": '<script>alert("x")</script><img src=x onerror=alert(1)><b>bold</b>',
    "markdown": "**Approve** [click here](javascript:alert(1)) ![x](http://evil.example/t.png) $x$ | a | b |",
    "control": "nul\x00 bell\x07 escape\x1b[31mred\x1b[0m carriage\rreturn",
    "bidi": "invoice \u202egnp.exe\u202c and zero\u200bwidth",
    "emoji": "💸🔥 " * 50,
    "sql": "'; DROP TABLE hitl_audit; --",
    "like": "100%_off \\ backslash",
    "long_line": "A" * 5000,
    "surrogate_free_unicode": "ℌ𝔢𝔩𝔩𝔬 Ω≈ç√∫",
}
"""Text an attacker (or a confused model) might put in front of a reviewer."""


@dataclass
class Invoice:
    """A dataclass the agent knows; the desk (strict msgpack) reads it back as its fields."""

    number: str
    amount: float


class Opaque:
    """A plain object msgpack cannot write at all."""

    def __repr__(self) -> str:
        return "<Opaque>"


def deep(levels: int) -> Any:
    """`{"d": {"d": ... "bottom"}}`, `levels` dicts deep."""
    value: Any = "bottom"
    for _ in range(levels):
        value = {"d": value}
    return value


def payload(mode: str) -> Any:
    """The interrupt value for a mode."""
    if mode == "datetime":
        return {"action": "make_payment", "details": {"due": datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc), "amount": 120}, "question": "Pay by the due date?"}
    if mode == "set":
        return {"action": "tag_ticket", "details": {"tags": {"urgent", "finance"}, "ids": frozenset({3, 1, 2})}, "question": "Apply these tags?"}
    if mode == "bytes":
        return {"action": "upload", "details": {"blob": b"\x00\xffbinary"}, "question": "Upload it?"}
    if mode == "dataclass":
        return {"action": "make_payment", "details": Invoice("INV-7", 99.5), "question": "Pay this invoice?"}
    if mode == "opaque":
        return {"action": "make_payment", "details": Opaque(), "question": "Pay?"}
    if mode == "big":
        return {"action": "send_email", "details": "big-payload-start " + "x" * BIG_BYTES + " big-payload-end", "question": "Send this 10 MB email?"}
    if mode == "deep":
        return {"action": "review_tree", "details": deep(500), "question": "Accept this tree?"}
    if mode == "deep_storable":
        return {"action": "review_tree", "details": deep(240), "question": "Accept this tree?"}
    if mode == "hostile":
        return {"action": HOSTILE["html"], "details": HOSTILE, "question": HOSTILE["markdown"]}
    return {"action": "plain", "details": mode, "question": "Proceed?"}


class State(TypedDict, total=False):
    mode: str
    log: Annotated[list, operator.add]


def _ask(state: State) -> dict:
    answer = interrupt(payload(state.get("mode", "plain")))
    return {"log": [f"{state.get('mode')}:{'approved' if answer.get('approved') else 'rejected'}"]}


probe = StateGraph(State)
"""question-shaped payloads of every awkward sort -> `{"approved", "reason"?}`."""
probe.add_node("ask_human", _ask)
probe.add_edge(START, "ask_human")
probe.add_edge("ask_human", END)
