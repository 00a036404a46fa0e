"""The import graph of flask_jwtx, as import tools read it: no module imports itself back.

The layering contract (``[tool.importlinter]`` in pyproject.toml) orders the
folders; this checks what it cannot: inside a layer, no two modules import
each other, directly or round a longer circle, type-only imports included.
"""

from __future__ import annotations

import grimp


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), sorted."""
    modules = sorted(m for m in graph.modules if m != "flask_jwtx")
    edges = {
        m: sorted(t for t in graph.find_modules_directly_imported_by(m) if t != "flask_jwtx")
        for m in modules
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges.get(module, []):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return sorted(groups)


def test_no_module_imports_itself_back() -> None:
    """Type-only imports count: a circle of them still ties the modules' designs together."""
    graph = grimp.build_graph("flask_jwtx", exclude_type_checking_imports=False)
    assert _cycles(graph) == []


def test_the_check_finds_a_circle() -> None:
    """The cycle finder itself: two modules importing each other are one group."""
    graph = grimp.ImportGraph()
    for name in ("flask_jwtx", "flask_jwtx.a", "flask_jwtx.b", "flask_jwtx.c"):
        graph.add_module(name)
    graph.add_import(importer="flask_jwtx.a", imported="flask_jwtx.b")
    graph.add_import(importer="flask_jwtx.b", imported="flask_jwtx.a")
    graph.add_import(importer="flask_jwtx.c", imported="flask_jwtx.a")
    assert _cycles(graph) == [["flask_jwtx.a", "flask_jwtx.b"]]
