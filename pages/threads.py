"""Threads: every thread by status, read-only detail (logic in hitl.ui.threads_view)."""

from hitl.ui import auth
from hitl.ui.threads_view import render_threads_page

auth.route_through_app()  # never run unrouted (unguarded, no sidebar) from a first-request URL
render_threads_page()
