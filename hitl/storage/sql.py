"""What the desk's repositories need of an open store, and the small SQL helpers they share.

A repository function takes the store (`hitl.store.Store` satisfies `SqlStore`) and owns its
SQL; the services above call it and never write SQL themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from hitl.storage.dialect import Dialect

__all__ = ["SqlStore", "marks", "in_clause"]


class SqlStore(Protocol):
    """An open store: plain queries, one-statement writes, and write transactions."""

    dialect: Dialect
    read_only: bool

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...

    def execute_write(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    def connection(self, *, write: bool = False, snapshot: bool = False) -> AbstractContextManager[Any]: ...


def marks(values: Sequence[Any]) -> str:
    """`?, ?, ?`: one placeholder per value, for `IN (...)`."""
    return ",".join("?" for _ in values)


def in_clause(column: str, values: Sequence[Any], params: list[Any]) -> str:
    """`column IN (?, ...)`, its values appended to `params`."""
    params.extend(values)
    return f"{column} IN ({marks(values)})"
