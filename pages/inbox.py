"""Inbox: the pending queue (logic in hitl.ui.queue)."""

from hitl.ui import auth
from hitl.ui.queue import render_inbox_page

auth.route_through_app()  # never run unrouted (unguarded, no sidebar) from a first-request URL
render_inbox_page()
