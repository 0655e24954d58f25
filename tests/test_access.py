"""Who may decide what: role mapping, rules, "my queue", four eyes and quorum, on a real desk."""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

import pytest

from hitl import AlreadyDecided, HitlError, Inbox, InvalidAnswer, NotAuthorized
from hitl.access import AccessPolicy, Principal, ReviewItem, approves
from hitl.decisions import quick_answer

POLICY = tomllib.loads(
    """
[access]
viewers = ["auditor"]

[[access.identities]]
match = "alice@example.com"
roles = ["manager"]

[[access.identities]]
claim = "groups"
value = "finance"
roles = ["finance"]

[[access.identities]]
match = "*@finance.example.com"
roles = ["finance"]

[[access.rules]]
tool = "make_payment"
roles = ["finance"]

[[access.rules]]
graph = "state_edit"
roles = ["editor"]

[[access.quorum]]
tool = "make_payment"
min_amount = 10000
approvals = 2
reject_ends = true
"""
)

SMALL_PAYMENT = {"messages": [{"role": "user", "content": "Look up open invoices for Acme GmbH and pay Acme GmbH 1,250.00 EUR for invoice INV-1042."}]}
BIG_PAYMENT = {"messages": [{"role": "user", "content": "Look up open invoices for Initech LLC and pay Initech LLC 15,000.00 USD for invoice INV-4471."}]}
EMAIL = {"messages": [{"role": "user", "content": "Look up open invoices for Acme GmbH and email the Q3 revenue report to finance@acme.example."}]}
PURCHASE = {"messages": [{"role": "user", "content": "Purchase 40 laptops for the Berlin office, budget 52,000 EUR."}]}


@pytest.fixture
def desk(db_url: str, graphs_file: Path, monkeypatch: pytest.MonkeyPatch):
    """A desk whose HITL_CONFIG has the [access] section above."""
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    inbox = Inbox.open(database_url=db_url, graphs_path=str(graphs_file), create=True, policy=POLICY)
    yield inbox
    inbox.close()


def who(desk: Inbox, identity: str, **claims) -> Principal:
    return desk.principal(identity, claims={"email": identity, **claims})


def only_interrupt(desk: Inbox, thread_id: str):
    view = desk.thread(thread_id)
    assert len(view.interrupts) == 1
    return view.interrupts[0]


def approve_answer(desk: Inbox, thread_id: str, reviewer: str):
    item = only_interrupt(desk, thread_id)
    return item.id, quick_answer(item.kind, item.value, approve=True, reviewer=reviewer, response_schema=item.response_schema)


def reject_answer(desk: Inbox, thread_id: str):
    item = only_interrupt(desk, thread_id)
    return item.id, quick_answer(item.kind, item.value, approve=False, comment="not now", response_schema=item.response_schema)


def payments(desk: Inbox, graph_id: str, thread_id: str) -> list[dict]:
    return desk.graph(graph_id).get_state({"configurable": {"thread_id": thread_id}}).values.get("payments", [])


# --------------------------------------------------------------------------- role mapping


def test_roles_come_from_identity_globs_claims_and_the_token_itself() -> None:
    policy = AccessPolicy.from_policy(POLICY)
    assert policy.principal("alice@example.com").roles == {"manager"}
    assert policy.principal("Alice@Example.com").roles == {"manager"}
    assert policy.principal("bob@example.com", claims={"groups": ["finance", "staff"]}).roles == {"finance"}
    assert policy.principal("bob@example.com", claims={"groups": ["staff"]}).roles == frozenset()
    assert policy.principal("eve@finance.example.com").roles == {"finance"}
    assert policy.principal("ci-bot", roles=["Finance"], source="api").roles == {"finance"}


def test_no_access_section_is_open_mode() -> None:
    policy = AccessPolicy.from_policy({})
    assert not policy.enabled
    item = ReviewItem(thread_id="t", interrupt_id="i", graph_id="g", kind="tool_approval",
                      value={"type": "tool_approval", "name": "make_payment", "args": {"amount": 99999}})  # fmt: skip
    assert policy.can_decide(policy.principal("anyone@example.com"), item) == (True, "allowed")
    assert policy.can_decide(None, item)[0] is True
    assert policy.quorum_for(item) is None


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"identities": [{"roles": ["x"]}]}, r"\[\[access.identities\]\] entry 1 needs `match"),
        ({"rules": [{"tool": "make_payment"}]}, r"\[\[access.rules\]\] entry 1 needs `roles"),
        ({"rules": [{"tool": 3, "roles": ["x"]}]}, r"`tool` must be a string or a list"),
        ({"quorum": [{"tool": "make_payment", "approvals": 0}]}, r"`approvals` must be a whole number"),
        ({"default": "maybe"}, r'default = .maybe. is not valid'),
    ],
)
def test_a_bad_access_section_names_the_entry_and_the_fix(section: dict, message: str) -> None:
    with pytest.raises(HitlError, match=message):
        AccessPolicy.from_policy({"access": section})


# --------------------------------------------------------------------------- rules


def test_tool_rule_needs_the_role_and_says_which(desk: Inbox) -> None:
    thread_id = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="pay-small")
    [item] = desk.review_items(thread_id)
    assert item.tools == ("make_payment",)
    allowed, reason = desk.access.can_decide(who(desk, "bob@example.com"), item)
    assert not allowed
    assert "tool make_payment needs one of the roles finance" in reason and "bob@example.com (roles: none)" in reason
    assert desk.access.can_decide(who(desk, "fay@finance.example.com"), item) == (True, "allowed")


def test_approval_levels_are_roles(desk: Inbox) -> None:
    thread_id = desk.start_run("approval_chain", PURCHASE, thread_id="po-1")
    [item] = desk.review_items(thread_id)
    assert item.level == "manager"
    assert desk.access.can_decide(who(desk, "alice@example.com"), item)[0]
    allowed, reason = desk.access.can_decide(who(desk, "bob@example.com"), item)
    assert not allowed and "needs the role 'manager'" in reason


def test_default_deny_refuses_items_no_rule_covers() -> None:
    policy = AccessPolicy.from_policy({"access": {"default": "deny", "rules": [{"kind": "edit", "roles": ["writer"]}]}})
    email = ReviewItem(thread_id="t", interrupt_id="i", graph_id="g", kind="confirm", value="Send it?")
    draft = ReviewItem(thread_id="t", interrupt_id="j", graph_id="g", kind="edit", value={"type": "edit", "draft": "x"})
    writer = policy.principal("w@example.com", roles=["writer"])
    assert not policy.can_decide(writer, email)[0]
    assert "no [[access.rules]] entry covers it" in policy.can_decide(writer, email)[1]
    assert policy.can_decide(writer, draft)[0]


def test_answers_that_approve_and_answers_that_stop() -> None:
    calls = {"action_requests": [{"name": "send_email", "args": {}}, {"name": "make_payment", "args": {"amount": 5}}],
             "review_configs": []}  # fmt: skip
    assert approves("hitl_request", calls, {"decisions": [{"type": "reject"}, {"type": "approve"}]})
    assert not approves("hitl_request", calls, {"decisions": [{"type": "reject"}, {"type": "respond", "message": "no"}]})
    assert approves("confirm", "Go?", True) and not approves("confirm", "Go?", False)
    assert approves("edit", {}, {"action": "approve"}) and not approves("edit", {}, {"action": "regenerate"})
    assert not approves("tool_review", {"tools": [{"name": "a", "args": {}}]}, {"approved": False, "approved_tools": []})
    assert approves("json", None, {"anything": 1})


# --------------------------------------------------------------------------- the Inbox refuses


def test_resume_without_the_role_is_refused_and_nothing_is_saved(desk: Inbox) -> None:
    thread_id = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="pay-small")
    interrupt_id, answer = approve_answer(desk, thread_id, "bob@example.com")
    with pytest.raises(NotAuthorized, match="make_payment needs one of the roles finance"):
        desk.resume(thread_id, {interrupt_id: answer}, principal=who(desk, "bob@example.com"))
    with pytest.raises(NotAuthorized, match="finance"):
        desk.decide(thread_id, approve=True, principal=who(desk, "bob@example.com"))
    assert desk.history(thread_id=thread_id).empty
    assert desk.pending().total == 1
    outcome = desk.decide(thread_id, approve=True, principal=who(desk, "fay@finance.example.com"))
    assert outcome.status == "completed"
    assert list(desk.history(thread_id=thread_id)["reviewer"]) == ["fay@finance.example.com"]
    assert len(payments(desk, "selective_review", thread_id)) == 1


def test_a_deep_link_to_an_item_the_principal_may_not_see_is_refused(desk: Inbox) -> None:
    thread_id = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="pay-small")
    with pytest.raises(NotAuthorized, match="bob@example.com .* may not decide make_payment on thread 'pay-small'"):
        desk.thread(thread_id, principal=who(desk, "bob@example.com"))
    assert desk.thread(thread_id, principal=who(desk, "fay@finance.example.com")).interrupts
    assert desk.thread(thread_id, principal=desk.principal("aud@example.com", roles=["auditor"])).interrupts
    assert desk.thread(thread_id).interrupts  # local mode: no checks


def test_reviewer_name_must_match_the_signed_in_identity(desk: Inbox) -> None:
    thread_id = desk.start_run("selective_review", EMAIL, thread_id="mail")
    interrupt_id, answer = approve_answer(desk, thread_id, "x")
    with pytest.raises(NotAuthorized, match="is not the signed-in identity"):
        desk.resume(thread_id, {interrupt_id: answer}, reviewer="mallory", principal=who(desk, "bob@example.com"))


def test_batch_reports_not_authorized_per_thread(desk: Inbox) -> None:
    pay = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="pay")
    mail = desk.start_run("selective_review", EMAIL, thread_id="mail")
    results = desk.batch([pay, mail], approve=True, principal=who(desk, "bob@example.com"))
    assert [r.result for r in results] == ["not authorized", "completed"]


def test_approval_level_approver_is_the_signed_in_identity(desk: Inbox) -> None:
    thread_id = desk.start_run("approval_chain", PURCHASE, thread_id="po-1")
    interrupt_id, answer = approve_answer(desk, thread_id, "someone-else")
    outcome = desk.resume(thread_id, {interrupt_id: answer}, principal=who(desk, "alice@example.com"))
    assert outcome.status == "waiting"
    assert desk.history(thread_id=thread_id)["answer"].iloc[0].find("alice@example.com") >= 0
    state = desk.graph("approval_chain").get_state({"configurable": {"thread_id": thread_id}}).values
    assert state["approvers"] == ["alice@example.com"]


# --------------------------------------------------------------------------- my queue


def test_my_queue_lists_what_the_principal_may_decide_and_counts_the_rest(desk: Inbox) -> None:
    desk.start_run("selective_review", SMALL_PAYMENT, thread_id="pay")
    desk.start_run("selective_review", EMAIL, thread_id="mail")
    desk.start_run("approval_chain", PURCHASE, thread_id="po")
    desk.start_run("selective_review", EMAIL, thread_id="own", requested_by="bob@example.com")
    bob = desk.pending(principal=who(desk, "bob@example.com"))
    assert [t.thread_id for t in bob.items] == ["mail"]
    assert (bob.total, bob.waiting_on_others) == (1, 3)
    alice = desk.pending(principal=who(desk, "alice@example.com"))
    assert sorted(t.thread_id for t in alice.items) == ["mail", "own", "po"]
    assert alice.waiting_on_others == 1
    fay = desk.pending(principal=who(desk, "fay@finance.example.com"), graph_id="selective_review")
    assert sorted(t.thread_id for t in fay.items) == ["mail", "own", "pay"]
    assert fay.waiting_on_others == 0
    assert desk.pending().total == 4  # local mode lists everything


def test_my_queue_agrees_with_can_decide_on_every_demo_thread_and_pages(desk: Inbox) -> None:
    from hitl.demo.seed import seed

    seed(desk, 42)
    for principal in (who(desk, "bob@example.com"), who(desk, "alice@example.com"), who(desk, "fay@finance.example.com")):
        expected = set()
        for thread in desk.pending(limit=1000).items:
            items = desk.review_items(thread.thread_id)
            if any(desk.access.can_decide(principal, item, approve=True)[0] for item in items):
                expected.add(thread.thread_id)
        seen, cursor = [], None
        while True:
            page = desk.pending(limit=7, cursor=cursor, principal=principal)
            seen += [t.thread_id for t in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert set(seen) == expected and len(seen) == len(expected)
        assert page.total == len(expected) and page.waiting_on_others == 42 - len(expected)


def test_my_queue_follows_threads_as_they_move_on(desk: Inbox) -> None:
    thread_id = desk.start_run("approval_chain", PURCHASE, thread_id="po")
    alice = who(desk, "alice@example.com")
    assert desk.pending(principal=alice).total == 1
    desk.decide(thread_id, approve=True, principal=alice)  # next level: director
    page = desk.pending(principal=alice)
    assert (page.total, page.waiting_on_others) == (0, 1)
    director = desk.principal("dan@example.com", roles=["director"])
    assert [t.thread_id for t in desk.pending(principal=director).items] == [thread_id]


# --------------------------------------------------------------------------- four eyes


def test_a_requester_cannot_approve_their_own_run_but_may_reject_it(desk: Inbox) -> None:
    fay = who(desk, "fay@finance.example.com")
    own = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="own", requested_by="fay@finance.example.com")
    interrupt_id, answer = approve_answer(desk, own, "fay")
    with pytest.raises(NotAuthorized, match="Four eyes: fay@finance.example.com started this run"):
        desk.resume(own, {interrupt_id: answer}, principal=fay)
    assert payments(desk, "selective_review", own) == []
    interrupt_id, answer = reject_answer(desk, own)
    assert desk.resume(own, {interrupt_id: answer}, principal=fay).status == "completed"
    assert payments(desk, "selective_review", own) == []

    other = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="other", requested_by="fay@finance.example.com")
    assert desk.decide(other, approve=True, principal=who(desk, "gus@finance.example.com")).status == "completed"
    assert len(payments(desk, "selective_review", other)) == 1


def test_requester_may_reject_can_be_turned_off() -> None:
    policy = AccessPolicy.from_policy({"access": {"requester_may_reject": False}})
    item = ReviewItem(thread_id="t", interrupt_id="i", graph_id="g", kind="confirm", value="Go?", requested_by="Carol@x.io")
    allowed, reason = policy.can_decide(policy.principal("carol@x.io"), item, approve=False)
    assert not allowed and "Four eyes" in reason


# --------------------------------------------------------------------------- quorum


def test_a_big_payment_needs_two_distinct_approvers_and_resumes_once(desk: Inbox) -> None:
    thread_id = desk.start_run("selective_review", BIG_PAYMENT, thread_id="big")
    fay, gus = who(desk, "fay@finance.example.com"), who(desk, "gus@finance.example.com")
    first = desk.decide(thread_id, approve=True, principal=fay, comment="looks right")
    assert first.status == "waiting"
    assert "1 of 2 approvals; 1 more distinct approver needed" in first.note
    assert payments(desk, "selective_review", thread_id) == []
    [vote] = desk.thread(thread_id).votes
    assert (vote.voter, vote.vote, vote.comment) == ("fay@finance.example.com", "approve", "looks right")
    history = desk.history(thread_id=thread_id)
    assert list(history[["action", "outcome", "reviewer"]].itertuples(index=False, name=None)) == [
        ("vote", "voted", "fay@finance.example.com")
    ]
    assert desk.pending(principal=fay).total == 0  # voted: nothing left to do for fay
    assert desk.pending(principal=gus).total == 1

    with pytest.raises(NotAuthorized, match="already voted .* each identity votes once"):
        desk.decide(thread_id, approve=True, principal=fay)

    second = desk.decide(thread_id, approve=True, principal=gus)
    assert second.status == "completed"
    assert len(payments(desk, "selective_review", thread_id)) == 1
    assert list(desk.history(thread_id=thread_id)["action"]) == ["vote", "decision"]
    assert desk.verify_audit().ok


def test_small_payments_need_no_quorum(desk: Inbox) -> None:
    thread_id = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="small")
    assert desk.decide(thread_id, approve=True, principal=who(desk, "fay@finance.example.com")).status == "completed"
    assert desk.votes(thread_id) == []


def test_one_rejection_ends_the_vote(desk: Inbox) -> None:
    thread_id = desk.start_run("selective_review", BIG_PAYMENT, thread_id="big")
    desk.decide(thread_id, approve=True, principal=who(desk, "fay@finance.example.com"))
    outcome = desk.decide(thread_id, approve=False, comment="wrong vendor", principal=who(desk, "gus@finance.example.com"))
    assert outcome.status == "completed"
    assert payments(desk, "selective_review", thread_id) == []
    assert [v.vote for v in desk.votes(thread_id)] == ["approve", "reject"]


def test_a_rejection_can_be_just_a_vote(db_url: str, graphs_file: Path) -> None:
    policy = {"access": {"rules": [], "quorum": [{"tool": "make_payment", "approvals": 2, "reject_ends": False}]}}
    with Inbox.open(database_url=db_url, graphs_path=str(graphs_file), create=True, policy=policy) as desk:
        thread_id = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="p")
        outcome = desk.decide(thread_id, approve=False, comment="hmm", principal=desk.principal("a@x.io"))
        assert outcome.status == "waiting" and "Rejection by a@x.io recorded as a vote" in outcome.note
        desk.decide(thread_id, approve=True, principal=desk.principal("b@x.io"))
        assert desk.decide(thread_id, approve=True, principal=desk.principal("c@x.io")).status == "completed"
        assert len(payments(desk, "selective_review", thread_id)) == 1


def test_quorum_approvals_must_agree_on_the_arguments(db_url: str, graphs_file: Path) -> None:
    policy = {"access": {"quorum": [{"tool": "make_payment", "approvals": 2}]}}
    request = {"messages": [{"role": "user", "content": "Pay Acme GmbH 1,250.00 EUR for invoice INV-1042 and email the Q3 revenue report to finance@acme.example."}]}
    with Inbox.open(database_url=db_url, graphs_path=str(graphs_file), create=True, policy=policy) as desk:
        thread_id = desk.start_run("tool_review", request, thread_id="tr")
        item = only_interrupt(desk, thread_id)
        tools = item.value["tools"]
        as_proposed = {"approved": True, "approved_tools": tools}
        desk.resume(thread_id, {item.id: as_proposed}, principal=desk.principal("a@x.io"))
        bigger = [{**t, "args": {**t["args"], "amount": 99999}} if t["name"] == "make_payment" else t for t in tools]
        with pytest.raises(InvalidAnswer, match="a@x.io approved different tool calls or arguments"):
            desk.resume(thread_id, {item.id: {"approved": True, "approved_tools": bigger}}, principal=desk.principal("b@x.io"))
        assert desk.resume(thread_id, {item.id: as_proposed}, principal=desk.principal("b@x.io")).status == "completed"


def test_concurrent_final_votes_resume_the_graph_exactly_once(db_url: str, graphs_file: Path) -> None:
    with Inbox.open(database_url=db_url, graphs_path=str(graphs_file), create=True, policy=POLICY) as desk:
        thread_id = desk.start_run("selective_review", BIG_PAYMENT, thread_id="big")
        assert desk.decide(thread_id, approve=True, principal=who(desk, "fay@finance.example.com")).status == "waiting"
    voters = [f"v{n}@finance.example.com" for n in range(6)]
    desks = [Inbox.open(database_url=db_url, graphs_path=str(graphs_file), policy=POLICY) for _ in voters]
    barrier = threading.Barrier(len(voters))
    results: dict[str, object] = {}

    def vote(desk: Inbox, voter: str) -> None:
        barrier.wait()
        try:
            results[voter] = desk.decide(thread_id, approve=True, principal=desk.principal(voter)).status
        except (AlreadyDecided, HitlError) as exc:
            results[voter] = type(exc).__name__

    workers = [threading.Thread(target=vote, args=(d, v)) for d, v in zip(desks, voters)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    try:
        assert list(results.values()).count("completed") == 1, results
        assert set(results.values()) <= {"completed", "AlreadyDecided", "waiting"}, results
        check = desks[0]
        assert len(payments(check, "selective_review", thread_id)) == 1
        decisions = check.history(thread_id=thread_id)
        assert list(decisions["action"]).count("decision") == 1
    finally:
        for desk in desks:
            desk.close()


# --------------------------------------------------------------------------- REST API


def test_api_token_without_the_role_gets_403_on_the_payment(desk: Inbox) -> None:
    api = pytest.importorskip("hitl.api", reason="hitl/api.py (the REST API) is not in this tree")
    from fastapi.testclient import TestClient

    tokens = [
        api.ApiToken.from_secret("t-bob", "bob@example.com"),
        api.ApiToken.from_secret("t-fay", "fay@finance.example.com"),
        api.ApiToken.from_secret("t-bot", "pay-bot", roles=["finance"]),
    ]
    thread_id = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="pay")
    item = only_interrupt(desk, thread_id)
    with TestClient(api.create_app(desk, tokens=tokens)) as client:
        def call(token: str, method: str, path: str, **kw):
            return client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)

        assert call("t-bob", "GET", "/pending").json()["total"] == 0
        shown = call("t-bob", "GET", f"/threads/{thread_id}")
        assert shown.status_code == 403 and "make_payment needs one of the roles finance" in shown.text
        assert "Acme" not in shown.text  # the payload is not shown
        refused = call("t-bob", "POST", f"/threads/{thread_id}/resume", json={"answers": {item.id: {"approved": True}}})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "not_authorized"
        assert call("t-bob", "POST", "/approve", json={"thread_id": thread_id, "approved": True}).status_code == 403
        assert desk.pending().total == 1
        # The email domain maps fay to finance; a token's own roles count too.
        assert call("t-fay", "GET", "/pending").json()["total"] == 1
        done = call("t-bot", "POST", f"/threads/{thread_id}/resume", json={"answers": {item.id: {"approved": True}}})
        assert done.status_code == 200 and done.json()["status"] == "completed"


def test_history_and_finished_threads_hide_what_the_principal_may_not_see(desk: Inbox) -> None:
    pay = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="pay")
    mail = desk.start_run("selective_review", EMAIL, thread_id="mail")
    desk.decide(pay, approve=True, principal=who(desk, "fay@finance.example.com"))
    desk.decide(mail, approve=True, principal=who(desk, "bob@example.com"))
    bob = who(desk, "bob@example.com")
    assert list(desk.history(principal=bob)["thread_id"]) == ["mail"]
    assert list(desk.history()["thread_id"]) == ["pay", "mail"]  # local mode: everything
    assert list(desk.history(principal=who(desk, "fay@finance.example.com"))["thread_id"]) == ["pay", "mail"]
    with pytest.raises(NotAuthorized, match="make_payment needs one of the roles finance"):
        desk.thread(pay, principal=bob)
    assert desk.thread(mail, principal=bob).status == "completed"


def test_the_threads_list_hides_the_summary_of_what_the_principal_may_not_see(desk: Inbox) -> None:
    desk.start_run("selective_review", SMALL_PAYMENT, thread_id="pay")
    desk.start_run("selective_review", EMAIL, thread_id="mail")

    def summaries(principal: Principal | None) -> dict[str, str]:
        rows, _, total = desk.threads("waiting", principal=principal)
        assert total == 2  # still listed: the count and the pages do not change
        return {row.thread_id: row.summary for row in rows}

    everything = summaries(None)  # local mode
    assert "Acme GmbH" in everything["pay"]
    bob = summaries(who(desk, "bob@example.com"))
    assert bob["mail"] == everything["mail"]
    assert "Acme" not in bob["pay"] and "1,250" not in bob["pay"]
    assert bob["pay"] == "(hidden: tool make_payment needs one of the roles finance)"
    assert summaries(who(desk, "fay@finance.example.com")) == everything
    assert summaries(desk.principal("aud@example.com", roles=["auditor"])) == everything
    # A signed-in desk (the UI installs the provider) hides it without passing the principal.
    desk.require_principal(lambda: who(desk, "bob@example.com"))
    try:
        assert summaries(None) == bob
    finally:
        desk.require_principal(None)


def test_as_principal_acts_as_its_principal_whatever_the_shared_inbox_has_installed(desk: Inbox) -> None:
    desk.start_run("selective_review", SMALL_PAYMENT, thread_id="pay")
    desk.start_run("selective_review", EMAIL, thread_id="mail")
    fay = desk.as_principal(who(desk, "fay@finance.example.com"))
    bob = desk.as_principal(who(desk, "bob@example.com"))
    desk.require_principal(lambda: who(desk, "bob@example.com"))  # what the UI installs on the cached Inbox
    try:
        assert {item.thread_id for item in desk.pending().items} == {"mail"}  # bob's queue
        assert {item.thread_id for item in fay.pending().items} == {"pay", "mail"}
        assert {item.thread_id for item in bob.pending().items} == {"mail"}
        with pytest.raises(NotAuthorized, match="make_payment needs one of the roles finance"):
            bob.thread("pay")
        assert fay.thread("pay").status == "waiting"
        outcome = fay.decide("pay", approve=True)
    finally:
        desk.require_principal(None)
    assert outcome.status == "completed"
    assert desk.history(thread_id="pay")["reviewer"].tolist() == ["fay@finance.example.com"]
    with pytest.raises(NotAuthorized, match="as_principal needs a principal"):
        desk.as_principal(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- issue 13: what the rules look at
#
# `asks` (tests/fixture_access.py) interrupts with whatever payload its input carries and
# then runs every call the answer approves, as a graph that trusts its reviewer would.

FIXTURE_ACCESS = Path(__file__).resolve().parent / "fixture_access.py"


@pytest.fixture
def asks_desk(db_url: str, graphs_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The [access] desk above, with the `asks` graph registered too."""
    import json

    graphs = json.loads(graphs_file.read_text())
    graphs["graphs"]["asks"] = f"{FIXTURE_ACCESS}:asks"
    path = tmp_path / "langgraph-asks.json"
    path.write_text(json.dumps(graphs))
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    inbox = Inbox.open(database_url=db_url, graphs_path=str(path), create=True, policy=POLICY)
    yield inbox
    inbox.close()


def ask(desk: Inbox, payload, thread_id: str = "asks-t", **kw) -> str:
    return desk.start_run("asks", {"payload": payload}, thread_id=thread_id, **kw)


def ran(desk: Inbox, thread_id: str) -> list[dict]:
    return desk.graph("asks").get_state({"configurable": {"thread_id": thread_id}}).values.get("ran", [])


def sensitive(name: str, amount, recipient: str = "Initech LLC") -> dict:
    return {"sensitive_tools": [{"name": name, "args": {"recipient": recipient, "amount": amount}}], "message": "Run it?"}


INJECTED = {"approved": True, "approved_tools": [{"name": "make_payment", "args": {"recipient": "mallory", "amount": 50000}}]}
SEARCH_ONLY = {"type": "tool_review", "tools": [{"name": "search_records", "args": {"query": "open invoices"}}], "message": "OK?"}


# item 2: rules are evaluated on what the answer approves


def test_rules_and_quorum_cover_calls_the_answer_approves_not_only_the_payload() -> None:
    policy = AccessPolicy.from_policy(POLICY)
    item = ReviewItem(thread_id="t", interrupt_id="i", graph_id="g", kind="tool_review", value=SEARCH_ONLY)
    alice = policy.principal("alice@example.com")
    assert policy.can_decide(alice, item, approve=True) == (True, "allowed")  # the payload alone: a search
    allowed, reason = policy.can_decide(alice, item, approve=True, answer=INJECTED)
    assert not allowed and "tool make_payment needs one of the roles finance" in reason
    assert policy.quorum_for(item, INJECTED) is not None and policy.quorum_for(item) is None
    with pytest.raises(NotAuthorized, match="make_payment needs one of the roles finance"):
        policy.authorize(alice, [item], answers={"i": INJECTED})


@pytest.mark.parametrize(
    ("kind", "value", "answer"),
    [
        ("tool_review", {"type": "tool_review", "tools": [{"name": "make_payment", "args": {"amount": 5000}}]},
         {"approved": True, "approved_tools": [{"name": "make_payment", "args": {"amount": 50000}}]}),
        ("hitl_request", {"action_requests": [{"name": "make_payment", "args": {"amount": 5000}}], "review_configs": []},
         {"decisions": [{"type": "edit", "edited_action": {"name": "make_payment", "args": {"amount": 50000}}}]}),
        ("tool_approval", {"type": "tool_approval", "name": "make_payment", "args": {"amount": 5000}},
         {"type": "edit", "edited_action": {"name": "make_payment", "args": {"amount": 50000}}}),
        ("agent_inbox", [{"action_request": {"action": "make_payment", "args": {"amount": 5000}},
                          "config": {"allow_edit": True}, "description": "pay"}],
         [{"type": "edit", "args": {"action": "make_payment", "args": {"amount": 50000}}}]),
    ],
)  # fmt: skip
def test_an_edit_to_a_big_amount_needs_the_quorum(kind: str, value, answer) -> None:
    policy = AccessPolicy.from_policy(POLICY)
    item = ReviewItem(thread_id="t", interrupt_id="i", graph_id="g", kind=kind, value=value)
    assert policy.quorum_for(item) is None  # 5,000 as proposed: no quorum
    assert policy.quorum_for(item, answer) is not None  # 50,000 as approved: two approvers


def test_an_edit_that_renames_the_call_is_judged_by_the_new_name() -> None:
    policy = AccessPolicy.from_policy(POLICY)
    value = {"action_requests": [{"name": "search_records", "args": {}}], "review_configs": []}
    renamed = {"decisions": [{"type": "edit", "edited_action": {"name": "make_payment", "args": {"amount": 50000}}}]}
    item = ReviewItem(thread_id="t", interrupt_id="i", graph_id="g", kind="hitl_request", value=value)
    allowed, reason = policy.can_decide(policy.principal("alice@example.com"), item, approve=True, answer=renamed)
    assert not allowed and "make_payment needs one of the roles finance" in reason


def test_a_tool_review_answer_cannot_approve_a_payment_nobody_proposed(asks_desk: Inbox) -> None:
    thread_id = ask(asks_desk, SEARCH_ONLY)
    [item] = asks_desk.thread(thread_id).interrupts
    with pytest.raises((NotAuthorized, InvalidAnswer), match="make_payment"):
        asks_desk.resume(thread_id, {item.id: INJECTED}, principal=who(asks_desk, "alice@example.com"))
    assert ran(asks_desk, thread_id) == [] and asks_desk.pending().total == 1
    # Someone with the role still does not pay 50,000 alone: the quorum counts the injected call.
    fay = who(asks_desk, "fay@finance.example.com")
    try:
        outcome = asks_desk.resume(thread_id, {item.id: INJECTED}, principal=fay)
    except InvalidAnswer:  # decisions.py refuses calls that were not proposed
        pass
    else:
        assert outcome.status == "waiting" and "1 of 2 approvals" in outcome.note
    assert ran(asks_desk, thread_id) == []


def test_rest_resume_refuses_an_injected_payment_without_the_role(asks_desk: Inbox) -> None:
    api = pytest.importorskip("hitl.api")
    from fastapi.testclient import TestClient

    thread_id = ask(asks_desk, SEARCH_ONLY)
    [item] = asks_desk.thread(thread_id).interrupts
    tokens = [api.ApiToken.from_secret("t-alice", "alice@example.com")]
    with TestClient(api.create_app(asks_desk, tokens=tokens)) as client:
        refused = client.post(
            f"/threads/{thread_id}/resume", headers={"Authorization": "Bearer t-alice"}, json={"answers": {item.id: INJECTED}}
        )
    assert refused.status_code in (403, 422), refused.text
    assert ran(asks_desk, thread_id) == []


# item 6: amounts of every numeric type, failing closed


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("$50,000.00", 50000), ("50 000 EUR", 50000), ("€50.000,00", 50000), ("CHF 1'000.50", 1000.5),
        ("US$ 5,000", 5000), ("12,50", 12.5), ("5e4", 50000), ("50k", 50000), ("1.2m", 1_200_000),
        ("(1,200)", -1200), ("50\u200b000", 50000), ("\uff15\uff10\uff10\uff10\uff10", 50000), ("50.000", 50000),
    ],
)  # fmt: skip
def test_amount_text_is_read_with_currency_and_separators(text: str, amount: float) -> None:
    from hitl.access import read_amount

    assert read_amount(text) == amount


def test_every_numeric_type_is_an_amount_and_what_is_not_fails_closed() -> None:
    from decimal import Decimal
    from fractions import Fraction

    from hitl.access import read_amount

    values = [Decimal("50000"), Fraction(100000, 2), 50000, 50000.0, 10**400]
    numpy = pytest.importorskip("numpy")
    values += [numpy.float32(50000), numpy.int64(50000), numpy.array(50000.0)]
    assert all(read_amount(v) >= 50000 for v in values)
    for unreadable in ["fifty thousand", "50 mil", "nan", Decimal("NaN"), True, [50000], {"currency": "EUR"}, object()]:
        with pytest.raises(ValueError):
            read_amount(unreadable)
    policy = AccessPolicy.from_policy(POLICY)
    for amount in [Decimal("50000"), Fraction(50000), "$50,000.00", "50 000 EUR", "fifty thousand", [1]]:
        item = ReviewItem(thread_id="t", interrupt_id="i", graph_id="g", kind="sensitive_tools",
                          value=sensitive("make_payment", amount))  # fmt: skip
        assert policy.quorum_for(item) is not None, amount
    item = ReviewItem(thread_id="t", interrupt_id="i", graph_id="g", kind="sensitive_tools",
                      value=sensitive("make_payment", "fifty thousand"))  # fmt: skip
    assert "cannot be read as an amount" in policy.quorum[0].why(item) and "fails closed" in policy.quorum[0].why(item)
    small = ReviewItem(thread_id="t", interrupt_id="i", graph_id="g", kind="sensitive_tools",
                       value=sensitive("make_payment", Decimal("1250.00")))  # fmt: skip
    assert policy.quorum_for(small) is None


@pytest.mark.parametrize("amount", ["decimal", "$50,000.00", "50 000 EUR", "fifty thousand"])
def test_one_approver_cannot_pay_50000_written_as_a_decimal_or_text(asks_desk: Inbox, amount: str) -> None:
    from decimal import Decimal

    value = Decimal("50000.00") if amount == "decimal" else amount
    thread_id = ask(asks_desk, sensitive("make_payment", value))
    first = asks_desk.decide(thread_id, approve=True, principal=who(asks_desk, "fay@finance.example.com"))
    assert first.status == "waiting" and "1 of 2 approvals" in first.note, first
    if amount == "fifty thousand":
        assert "cannot be read as an amount" in first.note and "fails closed" in first.note
    assert ran(asks_desk, thread_id) == []
    second = asks_desk.decide(thread_id, approve=True, principal=who(asks_desk, "gus@finance.example.com"))
    assert second.status == "completed"
    assert len(ran(asks_desk, thread_id)) == 1


# item 8: recovery and takeover rows say what they were about, so [access] can hide them


def _stale_claim(desk: Inbox, thread_id: str, reviewer: str) -> str:
    import time

    item = only_interrupt(desk, thread_id)
    answer = quick_answer(item.kind, item.value, approve=True, response_schema=item.response_schema)
    desk.store.claim(thread_id, [item.id], reviewer=reviewer, answers={item.id: answer}, lease_seconds=0.01,
                     still_pending=lambda _: True)  # fmt: skip
    time.sleep(0.05)
    return item.id


def _leaks(frame, *needles: str) -> bool:
    text = frame.to_json()
    return any(needle in text for needle in needles)


def test_a_recovery_row_is_hidden_from_reviewers_who_may_not_see_the_item(desk: Inbox) -> None:
    from hitl.services.recovery import recover_stale_claims

    thread_id = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="pay")
    interrupt_id = _stale_claim(desk, thread_id, "fay@finance.example.com")
    assert recover_stale_claims(desk) == [(thread_id, interrupt_id, "abandoned")]
    [row] = desk.store.audit_rows(thread_id=thread_id)
    assert (row["graph_id"], row["kind"]) == ("selective_review", "sensitive_tools") and "make_payment" in row["payload"]
    alice = who(desk, "alice@example.com")
    with pytest.raises(NotAuthorized, match="finance"):
        desk.thread(thread_id, principal=alice)
    assert desk.history(principal=alice).empty
    assert not desk.history(principal=who(desk, "gus@finance.example.com")).empty
    assert not desk.history(principal=desk.principal("aud@example.com", roles=["auditor"])).empty


def test_a_takeover_row_is_hidden_too(desk: Inbox) -> None:
    thread_id = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="pay")
    _stale_claim(desk, thread_id, "fay@finance.example.com")
    assert desk.decide(thread_id, approve=True, principal=who(desk, "gus@finance.example.com")).status == "completed"
    assert [r["outcome"] for r in desk.store.audit_rows(thread_id=thread_id)] == ["abandoned", "completed"]
    alice = who(desk, "alice@example.com")
    assert desk.history(principal=alice).empty
    assert desk.history(principal=alice, outcome="abandoned").empty  # judged without its sibling row too


def test_a_row_that_says_nothing_about_its_item_is_hidden_unless_it_can_be_told(desk: Inbox) -> None:
    # Rows appended by older desks carried neither graph, kind nor payload.
    from hitl.services.recovery import recover_stale_claims

    thread_id = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="pay")
    interrupt_id = _stale_claim(desk, thread_id, "fay@finance.example.com")
    graph = desk.graph("selective_review")
    item = only_interrupt(desk, thread_id)
    from langgraph.types import Command

    graph.invoke(Command(resume={interrupt_id: {"approved": True}}), {"configurable": {"thread_id": thread_id}})
    assert recover_stale_claims(desk) == [(thread_id, interrupt_id, "recovered")]
    [row] = desk.store.audit_rows(thread_id=thread_id)
    assert row["kind"] == item.kind  # found in the thread's checkpoints: the interrupt was resumed
    desk.store.append_audit([{"thread_id": "elsewhere", "interrupt_id": "gone", "action": "recovery",
                              "answer": {"approved": True, "amount": 50000}, "reviewer": "fay@finance.example.com",
                              "outcome": "abandoned"}])  # fmt: skip
    alice = who(desk, "alice@example.com")
    assert desk.history(principal=alice).empty
    assert len(desk.history(principal=desk.principal("aud@example.com", roles=["auditor"]))) == 2


def test_rest_history_hides_the_recovery_row(desk: Inbox) -> None:
    api = pytest.importorskip("hitl.api")
    from fastapi.testclient import TestClient

    from hitl.services.recovery import recover_stale_claims

    thread_id = desk.start_run("selective_review", SMALL_PAYMENT, thread_id="pay")
    _stale_claim(desk, thread_id, "fay@finance.example.com")
    recover_stale_claims(desk)
    tokens = [api.ApiToken.from_secret("t-alice", "alice@example.com"), api.ApiToken.from_secret("t-gus", "gus@finance.example.com")]
    with TestClient(api.create_app(desk, tokens=tokens)) as client:
        alice = client.get("/history", headers={"Authorization": "Bearer t-alice"})
        gus = client.get("/history", headers={"Authorization": "Bearer t-gus"})
    assert alice.status_code == 200 and alice.json()["count"] == 0, alice.text
    assert "Acme" not in alice.text and thread_id not in alice.text
    assert gus.status_code == 200 and [row["action"] for row in gus.json()["items"]] == ["recovery"], gus.text


# item 10: names are matched normalised, and the difference is flagged


@pytest.mark.parametrize("name", ["make_pay\u200bment", "make_payment\u202e", "\uff4d\uff41\uff4b\uff45_payment", "make_payment ", "make\u2060_payment"])
def test_a_name_with_invisible_or_look_alike_characters_matches_the_rule(name: str) -> None:
    from hitl.access import normalized_name

    assert normalized_name(name) == "make_payment"
    policy = AccessPolicy.from_policy(POLICY)
    item = ReviewItem(thread_id="t", interrupt_id="i", graph_id="g", kind="sensitive_tools", value=sensitive(name, 50000))
    allowed, reason = policy.can_decide(policy.principal("bob@example.com"), item, approve=True)
    assert not allowed and "needs one of the roles finance" in reason
    assert policy.quorum_for(item) is not None
    [note] = item.name_notes
    assert "access rules read it as 'make_payment'" in note and note in item.describe()


def test_an_invisible_character_is_named_and_shown_not_hidden() -> None:
    item = ReviewItem(thread_id="t", interrupt_id="i", graph_id="g", kind="sensitive_tools",
                      value=sensitive("make_pay\u200bment", 5))  # fmt: skip
    described = item.describe()
    assert "\u200b" not in described
    assert "make_pay<U+200B>ment" in described and "U+200B ZERO WIDTH SPACE" in described
    plain = ReviewItem(thread_id="t", interrupt_id="i", graph_id="g", kind="sensitive_tools", value=sensitive("make_payment", 5))
    assert plain.name_notes == () and plain.describe() == "make_payment on thread 't'"


def test_a_zero_width_tool_name_does_not_escape_the_rule_on_a_desk(asks_desk: Inbox) -> None:
    thread_id = ask(asks_desk, sensitive("make_pay\u200bment", 50000))
    bob, fay = who(asks_desk, "bob@example.com"), who(asks_desk, "fay@finance.example.com")
    with pytest.raises(NotAuthorized, match=r"make_pay<U\+200B>ment .*invisible characters.*needs one of the roles finance"):
        asks_desk.decide(thread_id, approve=True, principal=bob)
    assert asks_desk.pending(principal=bob).total == 0  # the queue's SQL matches the normalised name too
    assert asks_desk.pending(principal=fay).total == 1
    assert asks_desk.decide(thread_id, approve=True, principal=fay).status == "waiting"  # and the quorum applies
    assert ran(asks_desk, thread_id) == []
