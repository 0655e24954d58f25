"""A graph's node functions, and whether the graph runs async only."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def callable_of(runnable: Any) -> Callable[..., Any] | None:
    func = getattr(runnable, "func", None)
    afunc = getattr(runnable, "afunc", None)
    if inspect.isfunction(func) or inspect.ismethod(func):
        return func
    if inspect.isfunction(afunc) or inspect.iscoroutinefunction(afunc):
        return afunc
    return None


def node_callables(graph: Any, node: str) -> list[tuple[Callable[..., Any], str | None]]:
    """The functions that may run `interrupt()` for `node` of `graph`: [(function, tool name)].

    A plain node gives its function; a ToolNode its tools' functions; a node that is a
    compiled subgraph every function of the subgraph, recursively.
    """
    nodes = getattr(graph, "nodes", None) or {}
    pregel_node = nodes.get(node)
    if pregel_node is None:
        return []
    return list(_runnable_callables(getattr(pregel_node, "bound", None), depth=0))


def _runnable_callables(runnable: Any, *, depth: int) -> Iterable[tuple[Callable[..., Any], str | None]]:
    if runnable is None or depth > 8:
        return
    tools = getattr(runnable, "tools_by_name", None)
    if isinstance(tools, Mapping):
        for name, tool in tools.items():
            func = getattr(tool, "func", None) or getattr(tool, "coroutine", None)
            if callable(func):
                yield func, str(name)
        return
    sub_nodes = getattr(runnable, "nodes", None)
    if isinstance(sub_nodes, Mapping) and hasattr(runnable, "builder"):
        for name, sub in sub_nodes.items():
            if not str(name).startswith("__"):
                yield from _runnable_callables(getattr(sub, "bound", None), depth=depth + 1)
        return
    func = callable_of(runnable)
    if func is not None:
        yield func, None
    for step in getattr(runnable, "steps", None) or ():
        yield from _runnable_callables(step, depth=depth + 1)


def is_async_graph(graph: Any) -> bool:
    """Whether some node (or tool, or subgraph node) of `graph` only has an async implementation."""
    return any(_async_only(getattr(n, "bound", None), 0) for n in (getattr(graph, "nodes", None) or {}).values())


def _async_only(runnable: Any, depth: int) -> bool:
    if runnable is None or depth > 8:
        return False
    tools = getattr(runnable, "tools_by_name", None)
    if isinstance(tools, Mapping):
        return any(getattr(t, "func", None) is None and getattr(t, "coroutine", None) is not None for t in tools.values())
    sub_nodes = getattr(runnable, "nodes", None)
    if isinstance(sub_nodes, Mapping) and hasattr(runnable, "builder"):
        return any(_async_only(getattr(s, "bound", None), depth + 1) for s in sub_nodes.values())
    if hasattr(runnable, "afunc") and getattr(runnable, "func", "missing") is None:
        return True
    return any(_async_only(step, depth + 1) for step in getattr(runnable, "steps", None) or ())


def function_ast(func: Callable[..., Any]) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, str, int] | None:
    func = inspect.unwrap(func)
    try:
        lines, start = inspect.getsourcelines(func)
        filename = inspect.getsourcefile(func) or "?"
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node, filename, max(start, 1) - 1
    return None
