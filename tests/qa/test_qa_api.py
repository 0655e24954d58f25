"""The /qa REST routes through FastAPI's TestClient: blind scores, adjudication, export, forks, analytics."""

from __future__ import annotations

import json
from dataclasses import replace

from fastapi.testclient import TestClient

from hitl.api import create_app
from tests.qa.conftest import RUBRICS, finish

TOKENS = {"alice-token": "alice", "bob-token": "bob", "carol-token": "carol"}


def _client(inbox) -> TestClient:
    inbox.settings = replace(inbox.settings, policy={"qa": {"rubrics": RUBRICS, "adjudicators": ["carol"]}})
    return TestClient(create_app(inbox, tokens=TOKENS))


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_score_blind_adjudicate_export_over_rest(inbox) -> None:
    (thread_id,) = finish(inbox, 1)
    client = _client(inbox)
    created = client.post("/qa/queues", headers=_as("alice-token"),
                          json={"name": "api", "rubrics": ["correct", "tone"], "reviewers_per_item": 2, "blind": True})  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.json()["items"] == 1
    item = client.post("/qa/queues/api/next", headers=_as("alice-token")).json()["item"]
    assert item["thread_id"] == thread_id and item["reserved_until"] and item["decisions"][0]["verdict"] == "approved"
    bad = client.post(f"/qa/queues/api/items/{thread_id}/scores", headers=_as("alice-token"), json={"scores": {"correct": "maybe"}})
    assert bad.status_code == 422 and set(bad.json()["details"]["field_errors"]) == {"correct", "tone"}
    ok = client.post(f"/qa/queues/api/items/{thread_id}/scores", headers=_as("alice-token"),
                     json={"scores": {"correct": True, "tone": "friendly"}})  # fmt: skip
    assert ok.status_code == 201 and ok.json()["reviewer"] == "alice"
    bob = client.get(f"/qa/queues/api/items/{thread_id}", headers=_as("bob-token")).json()
    assert (bob["others"], bob["hidden"]) == ([], 1)
    client.post(f"/qa/queues/api/items/{thread_id}/scores", headers=_as("bob-token"), json={"scores": {"correct": False, "tone": "neutral"}})
    assert [o["reviewer"] for o in client.get(f"/qa/queues/api/items/{thread_id}", headers=_as("bob-token")).json()["others"]] == ["alice"]

    assert client.get("/qa/queues/api/disagreements", headers=_as("bob-token")).status_code == 403
    (worst,) = client.get("/qa/queues/api/disagreements", headers=_as("carol-token")).json()
    assert worst["thread_id"] == thread_id and set(worst["scores"]) == {"alice", "bob"}
    adjudicated = client.post(f"/qa/queues/api/items/{thread_id}/adjudication", headers=_as("carol-token"),
                              json={"scores": {"correct": True, "tone": "neutral"}, "correction": "Better."})  # fmt: skip
    assert adjudicated.status_code == 201, adjudicated.text
    agreement = {a["rubric"]: a for a in client.get("/qa/queues/api/agreement", headers=_as("bob-token")).json()}
    assert agreement["correct"]["n_items"] == 1 and agreement["tone"]["level"] == "ordinal"

    export = client.get("/qa/queues/api/export?format=jsonl", headers=_as("bob-token"))
    assert export.headers["content-type"].startswith("application/x-ndjson")
    (record,) = [json.loads(line) for line in export.text.splitlines()]
    assert record["metadata"]["scores"] == {"correct": True, "tone": "neutral"} and record["outputs"]["output"] == "Better."
    assert client.get("/qa/queues/api/export?format=csv", headers=_as("bob-token")).text.startswith("queue,thread_id")
    progress = client.get("/qa/queues/api/progress", headers=_as("bob-token")).json()
    assert (progress["complete"], progress["adjudicated"]) == (1, 1)


def test_fork_compare_and_analytics_over_rest(inbox) -> None:
    (thread_id,) = finish(inbox, 1)
    client = _client(inbox)
    (answered,) = client.get(f"/qa/threads/{thread_id}/answered-interrupts", headers=_as("alice-token")).json()
    assert answered["answer"] == {"approved": True}
    fork = client.post(f"/qa/threads/{thread_id}/forks", headers=_as("alice-token"),
                       json={"interrupt_id": answered["interrupt_id"], "answer": {"approved": False, "reason": "no"}})  # fmt: skip
    assert fork.status_code == 201, fork.text
    assert (fork.json()["status"], fork.json()["created_by"]) == ("completed", "alice")
    comparison = client.get(f"/qa/forks/{fork.json()['fork_thread_id']}/compare", headers=_as("alice-token")).json()
    assert comparison["source"]["answer"] == {"approved": True} and comparison["branch"]["answer"] == {"approved": False, "reason": "no"}
    analytics = client.get("/qa/analytics", headers=_as("alice-token")).json()
    assert analytics["decisions"] == 1 and analytics["by_graph"][0]["graph_id"] == "email_approval"
    assert client.get("/qa/queues", headers={}).status_code == 401
def test_the_qa_routes_are_in_the_openapi_document_with_the_desk_errors(inbox) -> None:
    document = _client(inbox).get("/openapi.json").json()
    operations = {(m, p): op for p, item in document["paths"].items() if p.startswith("/qa/") for m, op in item.items()}
    assert len(operations) == 17 and {("post", "/qa/queues/{queue}/next"), ("get", "/qa/queues/{queue}/export"),
                                       ("post", "/qa/threads/{thread_id}/forks"), ("get", "/qa/analytics")} <= set(operations)  # fmt: skip
    for (method, path), op in operations.items():
        assert op["tags"] == ["qa"], path
        assert {"401", "403", "404", "409", "422", "500", "503"} <= set(op["responses"]), (method, path)
    scores = operations[("post", "/qa/queues/{queue}/items/{thread_id}/scores")]
    assert "$ref" in str(scores["requestBody"]["content"]["application/json"]["schema"])
    assert "text/csv" in operations[("get", "/qa/queues/{queue}/export")]["responses"]["200"]["content"]
