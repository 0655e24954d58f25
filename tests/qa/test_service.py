"""QA use cases on SQLite and PostgreSQL: sampling, blind review, reservations, adjudication, export."""

from __future__ import annotations

import json

import pytest

from hitl import InvalidAnswer, NotAuthorized
from hitl.qa.datasets import EXAMPLE_FIELDS, METADATA_FIELDS
from hitl.qa.queues import sampled
from tests.qa.conftest import finish


def test_sampling_picks_the_same_threads_for_the_same_seed(inbox, make_qa) -> None:
    threads = finish(inbox, 10)
    queues = [
        {"name": "a", "sample_rate": 0.5, "seed": 7, "rubrics": ["correct"]},
        {"name": "b", "sample_rate": 0.5, "seed": 7, "rubrics": ["correct"]},
        {"name": "c", "sample_rate": 0.5, "seed": 8, "rubrics": ["correct"]},
    ]
    qa = make_qa(queues)
    for name in ("a", "b", "c"):
        qa.sync(name)
    picked = {name: [i.thread_id for i in qa.items(name)] for name in ("a", "b", "c")}
    assert picked["a"] == picked["b"]
    assert 0 < len(picked["a"]) < len(threads)
    assert picked["a"] != picked["c"]
    assert set(picked["a"]) == {t for t in threads if sampled(qa.queue("a"), t)}
    assert qa.sync("a") == 0  # stable: nothing new, nothing dropped
    assert [i.thread_id for i in qa.items("a")] == picked["a"]


def test_filters_by_graph_outcome_metadata_and_state(inbox, make_qa) -> None:
    approved = finish(inbox, 2, prefix="ok")
    rejected = finish(inbox, 2, approve=False, prefix="no")
    finish(inbox, 1, graph_id="simple_confirm", prefix="other")
    qa = make_qa([
        {"name": "rejections", "graphs": ["email_approval"], "outcomes": ["rejected"], "rubrics": ["correct"]},
        {"name": "sent", "state": {"sent_emails.0.subject": "Q3 revenue report"}, "nodes": ["tools"], "rubrics": ["correct"]},
        {"name": "tagged", "metadata": {"graph_id": "simple_confirm"}, "rubrics": ["correct"]},
    ])  # fmt: skip
    for name in ("rejections", "sent", "tagged"):
        qa.sync(name)
    assert sorted(i.thread_id for i in qa.items("rejections")) == sorted(rejected)
    assert [i.thread_id for i in qa.items("sent")] == approved[:1]
    assert [i.graph_id for i in qa.items("tagged")] == ["simple_confirm"]


def test_blind_review_hides_the_other_scores_until_one_submits(inbox, make_qa) -> None:
    (thread_id,) = finish(inbox, 1)
    qa = make_qa([{"name": "blind", "reviewers_per_item": 2, "blind": True, "rubrics": ["correct", "tone"]}])
    qa.sync("blind")
    assert qa.next_item("blind", reviewer="alice").item.thread_id == thread_id
    assert qa.next_item("blind", reviewer="bob").item.thread_id == thread_id  # N = 2: both get it
    qa.submit("blind", thread_id, reviewer="alice", scores={"correct": True, "tone": "friendly"})
    bob_before = qa.item("blind", thread_id, viewer="bob")
    assert (bob_before.others, bob_before.hidden, bob_before.mine) == ([], 1, None)
    alice_view = qa.item("blind", thread_id, viewer="alice")
    assert alice_view.mine.scores == {"correct": True, "tone": "friendly"} and alice_view.others == []
    qa.submit("blind", thread_id, reviewer="bob", scores={"correct": False, "tone": "neutral"})
    bob_after = qa.item("blind", thread_id, viewer="bob")
    assert [(s.reviewer, s.scores) for s in bob_after.others] == [("alice", {"correct": True, "tone": "friendly"})]
    assert bob_after.hidden == 0
    assert [s.reviewer for s in qa.item("blind", thread_id, viewer="alice").others] == ["bob"]
    assert qa.next_item("blind", reviewer="carol") is None  # two scores given: done
    with pytest.raises(InvalidAnswer, match="already scored"):
        qa.submit("blind", thread_id, reviewer="bob", scores={"correct": True, "tone": "neutral"})


def test_reservations_expire(inbox, make_qa, clock) -> None:
    first, second = finish(inbox, 2)
    qa = make_qa([{"name": "solo", "reviewers_per_item": 1, "reservation_minutes": 10, "rubrics": ["correct"]}])
    qa.sync("solo")
    held = qa.next_item("solo", reviewer="alice").item.thread_id
    assert qa.next_item("solo", reviewer="alice").item.thread_id == held  # reopening keeps my item
    other = qa.next_item("solo", reviewer="bob").item.thread_id
    assert {held, other} == {first, second}
    assert qa.next_item("solo", reviewer="carol") is None  # both reserved
    clock.advance(10 * 60 + 1)
    lapsed = qa.next_item("solo", reviewer="carol").item.thread_id
    assert lapsed in (first, second)
    assert qa.progress("solo").reserved == 1


def test_scores_are_checked_against_the_rubrics(inbox, make_qa) -> None:
    (thread_id,) = finish(inbox, 1)
    qa = make_qa([{"name": "q", "rubrics": ["correct", "tone", "quality", "notes"]}])
    qa.sync("q")
    with pytest.raises(InvalidAnswer, match="'tone' must be one of") as info:
        qa.submit("q", thread_id, reviewer="alice", scores={"correct": True, "tone": "angry", "quality": 9})
    assert set(info.value.field_errors) == {"tone", "quality"}
    assert qa.item("q", thread_id, viewer="alice").mine is None  # nothing saved


def test_the_adjudicated_score_is_the_one_exported(inbox, make_qa) -> None:
    (thread_id,) = finish(inbox, 1)
    qa = make_qa([{"name": "adj", "reviewers_per_item": 2, "rubrics": ["correct", "quality"]}], adjudicators=["carol"])
    qa.sync("adj")
    qa.submit("adj", thread_id, reviewer="alice", scores={"correct": True, "quality": 5}, correction="A better reply.")
    qa.submit("adj", thread_id, reviewer="bob", scores={"correct": False, "quality": 5})
    (disagreement,) = qa.disagreements("adj", reviewer="carol")
    assert (disagreement.thread_id, disagreement.rubrics["correct"], disagreement.rubrics["quality"]) == (thread_id, 1.0, 0.0)
    with pytest.raises(NotAuthorized, match="may not adjudicate"):
        qa.adjudicate("adj", thread_id, adjudicator="bob", scores={"correct": True})
    before = json.loads(qa.export("adj", format="jsonl"))
    assert before["metadata"]["scores"] == {"correct": None, "quality": 5}
    qa.adjudicate("adj", thread_id, adjudicator="carol", scores={"correct": False}, correction="The final reply.")
    (record,) = [json.loads(line) for line in qa.export("adj", format="jsonl").splitlines()]
    assert record["metadata"]["scores"] == {"correct": False, "quality": 5}
    assert (record["metadata"]["adjudicator"], record["outputs"]["output"], record["metadata"]["corrected"]) == (
        "carol", "The final reply.", True)  # fmt: skip
    assert record["metadata"]["reviewer_scores"] == {"alice": {"correct": True, "quality": 5}, "bob": {"correct": False, "quality": 5}}
    assert qa.progress("adj").disagreements == 0


def test_export_loads_back_with_json_and_has_the_documented_fields(inbox, make_qa) -> None:
    threads = finish(inbox, 2)
    qa = make_qa([{"name": "ds", "rubrics": ["correct", "notes"]}])
    qa.sync("ds")
    qa.submit("ds", threads[0], reviewer="alice", scores={"correct": True, "notes": "fine"}, comment="ok")
    lines = qa.export("ds", format="jsonl").splitlines()
    (record,) = [json.loads(line) for line in lines]  # only scored items are exported
    assert tuple(record) == EXAMPLE_FIELDS
    assert set(record["metadata"]) == set(METADATA_FIELDS)
    meta = record["metadata"]
    assert (meta["thread_id"], meta["queue"], meta["reviewers"], meta["corrected"]) == (threads[0], "ds", ["alice"], False)
    assert meta["checkpoint_id"] == inbox.store.latest_checkpoint(threads[0])[0]
    assert record["inputs"]["messages"][0]["role"] in ("system", "user")
    assert record["outputs"]["output"] == meta["agent_output"] and isinstance(meta["agent_output"], str)
    (chat,) = [json.loads(line) for line in qa.export("ds", format="openai").splitlines()]
    assert set(chat) == {"messages"} and chat["messages"][-1] == {"role": "assistant", "content": meta["agent_output"]}
    header, row = qa.export("ds", format="csv").splitlines()[:2]
    assert header.split(",")[:6] == ["queue", "thread_id", "checkpoint_id", "graph_id", "inputs", "output"]
    assert "score.correct" in header and threads[0] in row


def test_progress_per_queue_and_reviewer(inbox, make_qa) -> None:
    threads = finish(inbox, 3)
    qa = make_qa([{"name": "p", "reviewers_per_item": 2, "rubrics": ["correct"]}])
    qa.sync("p")
    qa.submit("p", threads[0], reviewer="alice", scores={"correct": True})
    qa.submit("p", threads[0], reviewer="bob", scores={"correct": True})
    qa.submit("p", threads[1], reviewer="alice", scores={"correct": False})
    qa.skip("p", threads[2], reviewer="alice")
    progress = qa.progress("p")
    assert (progress.items, progress.target, progress.submissions, progress.complete, progress.in_progress, progress.untouched) == (3, 6, 3, 1, 1, 1)
    assert [(r.reviewer, r.submitted, r.skipped) for r in progress.reviewers] == [("alice", 2, 1), ("bob", 1, 0)]
    assert qa.next_item("p", reviewer="alice") is None  # scored two, skipped the third


def test_queues_created_at_run_time_are_validated(inbox, make_qa) -> None:
    finish(inbox, 1)
    qa = make_qa()
    spec = qa.create_queue({"name": "mine", "rubrics": ["correct"], "sample_rate": 1.0}, created_by="alice")
    assert spec.name == "mine" and len(qa.items("mine")) == 1
    with pytest.raises(InvalidAnswer, match="already exists"):
        qa.create_queue({"name": "mine", "rubrics": ["correct"]}, created_by="alice")
    with pytest.raises(Exception, match="does not define"):
        qa.create_queue({"name": "bad", "rubrics": ["nope"]}, created_by="alice")
    assert [q.source for q in qa.queues()] == ["page"]


def test_threads_finishing_later_are_sampled_when_reviewers_ask(inbox, make_qa, clock) -> None:
    (first,) = finish(inbox, 1, prefix="early")
    qa = make_qa([{"name": "live", "rubrics": ["correct"]}])
    assert qa.next_item("live", reviewer="alice").item.thread_id == first
    qa.submit("live", first, reviewer="alice", scores={"correct": True})
    (later,) = finish(inbox, 1, prefix="late")
    assert qa.next_item("live", reviewer="alice") is None  # sampled under a minute ago
    clock.advance(61)
    assert qa.next_item("live", reviewer="alice").item.thread_id == later
