"""What an answer approves: the tool calls it lets run, and whether it lets anything happen."""

from __future__ import annotations

import json
from typing import Any
from hitl import contracts
from hitl.contracts import Contract
from hitl.kinds import kind_of
from hitl.access.items import ReviewItem


def approved_calls(kind: str, value: Any, answer: Any, contract: Contract | None = None) -> list[dict[str, Any]] | None:
    """The tool calls an answer lets run (name and final args), or None for kinds without
    tool calls.

    This is what the rules are evaluated on besides the payload: a tool_review answer's
    `approved_tools` as sent, the edited arguments (and, should an edit rename the call, the
    new name) of hitl_request, tool_approval and agent_inbox edits (`PayloadKind.approved_calls`).
    Under a contract that is not the kind's own shape (a yes/no node gating tool calls), an
    approving answer lets every proposed call run.
    """
    meaning = contracts.approves(contract, answer)
    if meaning is None:
        return kind_of(kind).approved_calls(value, answer)
    proposed = [dict(call) for call in kind_of(kind).tool_calls(value)]
    if not proposed:
        return None
    return proposed if meaning else []


def approves(kind: str, value: Any, answer: Any, contract: Contract | None = None) -> bool:
    """Whether the answer lets anything happen (an approval), rather than stopping it.

    Read under the interrupt's contract when it is not the kind's own shape (`True` to a
    yes/no node approves; anything but the contract's rejection counts as approval). Unknown
    kinds (schema, json) and state edits count as approvals: the desk cannot tell, so four
    eyes and quorum treat them the strict way.
    """
    meaning = contracts.approves(contract, answer)
    if meaning is not None:
        return meaning
    return kind_of(kind).approves(value, answer)


def agreement_key(item: ReviewItem, answer: Any) -> str | None:
    calls = approved_calls(item.kind, item.value, answer, item.contract)
    if calls is None:
        return None
    return json.dumps(sorted(calls, key=lambda c: json.dumps(c, sort_keys=True, default=str)), sort_keys=True, default=str)
