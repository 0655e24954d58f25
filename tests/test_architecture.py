"""The layers of `hitl` (see README, "How it is built"): imports point down, never in a circle.

`.importlinter` holds the contracts; `lint-imports` checks them. The cycle check below is
stricter than the layers contract (which allows any imports inside one layer): no two `hitl`
modules may import each other, directly or through others, and no module imports another
`hitl` module inside a function to dodge such a cycle.
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports() -> list[str]:
    script = Path(sys.executable).with_name("lint-imports")
    return [str(script)] if script.exists() else [shutil.which("lint-imports") or "lint-imports"]


def test_the_import_linter_contracts_are_kept() -> None:
    result = subprocess.run(
        [*_lint_imports(), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_no_hitl_module_is_part_of_an_import_cycle() -> None:
    graph = grimp.build_graph("hitl", exclude_type_checking_imports=False)
    assert len(graph.modules) > 50  # the whole package was read
    assert _import_cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(module)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    graph.add_import(importer="a.d", imported="a.b")
    assert _import_cycles(graph) == [["a.b", "a.c"]]


def _imports_inside_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            names = []
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] == "hitl"):
                names = [node.module or "."]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names if alias.name.split(".")[0] == "hitl"]
            found += [f"{path.relative_to(ROOT)}:{node.lineno} imports {name} inside {function.name}()" for name in names]
    return found


def test_no_hitl_module_imports_another_inside_a_function() -> None:
    found = [line for path in sorted((ROOT / "hitl").rglob("*.py")) for line in _imports_inside_functions(path)]
    assert found == []


def test_every_top_level_module_has_a_layer() -> None:
    """A new module must be given its place in `.importlinter`: one left out is checked by nothing."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    layered = {
        name.strip()
        for row in config["importlinter:contract:layers"]["layers"].split("\n")
        for name in row.split("|")
        if name.strip()
    }
    top_level = {path.stem if path.is_file() else path.name for path in (ROOT / "hitl").iterdir()
                 if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()}  # fmt: skip
    assert top_level - layered == set()
    assert layered - top_level == set()


# --------------------------------------------------------------------------- sizes
#
# A module a newcomer can read is short, and so is each function in it: no module under hitl/
# (or pages/, app.py) over MAX_MODULE_LINES lines, no function over MAX_FUNCTION_LINES.

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80

# Files let off while another branch splits them (issue 14). Empty: nothing may be added to it.
BEING_SPLIT_ELSEWHERE: tuple[str, ...] = ()


def _checked_sources() -> list[Path]:
    paths = [*sorted((ROOT / "hitl").rglob("*.py")), *sorted((ROOT / "pages").rglob("*.py")), ROOT / "app.py"]
    return [path for path in paths if not any(fnmatch.fnmatch(path.relative_to(ROOT).as_posix(), pattern)
                                              for pattern in BEING_SPLIT_ELSEWHERE)]  # fmt: skip


def _too_long(name: str, source: str) -> list[str]:
    """`name: N lines` for the module and each function (methods included) over the limits."""
    found = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES:
        found.append(f"{name}: {lines} lines (at most {MAX_MODULE_LINES})")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([d.lineno for d in node.decorator_list] + [node.lineno])
            length = node.end_lineno - start + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{name}:{node.lineno} {node.name}(): {length} lines (at most {MAX_FUNCTION_LINES})")
    return found


def test_no_module_or_function_is_too_long_to_read() -> None:
    found = [line for path in _checked_sources() for line in _too_long(path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))]
    assert found == []


def test_the_size_check_finds_a_long_module_and_a_long_function() -> None:
    body = "".join(f"    x{n} = {n}\n" for n in range(MAX_FUNCTION_LINES))
    source = "def short():\n    return 1\n\n\ndef long():\n" + body + "\n" * (MAX_MODULE_LINES - MAX_FUNCTION_LINES)
    assert _too_long("m.py", source) == [
        f"m.py: {len(source.splitlines())} lines (at most {MAX_MODULE_LINES})",
        f"m.py:5 long(): {MAX_FUNCTION_LINES + 1} lines (at most {MAX_FUNCTION_LINES})",
    ]


def test_only_files_being_split_elsewhere_are_let_off() -> None:
    """The allow-list is empty: every module and function is within the limits."""
    assert BEING_SPLIT_ELSEWHERE == ()
