"""Start a run: launch any registered graph (logic in hitl.ui.start_form)."""

from hitl.ui import auth
from hitl.ui.start_form import render_start_page

auth.route_through_app()  # never run unrouted (unguarded, no sidebar) from a first-request URL
render_start_page()
