"""Core values (interrupts, audit rows, outcomes) to the API's bodies."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from hitl.api.models import DecisionOut, InterruptOut, ResumeOut
from hitl.errors import InvalidAnswer
from hitl.inbox import PendingInterrupt, ResumeOutcome
from hitl.jsondata import json_safe

__all__ = ["interrupt_out", "decision_out", "plain", "parse_json", "outcome_out", "as_utc"]


def interrupt_out(item: PendingInterrupt, contract: Any = None) -> InterruptOut:
    return InterruptOut(
        contract=json_safe(contract.as_dict()) if contract is not None else None,
        id=item.id,
        node=item.node,
        kind=item.kind,
        summary=item.summary,
        payload=json_safe(item.value),
        response_schema=json_safe(item.response_schema) if item.response_schema is not None else None,
        decode_error=item.decode_error,
        failed_error=item.failed_error,
    )


def decision_out(row: Mapping[str, Any], *, model: type[DecisionOut] = DecisionOut, payload: bool = False) -> Any:
    data = {key: plain(row.get(key)) for key in model.model_fields}
    data["answer"] = parse_json(data.get("answer"))
    if "payload" in data:
        data["payload"] = parse_json(data["payload"]) if payload else None
    decided_at = data["decided_at"]
    if not isinstance(decided_at, datetime):
        data["decided_at"] = datetime.fromtimestamp(float(decided_at), timezone.utc)
    return model(**data)


def plain(value: Any) -> Any:
    """pandas / numpy scalars and NaN to plain Python."""
    if value is None:
        return None
    to_py = getattr(value, "to_pydatetime", None)
    if callable(to_py):  # the audit log keeps microseconds; pandas adds float noise below them
        return to_py(warn=False)
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        value = item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def parse_json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json_safe(json.loads(text))
    except ValueError:
        return text


def outcome_out(outcome: ResumeOutcome, thread_id: str, reviewer: str) -> ResumeOut:
    return ResumeOut(
        thread_id=outcome.thread_id or thread_id,
        status=outcome.status,
        error=outcome.error,
        new_interrupts=[interrupt_out(i) for i in outcome.new_interrupts],
        reviewer=reviewer,
        note=outcome.note,
    )


def as_utc(moment: datetime | None, field: str) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        moment.timestamp()
    except (OverflowError, ValueError, OSError) as exc:
        raise InvalidAnswer(f"{field}={moment.isoformat()} is out of range ({exc}).", field_errors={field: str(exc)}) from None
    return moment
