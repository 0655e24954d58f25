"""History: the audit log, filters, CSV export and charts (logic in hitl.ui.history_view)."""

from hitl.ui import auth
from hitl.ui.history_view import render_history_page

auth.route_through_app()  # never run unrouted (unguarded, no sidebar) from a first-request URL
render_history_page()
