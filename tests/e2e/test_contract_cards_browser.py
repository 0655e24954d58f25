"""Contract-driven cards in Chromium: a string question answered with text, and a payload whose
answer the desk cannot tell, answered with the typed editor. Screenshots for docs/screenshots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import docs_graphs
from tests.e2e.conftest import ROOT, screenshot, wait_for_app


@pytest.fixture
def desk_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The repo's graphs plus the docs-style test graphs."""
    monkeypatch.delenv("HITL_CONFIG", raising=False)
    graphs = json.loads((ROOT / "langgraph.json").read_text())["graphs"]
    graphs = {gid: str((ROOT / t.split(":")[0]).resolve()) + ":" + t.split(":")[1] for gid, t in graphs.items()}
    graphs.update(docs_graphs.GRAPHS)
    registry = tmp_path / "langgraph.json"
    registry.write_text(json.dumps({"graphs": graphs}))
    return {
        "HITL_DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}",
        "HITL_GRAPHS": str(registry),
        "LANGGRAPH_STRICT_MSGPACK": "true",
    }


def _open(page: Any, app: Any, thread_id: str) -> None:
    page.goto(app.url)  # the desk's first page routes the app; then the deep link
    wait_for_app(page)
    page.goto(f"{app.url}/review?thread={thread_id}")
    wait_for_app(page)
    name = page.get_by_role("textbox", name="Reviewer name", exact=True)
    if name.count():
        name.fill("erin-e2e")
        name.press("Enter")
        wait_for_app(page)


def test_string_question_and_unknown_contract_in_chromium(desk: Any, app_server: Any, new_page: Any, tmp_path: Path) -> None:
    inbox = desk()
    inbox.start_run("age_loop", {}, thread_id="age-e2e")
    inbox.start_run("passthrough", {"action_details": "Launch post: we ship on Monday."}, thread_id="pt-e2e")
    app = app_server()
    page = new_page()

    _open(page, app, "age-e2e")
    page.get_by_text("answer expected: text").first.wait_for()
    assert page.get_by_role("button", name="Yes (sends true)").count() == 0
    page.get_by_role("textbox", name="Your answer (text)").fill("thirty")
    page.get_by_role("textbox", name="Your answer (text)").press("Control+Enter")
    wait_for_app(page)
    page.get_by_text('Will send: "thirty"').wait_for()
    screenshot(page, "review_contract_text.png", tmp_path)
    page.get_by_role("button", name="Send answer").click()
    wait_for_app(page)
    page.get_by_text("'thirty' is not a valid age").first.wait_for()
    page.get_by_role("textbox", name="Your answer (text)").fill("30")
    page.get_by_role("textbox", name="Your answer (text)").press("Control+Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Send answer").click()
    wait_for_app(page)
    assert inbox.thread("age-e2e").values["age"] == 30

    _open(page, app, "pt-e2e")
    page.get_by_text("could not tell what the graph expects").first.wait_for()
    assert page.get_by_role("button", name="Approve").count() == 0
    page.get_by_text("Text", exact=True).click()
    wait_for_app(page)
    box = page.get_by_role("textbox", name="Your answer (text)")
    box.fill("Launch post: we ship on Tuesday.")
    box.press("Control+Enter")
    wait_for_app(page)
    page.get_by_text('Will send: "Launch post: we ship on Tuesday."').wait_for()
    screenshot(page, "review_contract_unknown.png", tmp_path)
    page.get_by_role("button", name="Send answer").click()
    wait_for_app(page)
    assert inbox.thread("pt-e2e").values["received"] == "Launch post: we ship on Tuesday."
