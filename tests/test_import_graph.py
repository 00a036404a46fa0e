"""Import graphs: flask_jwtx's has no circle, and no test module imports another.

The layering contract (``[tool.importlinter]`` in pyproject.toml) orders the
folders; this checks what it cannot: inside a layer, no two modules import
each other, directly or round a longer circle, type-only imports included.

In the suite, what tests share lives in helper modules (``tests/helpers.py``
and the others not named ``test_*``) and fixtures in ``conftest.py``; a test
module that imports another test module, or ``conftest``, ties the two files
together and runs the other's module-level code (and autouse fixtures do not
follow the import).
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

TESTS = Path(__file__).parent


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


# -- The suite -----------------------------------------------------------------------------


def _imported_test_modules(source: str) -> list[str]:
    """The modules of the ``tests`` package that ``source`` imports and must not:
    test modules (``test_*``) and ``conftest``, however the import is spelled."""
    imported: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module is None:  # from . import test_x
                imported += [alias.name for alias in node.names]
            elif node.level == 1 and node.module is not None:  # from .test_x import y
                imported.append(node.module.split(".")[0])
            elif node.level == 0 and (node.module or "").startswith("tests."):
                imported.append((node.module or "").split(".")[1])
        elif isinstance(node, ast.Import):
            imported += [
                alias.name.split(".")[1] for alias in node.names if alias.name.startswith("tests.")
            ]
    return sorted({name for name in imported if name.startswith("test_") or name == "conftest"})


def test_no_test_module_imports_another_or_conftest() -> None:
    """Shared code comes from the helper modules; fixtures reach tests through pytest."""
    found = {
        path.name: names
        for path in sorted(TESTS.glob("*.py"))
        if (names := _imported_test_modules(path.read_text()))
    }
    assert found == {}


def test_the_check_finds_every_spelling_of_such_an_import() -> None:
    """Relative, absolute, ``from . import`` and plain ``import``; helpers pass."""
    source = "\n".join(
        [
            "from .test_a import x",
            "from . import test_b, helpers",
            "from tests.test_c import y",
            "import tests.test_d",
            "from .conftest import SECRET",
            "from .helpers import bearer",
            "from .stores import RedisServer",
            "import tests.jwks_issuer",
        ]
    )
    assert _imported_test_modules(source) == [
        "conftest",
        "test_a",
        "test_b",
        "test_c",
        "test_d",
    ]
