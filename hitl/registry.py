"""The graph registry: langgraph.json's `graphs` loaded and bound to the desk's checkpointer.

`"graphs": {"id": "path/to/file.py:attr"}` (paths relative to the json file, or
`package.module:attr`). The attribute may be a compiled graph, an uncompiled `StateGraph`,
or a function taking a checkpointer (or nothing) and returning either. Graphs load lazily
and one at a time: a module that fails to import leaves the rest of the registry working,
and that graph's threads are shown read-only with the import error. That includes a module
that raises `SystemExit` while importing (a script's module-level `argparse.parse_args()` or
`sys.exit()`), or any other `BaseException` but `KeyboardInterrupt`; the failure is kept, so
the module is not imported again on every refresh (restart the desk once it is fixed).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import sys
import sysconfig
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from hitl import runner
from hitl.errors import HitlError, UnknownGraph

__all__ = ["Registry", "GraphSpec", "GraphMatch", "GraphMatcher", "memo_match"]


@dataclass(frozen=True)
class GraphSpec:
    """One registered graph: its id and where its code lives."""

    graph_id: str
    target: str


@dataclass(frozen=True)
class GraphMatch:
    """Which graph a thread belongs to; `graph_id` is None when unknown, with the reason."""

    graph_id: str | None
    note: str | None = None


@dataclass(frozen=True)
class GraphMatcher:
    """`Registry.match` over a snapshot of the registry: what the first index's worker
    processes use (they load no graph code)."""

    ids: dict[str, None]
    """The registered graph ids (a dict: looked up as `Registry.specs` is)."""
    errors: dict[str, str]
    nodes: dict[str, frozenset[str]]

    def match(self, metadata_graph_id: str | None, nodes: Iterable[str | None]) -> GraphMatch:
        return _match(self.ids, self.errors.get, lambda gid: self.nodes.get(gid, frozenset()), metadata_graph_id, nodes)


Match = Callable[[Any, Iterable[str | None]], GraphMatch]


def memo_match(match: Match) -> Match:
    """`match` remembered per (graph id, pending nodes): threads of one graph share one answer.
    For one index batch (a registry's answers do not change within it) or a `GraphMatcher`."""
    seen: dict[tuple[Any, tuple[str | None, ...]], GraphMatch] = {}

    def remembered(metadata_graph_id: Any, nodes: Iterable[str | None]) -> GraphMatch:
        key = (metadata_graph_id, tuple(nodes))
        try:
            return seen[key]
        except KeyError:
            found = seen[key] = match(*key)
            return found
        except TypeError:  # an unhashable graph_id in odd metadata
            return match(*key)

    return remembered


def _match(
    registered: Iterable[str],
    error_of: Callable[[str], str | None],
    nodes_of: Callable[[str], frozenset[str]],
    metadata_graph_id: str | None,
    nodes: Iterable[str | None],
) -> GraphMatch:
    if metadata_graph_id:
        if metadata_graph_id not in registered:
            return GraphMatch(
                metadata_graph_id,
                f"graph {metadata_graph_id!r} is not registered in the desk's langgraph.json: read-only",
            )
        error = error_of(metadata_graph_id)
        if error:
            return GraphMatch(metadata_graph_id, f"graph {metadata_graph_id!r} failed to load: {error}")
        return GraphMatch(metadata_graph_id)
    wanted = {n for n in nodes if n}
    if not wanted:
        return GraphMatch(None, "no graph_id in the thread's metadata and no pending node to match: read-only")
    candidates = [gid for gid in registered if wanted <= nodes_of(gid)]
    if len(candidates) == 1:
        return GraphMatch(candidates[0])
    names = ", ".join(sorted(wanted))
    if not candidates:
        return GraphMatch(None, f"no registered graph has node(s) {names}: read-only")
    return GraphMatch(
        None,
        f"node(s) {names} exist in several graphs ({', '.join(candidates)}); tag runs with "
        "config={'metadata': {'graph_id': ...}} to choose: read-only",
    )


class Registry:
    """Registered graphs, compiled with the desk's checkpointer on first use."""

    def __init__(self, specs: Iterable[GraphSpec], *, base_dir: Path, checkpointer: BaseCheckpointSaver) -> None:
        self.specs = {spec.graph_id: spec for spec in specs}
        self.base_dir = base_dir
        self.checkpointer = checkpointer
        self._graphs: dict[str, Any] = {}
        self._errors: dict[str, str] = {}
        self._nodes: dict[str, frozenset[str]] = {}
        self._lock = threading.RLock()

    @classmethod
    def from_file(cls, path: str | Path, *, checkpointer: BaseCheckpointSaver) -> Registry:
        """Read a langgraph.json. A missing file gives an empty registry (read-only desk)."""
        file = Path(path)
        if not file.exists():
            return cls([], base_dir=file.parent.resolve(), checkpointer=checkpointer)
        try:
            config = json.loads(file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise HitlError(f"Graph registry {str(file)!r} (HITL_GRAPHS) is not valid JSON: {exc}") from None
        graphs = config.get("graphs") if isinstance(config, dict) else None
        if not isinstance(graphs, dict):
            raise HitlError(
                f"Graph registry {str(file)!r} has no \"graphs\" object. Expected the LangGraph CLI "
                'format: {"graphs": {"my_graph": "./path/to/file.py:graph"}}.'
            )
        specs = []
        for graph_id, target in graphs.items():
            if isinstance(target, dict):  # {"path": "...", "description": ...}
                target = target.get("path", "")
            specs.append(GraphSpec(str(graph_id), str(target)))
        return cls(specs, base_dir=file.parent.resolve(), checkpointer=checkpointer)

    def ids(self) -> list[str]:
        """Registered graph ids, in file order."""
        return list(self.specs)

    def error(self, graph_id: str) -> str | None:
        """The load error of a graph, if loading it failed."""
        self._try_load(graph_id)
        return self._errors.get(graph_id)

    def graph(self, graph_id: str) -> Any:
        """The compiled graph bound to the desk's checkpointer.

        Raises:
            UnknownGraph: not registered, or its module failed to load.
        """
        if graph_id not in self.specs:
            known = ", ".join(self.specs) or "none"
            raise UnknownGraph(
                f"Graph {graph_id!r} is not registered (registered: {known}). Add it to the "
                "\"graphs\" of langgraph.json (HITL_GRAPHS)."
            )
        self._try_load(graph_id)
        if graph_id in self._errors:
            raise UnknownGraph(f"Graph {graph_id!r} could not be loaded: {self._errors[graph_id]}")
        return self._graphs[graph_id]

    def new_thread_id(self, graph_id: str) -> str:
        """An id for a new thread of `graph_id` (Start a run): `<graph>-1a2b3c4d`."""
        return f"{graph_id}-{uuid.uuid4().hex[:8]}"

    def nodes(self, graph_id: str) -> frozenset[str]:
        """Node names of a graph (empty when it cannot be loaded)."""
        self._try_load(graph_id)
        return self._nodes.get(graph_id, frozenset())

    def match(self, metadata_graph_id: str | None, nodes: Iterable[str | None]) -> GraphMatch:
        """Which registered graph a thread belongs to.

        The checkpoint metadata's `graph_id` wins; else the one registered graph whose nodes
        include every pending node; none or several → unknown, with the reason.
        """
        return _match(self.specs, self.error, self.nodes, metadata_graph_id, nodes)

    def matcher(self) -> GraphMatcher:
        """`match` as a picklable snapshot (every registered graph loaded once), for worker processes."""
        ids = list(self.specs)
        return GraphMatcher(
            ids=dict.fromkeys(ids),
            errors={gid: error for gid in ids if (error := self.error(gid))},
            nodes={gid: self.nodes(gid) for gid in ids},
        )

    def _try_load(self, graph_id: str) -> None:
        if graph_id in self._graphs or graph_id in self._errors or graph_id not in self.specs:
            return
        with self._lock:
            if graph_id in self._graphs or graph_id in self._errors:
                return
            try:
                graph = self._load(self.specs[graph_id])
                self._graphs[graph_id] = graph
                self._nodes[graph_id] = frozenset(getattr(graph, "nodes", {}) or {})
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001 - a user's module must not take the desk down
                self._errors[graph_id] = _load_error(exc)

    def _load(self, spec: GraphSpec) -> Any:
        if ":" not in spec.target:
            raise HitlError(f"target {spec.target!r} should look like 'path/to/file.py:attribute'")
        location, attr = spec.target.rsplit(":", 1)
        if location.endswith(".py") or "/" in location:
            path = (self.base_dir / location).resolve()
            if not path.exists():
                raise HitlError(f"file {str(path)!r} does not exist")
            module = _import_path(path)
        else:
            module = importlib.import_module(location)
        obj = module
        for part in attr.split("."):
            obj = getattr(obj, part)
        return self._bind(obj)

    def _bind(self, obj: Any) -> Any:
        from langgraph.graph import StateGraph
        from langgraph.pregel import Pregel

        if isinstance(obj, StateGraph):
            return obj.compile(checkpointer=self.checkpointer)
        if isinstance(obj, Pregel):
            return obj.copy(update={"checkpointer": self.checkpointer})
        if callable(obj):
            params = inspect.signature(obj).parameters
            if "checkpointer" in params:
                made = obj(checkpointer=self.checkpointer)
            elif len(params) >= 1:
                made = obj(self.checkpointer)
            else:
                made = obj()
            if inspect.iscoroutine(made):  # an `async def make_graph(...)` factory
                made = runner.run_coroutine(lambda: made)
            return self._bind(made) if not _bound_to(made, self.checkpointer) else made
        raise HitlError(
            f"expected a compiled graph, a StateGraph or a function returning one; got {type(obj).__name__}"
        )


_LIBRARY_DIRS = tuple(
    str(Path(p).resolve()) for p in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]}
)


def _load_error(exc: BaseException) -> str:
    """Why a graph could not be loaded, naming the line of the user's code that failed."""
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    # The deepest frame in the user's code (not argparse, importlib or this module).
    own = [
        f for f in frames
        if not f.filename.startswith(("<", *_LIBRARY_DIRS)) and Path(f.filename).resolve() != Path(__file__).resolve()
    ]  # fmt: skip
    last = (own or frames)[-1:]
    where = f" ({last[0].filename}:{last[0].lineno})" if last else ""
    if isinstance(exc, SystemExit):
        return (
            f"SystemExit({exc.code!r}): the module exited while being imported{where}. A module-level "
            "argparse `parse_args()` or `sys.exit()` does this; move it under "
            "`if __name__ == \"__main__\":`, then restart the desk"
        )
    if not isinstance(exc, Exception):
        return f"{type(exc).__name__} raised while importing the module{where}: {exc}"
    return f"{type(exc).__name__}: {exc}{where}"


def _bound_to(graph: Any, checkpointer: BaseCheckpointSaver) -> bool:
    return getattr(graph, "checkpointer", None) is checkpointer


def _import_path(path: Path) -> Any:
    """Import a file as a module, named after its path so relative imports keep working."""
    # A file inside the project (e.g. ./hitl/demo/graphs.py) imports as its package module,
    # so it is the same module object the rest of the code uses.
    for root in sys.path:
        try:
            relative = path.relative_to(Path(root or ".").resolve())
        except ValueError:
            continue
        parts = relative.with_suffix("").parts
        if all(p.isidentifier() for p in parts):
            try:
                return importlib.import_module(".".join(parts))
            except ModuleNotFoundError:
                break
    name = f"hitl_graph_{abs(hash(str(path)))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise HitlError(f"cannot import {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        try:
            sys.path.remove(str(path.parent))
        except ValueError:
            pass
    return module
