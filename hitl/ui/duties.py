"""Separation of duties, made visible on the review card (issue 17).

In local mode (no login configured) anyone can type any name, so the desk cannot enforce four
eyes; it can at least say when one name signs twice. `duty_warnings` is pure (tested without
Streamlit); `last_round` reads "round N of M" from a feedback payload, for the warning that
sending feedback in the last round ends the loop with the revision unapproved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["duty_warnings", "last_round", "LastRound"]

_APPROVING_KINDS_WITH_LEVELS = frozenset({"approval_level", "stage"})


def _same(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.strip().casefold() == b.strip().casefold() != ""


def _approved(row: Mapping[str, Any]) -> bool:
    answer = row.get("answer")
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except (TypeError, ValueError):
            return False
    if answer is True:
        return True
    return isinstance(answer, Mapping) and (answer.get("approved") is True or answer.get("action") == "approve")


def duty_warnings(*, kind: str, reviewer: str, decisions: Sequence[Mapping[str, Any]] = (),
                  metadata: Mapping[str, Any] | None = None, login_mode: bool = False) -> list[str]:
    """Warnings for `reviewer` about to decide a request of `kind` on a thread.

    Local mode only (login mode enforces four eyes through HITL_CONFIG instead): the reviewer
    requested this run (`requested_by` in its metadata), or already approved an earlier level
    or stage of the same chain on this thread.
    """
    if login_mode or not reviewer.strip():
        return []
    out = []
    requester = (metadata or {}).get("requested_by")
    if _same(requester, reviewer):
        out.append(f"You ({reviewer}) requested this run. Approving your own request skips a second pair of eyes: "
                   "ask someone else to review it.")
    if kind in _APPROVING_KINDS_WITH_LEVELS:
        mine = [row for row in decisions if row.get("kind") == kind and _same(row.get("reviewer"), reviewer)
                and _approved(row)]
        if mine:
            levels = len(mine)
            out.append(f"You ({reviewer}) already approved {levels} earlier level{'s' if levels != 1 else ''} of this "
                       "approval chain. Each level is meant to be signed by a different person; the desk runs without "
                       "login, so it cannot check who you are.")
    return out


class LastRound:
    """The round a feedback request is in, when its payload says so."""

    def __init__(self, number: int, of: int) -> None:
        self.number = number
        self.of = of

    @property
    def is_last(self) -> bool:
        return self.number >= self.of

    def warning(self) -> str:
        return (f"Last round ({self.number} of {self.of}): sending feedback ends the loop with revision {self.number} "
                "unapproved. The graph publishes nothing more after it; approve this version or decide on purpose.")


def last_round(value: Any, *, max_rounds: int | None = None) -> LastRound | None:
    """"Round N of M" from a feedback payload's message (or its `iteration` and `max_rounds`,
    or the contract's maximum); None when the payload does not say."""
    message = value.get("message") if isinstance(value, Mapping) else None
    if isinstance(message, str):
        match = re.search(r"round\s+(\d+)\s+of\s+(\d+)", message, re.IGNORECASE)
        if match:
            return LastRound(int(match.group(1)), int(match.group(2)))
    iteration = value.get("iteration") if isinstance(value, Mapping) else None
    limit = value.get("max_rounds", max_rounds) if isinstance(value, Mapping) else max_rounds
    if isinstance(iteration, int) and not isinstance(iteration, bool) and isinstance(limit, int) and limit > 0:
        return LastRound(iteration + 1, limit)
    return None
