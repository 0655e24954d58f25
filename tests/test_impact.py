"""hitl.kinds.impact: what approving does, read from payloads of every kind."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from hitl.kinds import classify
from hitl.kinds.impact import calls_impact, format_amount, read_impact

ROOT = Path(__file__).resolve().parents[1]

PAYMENT = {"name": "make_payment", "args": {"recipient": "ACME Corp", "amount": 1200, "currency": "USD"}}
DELETE = {"name": "delete_record", "args": {"record_id": "REC-2231", "reason": "Duplicate record"}}
EMAIL = {"name": "send_email", "args": {"to": "board@acme.example", "subject": "Q3", "body": "Hi\n\nAll well."}}
SEARCH = {"name": "search_records", "args": {"query": "open invoices"}}


def test_a_payment_line_names_tool_amount_target_and_flags():
    impact = read_impact({"sensitive_tools": [PAYMENT], "message": "Sensitive"})
    assert impact.line == "Approving runs make_payment: 1,200.00 USD to ACME Corp · moves money · irreversible"
    assert (impact.tool, impact.target, impact.amount_label) == ("make_payment", "ACME Corp", "1,200.00 USD")
    assert impact.moves_money and impact.irreversible and not impact.deletes
    assert impact.needs_confirmation


def test_create_agent_middleware_batch_lists_every_call_and_is_per_call():
    value = {
        "action_requests": [EMAIL, PAYMENT, DELETE],
        "review_configs": [{"action_name": c["name"], "allowed_decisions": ["approve", "edit", "reject"]}
                           for c in (EMAIL, PAYMENT, DELETE)],
    }
    impact = read_impact(value)
    assert impact.kind == "hitl_request" and impact.per_call
    assert impact.line.startswith("Approving all runs 3 tool calls: send_email to board@acme.example; "
                                  "make_payment: 1,200.00 USD to ACME Corp; delete_record on REC-2231")
    assert impact.line.endswith("· moves money · deletes · irreversible")
    assert impact.tool == "send_email, make_payment, delete_record"
    assert impact.amount_label == "1,200.00 USD"


def test_middleware_per_call_request_without_description_or_metadata():
    impact = read_impact({"type": "tool_approval", "name": "delete_record", "args": DELETE["args"]})
    assert impact.line == "Approving runs delete_record on REC-2231 · deletes · irreversible"
    assert impact.deletes and impact.needs_confirmation


def test_agent_inbox_human_interrupt():
    value = [{"action_request": {"action": "send_email", "args": EMAIL["args"]},
              "config": {"allow_accept": True, "allow_ignore": True, "allow_respond": False, "allow_edit": True},
              "description": "Send it"}]
    impact = read_impact(value)
    assert impact.kind == "agent_inbox"
    assert impact.line == "Approving runs send_email to board@acme.example · irreversible"
    assert not impact.needs_confirmation  # one email: irreversible, but neither money nor a deletion


def test_question_with_action_and_details_is_the_tool_it_names():
    value = {"action": "make_payment", "details": {"recipient": "Globex Ltd", "amount": "$4,800.00"},
             "question": "Approve?"}
    impact = read_impact(value)
    assert impact.line == "Approving runs make_payment: 4,800.00 USD to Globex Ltd · moves money · irreversible"


def test_tool_review_with_typed_args_decimal_amount_and_no_currency():
    value = {"type": "tool_review", "tools": [{"name": "make_payment", "args": {"amount": Decimal("50000.00"),
                                                                                "due": "2026-12-24"}}]}
    impact = read_impact(value)
    assert impact.amount == 50000.0 and impact.moves_money
    assert impact.line.startswith("Approving runs make_payment: 50,000.00")


def test_an_amount_that_cannot_be_read_counts_as_money():
    impact = read_impact({"type": "tool_approval", "name": "settle", "args": {"amount": "lots"}})
    assert impact.moves_money
    assert "not a readable amount" in impact.line


def test_declared_flags_are_read():
    impact = read_impact({"type": "tool_approval", "name": "rotate_keys", "args": {}, "irreversible": True})
    assert impact.irreversible and "irreversible" in impact.line
    assert not read_impact({"type": "tool_approval", "name": "rotate_keys", "args": {}}).irreversible


@pytest.mark.parametrize(
    ("value", "start", "flags"),
    [
        ("Proceed with this action? Delete record REC-2231.", "Approving answers yes to: Proceed with this action?",
         {"deletes"}),
        ({"question": "Approve this action?", "details": "reboot"}, "Approving answers yes to: Approve this action?", set()),
        ({"question": "Wire the money?", "details": "50 000 EUR to Mallory"}, "Approving answers yes to: Wire the money?",
         {"moves_money"}),
        ({"type": "edit", "draft": "Pay us 5,000 USD", "instructions": "Edit"}, "Approving sends the draft", set()),
        ({"stage": "outline", "result": "...", "message": "Review"}, "Approving passes stage “outline”", set()),
        # The result being passed on is work, not an action: an outline about payments moves nothing.
        ({"stage": "outline", "result": "Outline: vendor risk review for the payments platform, checkout",
          "message": "Review the outline"}, "Approving passes stage “outline”", set()),
        ({"stage": "payout", "result": "ready", "message": "Approve the payout run?"}, "Approving passes stage", {"moves_money"}),
        ({"level": "manager", "message": "Approval needed from manager (step 1 of 3).\n\nBudget: 52,000 EUR for a purchase"},
         "Approving signs as manager (step 1 of 3): 52,000.00 EUR", {"moves_money"}),
        ({"type": "state_edit", "current_state": {"output": "x", "metadata": {}}, "message": "m"},
         "Approving continues with the state shown", set()),
        ({"output": "v1", "iteration": 4, "message": "Approve this version or give feedback (round 5 of 5)."},
         "Approving accepts this version (round 5 of 5) and ends the loop", set()),
        ({"output": "v1", "iteration": 1}, "Approving accepts this version (revision 2)", set()),
        ({"weird": [1, 2, 3]}, "Submitting sends the answer you type", set()),
        (42, "Submitting sends the answer you type", set()),
        (None, "Submitting sends the answer you type", set()),
    ],
)
def test_kinds_without_a_tool_have_a_line_of_their_own(value, start, flags):
    impact = read_impact(value)
    assert impact.line.startswith(start), impact.line
    assert {f for f in ("moves_money", "deletes") if getattr(impact, f)} == flags
    assert not impact.calls


def test_schema_payload_says_the_form_is_sent_and_reads_no_risk_from_its_text():
    impact = read_impact({"complaint": "Refund me 50 USD now"}, {"type": "object", "properties": {"ok": {"type": "boolean"}}})
    assert impact.kind == "schema"
    assert impact.line == "Submitting sends the answer in the form."
    assert not impact.needs_confirmation


def test_hostile_payload_never_raises():
    class Hostile(dict):
        def get(self, *args):
            raise RuntimeError("boom")

        def items(self):
            raise RuntimeError("boom")

    assert read_impact(Hostile(a=1)).line


def test_calls_impact_of_what_an_answer_approves():
    assert calls_impact([]).line == "Approving runs no tool call."
    two = calls_impact([EMAIL, PAYMENT], verb="Sending your decisions")
    assert two.line.startswith("Sending your decisions runs 2 tool calls")
    assert two.needs_confirmation


def test_many_calls_are_cut_in_the_line_but_all_counted():
    many = calls_impact([DELETE] * 12)
    assert "and 7 more" in many.line and len(many.calls) == 12


def test_format_amount():
    assert format_amount(1250, "EUR") == "1,250.00 EUR"
    assert format_amount(None) == ""
    assert format_amount(-5.5) == "-5.50"


def test_every_demo_and_docs_graph_payload_has_a_line(tmp_path):
    """Seed every demo graph and run the docs-style graphs: each pending interrupt gets a line;
    those with tool calls name their tools."""
    from hitl import Inbox
    from hitl.demo.seed import seed

    inbox = Inbox.open(database_url=f"sqlite:///{tmp_path / 'demo.db'}", graphs_path=str(ROOT / "langgraph.json"),
                       create=True)
    seed(inbox, 14)
    inbox.refresh()
    seen = 0
    for thread in inbox.pending(limit=100).items:
        for item in thread.interrupts:
            impact = read_impact(item.value, item.response_schema, kind=item.kind)
            assert impact.line, item.kind
            for call in impact.calls:
                assert call.tool in impact.line or "more" in impact.line
            seen += 1
    assert seen >= 14


def test_docs_graph_payloads_classify_and_read():
    # The docs graphs' own payload shapes (tests/docs_graphs.py), with no desk metadata.
    payloads = [
        {"question": "Approve this action?", "details": "x"},
        "Trying to call `book_hotel` with args {'hotel_name': McKittrick Hotel}. Please approve or suggest edits.",
        {"action": "send_email", "details": "to the board", "question": "Send it?"},
        {"sensitive_tools": [{"name": "make_payment", "args": {"recipient": "mallory", "amount": 50000}}],
         "message": "Sensitive operations require approval"},
    ]
    lines = [read_impact(p, kind=classify(p)).line for p in payloads]
    assert lines[0] == "Approving answers yes to: Approve this action?"
    assert lines[1].startswith("Approving answers yes to: Trying to call `book_hotel`")
    assert lines[2] == "Approving runs send_email · irreversible"
    assert lines[3] == "Approving runs make_payment: 50,000.00 to mallory · moves money · irreversible"


@pytest.mark.parametrize(("text", "code"), [("50 000 EUR", "EUR"), ("€50", "EUR"), ("$5", "USD"), ("US$5", "USD"),
                                            ("CHF 1'000", "CHF"), ("1200", ""), ("eur 5", "")])
def test_currency_of(text, code):
    from hitl.amounts import currency_of

    assert currency_of(text) == code
