"""Settle the claims of a desk that died mid-resume, and resubmit the abandoned answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hitl.desk import Desk
from hitl.errors import HitlError
from hitl.services.resume_one import resume
from hitl.services.stale_claims import settle_stale_claims


def recover_stale_claims(
    inbox: Desk, *, resubmit: bool = False, thread_ids: Sequence[str] | None = None
) -> list[tuple[str, str, str]]:
    """Settle claims whose desk died mid-resume (of these threads only, when given). Returns
    (thread, interrupt, result).

    See `settle_stale_claims` for how each is settled (`recovered`, `unknown`, `failed` or
    `abandoned`). With `resubmit`, an abandoned claim's stored answer is then resumed again
    under its original reviewer (action "recovery") through a fresh claim: exactly once, and
    `AlreadyDecided` if someone answered it meanwhile. Unknown outcomes are never resubmitted.
    """
    on_abandoned = (lambda thread_id, interrupt_id, claim: _resubmit(inbox, thread_id, interrupt_id, claim)) if resubmit else None
    return settle_stale_claims(inbox, thread_ids=thread_ids, on_abandoned=on_abandoned)


def _resubmit(inbox: Desk, thread_id: str, interrupt_id: str, claim: dict[str, Any]) -> str:
    try:
        outcome = resume(
            inbox, thread_id, {interrupt_id: claim["answer"]}, reviewer=claim["reviewer"],
            comment="resubmitted: the desk that took this decision died before the resume started",
            action="recovery",
        )  # fmt: skip
    except HitlError as exc:
        return f"abandoned; not resubmitted: {exc}"
    return f"resubmitted: {outcome.status}"
