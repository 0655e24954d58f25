"""Read, from a graph's own source code, what answer each `interrupt()` call expects.

The desk has the registered graph, so it can find the function that called `interrupt()` (a
node, a helper it calls, a node of a nested subgraph, or a `@tool` run by a `ToolNode`) and
read with `ast` how the result is used:

| the code does                                   | the answer it expects              |
|-------------------------------------------------|------------------------------------|
| `x.get("approved")`, `x["action"]`, `"k" in x`  | a JSON object with those keys      |
| `x["type"] == "accept"`, `action == "approve"`  | ...and those literal values        |
| `if x:`, `not x`, `... if x else ...`, `bool(x)` | yes/no (truthiness)                |
| `x.strip()`, `int(x)`, `x + "…"`, `f"{x}"`       | text                               |
| `isinstance(x, int)`                            | a number                           |

Nothing here runs the graph's code; a function whose source cannot be read, or whose uses
disagree, gives no answer (`None`), and the desk falls back to asking the reviewer to type
the answer. Results are pure data (`CallSite`), cached by the caller per (graph, node).
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from typing import Any
from hitl.inference.nodes import function_ast, is_async_graph, node_callables
from hitl.inference.usage import MAX_HELPER_DEPTH, OBJECT_METHODS, TEXT_METHODS, TYPE_NAMES, CallSite, Usage

__all__ = ["CallSite", "Usage", "call_sites", "node_callables", "is_async_graph"]


# --------------------------------------------------------------------------- reading it


def _interrupt_names(func: Callable[..., Any]) -> tuple[set[str], set[str]]:
    """Names (and module aliases) that refer to `langgraph.types.interrupt` in `func`'s globals."""
    try:
        from langgraph import types as lg_types
    except ImportError:  # pragma: no cover - langgraph is a dependency
        return {"interrupt"}, set()
    names, modules = {"interrupt"}, set()
    for name, obj in (getattr(inspect.unwrap(func), "__globals__", None) or {}).items():
        if obj is lg_types.interrupt:
            names.add(name)
        elif obj is lg_types:
            modules.add(name)
    return names, modules


def _is_interrupt(call: ast.AST, names: set[str], modules: set[str]) -> bool:
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in names
    if isinstance(func, ast.Attribute) and func.attr == "interrupt":
        owner = func.value
        return (isinstance(owner, ast.Name) and owner.id in modules) or ast.unparse(owner).endswith("langgraph.types")
    return False


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    parents: dict[ast.AST, ast.AST] = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            parents[child] = parent
    return parents


def _const_str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _literals(node: ast.AST) -> set[Any]:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, bool)):
        return {node.value}
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, (str, int, bool))}
    return set()


class _Reader:
    """Reads the uses of names bound to interrupt answers in one function."""

    def __init__(self, func: Callable[..., Any], fdef: ast.AST, depth: int) -> None:
        self.func = func
        self.fdef = fdef
        self.depth = depth
        self.parents = _parents(fdef)
        self.globals = getattr(inspect.unwrap(func), "__globals__", None) or {}
        self._reading: set[str] = set()

    def start_site(self) -> None:
        """Each interrupt() call site reads the names it binds afresh."""
        self._reading.clear()

    def uses_of_name(self, name: str) -> Usage:
        usage = Usage()
        if name in self._reading:  # `a = b` then `b = a`: each name is read once
            return usage
        self._reading.add(name)
        for node in ast.walk(self.fdef):
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
                usage.merge(self.use(node))
        return usage

    def use(self, node: ast.AST) -> Usage:
        """What the expression `node` (an answer) is used for, from its parent."""
        usage = Usage()
        parent = self.parents.get(node)
        usage.lines.add(getattr(node, "lineno", 0))
        if parent is None:
            return usage
        if isinstance(parent, ast.Attribute) and parent.value is node:
            call = self.parents.get(parent)
            if parent.attr == "get" and isinstance(call, ast.Call) and call.func is parent:
                key = _const_str(call.args[0]) if call.args else None
                if key is not None:
                    usage.keys.add(key)
                    self._key_value(call, key, usage)
            elif parent.attr in TEXT_METHODS:
                usage.text = True
            elif parent.attr in OBJECT_METHODS:
                usage.keys.add("*")
            elif parent.attr in ("model_dump", "model_dump_json", "dict"):
                usage.pydantic = True
            return usage
        if isinstance(parent, ast.Subscript) and parent.value is node:
            key = parent.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                usage.keys.add(key.value)
                usage.required.add(key.value)
                self._key_value(parent, key.value, usage)
            elif isinstance(key, ast.Constant) and isinstance(key.value, int):
                usage.sequence = True
            return usage
        if isinstance(parent, ast.Compare):
            self._compare(parent, node, usage)
            return usage
        if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and parent.test is node:
            usage.truthy = True
            return usage
        if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
            usage.truthy = True
            return usage
        if isinstance(parent, ast.BoolOp):
            grand = self.parents.get(parent)
            if isinstance(grand, (ast.If, ast.While, ast.IfExp, ast.Assert, ast.UnaryOp)):
                usage.truthy = True
            return usage
        if isinstance(parent, ast.FormattedValue):
            usage.weak_text = True
            return usage
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add):
            other = parent.right if parent.left is node else parent.left
            if _const_str(other) is not None or isinstance(other, ast.JoinedStr):
                usage.text = True
            return usage
        if isinstance(parent, ast.Call) and node in parent.args:
            self._argument(parent, parent.args.index(node), usage)
            return usage
        if isinstance(parent, ast.Assign) and parent.value is node:
            for target in parent.targets:
                if isinstance(target, ast.Name):
                    usage.merge(self.uses_of_name(target.id))
            return usage
        if isinstance(parent, ast.AnnAssign) and parent.value is node and isinstance(parent.target, ast.Name):
            usage.merge(self.uses_of_name(parent.target.id))
            return usage
        if isinstance(parent, ast.NamedExpr) and parent.value is node:
            usage.merge(self.use(parent))  # `if (answer := interrupt(...)):` tests it where it stands
            usage.merge(self.uses_of_name(parent.target.id))
            return usage
        return usage

    def _argument(self, call: ast.Call, index: int, usage: Usage) -> None:
        func = call.func
        if isinstance(func, ast.Name):
            if func.id == "bool":
                usage.boolean = True
            elif func.id in ("int", "float") and index == 0:
                usage.text = True  # int(answer): a string the code parses (a number works too)
            elif func.id == "isinstance" and index == 0 and len(call.args) == 2:
                types = call.args[1].elts if isinstance(call.args[1], ast.Tuple) else [call.args[1]]
                for typ in types:
                    name = typ.id if isinstance(typ, ast.Name) else getattr(typ, "attr", "")
                    found = TYPE_NAMES.get(name)
                    if found == "text":
                        usage.text = True
                    elif found == "number":
                        usage.number = True
                    elif found == "boolean":
                        usage.boolean = True
                    elif found == "object":
                        usage.keys.add("*")
            elif self.depth < MAX_HELPER_DEPTH:
                helper = self.globals.get(func.id)
                if inspect.isfunction(helper):
                    usage.merge(_parameter_usage(helper, index, self.depth + 1))

    def _compare(self, compare: ast.Compare, node: ast.AST, usage: Usage) -> None:
        operands = [compare.left, *compare.comparators]
        for op, right in zip(compare.ops, compare.comparators, strict=True):
            left = operands[operands.index(right) - 1]
            if isinstance(op, (ast.In, ast.NotIn)) and right is node:
                key = _const_str(left)
                if key is not None:
                    usage.keys.add(key)
            elif isinstance(op, (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):
                other = right if left is node else left
                if isinstance(other, ast.Constant) and isinstance(other.value, bool):
                    usage.boolean = True
                elif _const_str(other) is not None:
                    usage.text = True
                elif isinstance(other, ast.Constant) and other.value is None:
                    pass

    def _key_value(self, access: ast.AST, key: str, usage: Usage) -> None:
        """Literal values the key's value is compared with, directly or through a variable."""
        parent = self.parents.get(access)
        if isinstance(parent, ast.Compare):
            for comparator in [parent.left, *parent.comparators]:
                if comparator is not access:
                    usage.values.setdefault(key, set()).update(_literals(comparator))
        elif isinstance(parent, ast.Assign) and parent.value is access:
            for target in parent.targets:
                if isinstance(target, ast.Name):
                    for other in ast.walk(self.fdef):
                        if isinstance(other, ast.Compare):
                            parts = [other.left, *other.comparators]
                            if any(isinstance(p, ast.Name) and p.id == target.id for p in parts):
                                for p in parts:
                                    usage.values.setdefault(key, set()).update(_literals(p))
        elif isinstance(parent, (ast.If, ast.IfExp, ast.While)) and parent.test is access:
            usage.values.setdefault(key, set()).add(True)


def _parameter_usage(func: Callable[..., Any], index: int, depth: int) -> Usage:
    found = function_ast(func)
    if found is None:
        return Usage()
    fdef, _, _ = found
    params = [a.arg for a in [*fdef.args.posonlyargs, *fdef.args.args]]
    if index >= len(params):
        return Usage()
    return _Reader(func, fdef, depth).uses_of_name(params[index])


def _payload_facts(call: ast.Call) -> tuple[str | None, str | None, frozenset[str] | None]:
    if not call.args:
        return None, None, None
    arg = call.args[0]
    prompt = _const_str(arg)
    if prompt is not None:
        return prompt, None, None
    if isinstance(arg, ast.JoinedStr):
        head = _const_str(arg.values[0]) if arg.values else None
        return None, head or None, None
    if isinstance(arg, ast.Dict) and all(_const_str(k) is not None for k in arg.keys):
        return None, None, frozenset(_const_str(k) for k in arg.keys)  # type: ignore[misc]
    return None, None, None


def call_sites(func: Callable[..., Any], *, tool: str | None = None) -> list[CallSite]:
    """Every `interrupt()` call in `func` (and helpers it passes answers to), read from its source."""
    found = function_ast(func)
    if found is None:
        return []
    fdef, filename, offset = found
    names, modules = _interrupt_names(func)
    reader = _Reader(func, fdef, 0)
    sites: list[CallSite] = []
    short = filename.rsplit("/", 1)[-1]
    for node in ast.walk(fdef):
        if not _is_interrupt(node, names, modules):
            continue
        assert isinstance(node, ast.Call)
        reader.start_site()
        usage = reader.use(node)
        answer_type, why = usage.answer_type()
        prompt, prefix, payload_keys = _payload_facts(node)
        sites.append(
            CallSite(
                where=f"{short}:{node.lineno + offset} in {fdef.name}",
                function=fdef.name,
                answer_type=answer_type,
                why=why,
                keys=frozenset(k for k in usage.keys if k != "*"),
                required=frozenset(usage.required),
                values={k: frozenset(v) for k, v in usage.values.items()},
                truthy=usage.truthy,
                prompt=prompt,
                prompt_prefix=prefix,
                payload_keys=payload_keys,
                tool=tool,
            )
        )
    return sites
