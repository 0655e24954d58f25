"""QA in Chromium, local mode: alice scores three items with the keyboard, bob scores the same
ones blind, carol (the adjudicator) resolves their disagreement, and the export downloads.
With HITL_SCREENSHOTS=1 the screens are saved as docs/screenshots/qa_*.png."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hitl.demo.seed import seed
from hitl.qa import QA
from tests.e2e.conftest import screenshot, wait_for_app

POLICY = """
[qa]
adjudicators = ["carol"]

[[qa.rubrics]]
name = "correct"
type = "boolean"
instructions = "Did the agent end up doing the right thing?"

[[qa.rubrics]]
name = "quality"
type = "numeric"
min = 1
max = 5
instructions = "How good is the final output, 1 (poor) to 5 (excellent)?"

[[qa.queues]]
name = "weekly"
description = "Finished demo threads, two blind reviewers each"
reviewers_per_item = 2
blind = true
"""


def _finished_threads(inbox: Any) -> list[str]:
    """A draft the reviewer edited before approving, then two approved emails (finished in that order)."""
    (draft,) = seed(inbox, 1, graph_ids=["draft_edit"], prefix="qa")
    (item,) = inbox.pending(graph_id="draft_edit").items[0].interrupts
    edited = item.value["draft"].replace("Dear", "Hello", 1) + "\n\nP.S. Your refund was sent today."
    assert inbox.resume(draft, {item.id: {"action": "approve", "edited": edited}}, reviewer="dana").status == "completed"
    emails = seed(inbox, 2, graph_ids=["email_approval"], prefix="qa")
    assert {r.result for r in inbox.batch(emails, approve=True, reviewer="dana")} == {"completed"}
    return [draft, *emails]


def _go_to(page: Any, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    wait_for_app(page)


def _open_qa(page: Any, app: Any, name: str) -> None:
    page.goto(app.url)
    wait_for_app(page)
    field = page.get_by_role("textbox", name="Your name", exact=True)
    field.fill(name)
    field.press("Enter")
    wait_for_app(page)
    _go_to(page, "QA")


def _tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    wait_for_app(page)


def _current_thread(page: Any, threads: list[str]) -> str:
    heading = page.locator('[data-testid="stHeading"] h3').first.inner_text()
    return next(t for t in threads if t in heading)


def _next_item(page: Any) -> None:
    """Press J until an item is open (a key pressed while the page is still mounting is lost)."""
    for _ in range(5):
        page.keyboard.press("j")
        wait_for_app(page)
        try:
            page.locator('[data-testid="stHeading"] h3').first.wait_for(timeout=3000)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: press again
            continue
    raise AssertionError("J did not open an item")


def _pick(page: Any, rubric: str, option: str) -> None:
    """Choose a rubric's option with the keyboard: focus its first radio, arrow to the option, Space."""
    group = page.get_by_role("radiogroup", name=rubric)
    group.get_by_role("radio", name=option).wait_for(state="attached", timeout=20_000)  # drawn, on a loaded machine too
    options = [r.inner_text().strip() for r in group.locator("label").all()]
    group.get_by_role("radio").first.focus()
    for _ in range(options.index(option)):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    assert group.get_by_role("radio", name=option).is_checked()


def _submit_with_keyboard(page: Any) -> None:
    """Tab from the last rubric into a text field of the form, then Ctrl+Enter (a radio keeps the keys to itself)."""
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("['TEXTAREA', 'INPUT'].includes(document.activeElement.tagName) && document.activeElement.type !== 'radio'"):
            break
    else:
        raise AssertionError("Tab never reached a text field of the score form")
    page.keyboard.press("Control+Enter")


def _score_with_keyboard(page: Any, threads: list[str], scores: dict[str, tuple[str, str]], *, blind_notice: bool, shots: Path,
                         shot: str | None = None) -> None:  # fmt: skip
    _next_item(page)
    for _ in range(3):
        thread_id = _current_thread(page, threads)
        if blind_notice:
            page.get_by_text("Blind review: 1 other reviewer(s) scored this item.").wait_for()
        correct, quality = scores[thread_id]
        wait_for_app(page)
        for _ in range(3):  # a rerun still landing from the last submit redraws the form: pick again then
            _pick(page, "correct", correct)
            _pick(page, "quality", quality)
            page.wait_for_timeout(300)
            if all(page.get_by_role("radiogroup", name=r).get_by_role("radio", name=v).is_checked()
                   for r, v in (("correct", correct), ("quality", quality))):  # fmt: skip
                break
        if shot and thread_id == threads[0]:
            screenshot(page, shot, shots)
        _submit_with_keyboard(page)
        wait_for_app(page)
        page.get_by_text(f"Scores for {thread_id} recorded.").wait_for()
        page.wait_for_function(
            "(done) => !(document.querySelector('[data-testid=\"stHeading\"] h3')?.innerText || '').includes(done)", arg=thread_id
        )
    page.get_by_text("Nothing left for").wait_for()


def test_two_blind_reviewers_an_adjudicator_and_the_export(app_server, desk, new_page, tmp_path: Path) -> None:
    inbox = desk()
    threads = _finished_threads(inbox)
    app = app_server(config=POLICY)
    policy = Path(app.env["HITL_CONFIG"])
    from hitl import Inbox

    with Inbox.open(database_url=app.database_url, graphs_path=app.env["HITL_GRAPHS"], config_path=str(policy)) as qa_desk:
        qa = QA.of(qa_desk)
        assert qa.sync("weekly") == 3
        (answered,) = qa.answered_interrupts(threads[1])
        fork = qa.fork(threads[1], answered.interrupt_id, answer={"approved": False, "reason": "Wrong recipient"}, reviewer="carol")
        assert fork.status == "completed"

    alice = new_page()
    _open_qa(alice, app, "alice")
    _score_with_keyboard(alice, threads, {threads[0]: ("Yes", "4"), threads[1]: ("Yes", "5"), threads[2]: ("No", "2")},
                         blind_notice=False, shots=tmp_path, shot="qa_review.png")  # fmt: skip

    bob = new_page()
    _open_qa(bob, app, "bob")
    _next_item(bob)
    bob.get_by_text("Blind review: 1 other reviewer(s) scored this item.").wait_for()
    assert bob.get_by_text("Other reviewers").count() == 0  # alice's scores are not on the page
    screenshot(bob, "qa_blind.png", tmp_path)
    _score_with_keyboard(bob, threads, {threads[0]: ("Yes", "4"), threads[1]: ("No", "5"), threads[2]: ("No", "2")},
                         blind_notice=True, shots=tmp_path)  # fmt: skip

    carol = new_page()
    _open_qa(carol, app, "carol")
    _tab(carol, "Progress & agreement")
    carol.get_by_text("Krippendorff's alpha (krippendorff package)").wait_for()
    screenshot(carol, "qa_agreement.png", tmp_path)
    _tab(carol, "Adjudicate")
    carol.get_by_text("Items whose reviewers disagree most").wait_for()
    _pick(carol, "correct", "No")
    screenshot(carol, "qa_adjudicate.png", tmp_path)
    carol.get_by_role("button", name="Record final scores").click()
    wait_for_app(carol)
    carol.get_by_text(f"Final scores for {threads[1]} recorded.").wait_for()

    _tab(carol, "Export")
    with carol.expect_download() as download:
        carol.get_by_role("button", name="Download 3 example(s)").click()
    path = tmp_path / "export.jsonl"
    download.value.save_as(path)
    records = {r["metadata"]["thread_id"]: r for r in map(json.loads, path.read_text().splitlines())}
    assert set(records) == set(threads)
    assert records[threads[1]]["metadata"]["scores"] == {"correct": False, "quality": 5}
    assert records[threads[1]]["metadata"]["adjudicator"] == "carol"
    assert records[threads[0]]["metadata"]["scores"] == {"correct": True, "quality": 4}
    assert records[threads[0]]["metadata"]["reviewer_scores"] == {"alice": {"correct": True, "quality": 4}, "bob": {"correct": True, "quality": 4}}
    screenshot(carol, "qa_export.png", tmp_path)

    _tab(carol, "Fork & compare")
    thread = carol.get_by_role("textbox", name="Thread", exact=True)
    thread.fill(threads[1])
    thread.press("Enter")
    wait_for_app(carol)
    carol.get_by_text("Tool calls after the fork point").first.wait_for()
    carol.get_by_text("Tool calls after the fork point").first.scroll_into_view_if_needed()
    screenshot(carol, "qa_fork_compare.png", tmp_path)

    _go_to(carol, "History")
    carol.get_by_text("Most-edited fields").wait_for()
    carol.get_by_text("Most-edited fields").scroll_into_view_if_needed()
    screenshot(carol, "qa_history_analytics.png", tmp_path)
