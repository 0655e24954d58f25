"""Backends the desk lists, reads and resumes threads through.

`base.Backend` (where the threads live) and `base.Graphs` (the graphs that run them) are the
seam pages, API and services talk to as `Desk.store` and `Desk.registry`. The SQL store
(`hitl.store.Store` + `hitl.registry.Registry`, the default) reads the savers' tables directly;
`server.ServerStore` + `server_graphs.ServerRegistry` talk to a LangGraph API server through
langgraph-sdk, chosen by `HITL_LANGGRAPH_API_URL`.
"""

from __future__ import annotations

from hitl.backends.base import Backend, Graphs

__all__ = ["Backend", "Graphs"]
