"""QA: score finished threads, correct them, measure agreement, fork a thread (logic in hitl.ui.qa_view)."""

from hitl.ui import auth
from hitl.ui.qa_view import render_qa_page

auth.route_through_app()  # never run unrouted (unguarded, no sidebar) from a first-request URL
render_qa_page()
