"""The payload kind registry: one `PayloadKind` object per kind, each in one module.

    hitl.kinds.base        PayloadKind, REGISTRY, register, kind_of
    hitl.kinds.common      safe payload reading and answer checks every kind shares
    hitl.kinds.handmade    confirm, question, edit, stage, approval_level, state_edit, feedback
                           (the LangGraph HITL patterns)
    hitl.kinds.call_review tool_review, sensitive_tools (hand-made patterns proposing tool calls)
    hitl.kinds.langchain   hitl_request, tool_approval (HumanInTheLoopMiddleware)
    hitl.kinds.agent_inbox agent_inbox (Agent Inbox HumanInterrupt)
    hitl.kinds.generic     schema, json

Adding a kind: a `@register`ed `PayloadKind` subclass in one of these modules (or a new one
imported here), and its card renderer in `hitl.ui.cards` under the same name.
"""

from __future__ import annotations

from typing import Any

from hitl.kinds import agent_inbox, call_review, generic, handmade, langchain  # noqa: F401  (each registers its kinds)
from hitl.kinds.base import REGISTRY, PayloadKind, kind_of, ordered, register

__all__ = ["PayloadKind", "REGISTRY", "register", "kind_of", "ordered", "classify", "titles"]


def classify(value: Any, response_schema: Any = None) -> str:
    """The name of the first kind (in recognition order) that recognises the payload; never raises."""
    for kind in ordered():
        try:
            if kind.recognise(value, response_schema):
                return kind.name
        except Exception:  # a hostile Mapping can raise from .get(): try the next kind
            continue
    return "json"


def titles() -> dict[str, str]:
    """Card titles by kind name."""
    return {name: kind.title for name, kind in REGISTRY.items()}
