"""`python -m hitl.ui.serve [streamlit options]`: `streamlit run app.py`, warmed up.

Streamlit imports an app's modules on the first script run, so the first page anyone opened
after a start waited for LangGraph, LangChain and the desk to import (the first Inbox load took
6.5-14.4 s on the shared 2-core machine at load ~9, 5.5-7.9 s through this launcher; the rest is
opening the desk and loading the graph modules). This launcher imports them before the server
listens, then hands over to Streamlit's own command line, unchanged. `make run` uses it.
"""

from __future__ import annotations

import sys
import time

_started = time.perf_counter()

import hitl.inbox  # noqa: E402,F401 - the warm-up: LangGraph, LangChain and the desk's core
import hitl.ui.queue  # noqa: E402,F401 - the pages' own modules
import hitl.ui.review_flow  # noqa: E402,F401
from streamlit.web import cli  # noqa: E402

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Run `streamlit run app.py` with `argv` (Streamlit options, e.g. `--server.port 8501`)."""
    print(f"hitl: desk modules imported in {time.perf_counter() - _started:.1f} s", file=sys.stderr)
    sys.argv = ["streamlit", "run", "app.py", *(sys.argv[1:] if argv is None else argv)]
    cli.main()


if __name__ == "__main__":
    main()
