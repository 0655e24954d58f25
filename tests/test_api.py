"""REST API over real graphs (test graphs and demo graphs), through FastAPI's TestClient."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import io
import logging
import sqlite3
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hitl import Inbox, InvalidAnswer, NotAuthorized
from hitl.api import ApiToken, create_app, load_tokens
from hitl.demo.inputs import DEMO_INPUTS
from tests.conftest import TEST_GRAPHS, start

GATE_FILE = Path(__file__).resolve().parent / "fixture_gate.py"

ALICE = {"Authorization": "Bearer alice-secret"}
BOB = {"Authorization": "Bearer bob-secret"}
VIEWER = {"Authorization": "Bearer viewer-secret"}

TOKENS = [
    ApiToken.from_secret("alice-secret", "alice@example.com", roles=["finance"]),
    ApiToken.from_secret("bob-secret", "bob@example.com"),
    ApiToken.from_secret("viewer-secret", "dashboard@example.com", scopes=["read"]),
]


@pytest.fixture
def client(inbox: Inbox) -> TestClient:
    return TestClient(create_app(inbox, tokens=TOKENS))


def demo(inbox: Inbox, graph_id: str, index: int = 0) -> str:
    return start(inbox, graph_id, DEMO_INPUTS[graph_id](index), thread_id=f"{graph_id}-{index}")


def only_interrupt(client: TestClient, thread_id: str) -> dict:
    interrupts = client.get(f"/threads/{thread_id}", headers=ALICE).json()["interrupts"]
    assert len(interrupts) == 1
    return interrupts[0]


# ---------------------------------------------------------------------------- auth


def test_healthz_needs_no_token(inbox: Inbox, client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "backend": inbox.store.backend, "read_only": False, "read_only_reason": None,
        "indexing": {"done": 0, "total": 0, "seconds_left": None},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Send Authorization: Bearer <token>"),
        ({"Authorization": "Bearer not-a-token"}, "not configured on the desk"),
        ({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, "Send Authorization: Bearer <token>"),
        ({"Authorization": "Bearer "}, "Send Authorization: Bearer <token>"),
    ],
)
def test_missing_or_unknown_token_is_401_with_a_bearer_challenge(client: TestClient, headers: dict, message: str) -> None:
    for method, path, body in (("GET", "/pending", None), ("POST", "/approve", {"thread_id": "x", "approved": True})):
        response = client.request(method, path, headers=headers, json=body)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["error"] == "unauthorized"
        assert message in response.json()["message"]


def test_app_opens_the_environments_desk_on_the_first_request(
    inbox: Inbox, db_url: str, graphs_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start(inbox, "fragile")
    monkeypatch.setenv("HITL_DATABASE_URL", db_url)
    monkeypatch.setenv("HITL_GRAPHS", str(graphs_file))
    monkeypatch.setenv("HITL_API_TOKENS", "env-token:erin@example.com")
    client = TestClient(create_app())
    assert client.get("/pending", headers={"Authorization": "Bearer env-token"}).json()["total"] == 1
    monkeypatch.setenv("HITL_DATABASE_URL", "sqlite:////nonexistent/dir/hitl.db")
    missing = TestClient(create_app()).get("/healthz")
    assert missing.status_code == 503 and "does not exist" in missing.json()["message"]


def test_desk_without_tokens_refuses_everything_and_says_how_to_add_them(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HITL_API_TOKENS", raising=False)
    response = TestClient(create_app(inbox)).get("/pending", headers=ALICE)
    assert response.status_code == 401
    assert "[[api.tokens]]" in response.json()["message"] and "HITL_API_TOKENS" in response.json()["message"]


def test_tokens_come_from_hitl_config_and_env_and_name_the_audited_reviewer(
    db_url: str, graphs_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = hashlib.sha256(b"carol-secret").hexdigest()
    config = tmp_path / "hitl.toml"
    config.write_text(
        f'[[api.tokens]]\ntoken_sha256 = "{digest}"\nreviewer = "carol@example.com"\nroles = ["finance"]\n'
        '[[api.tokens]]\ntoken = "dave-secret"\nreviewer = "dave@example.com"\nscopes = ["read"]\n'
    )
    monkeypatch.setenv("HITL_API_TOKENS", "erin-secret:erin@example.com, frank-secret:frank@example.com")
    inbox = Inbox.open(database_url=db_url, graphs_path=str(graphs_file), config_path=str(config), create=True)
    try:
        client = TestClient(create_app(inbox))
        first, second = start(inbox, "fragile", thread_id="f1"), start(inbox, "fragile", thread_id="f2")
        assert client.post("/approve", headers={"Authorization": "Bearer carol-secret"}, json={"thread_id": first, "approved": True}).status_code == 200
        assert client.post("/approve", headers={"Authorization": "Bearer frank-secret"}, json={"thread_id": second, "approved": False}).status_code == 200
        dave = client.post("/approve", headers={"Authorization": "Bearer dave-secret"}, json={"thread_id": second, "approved": True})
        assert dave.status_code == 403
        assert list(inbox.history()["reviewer"]) == ["carol@example.com", "frank@example.com"]
    finally:
        inbox.close()
    tokens = load_tokens({"api": {"tokens": [{"token_sha256": digest, "reviewer": "carol@example.com", "roles": ["finance"]}]}}, env={})
    assert tokens[0].roles == ("finance",) and tokens[0].scopes == ("read", "decide")


@pytest.mark.parametrize(
    ("policy", "env", "message"),
    [
        ({"api": {"tokens": [{"token": "x"}]}}, {}, "entry #1 has no reviewer"),
        ({"api": {"tokens": [{"reviewer": "a"}]}}, {}, "exactly one of token"),
        ({"api": {"tokens": [{"reviewer": "a", "token_sha256": "abc"}]}}, {}, "not 64 hex digits"),
        ({"api": {"tokens": [{"reviewer": "a", "token": "x", "scopes": ["admin"]}]}}, {}, "scopes a list drawn from"),
        ({}, {"HITL_API_TOKENS": "justatoken"}, "item #1 is not token:reviewer"),
    ],
)
def test_bad_token_configuration_is_named_without_revealing_tokens(policy: dict, env: dict, message: str) -> None:
    from hitl import HitlError

    with pytest.raises(HitlError, match=message) as caught:
        load_tokens(policy, env=env)
    assert "justatoken" not in str(caught.value)


def test_broken_token_configuration_is_503_not_500(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITL_API_TOKENS", "no-reviewer-here")
    response = TestClient(create_app(inbox)).get("/pending", headers=ALICE)
    assert response.status_code == 503
    assert response.json()["error"] == "desk_unavailable"
    assert "HITL_API_TOKENS item #1" in response.json()["message"]


# ---------------------------------------------------------------------------- reading


def test_pending_lists_demo_and_test_graphs_with_filters_and_cursor_pages(inbox: Inbox, client: TestClient) -> None:
    for graph_id in ("email_approval", "draft_edit", "tool_review", "agent_batched"):
        demo(inbox, graph_id)
    start(inbox, "fragile")
    start(inbox, "parallel")

    everything = client.get("/pending", headers=ALICE).json()
    assert everything["total"] == 6 and everything["next_cursor"] is None
    by_thread = {item["thread_id"]: item for item in everything["items"]}
    assert [i["kind"] for i in by_thread["agent_batched-0"]["interrupts"]] == ["hitl_request"]
    assert sorted(i["node"] for i in by_thread["parallel-t"]["interrupts"]) == ["left_review", "nested", "right_review"]
    email = by_thread["email_approval-0"]["interrupts"][0]
    assert email["kind"] == "question" and email["payload"]["action"] == "send_email"

    seen, cursor = [], None
    while True:
        page = client.get("/pending", headers=ALICE, params={"limit": 4, **({"cursor": cursor} if cursor else {})}).json()
        assert page["total"] == 6
        seen += [item["thread_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [item["thread_id"] for item in everything["items"]]
    newest = client.get("/pending", headers=ALICE, params={"newest_first": True}).json()
    assert [i["thread_id"] for i in newest["items"]] == seen[::-1]

    assert [i["thread_id"] for i in client.get("/pending", headers=ALICE, params={"graph_id": "draft_edit"}).json()["items"]] == ["draft_edit-0"]
    assert {i["thread_id"] for i in client.get("/pending", headers=ALICE, params={"kind": "question"}).json()["items"]} == {
        "email_approval-0", "fragile-t", "parallel-t",
    }  # fmt: skip
    assert [i["thread_id"] for i in client.get("/pending", headers=ALICE, params={"search": "Deploy Q3 to"}).json()["items"]] == ["fragile-t"]
    assert client.get("/pending", headers=ALICE, params={"waiting_longer_than": 3600}).json()["total"] == 0
    assert client.get("/pending", headers=VIEWER).status_code == 200


def test_pending_rejects_bad_paging_with_field_errors(inbox: Inbox, client: TestClient) -> None:
    response = client.get("/pending", headers=ALICE, params={"limit": 0})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert "query.limit" in response.json()["details"]["field_errors"]
    response = client.get("/pending", headers=ALICE, params={"cursor": "not-ours"})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_answer"
    assert "is not one this desk issued" in response.json()["message"]


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"[" * 2_000, "JSON nested too deeply"),  # RecursionError in json.loads: was a 500
        (b'[1.5, "' + b"t" * 4_000 + b'"]', "longer than 4096 characters"),
        (b"[1.5]", "expected [waiting_since, thread_id]"),
        (b'{"a": 1, "b": 2}', "expected [waiting_since, thread_id]"),
        (b'[NaN, "t"]', "waiting_since is not a finite number"),
        (b'[true, "t"]', "waiting_since is not a finite number"),
        (b"[1.5, 7]", "thread_id is not a string"),
    ],
    ids=["nested", "huge", "short", "object", "nan", "bool", "id-not-str"],
)
def test_a_cursor_the_desk_did_not_issue_is_a_422_naming_why_never_a_500(client: TestClient, raw: bytes, why: str) -> None:
    response = client.get("/pending", headers=ALICE, params={"cursor": base64.urlsafe_b64encode(raw).decode()})
    assert response.status_code == 422, response.text[:300]
    body = response.json()
    assert (body["error"], body["details"]["field_errors"]) == ("invalid_answer", {"cursor": why})
    assert "is not one this desk issued" in body["message"] and len(body["message"]) < 500


def test_a_deeply_nested_cursor_of_acceptable_length_is_refused_by_the_library_too(inbox: Inbox) -> None:
    cursor = base64.urlsafe_b64encode(b"[" * 2_000).decode()
    with pytest.raises(InvalidAnswer, match="JSON nested too deeply"):
        inbox.pending(cursor=cursor)


def test_thread_shows_interrupts_state_as_plain_json_and_decisions(inbox: Inbox, client: TestClient) -> None:
    thread_id = demo(inbox, "email_approval")
    view = client.get(f"/threads/{thread_id}", headers=ALICE).json()
    assert view["status"] == "waiting" and view["graph_id"] == "email_approval" and view["read_only_reason"] is None
    assert view["next_nodes"] == ["review_email"]
    (interrupt,) = view["interrupts"]
    assert interrupt["kind"] == "question" and interrupt["node"] == "review_email"
    assert interrupt["payload"]["details"]["to"] == "finance@acme.example"
    messages = view["values"]["messages"]
    assert [m["type"] for m in messages[:2]] == ["human", "ai"]
    assert messages[1]["tool_calls"][0]["name"] == "send_email"
    assert view["checkpoints"] and view["decisions"] == []

    client.post(f"/threads/{thread_id}/resume", headers=ALICE, json={"answers": {interrupt["id"]: {"approved": True}}, "comment": "ok"})
    after = client.get(f"/threads/{thread_id}", headers=ALICE).json()
    assert after["status"] == "completed" and after["interrupts"] == []
    (decision,) = after["decisions"]
    assert decision["reviewer"] == "alice@example.com" and decision["answer"] == {"approved": True}
    assert decision["comment"] == "ok" and decision["outcome"] == "completed"
    assert after["values"]["sent_emails"]


def test_unknown_thread_is_404_everywhere(client: TestClient) -> None:
    for method, path, body in (
        ("GET", "/threads/nope", None),
        ("POST", "/threads/nope/resume", {"answers": {"x": True}}),
        ("POST", "/approve", {"thread_id": "nope", "approved": True}),
    ):
        response = client.request(method, path, headers=ALICE, json=body)
        assert response.status_code == 404, path
        assert response.json()["error"] == "thread_not_found"
        assert "'nope' was not found" in response.json()["message"]
    assert client.get("/no/such/route", headers=ALICE).json() == {"error": "not_found", "message": "Not Found"}


# ---------------------------------------------------------------------------- deciding


def test_resume_answers_parallel_interrupts_one_then_the_rest(inbox: Inbox, client: TestClient) -> None:
    thread_id = start(inbox, "parallel")
    interrupts = {i["node"]: i for i in client.get(f"/threads/{thread_id}", headers=ALICE).json()["interrupts"]}
    response = client.post(
        f"/threads/{thread_id}/resume", headers=ALICE, json={"answers": {interrupts["left_review"]["id"]: {"approved": True}}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "waiting" and body["reviewer"] == "alice@example.com"
    assert {i["node"] for i in body["new_interrupts"]} == {"right_review", "nested"}
    rest = {i["id"]: (True if i["kind"] == "confirm" else {"approved": False, "reason": "no"}) for i in body["new_interrupts"]}
    response = client.post(f"/threads/{thread_id}/resume", headers=BOB, json={"answers": rest, "comment": "rest"})
    assert response.json()["status"] == "completed"
    assert list(inbox.history(thread_id=thread_id)["reviewer"]) == ["alice@example.com", "bob@example.com", "bob@example.com"]


def test_resume_demo_graphs_of_several_kinds(inbox: Inbox, client: TestClient) -> None:
    answers = {
        "draft_edit": {"action": "approve", "edited": "Dear Dana, your order ships today."},
        "agent_batched": {"decisions": [{"type": "approve"}, {"type": "reject", "message": "not now"}, {"type": "approve"}]},
        "simple_confirm": True,
    }
    for graph_id in answers:
        demo(inbox, graph_id)
    listed = client.get("/pending", headers=ALICE).json()["items"]
    assert {item["graph_id"] for item in listed} == set(answers)
    for graph_id, answer in answers.items():
        thread_id = f"{graph_id}-0"
        interrupt = only_interrupt(client, thread_id)
        response = client.post(f"/threads/{thread_id}/resume", headers=ALICE, json={"answers": {interrupt["id"]: answer}})
        assert response.status_code == 200, response.json()
        assert response.json()["status"] in ("completed", "waiting")
    assert set(inbox.history()["graph_id"]) == set(answers)


def test_invalid_answer_is_422_with_field_errors_and_nothing_is_saved(inbox: Inbox, client: TestClient) -> None:
    thread_id = demo(inbox, "agent_batched")
    interrupt = only_interrupt(client, thread_id)
    response = client.post(
        f"/threads/{thread_id}/resume", headers=ALICE, json={"answers": {interrupt["id"]: {"decisions": [{"type": "maybe"}]}}}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_answer"
    assert body["details"]["field_errors"] and all(isinstance(v, str) for v in body["details"]["field_errors"].values())
    unknown = client.post(f"/threads/{thread_id}/resume", headers=ALICE, json={"answers": {"bogus": True}})
    assert unknown.status_code == 422 and unknown.json()["details"]["field_errors"] == {"bogus": "not pending"}
    assert client.get(f"/threads/{thread_id}", headers=ALICE).json()["status"] == "waiting"
    assert inbox.history().empty


def test_malformed_request_bodies_are_422_in_the_same_shape(inbox: Inbox, client: TestClient) -> None:
    thread_id = start(inbox, "fragile")
    cases = [
        ({}, "body.answers"),
        ({"answers": {}}, "body.answers"),
        ({"answers": {"x": True}, "reviewer": "mallory"}, "body.reviewer"),
        ({"answers": {"x": True}, "comment": 5}, "body.comment"),
    ]
    for body, field in cases:
        response = client.post(f"/threads/{thread_id}/resume", headers=ALICE, json=body)
        assert response.status_code == 422
        assert response.json()["error"] == "invalid_request"
        assert field in response.json()["details"]["field_errors"]
    response = client.post(f"/threads/{thread_id}/resume", headers={**ALICE, "Content-Type": "application/json"}, content=b"{not json")
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"
    for approved in (0, "yes", None):  # lax coercion would turn these into decisions
        response = client.post("/approve", headers=ALICE, json={"thread_id": thread_id, "approved": approved})
        assert response.status_code == 422 and "body.approved" in response.json()["details"]["field_errors"]
    assert inbox.history().empty


def test_second_decision_is_409_naming_who_and_when(inbox: Inbox, client: TestClient) -> None:
    thread_id = start(inbox, "fragile")
    interrupt = only_interrupt(client, thread_id)
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    assert client.post(f"/threads/{thread_id}/resume", headers=ALICE, json={"answers": {interrupt["id"]: {"approved": True}}}).status_code == 200
    for response in (
        client.post(f"/threads/{thread_id}/resume", headers=BOB, json={"answers": {interrupt["id"]: {"approved": False}}}),
        client.post("/approve", headers=BOB, json={"thread_id": thread_id, "approved": False}),
    ):
        assert response.status_code == 409
        body = response.json()
        assert body["error"] == "already_decided"
        assert body["details"]["decided_by"] == "alice@example.com"
        assert body["details"]["interrupt_id"] == interrupt["id"]
        decided_at = datetime.fromisoformat(body["details"]["decided_at"])
        assert before <= decided_at <= datetime.now(timezone.utc)
        assert "already decided by alice@example.com" in body["message"]
    assert list(inbox.history()["reviewer"]) == ["alice@example.com"]


def test_two_concurrent_resumes_of_one_interrupt_one_wins_one_gets_409(inbox: Inbox, client: TestClient) -> None:
    thread_id = demo(inbox, "email_approval")
    interrupt = only_interrupt(client, thread_id)
    barrier = threading.Barrier(2)
    responses: dict[str, object] = {}

    def decide(name: str, headers: dict, approved: bool) -> None:
        barrier.wait()
        responses[name] = client.post(
            f"/threads/{thread_id}/resume", headers=headers, json={"answers": {interrupt["id"]: {"approved": approved}}}
        )

    threads = [
        threading.Thread(target=decide, args=("alice", ALICE, True)),
        threading.Thread(target=decide, args=("bob", BOB, False)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    statuses = sorted(r.status_code for r in responses.values())  # type: ignore[attr-defined]
    assert statuses == [200, 409]
    winner = next(name for name, r in responses.items() if r.status_code == 200)  # type: ignore[attr-defined]
    loser = responses["bob" if winner == "alice" else "alice"]
    assert loser.json()["details"]["decided_by"] == f"{winner}@example.com"  # type: ignore[attr-defined]
    history = inbox.history(thread_id=thread_id)
    assert list(history["reviewer"]) == [f"{winner}@example.com"]


def test_approve_uses_the_simple_shape_for_one_pending_interrupt(inbox: Inbox, client: TestClient) -> None:
    email = demo(inbox, "email_approval")
    response = client.post("/approve", headers=ALICE, json={"thread_id": email, "approved": False, "feedback": "wrong recipient"})
    assert response.status_code == 200 and response.json()["status"] == "completed"
    row = inbox.history(thread_id=email).iloc[0]
    assert row["comment"] == "wrong recipient" and '"approved": false' in row["answer"]

    parallel = start(inbox, "parallel")
    several = client.post("/approve", headers=ALICE, json={"thread_id": parallel, "approved": True})
    assert several.status_code == 422 and "has 3 pending interrupts" in several.json()["message"]
    nested = next(i for i in client.get(f"/threads/{parallel}", headers=ALICE).json()["interrupts"] if i["node"] == "nested")
    named = client.post("/approve", headers=ALICE, json={"thread_id": parallel, "approved": True, "interrupt_id": nested["id"]})
    assert named.status_code == 200 and named.json()["status"] == "waiting"


def test_batch_returns_one_result_per_thread(inbox: Inbox, client: TestClient) -> None:
    first, second = demo(inbox, "email_approval", 0), demo(inbox, "simple_confirm", 1)
    decided = start(inbox, "fragile")
    client.post("/approve", headers=BOB, json={"thread_id": decided, "approved": True})
    response = client.post(
        "/batch", headers=ALICE, json={"thread_ids": [first, second, decided, "ghost"], "approved": True, "comment": "bulk"}
    )
    assert response.status_code == 200
    results = {r["thread_id"]: r["result"] for r in response.json()["results"]}
    assert results == {first: "completed", second: "completed", decided: "already decided", "ghost": "not found"}
    assert response.json()["counts"] == {"completed": 2, "already decided": 1, "not found": 1}
    assert set(inbox.history(reviewer="alice@example.com")["action"]) == {"batch"}
    assert client.post("/batch", headers=ALICE, json={"thread_ids": [], "approved": True}).status_code == 422


def test_read_only_token_is_403_and_decides_nothing(inbox: Inbox, client: TestClient) -> None:
    thread_id = start(inbox, "fragile")
    interrupt = only_interrupt(client, thread_id)
    for path, body in (
        (f"/threads/{thread_id}/resume", {"answers": {interrupt["id"]: {"approved": True}}}),
        ("/approve", {"thread_id": thread_id, "approved": True}),
        ("/batch", {"thread_ids": [thread_id], "approved": True}),
    ):
        response = client.post(path, headers=VIEWER, json=body)
        assert response.status_code == 403, path
        assert response.json()["error"] == "not_authorized"
        assert "may only read" in response.json()["message"] and "viewer-secret" not in response.json()["message"]
    assert inbox.history().empty
    assert client.get(f"/threads/{thread_id}", headers=VIEWER).json()["status"] == "waiting"


def test_access_rules_apply_to_tokens_and_refusals_are_403(graphs_file: Path, tmp_path: Path) -> None:
    policy = {"access": {"rules": [{"graph": "fragile", "roles": ["ops"]}]}}
    inbox = Inbox.open(database_url=f"sqlite:///{tmp_path / 'access.db'}", graphs_path=str(graphs_file), create=True, policy=policy)
    try:
        thread_id = start(inbox, "fragile")
        ops = ApiToken.from_secret("ops-secret", "olga@example.com", roles=["ops"])
        client = TestClient(create_app(inbox, tokens=[*TOKENS, ops]))
        refused = client.post("/approve", headers=ALICE, json={"thread_id": thread_id, "approved": True})
        assert refused.status_code == 403
        assert refused.json()["error"] == "not_authorized" and "ops" in refused.json()["message"]
        assert client.get("/pending", headers=ALICE).json() | {"items": []} == {"items": [], "next_cursor": None, "total": 0, "waiting_on_others": 1, "indexing": None}
        done = client.post("/approve", headers={"Authorization": "Bearer ops-secret"}, json={"thread_id": thread_id, "approved": True})
        assert done.status_code == 200 and list(inbox.history()["reviewer"]) == ["olga@example.com"]
        assert client.get("/history", headers={"Authorization": "Bearer ops-secret"}).json()["count"] == 1
        assert client.get("/history", headers=ALICE).json()["count"] == 0  # an item alice may not see
        assert client.get("/history", headers=ALICE, params={"format": "csv"}).text.count("\n") == 1  # the header only
        broken = Inbox.open(database_url=f"sqlite:///{tmp_path / 'access.db'}", graphs_path=str(graphs_file),
                            policy={"access": {"default": "maybe"}})  # fmt: skip
        try:
            response = TestClient(create_app(broken, tokens=TOKENS)).get("/pending", headers=ALICE)
            assert response.status_code == 503 and "[access] default = 'maybe'" in response.json()["message"]
        finally:
            broken.close()
    finally:
        inbox.close()


def test_thread_of_an_unregistered_graph_is_409_unknown_graph(inbox: Inbox, client: TestClient) -> None:
    thread_id = start(inbox, "twin_a", tag=False)  # its node is in two registered graphs: ambiguous
    view = client.get(f"/threads/{thread_id}", headers=ALICE).json()
    assert view["read_only_reason"]
    response = client.post("/approve", headers=ALICE, json={"thread_id": thread_id, "approved": True})
    assert response.status_code == 409
    assert response.json()["error"] == "unknown_graph"


def test_graph_raising_after_the_decision_is_200_failed_with_the_error(inbox: Inbox, client: TestClient) -> None:
    thread_id = start(inbox, "fragile")
    interrupt = only_interrupt(client, thread_id)
    response = client.post(
        f"/threads/{thread_id}/resume", headers=ALICE, json={"answers": {interrupt["id"]: {"approved": True, "reason": "boom"}}}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "failed" and "deploy script exploded" in response.json()["error"]
    assert client.get(f"/threads/{thread_id}", headers=ALICE).json()["errors"][0]["node"] == "fragile_deploy"


# ---------------------------------------------------------------------------- history


def test_history_filters_and_csv_rows(inbox: Inbox, client: TestClient) -> None:
    first = start(inbox, "fragile", thread_id="first")
    second = demo(inbox, "email_approval")
    assert client.get("/pending", headers=ALICE).json()["total"] == 2
    client.post("/approve", headers=ALICE, json={"thread_id": first, "approved": True, "feedback": "ship, it \"now\""})
    client.post("/approve", headers=BOB, json={"thread_id": second, "approved": False, "feedback": "no"})

    everything = client.get("/history", headers=ALICE).json()
    assert everything["count"] == 2
    assert [row["reviewer"] for row in everything["items"]] == ["alice@example.com", "bob@example.com"]
    assert [row["answer"] for row in everything["items"]] == [{"approved": True}, {"approved": False, "reason": "no"}]
    assert everything["items"][0]["payload"] is None
    with_payload = client.get("/history", headers=ALICE, params={"include_payload": True, "graph_id": "fragile"}).json()
    assert with_payload["items"][0]["payload"]["action"] == "deploy"

    assert client.get("/history", headers=ALICE, params={"reviewer": "bob@example.com"}).json()["count"] == 1
    assert client.get("/history", headers=ALICE, params={"graph_id": "email_approval", "kind": "question"}).json()["count"] == 1
    assert client.get("/history", headers=ALICE, params={"outcome": "completed"}).json()["count"] == 2
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert client.get("/history", headers=ALICE, params={"since": future}).json()["count"] == 0
    assert client.get("/history", headers=ALICE, params={"until": future}).json()["count"] == 2
    naive_past = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    assert client.get("/history", headers=ALICE, params={"since": naive_past}).json()["count"] == 2

    response = client.get("/history", headers=ALICE, params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["thread_id"] for row in rows] == [first, second]
    assert rows[0]["reviewer"] == "alice@example.com" and rows[0]["comment"] == 'ship, it "now"'
    assert rows[1]["outcome"] == "completed" and rows[1]["graph_id"] == "email_approval"
    assert "payload" not in rows[0] and rows[0]["row_hash"]
    assert datetime.fromisoformat(rows[0]["decided_at"]).tzinfo is not None
    bob_only = list(csv.DictReader(io.StringIO(client.get("/history", headers=ALICE, params={"format": "csv", "reviewer": "bob@example.com"}).text)))
    assert [row["thread_id"] for row in bob_only] == [second]

    bad = client.get("/history", headers=ALICE, params={"format": "xml"})
    assert bad.status_code == 422 and "query.format" in bad.json()["details"]["field_errors"]


def test_history_pages_with_limit_and_cursor_oldest_first_in_json_and_csv(inbox: Inbox, client: TestClient) -> None:
    inbox.store.append_audit(
        [{"thread_id": f"t-{n}", "interrupt_id": f"i-{n}", "kind": "question", "answer": {"approved": True},
          "reviewer": "alice@example.com", "outcome": "completed"} for n in range(7)]
    )  # fmt: skip
    seen, cursor, pages = [], None, 0
    while True:
        page = client.get("/history", headers=ALICE, params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        pages += 1
        assert page["count"] == len(page["items"]) <= 3
        seen += [row["thread_id"] for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # A decision recorded while the client pages lands after everything it has yet to read.
        if pages == 1:
            inbox.store.append_audit([{"thread_id": "t-late", "interrupt_id": "i", "reviewer": "bob", "outcome": "completed"}])
    assert pages == 3 and seen == [f"t-{n}" for n in range(7)] + ["t-late"]
    assert client.get("/history", headers=ALICE).json()["count"] == 8  # the default limit is 100

    first = client.get("/history", headers=ALICE, params={"format": "csv", "limit": 5})
    assert [row["thread_id"] for row in csv.DictReader(io.StringIO(first.text))] == [f"t-{n}" for n in range(5)]
    rest = client.get("/history", headers=ALICE, params={"format": "csv", "limit": 5, "cursor": first.headers["X-Next-Cursor"]})
    assert [row["thread_id"] for row in csv.DictReader(io.StringIO(rest.text))] == ["t-5", "t-6", "t-late"]
    assert "X-Next-Cursor" not in rest.headers


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": 0}, "query.limit", "greater than or equal to 1"),
        ({"limit": 1001}, "query.limit", "less than or equal to 1000"),
        ({"cursor": "not-ours"}, "cursor", "not base64 JSON"),
        ({"cursor": base64.urlsafe_b64encode(b"[" * 2_000).decode()}, "cursor", "longer than 200 characters"),
        ({"cursor": base64.urlsafe_b64encode(b"[" * 50 + b"]" * 50).decode()}, "cursor", 'expected {"after_seq": <row seq>}'),
        ({"cursor": base64.urlsafe_b64encode(b'{"after_seq": -1}').decode()}, "cursor", 'expected {"after_seq": <row seq>}'),
    ],
)
def test_history_refuses_bad_paging_with_422(client: TestClient, params: dict, field: str, message: str) -> None:
    response = client.get("/history", headers=ALICE, params=params)
    assert response.status_code == 422
    assert message in response.json()["details"]["field_errors"][field]


def test_openapi_documents_history_limit_and_cursor(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/history"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 1000 and params["limit"]["schema"]["default"] == 100
    assert "next_cursor" in params["cursor"]["description"]
    assert "X-Next-Cursor" in operation["responses"]["200"]["headers"]


@pytest.fixture
def gated_client(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A desk with `tests/fixture_gate.py`'s `gated` graph, and that module as the registry
    imported it (under its own name: its events are the ones the graph's node uses)."""
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    graphs = tmp_path / "gated.json"
    graphs.write_text(json.dumps({"graphs": {**TEST_GRAPHS, "gated": f"{GATE_FILE}:gated"}}))
    inbox = Inbox.open(database_url=db_url, graphs_path=str(graphs), create=True)
    inbox.graph("gated")
    gate = next(m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == str(GATE_FILE))
    gate.ENTERED.clear()
    gate.GATE.clear()
    yield inbox, TestClient(create_app(inbox, tokens=TOKENS)), gate
    gate.GATE.set()
    inbox.close()


def test_approve_while_another_reviewers_resume_is_still_running_is_409_not_422(gated_client) -> None:
    inbox, client, gate = gated_client
    thread_id = start(inbox, "gated")
    interrupt_id = inbox.pending().items[0].interrupts[0].id
    winner: dict = {}
    running = threading.Thread(
        target=lambda: winner.update(response=client.post("/approve", headers=ALICE, json={"thread_id": thread_id, "approved": True}))
    )
    running.start()
    try:
        assert gate.ENTERED.wait(60), "the winner's resume never reached the node after the review"
        # Now: the checkpoint no longer shows the interrupt, the winner's claim is open, and
        # its audit row is not written yet.
        assert inbox.store.pending_interrupts([thread_id])[thread_id] == []
        assert inbox.history(thread_id=thread_id).empty
        for body in ({"thread_id": thread_id, "approved": False}, {"thread_id": thread_id, "approved": False, "interrupt_id": interrupt_id}):
            loser = client.post("/approve", headers=BOB, json=body)
            assert loser.status_code == 409, loser.text
            assert loser.json()["error"] == "already_decided"
            assert (loser.json()["details"]["decided_by"], loser.json()["details"]["interrupt_id"]) == ("alice@example.com", interrupt_id)
    finally:
        gate.GATE.set()
        running.join(60)
    assert winner["response"].status_code == 200 and winner["response"].json()["status"] == "completed"
    assert list(inbox.history(thread_id=thread_id)["reviewer"]) == ["alice@example.com"]
    done = client.post("/approve", headers=BOB, json={"thread_id": thread_id, "approved": False})
    assert done.status_code == 409 and done.json()["details"]["decided_by"] == "alice@example.com"  # from the audit log now


# ---------------------------------------------------------------------------- the database


def test_locked_database_is_503_and_nothing_is_decided(graphs_file: Path, tmp_path: Path) -> None:
    # SQLite only: another process holding the write lock is an SQLite situation.
    inbox = Inbox.open(
        database_url=f"sqlite:///{tmp_path / 'locked.db'}", graphs_path=str(graphs_file), create=True, busy_timeout_ms=50,
        policy={"database": {"lock_retry_seconds": 0.3}},
    )  # fmt: skip
    try:
        thread_id = start(inbox, "fragile")
        client = TestClient(create_app(inbox, tokens=TOKENS))
        interrupt = only_interrupt(client, thread_id)
        other_writer = sqlite3.connect(str(tmp_path / "locked.db"), timeout=0.1)
        other_writer.execute("BEGIN IMMEDIATE")
        try:
            response = client.post(f"/threads/{thread_id}/resume", headers=ALICE, json={"answers": {interrupt["id"]: {"approved": True}}})
        finally:
            other_writer.rollback()
            other_writer.close()
        assert response.status_code == 503
        assert response.json()["error"] == "store_unavailable"
        assert "stayed locked" in response.json()["message"]
        assert response.headers["Retry-After"] == "5"
        retried = client.post(f"/threads/{thread_id}/resume", headers=ALICE, json={"answers": {interrupt["id"]: {"approved": True}}})
        assert retried.status_code == 200
    finally:
        inbox.close()


def test_read_only_database_is_503_with_the_reason(graphs_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_url = f"sqlite:///{tmp_path / 'read-only.db'}"
    writer = Inbox.open(database_url=db_url, graphs_path=str(graphs_file), create=True)
    thread_id = start(writer, "fragile")
    writer.refresh()
    writer.close()
    # The tests run as root, for whom file modes do not bite: make the store see what a
    # read-only mount shows it (it then opens the file with SQLite's mode=ro).
    monkeypatch.setattr("hitl.storage.sqlite.writable", lambda path: False)
    inbox = Inbox.open(database_url=db_url, graphs_path=str(graphs_file))
    try:
        assert inbox.store.read_only
        client = TestClient(create_app(inbox, tokens=TOKENS))
        assert client.get("/healthz").json()["read_only"] is True
        interrupt = only_interrupt(client, thread_id)
        response = client.post(f"/threads/{thread_id}/resume", headers=ALICE, json={"answers": {interrupt["id"]: {"approved": True}}})
        assert response.status_code == 503
        assert response.json()["error"] == "store_unavailable"
        assert "read-only" in response.json()["message"] and "Nothing was changed" in response.json()["message"]
    finally:
        inbox.close()


def test_unexpected_error_is_a_generic_500_and_the_traceback_is_logged(
    inbox: Inbox, client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals at /srv/app.py line 42")

    monkeypatch.setattr(inbox, "pending", broken)
    with caplog.at_level(logging.ERROR, logger="hitl.api"):
        response = client.get("/pending", headers=ALICE)
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal_error" and body["details"]["reference"] in body["message"]
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert "secret internals" in caplog.text and body["details"]["reference"] in caplog.text


# ---------------------------------------------------------------------------- the document


def test_openapi_documents_models_and_every_error_status(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    # The /qa routes have their own OpenAPI test (tests/qa/test_qa_api.py).
    operations = {
        (method, path): op for path, item in document["paths"].items() for method, op in item.items() if not path.startswith("/qa/")
    }
    assert any(path.startswith("/qa/") for path in document["paths"])
    assert set(operations) == {
        ("get", "/healthz"), ("get", "/pending"), ("get", "/threads/{thread_id}"), ("post", "/threads/{thread_id}/resume"),
        ("post", "/approve"), ("post", "/batch"), ("get", "/history"),
    }  # fmt: skip
    for (method, path), op in operations.items():
        assert "$ref" in str(op["responses"]["200"]["content"]["application/json"]["schema"]), path
        expected = {"500", "503"} if path == "/healthz" else {"401", "403", "422", "500", "503"}
        assert expected <= set(op["responses"]), path
        if method == "post":
            assert "$ref" in str(op["requestBody"]["content"]["application/json"]["schema"]), path
    for path in ("/threads/{thread_id}/resume", "/approve"):
        assert {"404", "409"} <= set(operations[("post", path)]["responses"])
    assert "text/csv" in operations[("get", "/history")]["responses"]["200"]["content"]
    schemas = document["components"]["schemas"]
    assert set(schemas["ErrorBody"]["required"]) == {"error", "message"}
    assert "decided_by" in schemas["AlreadyDecidedDetails"]["properties"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
