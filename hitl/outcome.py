"""Outcome unknown: a resume that may have run a node, but whose result the checkpointer does not show.

A node runs, then LangGraph saves what it wrote. When that save fails (SQLite stayed locked
past the busy timeout, PostgreSQL restarted) or the desk dies while the graph runs, the
checkpointer still shows the interrupt as if nobody had answered it, although the node may
have done its work (sent the e-mail, made the payment). Offering that interrupt again as a
plain new decision would run the node a second time. So the desk records such a decision
as *outcome unknown* (claim state `unknown`, audit outcome `unknown`), with the original
answer and reviewer, and refuses plain decisions on it (`OutcomeUnknown`, REST 409
`outcome_unknown`) until someone explicitly retries it (`Inbox.retry(...,
accept_repeat=True)`: the node may run twice) or marks the thread resolved.

The desk knows a node did *not* run when the error came before any node started (the
graph reports each node's start): such a failure leaves the interrupt answerable as before.

These types sit below the store (which raises `OutcomeUnknown` from `claim`); they belong
with the rest of the tree in `hitl.errors`, where `OutcomeUnknown` can move unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from hitl.errors import HitlError

__all__ = ["UnknownOutcome", "OutcomeUnknown", "UnknownState"]

UnknownState = Literal["unknown", "unrecorded"]
""""unknown": recorded (claim and audit row); retry or resolve it. "unrecorded": the desk could
not record what happened (the database failed too); the claim stays held and `recover`
settles it after the claim lease: `recovered` if the run was saved, else `unknown`."""


@dataclass(frozen=True, kw_only=True)
class UnknownOutcome:
    """A decision whose resume may have run a node without its result being saved."""

    thread_id: str
    interrupt_ids: tuple[str, ...]
    """The interrupts that decision answered."""
    reviewer: str | None
    """Who took the original decision."""
    answers: dict[str, Any] = field(default_factory=dict)
    """The original decision: {interrupt_id: answer sent to the graph}."""
    decided_at: datetime | None = None
    state: UnknownState = "unknown"
    may_run_twice: tuple[str, ...] = ()
    """Nodes that started for that decision (or, when the desk died, the answered node): a
    retry runs them again."""
    error: str | None = None
    """What went wrong, as recorded."""

    @property
    def nodes_text(self) -> str:
        """The nodes that may run twice, for messages ("node pay", "nodes a, b", "the resumed node")."""
        if not self.may_run_twice:
            return "the resumed node"
        names = ", ".join(self.may_run_twice)
        return f"node{'s' if len(self.may_run_twice) > 1 else ''} {names}"

    @property
    def warning(self) -> str:
        """What a retry may do twice, for the confirmation a retry needs."""
        return (
            f"Retrying runs {self.nodes_text} again with {self.reviewer or 'the original reviewer'}'s answer. "
            f"{self.nodes_text[0].upper() + self.nodes_text[1:]} may already have run once for this decision, "
            "so whatever it does (a payment, an e-mail, an API call) may happen twice. Check the system it "
            "acts on first; if it already happened, mark the thread resolved instead."
        )

    def details(self) -> dict[str, Any]:
        """The state as plain JSON-able data (the REST API's 409 `details`)."""
        return {
            "state": self.state,
            "thread_id": self.thread_id,
            "interrupt_ids": list(self.interrupt_ids),
            "decided_by": self.reviewer,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "answers": self.answers,
            "may_run_twice": list(self.may_run_twice),
            "error": self.error,
            "choices": {
                "retry": "Run it again with the original answer, accepting that "
                f"{self.nodes_text} may run twice: the Review page, or Inbox.retry(thread_id, reviewer=..., "
                "accept_repeat=True).",
                "resolve": "Close the thread without running anything: the Review page, "
                "`python -m hitl resolve THREAD --reviewer NAME --reason TEXT`, or Inbox.resolve(...).",
            }
            if self.state == "unknown"
            else {
                "wait": "The claim stays held. After the claim lease (HITL_CLAIM_LEASE_SECONDS) the app's sweep or "
                "`python -m hitl recover` settles it from the checkpointer; then retry or resolve it if it is "
                "outcome unknown.",
            },
        }


class OutcomeUnknown(HitlError):
    """The decision's resume may have run a node whose result was not saved; nothing new was run.

    Raised by the resume that hit the fault, and by every plain decision on the thread until
    it is retried (explicitly) or resolved. `outcome` holds the state.
    """

    def __init__(self, outcome: UnknownOutcome, message: str | None = None) -> None:
        self.outcome = outcome
        super().__init__(message or _message(outcome))


def _message(outcome: UnknownOutcome) -> str:
    who = outcome.reviewer or "another reviewer"
    when = f" at {outcome.decided_at.strftime('%Y-%m-%d %H:%M:%S UTC')}" if outcome.decided_at else ""
    why = f" ({outcome.error})" if outcome.error else ""
    nodes = outcome.nodes_text
    if outcome.state == "unrecorded":
        return (
            f"The graph started running {nodes} for {who}'s decision on thread {outcome.thread_id!r}{when}, but the "
            f"desk could not record what happened{why}. Do not answer it again: the decision stays claimed, and "
            "after the claim lease (HITL_CLAIM_LEASE_SECONDS) the app's sweep or `python -m hitl recover` settles "
            "it from the checkpointer (recovered if the run was saved, otherwise outcome unknown, to retry or "
            "resolve)."
        )
    return (
        f"Outcome unknown for {who}'s decision on thread {outcome.thread_id!r}{when}: {nodes} may have run, but its "
        f"result was not saved{why}. It is not offered as a new decision and nothing was run now. Retry it "
        f"explicitly ({nodes} may then run twice) or mark the thread resolved."
    )
