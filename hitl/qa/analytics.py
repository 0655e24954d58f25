"""What each HITL decision did to what the agent proposed, and decision analytics over the audit log. Pure.

`summarize_decision(kind, payload, answer)` reads a recorded answer against the payload that was
shown: the verdict (approved, edited, rejected, feedback, mixed, other), the verdict per tool
call, and every field the reviewer changed (`FieldChange`, before and after) — the diff the QA
page shows and the "most-edited fields" the History page counts. `decision_analytics(rows)`
turns audit rows into three tables: per graph and per tool, how often reviewers approve, edit
or reject and the median time to decide; and the fields edited most often.

Only human decisions count (actions `decision`, `batch` and quorum `vote`s, by reviewers not
named `system:...`), and never a thread the QA desk forked (`exclude_threads`): forks are
experiments, not production decisions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from hitl.jsondata import from_json_text

__all__ = [
    "Verdict",
    "FieldChange",
    "DecisionSummary",
    "summarize_decision",
    "decision_analytics",
    "DecisionAnalytics",
    "HUMAN_ACTIONS",
    "diff_values",
]

Verdict = Literal["approved", "edited", "rejected", "feedback", "mixed", "other"]

HUMAN_ACTIONS = ("decision", "batch", "vote")
"""Audit actions that are a reviewer's decision (not a resolve, timeout, extension or recovery)."""


@dataclass(frozen=True, kw_only=True)
class FieldChange:
    """One field the reviewer changed before approving."""

    path: str
    """Where, e.g. `draft`, `send_email.args.to`, `metadata.priority`."""
    before: Any
    after: Any


@dataclass(frozen=True, kw_only=True)
class DecisionSummary:
    """What one recorded answer meant."""

    verdict: Verdict
    tools: tuple[tuple[str, Verdict], ...] = ()
    """(tool name, verdict) per tool call the payload asked about."""
    changes: tuple[FieldChange, ...] = field(default_factory=tuple)


def _get(value: Any, key: str, default: Any = None) -> Any:
    return value.get(key, default) if isinstance(value, Mapping) else default


def diff_values(before: Any, after: Any, path: str) -> list[FieldChange]:
    """Leaf-level differences between two JSON values (dict keys recursively; lists and scalars whole)."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        changes: list[FieldChange] = []
        for key in list(dict.fromkeys([*before, *after])):
            sub = f"{path}.{key}" if path else str(key)
            if key not in after:
                changes.append(FieldChange(path=sub, before=before[key], after=None))
            elif key not in before:
                changes.append(FieldChange(path=sub, before=None, after=after[key]))
            else:
                changes.extend(diff_values(before[key], after[key], sub))
        return changes
    if before == after:
        return []
    return [FieldChange(path=path or "(value)", before=before, after=after)]


def _combined(verdicts: Sequence[Verdict]) -> Verdict:
    unique = set(verdicts)
    if not unique:
        return "other"
    if len(unique) == 1:
        return verdicts[0]
    if unique <= {"approved", "edited"}:
        return "edited"
    return "mixed"


def _approved_flag(answer: Any) -> Verdict:
    approved = _get(answer, "approved")
    if isinstance(answer, bool):
        return "approved" if answer else "rejected"
    if isinstance(approved, bool):
        if approved:
            return "approved"
        return "feedback" if _get(answer, "feedback") else "rejected"
    return "other"


_DECISION_VERDICT: dict[str, Verdict] = {
    "approve": "approved", "accept": "approved", "edit": "edited", "reject": "rejected", "ignore": "rejected",
    "respond": "feedback", "response": "feedback",
}  # fmt: skip


def _call_decision(name: str, args: Any, decision: Any, *, edited_args: Any) -> tuple[Verdict, list[FieldChange]]:
    verdict = _DECISION_VERDICT.get(str(_get(decision, "type")), "other")
    if verdict != "edited":
        return verdict, []
    changes = diff_values(args if isinstance(args, Mapping) else {}, edited_args if isinstance(edited_args, Mapping) else {}, f"{name}.args")
    return ("edited" if changes else "approved"), changes


def summarize_decision(kind: str | None, payload: Any, answer: Any) -> DecisionSummary:
    """The verdict, per-tool verdicts and changed fields of one answer to one payload. Never raises."""
    try:
        return _summarize(kind or "json", from_json_text(payload), from_json_text(answer))
    except Exception:  # a malformed row is "other", never an error in analytics
        return DecisionSummary(verdict="other")


def _summarize(kind: str, payload: Any, answer: Any) -> DecisionSummary:
    if kind == "edit":
        action = _get(answer, "action")
        if action == "approve":
            edited = _get(answer, "edited")
            draft = _get(payload, "draft")
            if "edited" in (answer or {}) and edited != draft:
                return DecisionSummary(verdict="edited", changes=tuple(diff_values(draft, edited, "draft")))
            return DecisionSummary(verdict="approved")
        return DecisionSummary(verdict={"reject": "rejected", "regenerate": "feedback"}.get(str(action), "other"))
    if kind == "state_edit":
        if not _get(answer, "modified"):
            return DecisionSummary(verdict="approved" if isinstance(answer, Mapping) else "other")
        state = _get(payload, "current_state", {}) or {}
        changes = diff_values(_get(state, "output"), _get(answer, "new_output"), "output")
        if "new_metadata" in answer:
            changes += diff_values(_get(state, "metadata", {}) or {}, _get(answer, "new_metadata") or {}, "metadata")
        return DecisionSummary(verdict="edited" if changes else "approved", changes=tuple(changes))
    if kind == "tool_review":
        tools = [t for t in (_get(payload, "tools") or []) if isinstance(t, Mapping)]
        if not _get(answer, "approved"):
            return DecisionSummary(verdict="rejected", tools=tuple((str(_get(t, "name")), "rejected") for t in tools))
        approved = [t for t in (_get(answer, "approved_tools") or []) if isinstance(t, Mapping)]
        per_tool: list[tuple[str, Verdict]] = []
        changes: list[FieldChange] = []
        remaining = list(approved)
        for tool in tools:
            name = str(_get(tool, "name"))
            match = next((a for a in remaining if _get(a, "name") == name), None)
            if match is None:
                per_tool.append((name, "rejected"))
                continue
            remaining.remove(match)
            diff = diff_values(_get(tool, "args", {}) or {}, _get(match, "args", {}) or {}, f"{name}.args")
            changes.extend(diff)
            per_tool.append((name, "edited" if diff else "approved"))
        verdict: Verdict = "edited" if changes or any(v == "rejected" for _, v in per_tool) else "approved"
        return DecisionSummary(verdict=verdict, tools=tuple(per_tool), changes=tuple(changes))
    if kind == "hitl_request":
        requests = [r for r in (_get(payload, "action_requests") or []) if isinstance(r, Mapping)]
        decisions = _get(answer, "decisions") or []
        per_tool, changes = [], []
        for request, decision in zip(requests, decisions, strict=False):
            name = str(_get(request, "name"))
            verdict, diff = _call_decision(name, _get(request, "args"), decision,
                                           edited_args=_get(_get(decision, "edited_action"), "args"))  # fmt: skip
            per_tool.append((name, verdict))
            changes.extend(diff)
        return DecisionSummary(verdict=_combined([v for _, v in per_tool]), tools=tuple(per_tool), changes=tuple(changes))
    if kind == "tool_approval":
        name = str(_get(payload, "name"))
        verdict, diff = _call_decision(name, _get(payload, "args"), answer, edited_args=_get(_get(answer, "edited_action"), "args"))
        return DecisionSummary(verdict=verdict, tools=((name, verdict),), changes=tuple(diff))
    if kind == "agent_inbox":
        interrupts = payload if isinstance(payload, list) else [payload]
        responses = answer if isinstance(answer, list) else [answer]
        per_tool, changes = [], []
        for request, response in zip(interrupts, responses, strict=False):
            action = _get(request, "action_request") or {}
            name = str(_get(action, "action"))
            edited = _get(response, "args")
            edited = _get(edited, "args", edited) if isinstance(edited, Mapping) and "action" in edited else edited
            verdict, diff = _call_decision(name, _get(action, "args"), response, edited_args=edited)
            per_tool.append((name, verdict))
            changes.extend(diff)
        return DecisionSummary(verdict=_combined([v for _, v in per_tool]), tools=tuple(per_tool), changes=tuple(changes))
    verdict = _approved_flag(answer)
    tools: tuple[tuple[str, Verdict], ...] = ()
    if kind == "sensitive_tools":
        tools = tuple((str(_get(c, "name")), verdict) for c in (_get(payload, "sensitive_tools") or []) if isinstance(c, Mapping))
    elif kind == "question" and isinstance(_get(payload, "action"), str):
        tools = ((payload["action"], verdict),)
    return DecisionSummary(verdict=verdict, tools=tools)


# --------------------------------------------------------------------------- analytics


@dataclass(frozen=True, kw_only=True)
class DecisionAnalytics:
    """Decision analytics over audit rows."""

    by_graph: pd.DataFrame
    """graph_id, decisions, approved, edited, rejected, approve_rate, edit_rate, reject_rate, median_seconds."""
    by_tool: pd.DataFrame
    """tool, the same counts and rates over the tool calls reviewers judged."""
    edited_fields: pd.DataFrame
    """graph_id, kind, field, edits: fields changed before approval, most edited first."""
    decisions: int


_INDEX = re.compile(r"\[\d+\]")


def _rates(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    columns = [key, "decisions", "approved", "edited", "rejected", "approve_rate", "edit_rate", "reject_rate", "median_seconds"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    grouped = frame.groupby(key, dropna=False)
    out = pd.DataFrame(
        {
            "decisions": grouped.size(),
            "approved": grouped["verdict"].agg(lambda v: int((v == "approved").sum())),
            "edited": grouped["verdict"].agg(lambda v: int((v == "edited").sum())),
            "rejected": grouped["verdict"].agg(lambda v: int((v == "rejected").sum())),
            "median_seconds": grouped["waited_seconds"].median(),
        }
    ).reset_index()
    for rate, count in (("approve_rate", "approved"), ("edit_rate", "edited"), ("reject_rate", "rejected")):
        out[rate] = out[count] / out["decisions"]
    return out[columns].sort_values(["decisions", key], ascending=[False, True]).reset_index(drop=True)


def decision_analytics(rows: Iterable[Mapping[str, Any]] | pd.DataFrame, *, exclude_threads: Iterable[str] = ()) -> DecisionAnalytics:
    """Approve / edit / reject rates and median time to decide per graph and per tool, and the
    most-edited fields, from audit rows (dicts or `Inbox.history()`'s frame)."""
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else [dict(r) for r in rows]
    excluded = set(exclude_threads)
    decisions, tools, fields = [], [], []
    for row in records:
        if row.get("action") not in HUMAN_ACTIONS or str(row.get("reviewer") or "").startswith("system:"):
            continue
        if row.get("thread_id") in excluded:
            continue
        summary = summarize_decision(row.get("kind"), row.get("payload"), row.get("answer"))
        waited = row.get("waited_seconds")
        waited = float(waited) if isinstance(waited, (int, float)) and waited == waited else None
        graph = row.get("graph_id") or "(unknown)"
        decisions.append({"graph_id": graph, "verdict": summary.verdict, "waited_seconds": waited})
        for name, verdict in summary.tools:
            tools.append({"tool": name, "verdict": verdict, "waited_seconds": waited})
        for change in summary.changes:
            fields.append({"graph_id": graph, "kind": row.get("kind") or "", "field": _INDEX.sub("[]", change.path)})
    decision_frame = pd.DataFrame(decisions, columns=["graph_id", "verdict", "waited_seconds"])
    tool_frame = pd.DataFrame(tools, columns=["tool", "verdict", "waited_seconds"])
    field_frame = pd.DataFrame(fields, columns=["graph_id", "kind", "field"])
    if field_frame.empty:
        edited = pd.DataFrame(columns=["graph_id", "kind", "field", "edits"])
    else:
        edited = (
            field_frame.groupby(["graph_id", "kind", "field"]).size().rename("edits").reset_index()
            .sort_values(["edits", "graph_id", "field"], ascending=[False, True, True]).reset_index(drop=True)
        )  # fmt: skip
    return DecisionAnalytics(
        by_graph=_rates(decision_frame, "graph_id"), by_tool=_rates(tool_frame, "tool"), edited_fields=edited,
        decisions=len(decision_frame),
    )  # fmt: skip
