"""Demo graphs for the review desk: one per human-in-the-loop pattern, runnable offline.

`DEMO_GRAPHS` maps each id in `DEMO_GRAPH_IDS` to an uncompiled `StateGraph` or to a function
taking a checkpointer; `DEMO_INPUTS[graph_id](index)` is a starting input for it; `seed()` fills
a desk with pending threads. `langgraph.json` at the repository root registers the same graphs.
"""

from __future__ import annotations

from hitl.demo.graphs import DEMO_GRAPH_IDS, DEMO_GRAPHS
from hitl.demo.inputs import DEMO_INPUTS
from hitl.demo.model import ScriptedChatModel, get_chat_model
from hitl.demo.seed import seed

__all__ = [
    "DEMO_GRAPH_IDS",
    "DEMO_GRAPHS",
    "DEMO_INPUTS",
    "ScriptedChatModel",
    "get_chat_model",
    "seed",
]
