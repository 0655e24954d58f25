"""Run a registered graph on the desk's database, sync or async, from synchronous code.

A graph whose nodes (or tools, or subgraph nodes) are `async def` can only run through
`ainvoke`, and then on an async checkpointer: `AsyncSqliteSaver` / `AsyncPostgresSaver` over the
same database as the desk's sync saver. The desk's pages, API and resume worker threads are
synchronous, so an async run gets an event loop of its own for its duration.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from hitl.inference import is_async_graph

__all__ = ["invoke", "is_async_graph", "run_coroutine"]


def invoke(graph: Any, graph_input: Any, config: dict[str, Any], *, database_url: str) -> Any:
    """`graph.invoke(graph_input, config)`, or `ainvoke` on an async saver when the graph needs it."""
    if getattr(graph, "remote", False) or not is_async_graph(graph):  # a server's graph runs there
        return graph.invoke(graph_input, config)
    return run_coroutine(lambda: _ainvoke(graph, graph_input, config, database_url))


def run_coroutine(make: Any) -> Any:
    """Run the coroutine `make()` to its end from synchronous code, and return its result."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    # Called from inside an event loop (e.g. a notebook): run the graph's loop in a thread.
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make())
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="hitl-async-run", daemon=True)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


async def _ainvoke(graph: Any, graph_input: Any, config: dict[str, Any], database_url: str) -> Any:
    async with async_saver(database_url) as saver:
        bound = graph.copy(update={"checkpointer": saver})
        return await bound.ainvoke(graph_input, config)


@asynccontextmanager
async def async_saver(database_url: str) -> AsyncIterator[Any]:
    """The async checkpointer over the database at `database_url` (the desk's own URL)."""
    if database_url.startswith(("postgresql://", "postgres://", "postgresql+")):
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        conninfo = re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", database_url)
        async with AsyncPostgresSaver.from_conn_string(conninfo) as saver:
            yield saver
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    path = database_url[len("sqlite:///") :] if database_url.startswith("sqlite:///") else ":memory:"
    async with AsyncSqliteSaver.from_conn_string(path) as saver:
        yield saver
