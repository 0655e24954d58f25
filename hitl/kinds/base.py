"""`PayloadKind`: everything the desk knows about one kind of interrupt payload, in one object.

A kind says how a payload is recognised, summarised and listed, which tool calls it asks about,
what its own answer shape is (its builders, validation and one-click answers), and what an answer
approves for the access rules. Kinds register themselves in `REGISTRY` by name; the UI registers
a card renderer under the same name. Adding a kind is one module here and one card.

What a graph expects back is the interrupt's *contract* (`hitl.contracts`): the kind's own answer
shape is used only when the contract says the graph reads that shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from hitl.kinds.common import ToolCallInfo, compact, fail, get

__all__ = ["ActionSpec", "PayloadKind", "REGISTRY", "register", "kind_of", "ordered"]


@dataclass(frozen=True, kw_only=True)
class ActionSpec:
    """One tool call of a standard-format request, with the decisions it allows."""

    name: str
    args: dict[str, Any]
    description: str = ""
    allowed: tuple[str, ...] = ()
    """Decision types offered, in display order."""
    markdown: bool = False
    """The description is markdown (Agent Inbox); show it through a sanitiser."""


class PayloadKind:
    """One payload kind. Subclasses override what differs; every method is pure."""

    name: ClassVar[str]
    title: ClassVar[str]
    """The card's heading ("Approve an action")."""

    priority: ClassVar[int] = 100
    """Recognition order: lower is tried first (tagged shapes before shapes known by keys)."""

    decision_key: ClassVar[str | None] = None
    """For a hand-made answer shape: the key that carries the decision ("approved", "action")."""

    answer_keys: ClassVar[frozenset[str]] = frozenset()
    """Every key of the kind's own answer shape."""

    standard: ClassVar[bool] = False
    """The payload's format defines its answer (LangChain HITL middleware, Agent Inbox)."""

    def recognise(self, value: Any, response_schema: Any) -> bool:
        """Whether `value` is a payload of this kind (may raise on hostile mappings: caught)."""
        return False

    def summary(self, value: Any) -> str:
        """One-line summary for the inbox (cut and cleaned by the caller)."""
        if isinstance(value, Mapping):
            for key in ("message", "question", "description", "title"):
                text = get(value, key)
                if isinstance(text, str) and text.strip():
                    return text
        return compact(value)

    def tool_calls(self, value: Any) -> list[ToolCallInfo]:
        """The tool calls the payload asks about."""
        return []

    def validate(self, value: Any, answer: Any, response_schema: Any) -> Any:
        """A raw answer checked against this kind's answer shape; returns it normalised."""
        return answer

    def quick(self, value: Any, *, approve: bool, comment: str, reviewer: str, response_schema: Any) -> Any:
        """What a one-click approve (or reject) means in this kind's answer shape."""
        raise fail("", f"a {self.name} request cannot be answered in one click", hint="Open it to answer")

    def approved_calls(self, value: Any, answer: Any) -> list[dict[str, Any]] | None:
        """The tool calls the answer lets run (final args), or None for kinds without tool calls."""
        return None

    def approves(self, value: Any, answer: Any) -> bool:
        """Whether the answer lets something happen. Unknown means yes (the strict way)."""
        calls = self.approved_calls(value, answer)
        return bool(calls) if calls is not None else True

    def actions(self, value: Any, response_schema: Any) -> list[ActionSpec]:
        """The per-call decisions a standard-format request offers (none for other kinds)."""
        return []

    def stamp_approver(self, answer: Any, identity: str) -> Any:
        """The answer with the signed-in approver recorded where the kind keeps it."""
        return answer


REGISTRY: dict[str, PayloadKind] = {}
"""Every kind by name, in registration order."""


def register(cls: type[PayloadKind]) -> type[PayloadKind]:
    """Class decorator: add one instance of the kind to `REGISTRY`."""
    if cls.name in REGISTRY:
        raise ValueError(f"payload kind {cls.name!r} is registered twice")
    REGISTRY[cls.name] = cls()
    return cls


def ordered() -> list[PayloadKind]:
    """Kinds in recognition order."""
    return sorted(REGISTRY.values(), key=lambda kind: kind.priority)


def kind_of(name: str) -> PayloadKind:
    """The kind named `name`; the `json` kind for a name no module registered."""
    return REGISTRY.get(name) or REGISTRY["json"]
