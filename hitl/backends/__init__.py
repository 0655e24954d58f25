"""Backends the desk lists, reads and resumes threads through.

`base.Backend` is the seam: what pages, API and services need from wherever the checkpoints
live. The SQL store (`hitl.store`, the default) reads the savers' tables directly;
`server.ServerBackend` talks to a LangGraph API server through langgraph-sdk, chosen by
`HITL_LANGGRAPH_API_URL`.
"""

from __future__ import annotations

from hitl.backends.base import Backend, Graphs

__all__ = ["Backend", "Graphs"]
