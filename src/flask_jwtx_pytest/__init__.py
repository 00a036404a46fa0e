"""flask-jwtx's pytest plugin: a ``jwtx`` fixture, and nothing else.

Registered through the ``pytest11`` entry point (named ``flask_jwtx``, so
``-p no:flask_jwtx`` switches it off), so every pytest run in an environment
where flask-jwtx is installed loads this module. It must therefore cost
nothing and change nothing for projects that never ask for it: it defines one
fixture, no hooks, options or markers, and imports neither Flask nor
flask-jwtx until a test requests the fixture.

That is why it is a package of its own rather than ``flask_jwtx.pytest_plugin``:
importing any ``flask_jwtx.*`` module runs ``flask_jwtx/__init__.py``, which
loads Flask, PyJWT and cryptography (about a quarter of a second), and does
so before pytest-cov starts measuring, so the module-level lines of
everything it imported would count as never run.

The fixture finds the app under test through a fixture named ``app`` (the
convention pytest-flask also follows), which the project defines::

    @pytest.fixture
    def app():
        return create_app(testing=True)

    def test_me(app, jwtx):
        client = app.test_client()
        response = client.get("/me", headers=jwtx.auth_headers("alice"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # loaded lazily at run time (see the module docstring)
    from flask_jwtx.testing import JWTTestKit


@pytest.fixture
def jwtx(request: pytest.FixtureRequest) -> JWTTestKit:
    """Token, header and cookie helpers for the app of the ``app`` fixture.

    See :class:`flask_jwtx.testing.JWTTestKit`.
    """
    try:
        app = request.getfixturevalue("app")
    except pytest.FixtureLookupError:
        pytest.fail(
            "The jwtx fixture needs a fixture named 'app' that returns your Flask app "
            "(with a JWTManager initialised on it): define one in conftest.py",
            pytrace=False,
        )
    # Imported here, when a test asks for the fixture: the plugin stays free.
    from flask_jwtx._core.web.state import EXTENSION_KEY
    from flask_jwtx.testing import JWTTestKit

    if EXTENSION_KEY not in getattr(app, "extensions", {}):
        pytest.fail(
            f"The jwtx fixture found {app!r} in the 'app' fixture, which is not a Flask app "
            "with a JWTManager initialised on it: call JWTManager(app) or jwt.init_app(app)",
            pytrace=False,
        )
    return JWTTestKit(app)
