"""Settings: Flask-JWT-Extended's defaults, validation at init_app, live config changes."""

from __future__ import annotations

import importlib
import warnings
from datetime import timedelta
from typing import Any

import flask_jwt_extended
import jwt
import pytest
from flask import Flask, jsonify
from jwt.warnings import InsecureKeyLengthWarning

import flask_jwtx
from flask_jwtx._core.config import schema
from flask_jwtx._core.config.schema import DEFAULTS, SECTIONS, SETTINGS, Setting
from flask_jwtx.exceptions import ConfigurationError

from .helpers import SECRET, bearer, make_app, read_key


def fresh_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True)
    app.config.update(config)
    return app


def test_defaults_are_flask_jwt_extendeds() -> None:
    """Every key Flask-JWT-Extended writes into app.config gets the same default from us."""
    ours, theirs = fresh_app(JWT_SECRET_KEY=SECRET), fresh_app(JWT_SECRET_KEY=SECRET)
    flask_jwtx.JWTManager(ours)
    flask_jwt_extended.JWTManager(theirs)
    fje_keys = {k for k in theirs.config if k.startswith("JWT_")}
    assert fje_keys <= set(DEFAULTS)
    for key in fje_keys:
        assert ours.config[key] == theirs.config[key], key


def test_defaults_are_the_declared_defaults() -> None:
    """DEFAULTS holds each declared key's default, in the table's order, and nothing else."""
    assert list(DEFAULTS) == list(SETTINGS)
    assert {name: setting.default for name, setting in SETTINGS.items()} == DEFAULTS
    assert all(name == setting.name for name, setting in SETTINGS.items())


@pytest.mark.parametrize("setting", SETTINGS.values(), ids=list(SETTINGS))
def test_every_key_is_declared_with_a_section_and_a_meaning(setting: Setting) -> None:
    """Each declaration says where the reference lists the key, what it accepts, what it does."""
    assert setting.name.startswith("JWT_")
    assert setting.section in SECTIONS
    assert setting.accepts.strip()
    assert setting.meaning.strip()
    assert setting.name in DEFAULTS


@pytest.mark.parametrize("setting", SETTINGS.values(), ids=list(SETTINGS))
def test_every_key_has_a_reader_or_names_the_function_that_checks_it(setting: Setting) -> None:
    """A key without a reader of its own names its group: a function of the config package."""
    assert (setting.reader is None) != (setting.group is None)
    if setting.group is not None:
        module, function = setting.group.split(".")
        assert callable(
            getattr(importlib.import_module(f"flask_jwtx._core.config.{module}"), function)
        )


def test_a_key_declared_twice_is_refused() -> None:
    """Two declarations of one key would leave one of them silently unused."""
    twice = Setting("JWT_X", 1, section="claims", reader=None, accepts="a", meaning="b")
    with pytest.raises(ValueError, match="JWT_X is declared twice"):
        schema._table((twice,), (twice,))


def test_a_key_without_a_reader_is_not_read_alone() -> None:
    """read() of a group-checked key is a programming error, not a silent unchecked value."""
    with pytest.raises(TypeError, match=r"keys\._keys checks it"):
        schema.read({}, "JWT_SECRET_KEY")
    assert schema.configured({}, "JWT_SECRET_KEY") is None
    assert schema.configured({"JWT_SECRET_KEY": "x"}, "JWT_SECRET_KEY") == "x"


def test_defaults_are_not_shared_between_apps() -> None:
    one, two = make_app(), make_app()
    one.config["JWT_CSRF_METHODS"].append("GET")
    assert two.config["JWT_CSRF_METHODS"] == ["POST", "PUT", "PATCH", "DELETE"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"JWT_TOKEN_LOCATION": ["headers", "body"]}, "JWT_TOKEN_LOCATION contains 'body'"),
        ({"JWT_TOKEN_LOCATION": []}, "JWT_TOKEN_LOCATION is empty"),
        ({"JWT_TOKEN_LOCATION": 5}, "JWT_TOKEN_LOCATION is 5"),
        ({"JWT_ALGORITHM": "none"}, "JWT_ALGORITHM is 'none'"),
        ({"JWT_ALGORITHM": "HS999"}, "not a supported signing algorithm"),
        ({"JWT_DECODE_ALGORITHMS": ["HS256", "none"]}, "JWT_DECODE_ALGORITHMS is 'none'"),
        ({"JWT_ALGORITHM": "ES256", "JWT_PRIVATE_KEY": "k"}, "JWT_PRIVATE_KEY cannot be used"),
        ({"JWT_SECRET_KEY": read_key("rsa_public.pem")}, "JWT_SECRET_KEY cannot be used"),
        ({"JWT_ACCESS_TOKEN_EXPIRES": "15m"}, "JWT_ACCESS_TOKEN_EXPIRES is '15m'"),
        ({"JWT_REFRESH_TOKEN_EXPIRES": True}, "JWT_REFRESH_TOKEN_EXPIRES is True"),
        ({"JWT_DECODE_LEEWAY": -1}, "JWT_DECODE_LEEWAY"),
        ({"JWT_COOKIE_SAMESITE": "sometimes"}, "JWT_COOKIE_SAMESITE"),
        ({"JWT_HEADER_NAME": ""}, "JWT_HEADER_NAME"),
        ({"JWT_MAX_TOKEN_BYTES": 0}, "JWT_MAX_TOKEN_BYTES"),
        ({"JWT_DECODE_ISSUER": ["a"]}, "JWT_DECODE_ISSUER"),
        # Values of the wrong type, not only wrong values (these were TypeErrors).
        ({"JWT_ALGORITHM": ["HS256"]}, "JWT_ALGORITHM is \\['HS256'\\]"),
        (
            {
                "JWT_KEYS": [{"kty": "oct", "k": "c2VjcmV0", "kid": "a", "alg": "HS256"}],
                "JWT_SIGNING_KID": ["a"],
            },
            "JWT_SIGNING_KID is \\['a'\\]",
        ),
    ],
)
def test_bad_configuration_fails_at_init_app_naming_the_key(
    config: dict[str, Any], message: str
) -> None:
    app = fresh_app(JWT_SECRET_KEY=SECRET)
    app.config.update(config)
    with pytest.raises(ConfigurationError, match=message) as info:
        flask_jwtx.JWTManager(app)
    assert isinstance(info.value, RuntimeError), "Flask-JWT-Extended raised RuntimeError"


@pytest.mark.parametrize(
    ("config", "holds", "needs"),
    [
        (
            {"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": "not a key"},
            "JWT_PRIVATE_KEY cannot be used with RS256: it holds no PEM-encoded key",
            "RS256 signs with an RSA private key",
        ),
        (
            {"JWT_ALGORITHM": "RS256", "JWT_PUBLIC_KEY": "not a key"},
            "JWT_PUBLIC_KEY cannot be used with RS256: it holds no PEM-encoded key",
            "RS256 verifies with an RSA public key",
        ),
        (
            {"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": read_key("rsa_public.pem")},
            "JWT_PRIVATE_KEY cannot be used with RS256: it holds an RSA public key",
            "RS256 signs with an RSA private key",
        ),
        (
            {"JWT_ALGORITHM": "RS256", "JWT_PUBLIC_KEY": read_key("rsa_private.pem")},
            "JWT_PUBLIC_KEY cannot be used with RS256: it holds an RSA private key",
            "its public half only (openssl pkey -pubout)",
        ),
        (
            {"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": read_key("ec256_private.pem")},
            "it holds an EC P-256 private key",
            "RS256 signs with an RSA private key",
        ),
        (
            {"JWT_ALGORITHM": "ES384", "JWT_PRIVATE_KEY": read_key("ec256_private.pem")},
            "it holds an EC P-256 private key",
            "ES384 signs with an EC P-384 private key",
        ),
        (
            {"JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY": read_key("rsa_private.pem")},
            "it holds an RSA private key",
            "EdDSA signs with an Ed25519 or Ed448 private key",
        ),
    ],
    ids=[
        "garbage-private",
        "garbage-public",
        "public-as-private",
        "private-as-public",
        "ec-for-rsa",
        "wrong-curve",
        "rsa-for-eddsa",
    ],
)
def test_an_unusable_key_is_described_as_what_it_holds(
    config: dict[str, Any], holds: str, needs: str
) -> None:
    """Never "could not parse the provided public key" for a private key, nor a crash later."""
    with pytest.raises(ConfigurationError) as info:
        flask_jwtx.JWTManager(fresh_app(**config))
    message = str(info.value)
    assert holds in message
    assert needs in message
    assert "provided public key" not in message
    assert "generator object" not in message


def test_key_descriptions_cover_every_kind_of_key_text_and_object() -> None:
    """What the messages above are built from, for the kinds they do not show."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519

    from flask_jwtx._core.jose.keys import describe_key

    edwards = ed448.Ed448PrivateKey.generate()
    encrypted = edwards.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    assert describe_key(read_key("ed25519_public.pem")) == "an Ed25519 public key"
    assert describe_key(ed25519.Ed25519PrivateKey.generate()) == "an Ed25519 private key"
    assert describe_key(edwards.public_key()) == "an Ed448 public key"
    assert describe_key(read_key("ec384_public.pem").encode()) == "an EC P-384 public key"
    assert describe_key(encrypted) == "an encrypted private key"
    garbage = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    assert describe_key(garbage) == "a PEM block that is not a key cryptography can read"
    assert describe_key(42) == "an object of type int"


class TestKeysMayArriveAfterInitApp:
    """A missing key is an error when something needs it, not at ``init_app``.

    Real apps create ``JWTManager(app)`` at import time and fill the config
    later (from the environment, per test), and verify-only services have no
    private key. A key that is set but unusable still fails at start-up.
    """

    def test_missing_secret_error_says_how_to_fix_it_when_a_token_is_made(self) -> None:
        app = fresh_app()
        flask_jwtx.JWTManager(app)  # no error: the secret may come later
        with app.app_context(), pytest.raises(ConfigurationError) as info:
            flask_jwtx.create_access_token("alice")
        text = str(info.value)
        assert "JWT_SECRET_KEY must be set to sign tokens with the HS256 algorithm" in text
        assert "Set JWT_SECRET_KEY (or Flask's SECRET_KEY)" in text
        assert "at least 32 bytes" in text
        assert isinstance(info.value, RuntimeError), "Flask-JWT-Extended raised RuntimeError"

    def test_init_app_logs_that_no_key_is_set_yet(self, caplog: pytest.LogCaptureFixture) -> None:
        flask_jwtx.JWTManager(fresh_app())
        assert "No key is set yet for HS256" in caplog.text

    @pytest.mark.parametrize(
        ("config", "fix"),
        [
            ({}, "Set JWT_SECRET_KEY (or Flask's SECRET_KEY) to a random string"),
            ({"JWT_ALGORITHM": "RS256"}, "Set JWT_PRIVATE_KEY to a PEM-encoded key"),
            (
                {"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": read_key("rsa_private.pem")},
                None,
            ),
        ],
        ids=["hs256", "rs256", "rs256-private-key-only"],
    )
    def test_the_start_up_line_gives_its_advice_once(
        self, caplog: pytest.LogCaptureFixture, config: dict[str, Any], fix: str | None
    ) -> None:
        """One line, one fix, one list of other ways: never the same advice twice."""
        with caplog.at_level("WARNING", logger="flask_jwtx"):
            flask_jwtx.JWTManager(fresh_app(**config))
        lines = [r.getMessage() for r in caplog.records if "No key is set yet" in r.getMessage()]
        if fix is None:  # the private key's public half verifies: nothing is missing
            assert lines == []
            return
        assert len(lines) == 1
        assert "tokens cannot be created or verified until one is" in lines[0]
        assert lines[0].count(fix) == 1
        assert lines[0].count(" Set ") == 1
        assert lines[0].count("register a key loader") == 1

    def test_a_secret_set_after_init_app_is_used(self) -> None:
        app = fresh_app()
        flask_jwtx.JWTManager(app)
        app.config["JWT_SECRET_KEY"] = SECRET
        with app.app_context():
            token = flask_jwtx.create_access_token("alice")
            assert flask_jwtx.decode_token(token)["sub"] == "alice"

    def test_a_request_before_the_key_is_set_is_a_server_error_not_a_client_one(self) -> None:
        app = fresh_app()
        app.testing = False
        flask_jwtx.JWTManager(app)

        @app.get("/p")
        @flask_jwtx.jwt_required()
        def protected() -> str:
            return "ok"

        forged = jwt.encode(
            {"sub": "a"}, "a-guess-that-is-long-enough-for-hs256!", algorithm="HS256"
        )
        response = app.test_client().get("/p", headers=bearer(forged))
        assert response.status_code == 500

    def test_a_verify_only_service_sets_only_the_public_key(self) -> None:
        signer = fresh_app(JWT_ALGORITHM="RS256", JWT_PRIVATE_KEY=read_key("rsa_private.pem"))
        flask_jwtx.JWTManager(signer)
        verifier = fresh_app(JWT_ALGORITHM="RS256", JWT_PUBLIC_KEY=read_key("rsa_public.pem"))
        flask_jwtx.JWTManager(verifier)
        with signer.app_context():
            token = flask_jwtx.create_access_token("alice")
            assert flask_jwtx.decode_token(token)["sub"] == "alice", "public half derived"
        with verifier.app_context():
            assert flask_jwtx.decode_token(token)["sub"] == "alice"
            with pytest.raises(ConfigurationError, match="JWT_PRIVATE_KEY must be set to sign"):
                flask_jwtx.create_access_token("alice")

    def test_a_key_loader_registered_after_init_app_is_used(self) -> None:
        manager = flask_jwtx.JWTManager(fresh_app())
        app = fresh_app()
        manager.init_app(app)
        manager.encode_key_loader(lambda identity: SECRET)
        manager.decode_key_loader(lambda header, claims: SECRET)
        with app.app_context():
            assert flask_jwtx.decode_token(flask_jwtx.create_access_token("a"))["sub"] == "a"


def test_flask_secret_key_is_the_fallback() -> None:
    app = fresh_app(SECRET_KEY=SECRET)
    flask_jwtx.JWTManager(app)
    with app.app_context():
        token = flask_jwtx.create_access_token("alice")
        assert flask_jwtx.decode_token(token)["sub"] == "alice"


def test_a_key_loader_registered_before_init_app_replaces_a_static_key() -> None:
    manager = flask_jwtx.JWTManager()
    manager.encode_key_loader(lambda identity: SECRET)
    manager.decode_key_loader(lambda header, claims: SECRET)
    app = fresh_app()
    manager.init_app(app)
    with app.app_context():
        assert flask_jwtx.decode_token(flask_jwtx.create_access_token("a"))["sub"] == "a"


def test_short_hmac_secret_warns_at_startup() -> None:
    with pytest.warns(flask_jwtx.WeakSecretWarning, match="JWT_SECRET_KEY is too short"):
        flask_jwtx.JWTManager(fresh_app(JWT_SECRET_KEY="short"))


def short_key_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    """The key-length warnings among ``caught`` (ours subclass PyJWT's), as text."""
    return [str(w.message) for w in caught if issubclass(w.category, InsecureKeyLengthWarning)]


def test_the_filters_written_for_pyjwts_warning_cover_ours() -> None:
    """Apps silence Flask-JWT-Extended's warning by its text (``-W "ignore:The HMAC key is"``)."""
    with warnings.catch_warnings(record=True) as by_text:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message="The HMAC key is")
        flask_jwtx.JWTManager(fresh_app(JWT_SECRET_KEY="short"))
    assert short_key_warnings(by_text) == []
    with warnings.catch_warnings(record=True) as by_class:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)
        flask_jwtx.JWTManager(fresh_app(JWT_SECRET_KEY="short"))
    assert short_key_warnings(by_class) == []


def test_long_enough_secret_does_not_warn() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flask_jwtx.JWTManager(fresh_app(JWT_SECRET_KEY="x" * 32))
    assert short_key_warnings(caught) == []


def test_one_manager_serves_several_apps_with_their_own_settings() -> None:
    manager = flask_jwtx.JWTManager()
    first = fresh_app(JWT_SECRET_KEY=SECRET, JWT_IDENTITY_CLAIM="one")
    second = fresh_app(JWT_SECRET_KEY=SECRET, JWT_IDENTITY_CLAIM="two")
    manager.init_app(first)
    manager.init_app(second)
    with first.app_context():
        assert "one" in flask_jwtx.decode_token(flask_jwtx.create_access_token("a"))
    with second.app_context():
        assert "two" in flask_jwtx.decode_token(flask_jwtx.create_access_token("a"))


def test_using_the_api_without_init_app_says_so() -> None:
    with (
        Flask(__name__).app_context(),
        pytest.raises(RuntimeError, match="initialize a JWTManager"),
    ):
        flask_jwtx.create_access_token("a")


class TestLiveConfiguration:
    """A change to app.config after init_app is honoured on the next use."""

    def protected_app(self) -> Flask:
        app = make_app()

        @app.get("/")
        @flask_jwtx.jwt_required()
        def index() -> Any:
            return jsonify(flask_jwtx.get_jwt())

        return app

    def test_changed_lifetime(self) -> None:
        app = make_app()
        with app.app_context():
            app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(hours=2)
            claims = flask_jwtx.decode_token(flask_jwtx.create_access_token("a"))
            assert claims["exp"] - claims["iat"] == 7200

    def test_changed_location_list_mutated_in_place(self) -> None:
        app = self.protected_app()
        app.config["JWT_TOKEN_LOCATION"] = ["headers"]
        with app.test_client() as client:
            with app.app_context():
                token = flask_jwtx.create_access_token("a")
            assert client.get(f"/?jwt={token}").status_code == 401
            app.config["JWT_TOKEN_LOCATION"].append("query_string")
            assert client.get(f"/?jwt={token}").status_code == 200

    def test_changed_secret(self) -> None:
        app = make_app()
        with app.app_context():
            token = flask_jwtx.create_access_token("a")
            app.config["JWT_SECRET_KEY"] = "another-secret-another-secret-another!"
            with pytest.raises(flask_jwtx.exceptions.InvalidSignatureError):
                flask_jwtx.decode_token(token)

    def test_a_bad_change_is_reported_clearly(self) -> None:
        app = make_app()
        with app.app_context():
            app.config["JWT_TOKEN_LOCATION"] = ["nowhere"]
            with pytest.raises(ConfigurationError, match="nowhere"):
                flask_jwtx.create_access_token("a")

    def test_a_bad_change_on_a_request_is_a_server_error_not_a_client_one(self) -> None:
        app = self.protected_app()
        app.config["JWT_TOKEN_LOCATION"] = ["nowhere"]
        app.config["TESTING"] = False
        with app.test_client() as client:
            assert client.get("/").status_code == 500
