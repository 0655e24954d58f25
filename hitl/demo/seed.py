"""Fill a desk with pending demo threads."""

from __future__ import annotations

from typing import Any, Protocol

from hitl.demo.graphs import DEMO_GRAPH_IDS
from hitl.demo.inputs import DEMO_INPUTS

__all__ = ["seed"]


class _GraphSource(Protocol):
    def graph(self, graph_id: str) -> Any: ...


def seed(
    inbox: _GraphSource,
    threads: int,
    *,
    graph_ids: list[str] | None = None,
    prefix: str = "demo",
) -> list[str]:
    """Start `threads` demo threads, round-robin over the demo graphs, each paused for review.

    Thread `i` runs graph `graph_ids[i % len(graph_ids)]` with thread id
    `f"{prefix}-{graph_id}-{i:04d}"` and input `DEMO_INPUTS[graph_id](i // len(graph_ids))`,
    so each graph's threads get consecutive, different scenarios. The graph id is written
    to the checkpoint metadata, where the desk reads it.

    Args:
        inbox: The desk; `inbox.graph(graph_id)` returns the graph compiled with its checkpointer.
        threads: How many threads to start.
        graph_ids: Demo graphs to use, in order; all of them by default.
        prefix: First part of every thread id.

    Returns:
        The ids of the threads started, in order.

    Raises:
        ValueError: If `threads` is negative or a graph id is not a demo graph.
    """
    if threads < 0:
        msg = f"threads must be 0 or more, got {threads}."
        raise ValueError(msg)
    chosen = list(graph_ids) if graph_ids is not None else list(DEMO_GRAPH_IDS)
    unknown = [graph_id for graph_id in chosen if graph_id not in DEMO_INPUTS]
    if unknown or not chosen:
        msg = (
            f"Unknown demo graph ids {unknown} in graph_ids={chosen}. "
            f"Choose from: {', '.join(DEMO_GRAPH_IDS)}."
        )
        raise ValueError(msg)
    thread_ids: list[str] = []
    for index in range(threads):
        graph_id = chosen[index % len(chosen)]
        thread_id = f"{prefix}-{graph_id}-{index:04d}"
        inbox.graph(graph_id).invoke(
            DEMO_INPUTS[graph_id](index // len(chosen)),
            {"configurable": {"thread_id": thread_id}, "metadata": {"graph_id": graph_id}},
        )
        thread_ids.append(thread_id)
    return thread_ids
