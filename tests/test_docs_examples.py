"""Every Python example in docs/*.md runs, and does what its page says.

The convention (also in docs/contributing.md), which every page follows:

- Each fenced block whose info string is ``python`` is executed. A page's
  blocks run in order, in one namespace (a later block uses the app an
  earlier one defined), in a fresh temporary working directory (files an
  example writes, SQLite databases, key files, vanish with it).
- A block that must not run (a fragment of a larger program, a shell-bound
  deployment snippet) is preceded, on the line immediately above its
  opening fence, by ``<!-- no-run -->``. A marker followed by anything else is
  an error, so a typo cannot silently disable an example.
- Examples show behaviour with the Flask test client and ``assert`` what the
  text claims; a failing assertion fails this test, naming the page and the
  line (tracebacks point into the ``.md`` file).
- Real servers: a page whose examples use ``redis_url`` finds it in its
  namespace, the URL of the suite's real redis-server (``redis_server``
  fixture, flushed before the page); a page whose examples use
  ``postgres_url`` gets the real PostgreSQL server's URL (``postgres_server``).
  Pages that use neither start no server. SQLite needs nothing: use a file
  in the working directory.
- Warnings are errors here as in the whole suite: an example with a short
  HMAC secret, or a file it opens and never closes, fails.
- After the page, the runner closes the revocation stores of every app the
  page initialised (``JWTManager.close``), so examples need not show that
  housekeeping and no connection outlives its server.
"""

from __future__ import annotations

import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_jwtx import JWTManager

DOCS = Path(__file__).parent.parent / "docs"
PAGES = sorted(DOCS.glob("*.md"))
NO_RUN = "<!-- no-run -->"
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its info word, first code line (1-based) and source."""

    language: str
    line: int
    source: str
    runs: bool


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of a markdown page, with their no-run markers applied.

    Raises ``ValueError`` for a no-run marker that does not sit right above a
    ``python`` fence, or for a fence that is never closed.
    """
    lines = text.splitlines()
    found: list[Block] = []
    marked: int | None = None  # line index of a pending no-run marker
    i = 0
    while i < len(lines):
        line = lines[i]
        if marked is not None and marked != i - 1:
            raise ValueError(f"line {marked + 1}: {NO_RUN} must sit right above a ```python fence")
        if line.strip() == NO_RUN:
            marked = i
            i += 1
            continue
        match = _FENCE.match(line)
        if match is None:
            i += 1
            continue
        fence, info = match["fence"], match["info"].strip()
        language = info.split()[0] if info else ""
        end = i + 1
        while end < len(lines) and not _closes(lines[end], fence):
            end += 1
        if end == len(lines):
            raise ValueError(f"line {i + 1}: the {fence} fence is never closed")
        if marked is not None and language != "python":
            raise ValueError(f"line {marked + 1}: {NO_RUN} must sit right above a ```python fence")
        source = "\n".join(lines[i + 1 : end]) + "\n"
        found.append(Block(language, i + 2, source, runs=marked is None))
        marked = None
        i = end + 1
    if marked is not None:
        raise ValueError(f"line {marked + 1}: {NO_RUN} at the end of the page")
    return found


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(fence) and set(stripped) == {fence[0]}


def python_blocks(page: Path) -> list[Block]:
    return [b for b in blocks(page.read_text()) if b.language == "python" and b.runs]


def page_namespace(page: Path, code: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """A fresh namespace for one page, with the real servers it asks for.

    It is the ``__dict__`` of a module registered in ``sys.modules`` for the
    test's duration, as a real module would be: ``@dataclass``, pickling and
    ``typing.get_type_hints`` look their class's module up there.
    """
    module = types.ModuleType(f"docs_{page.stem.replace('-', '_')}")
    module.__file__ = str(page)
    request.getfixturevalue("monkeypatch").setitem(sys.modules, module.__name__, module)
    namespace = module.__dict__
    if "redis_url" in code:
        server = request.getfixturevalue("redis_server")
        server.flush()
        namespace["redis_url"] = server.url
    if "postgres_url" in code:
        namespace["postgres_url"] = request.getfixturevalue("postgres_server").url
    return namespace


def run_page(page: Path, namespace: dict[str, Any]) -> int:
    """Execute the page's python blocks in order; returns how many ran."""
    ran = 0
    for block in python_blocks(page):
        # Padded so tracebacks and assertion messages give the .md line.
        code = compile("\n" * (block.line - 1) + block.source, str(page), "exec")
        exec(code, namespace)  # noqa: S102 - running our own documentation is the point
        ran += 1
    return ran


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    code = "".join(block.source for block in python_blocks(page))
    namespace = page_namespace(page, code, request)
    # As if the page were a module in the working directory: an app named
    # after it (Flask(__name__)) has its root and instance folders there, so
    # a relative SQLite path never writes into the repository.
    namespace["__file__"] = str(tmp_path / page.name)
    monkeypatch.chdir(tmp_path)
    apps: list[Flask] = []
    init_app = JWTManager.init_app

    def recording_init_app(self: JWTManager, app: Flask, *args: Any, **kwargs: Any) -> None:
        apps.append(app)
        init_app(self, app, *args, **kwargs)

    monkeypatch.setattr(JWTManager, "init_app", recording_init_app)
    try:
        run_page(page, namespace)
    finally:
        for app in apps:
            if "flask-jwtx" in app.extensions:
                app.extensions["flask-jwtx"].manager.close(app)


def test_every_page_is_covered() -> None:
    """The runner sees the pages (a moved docs folder must not pass silently)."""
    assert len(PAGES) > 20
    assert sum(len(python_blocks(p)) for p in PAGES) > 50


def test_blocks_run_in_order_in_one_namespace(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n```python\nx = 1\n```\n\ntext\n\n```python\nx += 1\n```\n"
        f"\n{NO_RUN}\n```python\nraise SystemExit('never runs')\n```\n"
        "\n```console\n$ not python\n```\n"
    )
    namespace: dict[str, Any] = {}
    assert run_page(page, namespace) == 2
    assert namespace["x"] == 2


def test_failures_point_at_the_page_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n```python\nok = True\nassert not ok, 'the claim'\n```\n")
    with pytest.raises(AssertionError, match="the claim") as info:
        run_page(page, {})
    frame = info.traceback[-1]
    assert Path(frame.path) == page
    assert frame.lineno + 1 == 5  # pytest's lineno is 0-based


@pytest.mark.parametrize(
    "text",
    [
        f"{NO_RUN}\n\n```python\nx = 1\n```\n",  # not immediately above
        f"{NO_RUN}\n```console\n$ ls\n```\n",  # above a block that never runs anyway
        f"```python\nx = 1\n```\n{NO_RUN}\n",  # dangling
        "```python\nx = 1\n",  # never closed
    ],
)
def test_misplaced_markers_and_open_fences_are_errors(text: str) -> None:
    with pytest.raises(ValueError, match="line"):
        blocks(text)


def test_fences_inside_longer_fences_are_not_blocks() -> None:
    text = "````markdown\n```python\nraise SystemExit\n```\n````\n"
    assert [b.language for b in blocks(text)] == ["markdown"]


def test_real_servers_are_given_only_to_pages_that_use_them(
    request: pytest.FixtureRequest,
) -> None:
    plain = page_namespace(Path("plain.md"), "no servers here", request)
    assert "redis_url" not in plain
    assert "postgres_url" not in plain
    assert sys.modules[plain["__name__"]].__dict__ is plain
