"""The main review flow in Chromium, local mode: inbox -> open a thread -> edit the draft ->
untick a tool -> submit -> history rows."""

from __future__ import annotations

import re
from typing import Any

from hitl.demo.inputs import DEMO_INPUTS
from tests.e2e.conftest import wait_for_app

REVIEWER = "erin-e2e"


def grid_rows(page: Any, *, within: Any = None) -> list[list[str]]:
    """The text of a st.dataframe's rows, read from the grid's accessible table."""
    scope = within or page
    grid = scope.locator('[data-testid="stDataFrame"]').first
    grid.locator('td[role="gridcell"]').first.wait_for(state="attached")
    rows = []
    for row in grid.locator('tbody tr[role="row"]').all():
        cells = [cell.inner_text().strip() for cell in row.locator('td[role="gridcell"]').all()]
        if cells:  # a row the grid is still painting (a rerun redraws the table) has no cells yet
            rows.append(cells)
    return rows


def history_rows(page: Any) -> list[list[str]]:
    """The History page's audit table: its last grid, below the charts and the decision analytics."""
    audit = page.locator('[data-testid="stDataFrame"]').last
    audit.scroll_into_view_if_needed()
    audit.locator('td[role="gridcell"]').first.wait_for(state="attached")
    rows = [[cell.inner_text().strip() for cell in row.locator('td[role="gridcell"]').all()]
            for row in audit.locator('tbody tr[role="row"]').all()]
    return [cells for cells in rows if cells]


def tick_row(page: Any, index: int) -> None:
    """Tick the selection checkbox of data row `index` (the grid draws on a canvas)."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    assert box is not None
    header, row_height = 35, 35
    page.mouse.click(box["x"] + 16, box["y"] + header + row_height * index + row_height / 2)
    wait_for_app(page)


def go_to(page: Any, title: str) -> None:
    """Follow a sidebar link (a full page load would start a new session)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    wait_for_app(page)


def open_from_inbox(page: Any, thread_id: str) -> None:
    """Inbox -> tick the thread's row -> Open review."""
    go_to(page, "Inbox")
    threads = [row[0] for row in grid_rows(page)]
    assert thread_id in threads, threads
    tick_row(page, threads.index(thread_id))
    page.get_by_text(f"Selected: {thread_id}").wait_for()
    page.get_by_role("button", name="Open review").click()
    page.wait_for_url(re.compile(rf"/review\?thread={re.escape(thread_id)}"))
    wait_for_app(page)


def type_name(page: Any, name: str) -> None:
    field = page.get_by_role("textbox", name="Your name", exact=True)
    field.fill(name)
    field.press("Enter")
    wait_for_app(page)


def test_inbox_open_edit_untick_submit_and_history(app_server, desk, new_page) -> None:
    inbox = desk()
    inbox.start_run("draft_edit", DEMO_INPUTS["draft_edit"](0), thread_id="draft-1")
    inbox.start_run("tool_review", DEMO_INPUTS["tool_review"](0), thread_id="tools-1")
    app = app_server()
    page = new_page()
    page.goto(app.url)
    wait_for_app(page)
    type_name(page, REVIEWER)

    # 1. Edit a draft and approve the edited version.
    open_from_inbox(page, "draft-1")
    draft = page.get_by_role("textbox", name="Draft (edit it here)", exact=True)
    original = draft.input_value()
    assert original.startswith("Dear Dana Whitfield")
    edited = original + "\n\nP.S. Your order ships today."
    draft.fill(edited)
    draft.press("Control+Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Approve edited draft").click()
    wait_for_app(page)
    page.get_by_text("You approved (edited).").wait_for()

    # 2. Untick one of three tool calls and approve the rest.
    open_from_inbox(page, "tools-1")
    page.locator('[data-testid="stCheckbox"]').filter(has_text="delete_record").locator("label").click()
    wait_for_app(page)
    page.get_by_text("Unticked: this call will not run.").wait_for()
    page.get_by_role("button", name="Approve selected (2 of 3)").click()
    wait_for_app(page)
    # Two calls: a confirming second step before anything is sent (issue 17).
    page.get_by_text("Confirm: runs 2 tool calls").wait_for()
    page.get_by_role("button", name="Confirm and send").click()
    wait_for_app(page)
    page.get_by_text("You approved 2 of 3 tool calls.").wait_for()

    # 3. History lists both decisions under the reviewer's name.
    go_to(page, "History")
    rows = history_rows(page)
    text = "\n".join(" | ".join(row) for row in rows)
    assert "draft-1" in text and "tools-1" in text, text
    assert text.count(REVIEWER) >= 2, text

    # What the graphs did: the edited draft was sent; the unticked call did not run.
    history = inbox.history()
    assert list(history["reviewer"]) == [REVIEWER, REVIEWER]
    draft_state = inbox.graph("draft_edit").get_state({"configurable": {"thread_id": "draft-1"}}).values
    assert "P.S. Your order ships today." in str(draft_state)
    tools_state = inbox.graph("tool_review").get_state({"configurable": {"thread_id": "tools-1"}}).values
    assert tools_state.get("deleted_records", []) == []
    assert len(tools_state.get("sent_emails", [])) == 1
