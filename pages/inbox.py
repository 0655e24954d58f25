"""Inbox: the pending queue (logic in hitl.ui.queue)."""

from hitl.ui.queue import render_inbox_page

render_inbox_page()
