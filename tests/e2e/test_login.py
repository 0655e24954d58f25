"""Login mode in Chromium against a real local OpenID provider (oidc-provider-mock).

Four reviewers sign in through the provider's authorize page: alice (group managers), bob
(no group), carol and dave (group finance). HITL_CONFIG maps the groups to roles, gives
make_payment to finance, and asks two approvers for payments of 10,000 or more.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import free_port, screenshot, wait_for_app
from tests.e2e.test_review_flow import go_to, grid_rows, history_rows, open_from_inbox


APPROVE = '[class*="-btn-approve"] button:visible'
"""A review card's Approve button (its accessible name also carries the shortcut key)."""


def confirm(page) -> None:
    """The confirming second step of a decision that moves money (issue 17): nothing is sent before."""
    page.get_by_text("Confirm: ").first.wait_for()
    page.get_by_role("button", name="Confirm and send").click()
    wait_for_app(page)

USERS = [
    {"sub": "alice", "email": "alice@example.com", "email_verified": True, "groups": ["managers"]},
    {"sub": "bob", "email": "bob@example.com", "email_verified": True, "groups": ["staff"]},
    {"sub": "carol", "email": "carol@example.com", "email_verified": True, "groups": ["finance"]},
    {"sub": "dave", "email": "dave@example.com", "email_verified": True, "groups": ["finance"]},
]

ACCESS = """
[access]

[[access.identities]]
claim = "groups"
value = "managers"
roles = ["manager"]

[[access.identities]]
claim = "groups"
value = "finance"
roles = ["finance"]

[[access.rules]]
tool = "make_payment"
roles = ["finance"]

[[access.quorum]]
tool = "make_payment"
min_amount = 10000
approvals = 2
reject_ends = true
"""


def _user(content: str) -> dict:
    return {"messages": [{"role": "user", "content": content}]}


PURCHASE = _user("Purchase 40 laptops for the Berlin office, budget 52,000 EUR.")
BIG_PAYMENT = _user("Look up open invoices for Initech LLC and pay Initech LLC 15,000.00 USD for invoice INV-4471.")
OWN_PAYMENT = _user("Look up open invoices for Acme GmbH and pay Acme GmbH 1,250.00 EUR for invoice INV-1042.")
EMAIL = _user("Look up open invoices for Acme GmbH and email the Q3 revenue report to finance@acme.example.")


@pytest.fixture
def login_desk(app_server, oidc_provider, desk) -> dict[str, Any]:
    """Seeded threads, the provider, and the app in login mode."""
    inbox = desk()
    inbox.start_run("approval_chain", PURCHASE, thread_id="po-1")
    inbox.start_run("selective_review", BIG_PAYMENT, thread_id="pay-big")
    inbox.start_run("selective_review", OWN_PAYMENT, thread_id="pay-own", requested_by="carol@example.com")
    inbox.start_run("selective_review", EMAIL, thread_id="mail-1")
    provider = oidc_provider(USERS)
    port = free_port()
    secrets = f"""
[auth]
redirect_uri = "http://localhost:{port}/oauth2callback"
cookie_secret = "e2e-cookie-secret-0123456789abcdef"
client_id = "hitl-desk-e2e"
client_secret = "e2e-client-secret"
server_metadata_url = "{provider}/.well-known/openid-configuration"
"""
    app = app_server(secrets=secrets, config=ACCESS, port=port)
    return {"app": app, "inbox": inbox, "provider": provider}


def log_in(page: Any, app_url: str, sub: str, *, shots: Path | None = None) -> None:
    """Open the desk, press Log in, pick the user on the provider's page, land signed in."""
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_role("heading", name="HITL review desk").wait_for()
    if shots:
        screenshot(page, "login.png", shots)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Authorize Client").wait_for()
    if shots:
        screenshot(page, "login_provider.png", shots)
    page.get_by_role("button", name=sub, exact=True).click()
    page.wait_for_url(re.compile(re.escape(app_url)))
    wait_for_app(page)
    email = next(user["email"] for user in USERS if user["sub"] == sub)
    page.locator('[data-testid="stSidebar"]').get_by_text(shown(f"Signed in as {email}")).wait_for()


def shown(text: str) -> re.Pattern[str]:
    """`text` as the desk renders it: a word joiner after "@" keeps emails from becoming links."""
    return re.compile(re.escape(text).replace("@", "@\u2060?"))


def queue(page: Any) -> list[str]:
    go_to(page, "Inbox")
    if page.get_by_text("Nothing is waiting for a review").count():
        return []
    return [row[0] for row in grid_rows(page)]


def deep_link(page: Any, app_url: str, thread_id: str) -> None:
    page.goto(f"{app_url}/review?thread={thread_id}")
    wait_for_app(page)


def test_roles_four_eyes_and_quorum_in_the_browser(login_desk, new_page, tmp_path: Path) -> None:
    app, inbox = login_desk["app"], login_desk["inbox"]
    shots = tmp_path / "shots"

    # Every page requires signing in; nothing of the desk is shown before.
    anonymous = new_page()
    deep_link(anonymous, app.url, "pay-big")
    anonymous.get_by_role("button", name="Log in").wait_for()
    assert anonymous.get_by_text("Initech").count() == 0

    # alice (manager) sees her queue, approves the manager-level purchase; history has her email.
    alice = new_page()
    log_in(alice, app.url, "alice", shots=shots)
    assert alice.get_by_role("textbox", name="Your name", exact=True).count() == 0  # never a typed name
    mine = queue(alice)
    assert sorted(mine) == ["mail-1", "po-1"], mine
    sidebar = alice.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Roles: manager").wait_for()
    sidebar.get_by_text("2 waiting on others").wait_for()
    screenshot(alice, "my_queue.png", shots)
    open_from_inbox(alice, "po-1")
    alice.get_by_role("button", name="Approve as manager").click()
    wait_for_app(alice)
    confirm(alice)  # a 52,000 EUR purchase
    # The chain moved on to the director level, which alice may not decide (nor open).
    alice.get_by_text("(roles: manager) may not decide director-level approval on thread 'po-1'").wait_for()
    go_to(alice, "History")
    rows = history_rows(alice)
    assert any("po-1" in row and "alice@example.com" in row for row in rows), rows
    assert list(inbox.history(thread_id="po-1")["reviewer"]) == ["alice@example.com"]

    # bob (no finance role) does not see the payments, and a deep link to one is refused.
    bob = new_page()
    log_in(bob, app.url, "bob")
    assert queue(bob) == ["mail-1"]
    deep_link(bob, app.url, "pay-big")
    bob.get_by_text("(roles: none) may not decide make_payment on thread 'pay-big'").wait_for()
    assert bob.get_by_text("Initech").count() == 0  # the payload is not shown
    screenshot(bob, "refused_deep_link.png", shots)
    # The Threads page lists the payments (its counts add up) but not what they ask.
    go_to(bob, "Threads")
    rows = [" ".join(row) for row in grid_rows(bob)]
    assert any("pay-big" in row and "(hidden: tool make_payment needs one of the roles finance)" in row for row in rows), rows
    assert not any("Initech" in row or "15,000" in row for row in rows), rows
    assert any("mail-1" in row and "hidden" not in row for row in rows), rows
    screenshot(bob, "threads_hidden.png", shots)

    # carol started pay-own: she may not approve her own request.
    carol = new_page()
    log_in(carol, app.url, "carol")
    assert "pay-own" not in queue(carol)
    deep_link(carol, app.url, "pay-own")
    carol.locator(APPROVE).first.click()
    wait_for_app(carol)
    confirm(carol)
    carol.get_by_text("started this run (requested_by) and may not approve their own request").wait_for()
    assert inbox.pending().total == 4  # po-1 waits at the director level; nothing else moved
    assert not inbox.graph("selective_review").get_state({"configurable": {"thread_id": "pay-own"}}).values.get("payments")

    # A 15,000 payment needs two finance approvers: carol's approval is a vote...
    open_from_inbox(carol, "pay-big")
    carol.locator(APPROVE).first.click()
    wait_for_app(carol)
    confirm(carol)
    carol.get_by_text("Quorum vote: 1 of 2 approvals so far").wait_for()
    carol.get_by_text(shown("carol@example.com: approve")).wait_for()
    carol.get_by_text("You voted on this request").wait_for()  # no second card to vote with
    screenshot(carol, "my_queue_quorum_vote.png", shots)
    assert "pay-big" in [t.thread_id for t in inbox.pending().items]
    assert not inbox.graph("selective_review").get_state({"configurable": {"thread_id": "pay-big"}}).values.get("payments")
    assert "pay-big" not in queue(carol)  # she voted: nothing left for her to do

    # ...and dave's completes it: the graph resumes once and pays once.
    dave = new_page()
    log_in(dave, app.url, "dave")
    open_from_inbox(dave, "pay-big")
    dave.get_by_text(shown("carol@example.com: approve")).wait_for()
    dave.locator(APPROVE).first.click()
    wait_for_app(dave)
    confirm(dave)
    dave.get_by_text("You approved. The run completed.").wait_for()
    payments = inbox.graph("selective_review").get_state({"configurable": {"thread_id": "pay-big"}}).values["payments"]
    assert [p["amount"] for p in payments] == [15000.0]
    history = inbox.history(thread_id="pay-big")
    assert list(history[["action", "reviewer"]].itertuples(index=False, name=None)) == [
        ("vote", "carol@example.com"),
        ("decision", "dave@example.com"),
    ]

    # Log out ends the session: the sign-in page again.
    dave.locator('[data-testid="stSidebar"]').get_by_role("button", name="Log out").click()
    dave.get_by_role("button", name="End session").click()  # the provider's end-session page
    dave.get_by_role("button", name="Log in").wait_for()
    deep_link(dave, app.url, "pay-big")
    dave.get_by_role("button", name="Log in").wait_for()
    assert dave.get_by_text("Initech").count() == 0
