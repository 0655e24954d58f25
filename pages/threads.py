"""Threads: every thread by status, read-only detail (logic in hitl.ui.threads_view)."""

from hitl.ui.threads_view import render_threads_page

render_threads_page()
