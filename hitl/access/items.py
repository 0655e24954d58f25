"""`ReviewItem`: one pending interrupt with the context the access rules look at."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from hitl.contracts import Contract
from hitl.domain import PendingInterrupt
from hitl.payloads import tool_calls
from hitl.access.names import clean_name, name_note, normalized_name, shown_name


@dataclass(frozen=True, kw_only=True)
class ReviewItem:
    """One pending interrupt with the context the rules look at."""

    thread_id: str
    interrupt_id: str
    graph_id: str | None
    kind: str
    value: Any
    requested_by: str | None = None
    """The thread's requester, as the desk pinned it when it first saw the thread
    (`thread_requesters`), not whatever the latest checkpoint's metadata says."""
    contract: Contract | None = field(default=None, compare=False)
    """What the graph expects back (`hitl.contracts`): answers are read under it, so a plain
    `True` to a yes/no node is the approval it is. None reads answers in the kind's own shape."""

    @classmethod
    def of(
        cls,
        thread_id: str,
        graph_id: str | None,
        interrupt: PendingInterrupt,
        requested_by: str | None = None,
        *,
        contract: Contract | None = None,
    ) -> ReviewItem:
        """From a `PendingInterrupt` of a thread."""
        return cls(
            thread_id=thread_id,
            interrupt_id=interrupt.id,
            graph_id=graph_id,
            kind=interrupt.kind,
            value=interrupt.value,
            requested_by=clean_name(requested_by),
            contract=contract,
        )

    @property
    def calls(self) -> list[dict[str, Any]]:
        """The tool calls the payload asks about."""
        return [dict(call) for call in tool_calls(self.value, self.kind)]  # type: ignore[arg-type]

    @property
    def tools(self) -> tuple[str, ...]:
        """Names of the tool calls, in order, without repeats, as the payload spells them."""
        return tuple(dict.fromkeys(call["name"] for call in self.calls))

    @property
    def level(self) -> str | None:
        """The approval level an approval_level payload asks for, normalised and lower-cased."""
        if self.kind != "approval_level" or not isinstance(self.value, Mapping):
            return None
        level = self.value.get("level")
        if level in (None, ""):
            return None
        return normalized_name(str(level)).lower() or None

    @property
    def name_notes(self) -> tuple[str, ...]:
        """One note per tool name (and graph id) that is not what it looks like: it holds
        invisible, bidi or compatibility characters, so the rules read it normalised."""
        notes = [name_note(name, what="tool name") for name in self.tools]
        if self.graph_id:
            notes.append(name_note(self.graph_id, what="graph id"))
        return tuple(note for note in notes if note)

    def describe(self) -> str:
        """`"make_payment on thread t1"`: what the item is, for messages (invisible characters
        shown as `<U+200B>`, and flagged)."""
        what = ", ".join(shown_name(tool) for tool in self.tools) or (
            f"{self.level}-level approval" if self.level else f"{self.kind} item"
        )
        notes = self.name_notes
        return f"{what} on thread {self.thread_id!r}" + (f" ({'; '.join(notes)})" if notes else "")
