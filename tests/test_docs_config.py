"""The generated configuration reference covers every setting, and says true things.

``docs/_ext/jwtx_settings.py`` renders docs/configuration.md's reference from
the declarations of ``flask_jwtx._core.config.schema``; these tests pin what it promises.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from docs._ext import jwtx_settings

from flask_jwtx import create_access_token, decode_token
from flask_jwtx._core.config.schema import DEFAULTS, SECTIONS, SETTINGS
from flask_jwtx._core.web.context import IDENTITY_TYPE_CLAIM

from .helpers import make_app

PAGE = jwtx_settings.markdown()


def test_every_key_in_defaults_has_an_entry() -> None:
    documented = re.findall(r"^````\{confval\} (\S+)$", PAGE, flags=re.MULTILINE)
    assert documented == list(DEFAULTS)


def test_each_entry_is_its_declaration() -> None:
    """Default, origin, accepted values and meaning come from the key's one declaration."""
    for key, setting in SETTINGS.items():
        entry = PAGE.split(f"````{{confval}} {key}\n", 1)[1].split("````", 1)[0]
        origin = " (flask-jwtx only)" if setting.own else ""
        shown = jwtx_settings.show_value(setting.default)
        assert f"{shown}`{origin}. **Accepts** {setting.accepts}." in entry, key
        assert f"\n{setting.meaning}\n" in entry, key


def test_every_section_is_on_the_page() -> None:
    text = (Path(jwtx_settings.__file__).parent.parent / "configuration.md").read_text()
    for section in SECTIONS:
        assert f"```{{jwtx-settings}} {section}\n" in text


def test_no_wrong_value_crashes_init_app() -> None:
    """Each probe gets a ConfigurationError or is accepted: never another exception."""
    assert jwtx_settings.crashes() == []


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "JWT_TOKEN_LOCATION",
            "nonsense",
            "Allowed values: headers, cookies, query_string, json.",
        ),
        ("JWT_ALGORITHM", "none", "'none' is never allowed"),
        ("JWT_COOKIE_SAMESITE", "nonsense", "Use 'Lax', 'Strict', 'None' or None."),
        ("JWT_REFRESH_TOKEN_ROTATION", True, "needs a revocation store"),
        ("JWT_REVOCATION_FAILURE_POLICY", "nonsense", "Use one of 'closed', 'open'."),
    ],
)
def test_refusals_quote_the_validation(key: str, value: object, message: str) -> None:
    entry = next(e for e in jwtx_settings.entries() if e.key == key)
    refused = {repr(v): r.message for r in entry.refusals for v in r.values}
    assert message in refused[repr(value)]


def test_accepted_values_are_not_listed_as_refused() -> None:
    entry = next(e for e in jwtx_settings.entries() if e.key == "JWT_ACCESS_TOKEN_EXPIRES")
    refused = [v for r in entry.refusals for v in r.values]
    assert 0 not in refused  # timedelta(0) is a valid (if odd) lifetime
    assert True in refused


def test_weak_secrets_are_shown_as_warnings() -> None:
    entry = next(e for e in jwtx_settings.entries() if e.key == "JWT_SECRET_KEY")
    assert any(r.kind == "warned" and "too-short" in r.values for r in entry.refusals)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (timedelta(minutes=15), "timedelta(minutes=15)"),
        (timedelta(days=30), "timedelta(days=30)"),
        (("headers",), "['headers']"),
        (None, "None"),
    ],
)
def test_defaults_are_shown_as_python(value: object, shown: str) -> None:
    assert jwtx_settings.show_value(value) == shown


def test_defaults_on_the_page_are_the_code_defaults() -> None:
    assert "**Default** `timedelta(minutes=15)`" in PAGE
    assert f"**Default** `{DEFAULTS['JWT_MAX_TOKEN_BYTES']!r}` (flask-jwtx only)" in PAGE


def test_the_private_identity_type_claim_is_documented_as_written() -> None:
    """``jwtx_idt`` is named on the page, with the values create_access_token writes in it."""
    entry = PAGE.split("````{confval} JWT_IDENTITY_AS_STRING", 1)[1].split("````", 1)[0]
    assert f"`{IDENTITY_TYPE_CLAIM}`" in entry
    app = make_app(JWT_IDENTITY_AS_STRING=True)
    with app.app_context():
        for identity, kind in ((42, "int"), (uuid.UUID(int=1), "uuid")):
            assert decode_token(create_access_token(identity))[IDENTITY_TYPE_CLAIM] == kind
            assert f'`"{kind}"`' in entry
