"""Driving the desk by keyboard in Chromium: shared by tests/e2e/test_keyboard_flow.py and
bench/review_keyboard.py (the same flow, timed)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tests.e2e.conftest import wait_for_app

CARD = '[class*="st-key-review-card-"]'

READY_JS = """(previous) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-testid="stSkeleton"]')) return false;
    const card = document.querySelector('%s');
    const token = card ? card.getAttribute('class') : 'none';
    return token !== previous;
}""" % CARD


@dataclass
class KeyLog:
    """What the keyboard did: keys pressed by name, decisions taken, keys the desk refused."""

    presses: dict[str, int] = field(default_factory=dict)
    decisions: int = 0

    def press(self, page: Any, key: str) -> None:
        self.presses[key] = self.presses.get(key, 0) + 1
        page.keyboard.press(key)


def card_token(page: Any) -> str:
    """The first card's class list (it names the interrupt), or "none"."""
    card = page.locator(CARD).first
    return card.get_attribute("class") if card.count() else "none"


def wait_for_next_card(page: Any, previous: str, *, timeout: float = 30_000) -> None:
    """Wait until the page finished running and shows another card than `previous` (or none)."""
    page.wait_for_function(READY_JS, arg=previous, timeout=timeout)


def refused_keys(page: Any) -> int:
    """Keys the keyboard layer refused (it counts them; each one also showed a note)."""
    return int(page.evaluate("() => (window.__hitlKeys && window.__hitlKeys.refused) || 0"))


def card_kind(page: Any) -> str:
    """The first card's kind, from its caption ("node x · kind stage · interrupt ...")."""
    text = page.locator(CARD).first.inner_text()
    found = re.search(r"kind (\w+)", text)
    return found.group(1) if found else ""


def open_filtered_inbox(page: Any, base_url: str, kind: str) -> None:
    """The one navigation: the Inbox filtered to `kind` (a link reproduces the queue)."""
    page.goto(f"{base_url}/?kind={quote(kind)}")
    wait_for_app(page)
    page.locator(".st-key-inbox_keys").wait_for(state="attached")


def inbox_to_review(page: Any, log: KeyLog) -> None:
    """Keyboard only: j puts the cursor on the first row, Enter opens it in Review."""
    log.press(page, "j")
    page.get_by_text(re.compile(r"^Cursor: row 1,")).wait_for()
    wait_for_app(page)
    log.press(page, "Enter")
    page.wait_for_url(re.compile(r"/review\?"))
    wait_for_next_card(page, "none")


CONFIRMING_JS = """(previous) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const card = document.querySelector('%s');
    const token = card ? card.getAttribute('class') : 'none';
    if (token !== previous) return 'next';
    return card && /Confirm: /.test(card.innerText) ? 'confirm' : false;
}""" % CARD


def approve(page: Any, log: KeyLog) -> None:
    """A, and Y when the card asks for the confirming second key (money, deletion, several
    calls); returns once the next card is ready."""
    before = card_token(page)
    log.press(page, "a")
    step = page.wait_for_function(CONFIRMING_JS, arg=before, timeout=30_000).json_value()
    if step == "confirm":
        log.press(page, "y")
        wait_for_next_card(page, before)
    log.decisions += 1


def approve_in_queue(page: Any, count: int, log: KeyLog) -> None:
    """Approve `count` times, each once the next card is ready (the flow a reviewer keeps)."""
    for _ in range(count):
        approve(page, log)


def approve_walking_everything(page: Any, kind: str, count: int, log: KeyLog, base_url: str, first_thread: str) -> None:
    """The naive way: Review without a queue scope, J through every pending thread, A on `kind`."""
    page.goto(f"{base_url}/review?thread={quote(first_thread)}")
    wait_for_next_card(page, "none")
    while log.decisions < count:
        before = card_token(page)
        if card_kind(page) == kind:
            approve(page, log)
            continue
        else:
            if page.get_by_role("button", name=re.compile("^Next")).is_disabled():
                page.goto(f"{base_url}/review?thread={quote(first_thread)}")  # the end: start over
                wait_for_next_card(page, "none")
                continue
            log.press(page, "j")
        wait_for_next_card(page, before)
