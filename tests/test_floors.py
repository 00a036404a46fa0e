"""The installations Flask-JWT-Extended's users have: no cryptography, an older PyJWT.

An app that signs with a shared secret installs and runs without
``cryptography`` (the ``crypto`` extra brings it); an app
configured for key pairs without it fails at ``init_app``, naming the extra.
``tests/floors_scenarios.py`` runs in a fresh interpreter with ``cryptography``
hidden; ``scripts/test-min.sh`` also runs this module where it is not
installed at all, and on the oldest Flask and PyJWT we support.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from flask_jwtx._core.jose.keys import (
    ASYMMETRIC_ALGORITHMS,
    CRYPTO_INSTALL,
    HAS_CRYPTOGRAPHY,
    HMAC_ALGORITHMS,
    SUPPORTED_ALGORITHMS,
)
from flask_jwtx.exceptions import PYJWT_CHECKS_SUB

from .floors_scenarios import NEEDS_KEY_PAIRS

SCENARIOS = Path(__file__).with_name("floors_scenarios.py")
INSTALL = "pip install 'flask-jwtx[crypto]'"


@pytest.fixture(scope="module")
def without_cryptography() -> dict[str, Any]:
    """The scenarios' outcomes, in an interpreter where cryptography cannot be imported."""
    completed = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, str(SCENARIOS)],
        capture_output=True,
        text=True,
        cwd=SCENARIOS.parent,
        env={**os.environ, "PYTHONPATH": ""},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def test_the_scenarios_ran_without_cryptography(without_cryptography: dict[str, Any]) -> None:
    """PyJWT saw no cryptography there, so no key-pair algorithm was available."""
    assert without_cryptography["cryptography importable"] is False


def test_an_hmac_app_runs_without_cryptography(without_cryptography: dict[str, Any]) -> None:
    """Tokens are minted, verified and refreshed, and a forged signature is refused."""
    first, renewed, forged = without_cryptography["HS256 round trip"]
    assert first == renewed == {"identity": ["tenant", 7]}
    assert forged == 422


@pytest.mark.parametrize("name", sorted(NEEDS_KEY_PAIRS))
def test_key_pairs_without_cryptography_fail_at_init_app_naming_the_extra(
    without_cryptography: dict[str, Any], name: str
) -> None:
    """Each configuration that needs key pairs is a ConfigurationError saying what to install."""
    answer = without_cryptography[f"init_app with {name}"]
    assert answer.startswith("ConfigurationError: JWT_")
    assert "cryptography" in answer
    assert INSTALL in answer
    assert "asymmetric_crypto, works too with pip 23.3+" in answer


def test_keygen_makes_secrets_and_names_the_extra_for_key_pairs(
    without_cryptography: dict[str, Any],
) -> None:
    """``flask jwt keygen`` makes HMAC keys; ``--alg RS256`` is a usage error with the fix."""
    assert without_cryptography["keygen HS256"] == 0
    exit_code, output = without_cryptography["keygen RS256"]
    assert exit_code == 2
    assert INSTALL in output


def test_the_available_algorithms_follow_cryptography() -> None:
    """Every algorithm with cryptography installed; the HMAC ones alone without it."""
    expected = HMAC_ALGORITHMS | ASYMMETRIC_ALGORITHMS if HAS_CRYPTOGRAPHY else HMAC_ALGORITHMS
    assert expected == SUPPORTED_ALGORITHMS


def test_cryptography_is_required_only_by_the_extras() -> None:
    """The installed distribution pulls cryptography in with asymmetric_crypto or crypto only."""
    requirements = [Requirement(text) for text in metadata.requires("flask-jwtx") or []]
    crypto = [r for r in requirements if r.name == "cryptography"]
    assert crypto
    assert not any(r.marker is None or r.marker.evaluate({"extra": ""}) for r in crypto)
    for extra in ("asymmetric-crypto", "crypto"):
        assert any(r.marker is not None and r.marker.evaluate({"extra": extra}) for r in crypto)
    provided = metadata.metadata("flask-jwtx").get_all("Provides-Extra") or []
    assert {"asymmetric-crypto", "crypto"} <= set(provided)


def test_the_extra_the_errors_name_is_spelled_as_the_metadata_spells_it() -> None:
    """pip before 23.3 matches an extra to Provides-Extra verbatim: the hint must work there.

    ``asymmetric_crypto`` is written ``asymmetric-crypto`` in the wheel's
    metadata (PEP 685), so pip 23.2 warned "does not provide the extra" and
    installed no cryptography; ``crypto`` reads the same either way.
    """
    assert CRYPTO_INSTALL == INSTALL
    requested = CRYPTO_INSTALL.split("[", 1)[1].split("]", 1)[0]
    provided = metadata.metadata("flask-jwtx").get_all("Provides-Extra") or []
    assert requested in provided


def test_the_declared_floors_are_flask_jwt_extended_users_floors() -> None:
    """Flask 2.0 and PyJWT 2.8, the versions apps pinned for Flask-JWT-Extended 4.x."""
    floors = {
        r.name.lower(): r.specifier
        for r in (Requirement(text) for text in metadata.requires("flask-jwtx") or [])
        if r.marker is None
    }
    assert floors["flask"].contains("2.0.0")
    assert floors["pyjwt"].contains("2.8.0")
    assert not floors["pyjwt"].contains("2.7.0")
    assert "cryptography" not in floors


def test_sub_and_jti_are_checked_where_the_installed_pyjwt_checks_them() -> None:
    """Flask-JWT-Extended inherits PyJWT's checks: they exist from PyJWT 2.10 on."""
    assert (Version(metadata.version("PyJWT")) >= Version("2.10")) == PYJWT_CHECKS_SUB
