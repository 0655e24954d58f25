"""Decision verdicts, diffs and analytics (pure)."""

from __future__ import annotations

import json

import pytest

from hitl.qa.analytics import decision_analytics, summarize_decision


@pytest.mark.parametrize(
    ("kind", "payload", "answer", "verdict", "paths"),
    [
        ("confirm", "Proceed?", False, "rejected", []),
        ("question", {"action": "send_email", "details": {}}, {"approved": True}, "approved", []),
        ("edit", {"type": "edit", "draft": "Hi"}, {"action": "approve", "edited": "Hello"}, "edited", ["draft"]),
        ("edit", {"type": "edit", "draft": "Hi"}, {"action": "approve"}, "approved", []),
        ("feedback", {"output": "x"}, {"approved": False, "feedback": "shorter"}, "feedback", []),
        ("tool_review", {"tools": [{"name": "pay", "args": {"amount": 5, "to": "a"}}, {"name": "log", "args": {}}]},
         {"approved": True, "approved_tools": [{"name": "pay", "args": {"amount": 3, "to": "a"}}]}, "edited", ["pay.args.amount"]),
        ("state_edit", {"current_state": {"output": "a", "metadata": {"p": 1}}},
         {"modified": True, "new_output": "b", "new_metadata": {"p": 2}}, "edited", ["output", "metadata.p"]),
        ("hitl_request", {"action_requests": [{"name": "send", "args": {"to": "x"}}, {"name": "rm", "args": {}}]},
         {"decisions": [{"type": "edit", "edited_action": {"name": "send", "args": {"to": "y"}}}, {"type": "reject"}]},
         "mixed", ["send.args.to"]),
        ("agent_inbox", [{"action_request": {"action": "reply", "args": {"text": "a"}}}],
         [{"type": "edit", "args": {"action": "reply", "args": {"text": "b"}}}], "edited", ["reply.args.text"]),
    ],
)  # fmt: skip
def test_summaries(kind: str, payload, answer, verdict: str, paths: list[str]) -> None:
    summary = summarize_decision(kind, json.dumps(payload), json.dumps(answer))
    assert summary.verdict == verdict
    assert [c.path for c in summary.changes] == paths


def test_tool_verdicts_per_call() -> None:
    summary = summarize_decision(
        "tool_review",
        {"tools": [{"name": "pay", "args": {"amount": 5}}, {"name": "log", "args": {}}]},
        {"approved": True, "approved_tools": [{"name": "log", "args": {}}]},
    )
    assert summary.tools == (("pay", "rejected"), ("log", "approved"))


def test_analytics_per_graph_and_tool_without_forks_or_system_rows() -> None:
    rows = [
        {"thread_id": "t1", "graph_id": "g", "kind": "question", "action": "decision", "reviewer": "a",
         "payload": {"action": "send"}, "answer": {"approved": True}, "waited_seconds": 10.0},
        {"thread_id": "t2", "graph_id": "g", "kind": "question", "action": "batch", "reviewer": "a",
         "payload": {"action": "send"}, "answer": {"approved": False}, "waited_seconds": 30.0},
        {"thread_id": "t3", "graph_id": "h", "kind": "edit", "action": "decision", "reviewer": "b",
         "payload": {"draft": "x"}, "answer": {"action": "approve", "edited": "y"}, "waited_seconds": 5.0},
        {"thread_id": "t4", "graph_id": "g", "kind": "question", "action": "timeout", "reviewer": "system:timeout",
         "payload": {"action": "send"}, "answer": {"approved": False}, "waited_seconds": 999.0},
        {"thread_id": "t1~fork-1", "graph_id": "g", "kind": "question", "action": "decision", "reviewer": "a",
         "payload": {"action": "send"}, "answer": {"approved": False}, "waited_seconds": 1.0},
        {"thread_id": "t5", "graph_id": "h", "kind": "edit", "action": "resolve", "reviewer": "b", "payload": None, "answer": None},
    ]  # fmt: skip
    result = decision_analytics(rows, exclude_threads={"t1~fork-1"})
    assert result.decisions == 3
    g = result.by_graph.set_index("graph_id").loc["g"]
    assert (g["decisions"], g["approved"], g["rejected"], g["approve_rate"], g["median_seconds"]) == (2, 1, 1, 0.5, 20.0)
    send = result.by_tool.set_index("tool").loc["send"]
    assert (send["decisions"], send["reject_rate"]) == (2, 0.5)
    assert result.edited_fields.to_dict("records") == [{"graph_id": "h", "kind": "edit", "field": "draft", "edits": 1}]
