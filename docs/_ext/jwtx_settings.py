"""The configuration reference, generated from ``flask_jwtx._core.config.schema`` at build time.

Nothing about a setting is written here. Each key is declared once, in the
package (:data:`flask_jwtx._core.config.schema.SETTINGS`): its default, its
section, the kinds of value it accepts and what it means. What ``init_app``
refuses is found by *asking the validation*: each key is resolved with a
handful of wrong values (:data:`PROBES`, and the declaration's own) and every
:class:`~flask_jwtx.exceptions.ConfigurationError` (and every warning) is
quoted as it is raised. A probe that makes ``init_app`` raise anything else
is a build warning (an error with ``-W``) and fails ``tests/test_docs_config.py``.

Used from ``docs/configuration.md`` as the ``jwtx-settings`` directive; it
also registers the ``confval`` object type, so any page can link a setting
with ``{confval}`JWT_COOKIE_SAMESITE```.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_jwtx._core.config.resources import Resources
from flask_jwtx._core.config.schema import SECTIONS, SETTINGS, Setting
from flask_jwtx._core.config.schema.setting import KEY_SET_LOADER
from flask_jwtx._core.config.settings import resolve
from flask_jwtx.exceptions import ConfigurationError

#: Wrong values every key is tried with. Only refusals are shown, so a value a
#: key accepts (``0`` for a lifetime) simply does not appear.
PROBES: tuple[Any, ...] = (True, -1, 0, 1.5, "", "nonsense", ["nonsense"], {"nonsense": 1})


@dataclass
class Refusal:
    """Probe values that got the same answer from ``resolve``."""

    values: list[Any]
    message: str
    #: "refused" (ConfigurationError), "warned", or "crashed" (any other
    #: exception: a bug, which the build and tests/test_docs_config.py report).
    kind: str


@dataclass
class Entry:
    setting: Setting
    refusals: list[Refusal]

    @property
    def key(self) -> str:
        return self.setting.name


def _context(setting: Setting) -> tuple[dict[str, Any], Callable[[], Any] | None]:
    config: dict[str, Any] = {}
    loader = None
    for name, value in setting.context.items():
        if name == KEY_SET_LOADER:
            loader = value
        else:
            config[name] = value() if callable(value) else value
    return config, loader


def _probe(setting: Setting, value: Any) -> tuple[str, str] | None:
    """What ``resolve`` says about ``key = value``: (message, kind), or None if fine."""
    key = setting.name
    config, loader = _context(setting)
    config.setdefault("JWT_SECRET_KEY", "s" * 64)
    config[key] = value
    resources = Resources()
    logging.disable(logging.WARNING)  # "no key set yet" notes are not refusals
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            resolve(config, key_set_loader=loader, resources=resources)
    except ConfigurationError as exc:
        return str(exc), "refused"
    except Exception as exc:  # reported, never hidden: see Refusal.kind
        return f"{type(exc).__name__}: {exc}", "crashed"
    finally:
        logging.disable(logging.NOTSET)
        resources.close()
    for warning in caught:
        if key in str(warning.message):
            return str(warning.message), "warned"
    return None


@functools.cache
def entries() -> tuple[Entry, ...]:
    """Every declared key, in the table's order, with what is refused.

    Computed once per process (each key is resolved about ten times).
    """
    return tuple(_entries())


def _entries() -> Iterator[Entry]:
    for setting in SETTINGS.values():
        refusals: dict[str, Refusal] = {}
        for value in (*setting.probes, *PROBES):
            answer = _probe(setting, value)
            if answer is None:
                continue
            message, kind = answer
            # One entry per answer, whichever value was probed: the value
            # appears in messages as its repr, its text or its type's name.
            shape = message.replace(repr(value), "\0")
            if len(str(value)) > 1:
                shape = shape.replace(str(value), "\0")
            shape = shape.replace(f"is {type(value).__name__}:", "is \0:")
            if shape in refusals:
                refusals[shape].values.append(value)
            else:
                refusals[shape] = Refusal([value], message, kind)
        yield Entry(setting, list(refusals.values()))


def show_value(value: Any) -> str:
    """A default as a Python expression a reader would write."""
    if isinstance(value, timedelta):
        if value.days and not value.seconds:
            return f"timedelta(days={value.days})"
        return f"timedelta(minutes={int(value.total_seconds() // 60)})"
    if isinstance(value, tuple):
        return repr(list(value))
    return repr(value)


def _code(text: str) -> str:
    ticks = "``" if "`" in text else "`"
    space = " " if ticks == "``" else ""
    return f"{ticks}{space}{text}{space}{ticks}"


def markdown(section: str | None = None) -> str:
    """The reference (or one section of it) as MyST markdown."""
    out: list[str] = []
    for entry in entries():
        setting = entry.setting
        if section is not None and setting.section != section:
            continue
        out.append(f"````{{confval}} {setting.name}")
        origin = " (flask-jwtx only)" if setting.own else ""
        out.append(
            f"**Default** {_code(show_value(setting.default))}{origin}. "
            f"**Accepts** {setting.accepts}."
        )
        out.append("")
        out.append(setting.meaning)
        refused = [r for r in entry.refusals if r.kind != "warned"]
        warned = [r for r in entry.refusals if r.kind == "warned"]
        if refused:
            out.append("")
            out.append("Refused by `init_app` with `ConfigurationError`:")
            out.append("")
            out.extend(
                f"- {', '.join(_code(repr(v)) for v in r.values)}: *{_escape(r.message)}*"
                for r in refused
            )
        if warned:
            out.append("")
            out.append("Accepted with a warning:")
            out.append("")
            out.extend(
                f"- {', '.join(_code(repr(v)) for v in r.values)}: *{_escape(r.message)}*"
                for r in warned
            )
        out.append("````")
        out.append("")
    return "\n".join(out)


def _escape(text: str) -> str:
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return text


def crashes(section: str | None = None) -> list[str]:
    """Probes that raised something other than ``ConfigurationError`` (bugs)."""
    return [
        f"{entry.key} = {value!r}: {refusal.message}"
        for entry in entries()
        if section is None or entry.setting.section == section
        for refusal in entry.refusals
        if refusal.kind == "crashed"
        for value in refusal.values
    ]


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point: the ``confval`` type and the ``jwtx-settings`` directive."""
    from docutils import nodes
    from docutils.parsers.rst import directives
    from sphinx.util.docutils import SphinxDirective

    class SettingsDirective(SphinxDirective):
        """``{jwtx-settings} SECTION``: the generated entries of one section."""

        required_arguments = 1
        option_spec = {"": directives.unchanged}  # noqa: RUF012 - docutils' own protocol

        def run(self) -> list[nodes.Node]:
            section = self.arguments[0]
            if section not in SECTIONS:
                raise self.error(f"unknown section {section!r}; use one of {list(SECTIONS)}")
            for crash in crashes(section):
                self.state.document.reporter.warning(
                    f"init_app crashes instead of refusing {crash}"
                )
            text = markdown(section)
            container = nodes.container()
            self.state.nested_parse(
                self.content.__class__(text.splitlines(), source="jwtx_settings"),
                self.content_offset,
                container,
            )
            return list(container.children)

    app.add_object_type(
        "confval",
        "confval",
        objname="configuration value",
        indextemplate="pair: %s; configuration value",
    )
    app.add_directive("jwtx-settings", SettingsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
