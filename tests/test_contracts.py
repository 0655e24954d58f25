"""Answer contracts with graphs written the docs' way: what a reviewer decides is what the graph does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hitl import Inbox
from hitl.api import ApiToken, create_app
from hitl.errors import HitlError, InvalidAnswer
from tests import docs_graphs
from tests.conftest import ROOT

POLICY = {
    "answers": {
        "declared:wire": {"type": "object", "approve": {"decision": "go"}, "reject": {"decision": "stop"},
                          "comment_field": "why"},
    }
}


@pytest.fixture
def docs_file(tmp_path: Path) -> Path:
    demo = json.loads((ROOT / "langgraph.json").read_text())["graphs"]
    graphs = {gid: str((ROOT / t.split(":")[0]).resolve()) + ":" + t.split(":")[1] for gid, t in demo.items()}
    graphs.update(docs_graphs.GRAPHS)
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps({"graphs": graphs}))
    return path


@pytest.fixture
def desk(db_url: str, docs_file: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    inbox = Inbox.open(database_url=db_url, graphs_path=str(docs_file), create=True, policy=POLICY)
    yield inbox
    inbox.close()


def run(desk: Inbox, graph_id: str, thread_id: str, graph_input: dict[str, Any] | None = None) -> str:
    """Start a run the way an agent process would, without the desk's graph_id metadata."""
    desk.start_run(graph_id, graph_input or {"action_details": "delete 40 records"}, thread_id=thread_id)
    return thread_id


def values(desk: Inbox, thread_id: str) -> dict[str, Any]:
    return desk.thread(thread_id).values


def only_interrupt(desk: Inbox, thread_id: str):
    view = desk.thread(thread_id)
    assert len(view.interrupts) == 1, view.interrupts
    return view.interrupts[0], view.graph_id


# ------------------------------------------------------------------ the fail-open reject


def test_docs_approve_or_reject_is_a_boolean_contract_read_from_the_code(desk: Inbox) -> None:
    thread_id = run(desk, "approve_or_reject", "a-1")
    item, graph_id = only_interrupt(desk, thread_id)
    assert item.kind == "question"  # shown as a question ...
    contract = desk.contract(item, graph_id)
    assert (contract.answer, contract.source) == ("boolean", "inferred")  # ... answered with a bool
    assert "approval_node" in contract.why and "docs_graphs.py" in contract.why
    assert "yes/no" in contract.describe()


@pytest.mark.parametrize("path", ["decide", "resume_false", "batch", "api"])
def test_reject_takes_the_cancel_path_from_every_entry_point(desk: Inbox, path: str) -> None:
    thread_id = run(desk, "approve_or_reject", f"r-{path}")
    item, _ = only_interrupt(desk, thread_id)
    if path == "decide":
        desk.decide(thread_id, approve=False, reviewer="alice", comment="no")
    elif path == "resume_false":
        desk.resume(thread_id, {item.id: False}, reviewer="alice")
    elif path == "batch":
        [result] = desk.batch([thread_id], approve=False, reviewer="alice", comment="no")
        assert result.result == "completed", result
    else:
        client = TestClient(create_app(desk, tokens=[ApiToken.from_secret("alice-secret", "alice@example.com")]))
        response = client.post("/approve", json={"thread_id": thread_id, "approved": False, "feedback": "no"},
                               headers={"Authorization": "Bearer alice-secret"})
        assert response.status_code == 200, response.text
    state = values(desk, thread_id)
    assert state["status"] == "rejected"
    assert not state.get("effects")
    row = desk.history(thread_id=thread_id).iloc[0]
    assert json.loads(row["answer"]) is False


def test_approve_takes_the_proceed_path(desk: Inbox) -> None:
    thread_id = run(desk, "approve_or_reject", "a-ok")
    desk.decide(thread_id, approve=True, reviewer="alice")
    assert values(desk, thread_id)["effects"] == ["performed"]


def test_a_dict_answer_to_a_boolean_contract_is_refused_with_the_contract(desk: Inbox) -> None:
    thread_id = run(desk, "approve_or_reject", "a-dict")
    item, _ = only_interrupt(desk, thread_id)
    with pytest.raises(InvalidAnswer, match=r"must be true or false.*yes/no.*read from the graph's code"):
        desk.resume(thread_id, {item.id: {"approved": False}}, reviewer="alice")
    assert only_interrupt(desk, thread_id)[0].id == item.id  # nothing changed


def test_nested_subgraph_contract_is_read_from_the_subgraph_node(desk: Inbox) -> None:
    thread_id = run(desk, "nested", "n-1")
    item, graph_id = only_interrupt(desk, thread_id)
    assert desk.contract(item, graph_id).answer == "boolean"
    desk.decide(thread_id, approve=False, reviewer="alice")
    assert not values(desk, thread_id).get("effects")


# ------------------------------------------------------------------ string interrupts


def test_age_validation_loop_answered_thirty_then_30(desk: Inbox) -> None:
    thread_id = run(desk, "age_loop", "age-1", {})
    item, graph_id = only_interrupt(desk, thread_id)
    assert desk.contract(item, graph_id).answer == "text"
    with pytest.raises(InvalidAnswer, match="typed answer"):
        desk.decide(thread_id, approve=True, reviewer="alice")  # no yes/no for a question
    outcome = desk.resume(thread_id, {item.id: "thirty"}, reviewer="alice")
    assert outcome.status == "waiting"
    [again] = outcome.new_interrupts
    assert again.value == "'thirty' is not a valid age. What is your age?"
    assert desk.resume(thread_id, {again.id: "30"}, reviewer="alice").status == "completed"
    assert values(desk, thread_id)["age"] == 30


def test_age_loop_that_checks_isinstance_int_needs_a_number(desk: Inbox) -> None:
    thread_id = run(desk, "age_number", "age-2", {})
    item, graph_id = only_interrupt(desk, thread_id)
    assert desk.contract(item, graph_id).answer == "number"
    with pytest.raises(InvalidAnswer, match="must be a number"):
        desk.resume(thread_id, {item.id: "30"}, reviewer="alice")
    assert desk.resume(thread_id, {item.id: 30}, reviewer="alice").status == "completed"
    assert values(desk, thread_id)["age"] == 30


def test_three_string_prompts_in_one_node_answered_in_sequence(desk: Inbox) -> None:
    thread_id = run(desk, "three_prompts", "p-1", {})
    for answer in ("Ada", "London", "GREEN"):
        item, graph_id = only_interrupt(desk, thread_id)
        assert desk.contract(item, graph_id).answer == "text"
        outcome = desk.resume(thread_id, {item.id: answer}, reviewer="alice")
    assert outcome.status == "completed"
    assert values(desk, thread_id)["profile"] == "Ada from London likes green"


def test_parallel_string_branches_answered_with_an_id_map(desk: Inbox) -> None:
    thread_id = run(desk, "parallel_prompts", "pp-1", {})
    view = desk.thread(thread_id)
    assert len(view.interrupts) == 2
    answers = {i.id: f"do {i.node}" for i in view.interrupts}
    assert desk.resume(thread_id, answers, reviewer="alice").status == "completed"
    assert sorted(values(desk, thread_id)["answers"]) == ["left=do left", "right=do right"]


def test_send_branches_confirmed_and_held_each_by_id(desk: Inbox) -> None:
    thread_id = run(desk, "send_confirms", "s-1", {})
    view = desk.thread(thread_id)
    assert len(view.interrupts) == 2
    by_value = {i.value: i for i in view.interrupts}
    assert all(desk.contract(i, view.graph_id).answer == "boolean" for i in view.interrupts)
    outcome = desk.resume(thread_id, {by_value["Ship item a?"].id: True, by_value["Ship item b?"].id: False},
                          reviewer="alice")
    assert outcome.status == "completed"
    state = values(desk, thread_id)
    assert state["effects"] == ["shipped a"] and state["answers"] == ["held b"]


def test_react_agent_tool_interrupt_accept(desk: Inbox) -> None:
    thread_id = run(desk, "hotel_agent", "h-1", {})
    item, graph_id = only_interrupt(desk, thread_id)
    contract = desk.contract(item, graph_id)
    assert contract.answer == "object" and "type" in contract.keys and "book_hotel" in contract.why
    assert not contract.can_reject  # the tool has no reject branch: a one-click reject would crash it
    with pytest.raises(InvalidAnswer, match="No one-click reject"):
        desk.decide(thread_id, approve=False, reviewer="alice")
    desk.decide(thread_id, approve=True, reviewer="alice")
    last = values(desk, thread_id)["messages"][-1]
    assert last.content == "Successfully booked a stay at McKittrick Hotel."


def test_react_agent_tool_interrupt_edit(desk: Inbox) -> None:
    thread_id = run(desk, "hotel_agent", "h-2", {})
    item, _ = only_interrupt(desk, thread_id)
    answer = {"type": "edit", "args": {"hotel_name": "The Plaza"}}
    assert desk.resume(thread_id, {item.id: answer}, reviewer="alice").status == "completed"
    assert values(desk, thread_id)["messages"][-1].content == "Successfully booked a stay at The Plaza."


# ------------------------------------------------------------------ other sources


def test_response_schema_boolean_contract(desk: Inbox) -> None:
    thread_id = run(desk, "schema_bool", "sb-1", {})
    item, graph_id = only_interrupt(desk, thread_id)
    assert desk.contract(item, graph_id).source == "response_schema"
    desk.decide(thread_id, approve=False, reviewer="alice")
    assert not values(desk, thread_id).get("effects")


def test_declared_contract_gives_exact_approve_and_reject_values(desk: Inbox) -> None:
    rejected, approved = run(desk, "declared", "d-1"), run(desk, "declared", "d-2")
    item, graph_id = only_interrupt(desk, rejected)
    contract = desk.contract(item, graph_id)
    assert contract.source == "declared" and '[answers."declared:wire"]' in contract.describe()
    desk.decide(rejected, approve=False, reviewer="alice", comment="wrong account")
    desk.decide(approved, approve=True, reviewer="alice")
    assert not values(desk, rejected).get("effects") and values(desk, approved)["effects"] == ["wired"]
    assert json.loads(desk.history(thread_id=rejected).iloc[0]["answer"]) == {"decision": "stop", "why": "wrong account"}


def test_unknown_contract_has_no_one_click_and_is_left_out_of_batch(desk: Inbox) -> None:
    thread_id = run(desk, "passthrough", "u-1")
    item, graph_id = only_interrupt(desk, thread_id)
    contract = desk.contract(item, graph_id)
    assert (contract.answer, contract.source) == ("any", "unknown")
    assert "passes the answer on" in contract.why
    for approve in (True, False):
        with pytest.raises(InvalidAnswer, match="typed answer"):
            desk.decide(thread_id, approve=approve, reviewer="alice")
    [result] = desk.batch([thread_id], approve=True, reviewer="alice")
    assert result.result == "invalid" and "typed answer" in result.message
    desk.resume(thread_id, {item.id: "The reviewed text"}, reviewer="alice")
    assert values(desk, thread_id)["received"] == "The reviewed text"


def test_bad_declarations_are_refused_on_load(db_url: str, docs_file: Path) -> None:
    bad = [
        ({"answers": {"nocolon": {"type": "boolean"}}}, "graph:node"),
        ({"answers": {"g:n": {"type": "maybe"}}}, "type must be one of"),
        ({"answers": {"g:n": {"type": "boolean", "reject": {"approved": False}}}}, "remove approve/reject"),
        ({"answers": {"g:n": {"type": "object", "reject": False}}}, "must be a table"),
        ({"answers": {"g:n": {"type": "object", "colour": 1}}}, "unknown setting"),
    ]
    for policy, message in bad:
        desk = Inbox.open(database_url=db_url, graphs_path=str(docs_file), create=True, policy=policy)
        try:
            with pytest.raises(HitlError, match=message):
                _ = desk.contracts
        finally:
            desk.close()


# ------------------------------------------------------------------ async graphs


@pytest.mark.parametrize("graph_id", ["async_graph", "async_factory"])
def test_async_graph_is_approved_and_rejected_on_the_async_saver(desk: Inbox, graph_id: str) -> None:
    approved, rejected = run(desk, graph_id, "as-1"), run(desk, graph_id, "as-2")
    assert desk.pending().total == 2
    item, graph_id = only_interrupt(desk, approved)
    assert desk.contract(item, graph_id).kind_shape
    assert desk.decide(approved, approve=True, reviewer="alice").status == "completed"
    assert desk.decide(rejected, approve=False, reviewer="alice", comment="no").status == "completed"
    assert values(desk, approved)["effects"] == ["sent"]
    assert values(desk, rejected)["status"] == "rejected" and not values(desk, rejected).get("effects")
    history = desk.history()
    assert sorted(history["outcome"]) == ["completed", "completed"]
    assert desk.pending().total == 0


# ------------------------------------------------------------------ unedited means byte-for-byte


def test_typed_tool_args_approved_unchanged_reach_the_graph_with_their_types(desk: Inbox) -> None:
    thread_id = run(desk, "typed_tool_review", "tt-1", {})
    item, _ = only_interrupt(desk, thread_id)
    assert item.value["tools"][0]["args"] == docs_graphs.TYPED_ARGS  # the checkpoint keeps the types
    desk.decide(thread_id, approve=True, reviewer="alice")
    [call] = values(desk, thread_id)["received"]
    assert call["args"] == docs_graphs.TYPED_ARGS
    assert {k: type(v) for k, v in call["args"].items()} == {k: type(v) for k, v in docs_graphs.TYPED_ARGS.items()}


# ------------------------------------------------------------------ the property: reject never approves


def _outcome(desk: Inbox, thread_id: str) -> tuple[Any, Any]:
    state = values(desk, thread_id)
    return (tuple(state.get("effects") or ()), state.get("status"))


@pytest.mark.parametrize("graph_id", ["approve_or_reject", "nested", "schema_bool", "declared", "async_graph",
                                      "send_confirms"])
def test_approve_and_reject_never_behave_the_same_and_reject_never_acts(desk: Inbox, graph_id: str) -> None:
    yes, no = run(desk, graph_id, f"{graph_id}-yes"), run(desk, graph_id, f"{graph_id}-no")
    for thread_id, approve in ((yes, True), (no, False)):
        for item in desk.thread(thread_id).interrupts:
            desk.decide(thread_id, approve=approve, reviewer="alice", interrupt_id=item.id, comment="c")
    assert _outcome(desk, yes) != _outcome(desk, no)
    assert _outcome(desk, no)[0] == ()  # the reject path performed nothing
    assert _outcome(desk, yes)[0] != ()


def test_approved_tools_must_be_proposed_calls(desk: Inbox) -> None:
    thread_id = run(desk, "typed_tool_review", "tt-inject", {})
    item, _ = only_interrupt(desk, thread_id)
    injected = {"approved": True, "approved_tools": [{"name": "send_email", "args": {"to": "mallory@example.com"}}]}
    with pytest.raises(InvalidAnswer, match="not a call the agent proposed"):
        desk.resume(thread_id, {item.id: injected}, reviewer="alice")
    twice = {"approved": True, "approved_tools": [{"name": "make_payment", "args": {}}] * 2}
    with pytest.raises(InvalidAnswer, match="not a call the agent proposed"):
        desk.resume(thread_id, {item.id: twice}, reviewer="alice")
    assert only_interrupt(desk, thread_id)[0].id == item.id


def test_edited_typed_args_keep_the_types_of_the_fields_left_alone() -> None:
    from hitl import decisions
    from hitl.ui.text import jsonable

    tools = [{"name": "make_payment", "args": dict(docs_graphs.TYPED_ARGS)}]
    shown = json.loads(json.dumps(jsonable(tools[0]["args"])))
    shown["amount"] = 60000.5
    shown["due"] = "2027-01-02T10:00:00"
    answer = decisions.tool_review_answer(tools=tools, selected=[True], edited_args=[json.dumps(shown)], display=jsonable)
    args = answer["approved_tools"][0]["args"]
    assert args["amount"] == docs_graphs.Decimal("60000.5") and type(args["amount"]) is docs_graphs.Decimal
    assert args["due"] == docs_graphs.datetime(2027, 1, 2, 10, 0)
    for unchanged in ("memo", "tags", "lines"):
        assert args[unchanged] == docs_graphs.TYPED_ARGS[unchanged]
        assert type(args[unchanged]) is type(docs_graphs.TYPED_ARGS[unchanged])
    shown["due"] = "next tuesday"
    with pytest.raises(InvalidAnswer, match=r"tools\[0\]\.args\.due: must be an ISO date-time"):
        decisions.tool_review_answer(tools=tools, selected=[True], edited_args=[json.dumps(shown)], display=jsonable)


# ------------------------------------------------------------------ the demo graphs keep their cards


def _fingerprint(state: dict[str, Any]) -> str:
    """The state with message ids dropped (they differ between any two runs)."""
    def clean(value: Any) -> Any:
        if hasattr(value, "content") and hasattr(value, "type"):
            return [value.type, value.content, [(c.get("name"), c.get("args")) for c in getattr(value, "tool_calls", [])]]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in ("requested_at",)}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return json.dumps(clean(state), sort_keys=True, default=str)


@pytest.mark.parametrize("graph_id", __import__("hitl.demo.graphs", fromlist=["DEMO_GRAPH_IDS"]).DEMO_GRAPH_IDS)
def test_demo_graph_contracts_keep_their_cards_and_reject_differs_from_approve(desk: Inbox, graph_id: str) -> None:
    from hitl.demo.inputs import DEMO_INPUTS

    yes = desk.start_run(graph_id, DEMO_INPUTS[graph_id](0), thread_id=f"{graph_id}-yes")
    no = desk.start_run(graph_id, DEMO_INPUTS[graph_id](0), thread_id=f"{graph_id}-no")
    view = desk.thread(yes)
    for item in view.interrupts:
        contract = desk.contract(item, view.graph_id)
        # Every demo kind keeps its own card: the contract is the kind's shape, or yes/no for a string.
        assert contract.kind_shape or (item.kind == "confirm" and contract.answer == "boolean"), (item.kind, contract)
    outcomes = {}
    for thread_id, approve in ((yes, True), (no, False)):
        try:
            for item in desk.thread(thread_id).interrupts:
                desk.decide(thread_id, approve=approve, reviewer="alice", comment="c", interrupt_id=item.id)
        except InvalidAnswer as error:  # e.g. a state edit has no one-click reject: it must say so
            assert "typed answer" in str(error) or "one click" in str(error)
            outcomes[approve] = None
            continue
        outcomes[approve] = _fingerprint(values(desk, thread_id))
    if outcomes[True] is not None and outcomes[False] is not None:
        assert outcomes[True] != outcomes[False]


def test_the_example_config_declares_answers_that_parse() -> None:
    import tomllib

    from hitl.contracts import Declarations

    policy = tomllib.loads((ROOT / "hitl.toml.example").read_text())
    declared = Declarations.from_policy(policy).by_key
    assert declared["approve_or_reject:human"].answer == "boolean"
    assert declared["payments:wire"].reject_value == {"decision": "stop"}


# ------------------------------------------------------------------ access rules read the answer under its contract


def test_four_eyes_and_role_rules_read_a_plain_true_as_the_approval_it_is(db_url: str, docs_file: Path) -> None:
    from hitl.errors import NotAuthorized

    policy = {**POLICY, "access": {"four_eyes": True, "rules": [{"tool": "make_payment", "roles": ["finance"]}]}}
    desk = Inbox.open(database_url=db_url, graphs_path=str(docs_file), create=True, policy=policy)
    try:
        bob = desk.principal("bob@example.com", roles=["finance"])
        alice = desk.principal("alice@example.com")
        own = desk.start_run("approve_or_reject", {"action_details": "x"}, thread_id="fe-1", requested_by="bob@example.com")
        (item,) = desk.thread(own).interrupts
        with pytest.raises(NotAuthorized, match="own"):
            desk.resume(own, {item.id: True}, principal=bob)  # True is bob approving his own request
        desk.resume(own, {item.id: False}, principal=bob)  # rejecting it is allowed
        assert desk.thread(own).values["status"] == "rejected"

        pay = desk.start_run("truthy_payment", {}, thread_id="pay-1")
        (item,) = desk.thread(pay).interrupts
        assert desk.contract(item, "truthy_payment").answer == "boolean"
        with pytest.raises(NotAuthorized, match="finance"):
            desk.resume(pay, {item.id: True}, principal=alice)  # approves make_payment: needs finance
        assert not desk.thread(pay).values.get("effects")
        desk.resume(pay, {item.id: True}, principal=bob)
        assert desk.thread(pay).values["effects"] == ["paid"]
    finally:
        desk.close()


def test_the_rest_api_shows_each_interrupts_contract(desk: Inbox) -> None:
    thread_id = run(desk, "approve_or_reject", "api-contract")
    client = TestClient(create_app(desk, tokens=[ApiToken.from_secret("alice-secret", "alice@example.com")]))
    body = client.get(f"/threads/{thread_id}", headers={"Authorization": "Bearer alice-secret"}).json()
    [interrupt] = body["interrupts"]
    assert interrupt["contract"]["answer"] == "boolean" and interrupt["contract"]["source"] == "inferred"
    assert interrupt["contract"]["one_click_reject"] is True


def test_a_question_payload_with_its_own_response_schema_is_answered_by_the_schema(desk: Inbox) -> None:
    thread_id = run(desk, "schema_question", "sq-1")
    item, graph_id = only_interrupt(desk, thread_id)
    assert item.kind == "question"
    contract = desk.contract(item, graph_id)
    assert (contract.source, contract.shape_kind) == ("response_schema", "schema")
    with pytest.raises(InvalidAnswer, match="typed answer"):  # the schema has no approved field
        desk.decide(thread_id, approve=False, reviewer="alice")
    with pytest.raises(InvalidAnswer, match="refund"):
        desk.resume(thread_id, {item.id: {"approved": True}}, reviewer="alice")
    desk.resume(thread_id, {item.id: {"refund": False, "note": "not eligible"}}, reviewer="alice")
    assert values(desk, thread_id)["status"] == "rejected"


def test_a_kind_contract_may_declare_what_a_rejection_is() -> None:
    from hitl import contracts

    declared = contracts.Declarations.from_policy({"answers": {"state_edit:review_state": {
        "type": "kind", "reject": {"modified": False, "rejected": True}, "comment_field": "reason"}}})
    contract = declared.find("state_edit", ["review_state"])
    assert contract is not None and contract.kind_shape and contract.has_values == (False, True)
    value = {"type": "state_edit", "current_state": {"output": "x", "metadata": {}}}
    rejection = contracts.quick(contract, "state_edit", value, approve=False, comment="not yet")
    assert rejection == {"modified": False, "rejected": True, "reason": "not yet"}
    assert contracts.approves(contract, rejection) is False  # never read as an approval
    assert contracts.quick(contract, "state_edit", value, approve=True) == {"modified": False}  # the kind's own approve
    assert contracts.approves(contract, {"modified": False}) is None  # the kind decides
    # Without a declared rejection the kind's own refusal stands.
    plain_kind = contracts.Declarations.from_policy({"answers": {"g:n": {"type": "kind"}}}).find("g", ["n"])
    with pytest.raises(InvalidAnswer, match="cannot be rejected in one click"):
        contracts.quick(plain_kind, "state_edit", value, approve=False)
    with pytest.raises(HitlError, match="comment_field needs reject"):
        contracts.Declarations.from_policy({"answers": {"g:n": {"type": "kind", "comment_field": "why"}}})
