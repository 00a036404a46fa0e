"""What real Flask-JWT-Extended apps do, working unchanged on flask-jwtx.

Each class is one habit found in real projects' code and test suites: the
answer must be Flask-JWT-Extended's (compared with the real package where it can
be), unless ``docs/differences.md`` lists a difference that protects users.
"""

from __future__ import annotations

import decimal
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import flask_jwt_extended
import orjson
import pytest
from dateutil.relativedelta import relativedelta
from flask import Flask, jsonify, render_template_string
from flask.json.provider import JSONProvider

import flask_jwtx
import flask_jwtx._core.revocation.memory
import flask_jwtx._core.web.context
from flask_jwtx import testing
from flask_jwtx.config import config

from .helpers import SECRET, bearer


def app_on(lib: Any, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET, **config)
    lib.JWTManager(app)

    @app.get("/me")
    @lib.jwt_required()
    def me() -> Any:
        return jsonify(identity=lib.get_jwt_identity(), type=lib.get_jwt()["type"])

    return app


def get(app: Flask, token: str, path: str = "/me") -> tuple[int, Any]:
    response = app.test_client().get(path, headers=bearer(token))
    return response.status_code, response.get_json()


BOTH = pytest.mark.parametrize(
    "lib", [flask_jwt_extended, flask_jwtx], ids=["Flask-JWT-Extended", "ours"]
)


class TestIdentitiesTheJSONProviderWritesAsStrings:
    @BOTH
    @pytest.mark.parametrize(
        "identity",
        [
            uuid.UUID("6f1c2a4e-9b7d-4c1e-8f3a-2d5e6b7c8d9e"),
            decimal.Decimal("12.50"),
            date(2026, 1, 2),
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        ],
        ids=["uuid", "decimal", "date", "datetime"],
    )
    def test_accepted_and_given_back_as_the_string(self, lib: Any, identity: Any) -> None:
        app = app_on(lib)
        with app.app_context():
            token = lib.create_access_token(identity=identity)
            expected = app.json.loads(app.json.dumps(identity))
            assert lib.decode_token(token)["sub"] == expected
        assert get(app, token) == (200, {"identity": expected, "type": "access"})

    @BOTH
    def test_identities_whose_json_form_is_not_a_string_are_refused_on_use(self, lib: Any) -> None:
        app = app_on(lib)
        for identity in (42, 4.2, None, True, ["a"], {"id": 1}):
            with app.app_context():
                token = lib.create_access_token(identity=identity)
            assert get(app, token) == (422, {"msg": "Subject must be a string"})


class OrjsonProvider(JSONProvider):
    """The JSON provider apps write for orjson: orjson knows UUIDs and dates, so no ``default``."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


class TestAJSONProviderWithoutDefault:
    @BOTH
    def test_uuid_identities_and_claims_are_written_as_flasks_default_provider_would(
        self, lib: Any
    ) -> None:
        identity, claim = uuid.uuid4(), uuid.UUID(int=7)
        app = app_on(lib)
        app.json = OrjsonProvider(app)
        assert not hasattr(app.json, "default")
        with app.app_context():
            token = lib.create_access_token(identity, additional_claims={"ref": claim})
            assert lib.decode_token(token)["ref"] == str(claim)
        assert get(app, token) == (200, {"identity": str(identity), "type": "access"})

    def test_the_config_json_encoder_falls_back_the_same_way(self) -> None:
        app = app_on(flask_jwtx)
        app.json = OrjsonProvider(app)
        with app.app_context():
            encoder = config.json_encoder()
            written = encoder.encode({"ref": uuid.UUID(int=7)})
        assert orjson.loads(written) == {"ref": str(uuid.UUID(int=7))}


class TestInitAppMoreThanOnce:
    def test_the_last_call_wins_without_duplicate_routes_or_handlers(self) -> None:
        manager = flask_jwtx.JWTManager()
        app = Flask(__name__)
        app.config.update(JWT_SECRET_KEY=SECRET, JWT_JWKS_PATH="/jwks")
        manager.init_app(app, add_context_processor=True)
        app.config["JWT_ERROR_MESSAGE_KEY"] = "error"
        manager.init_app(app, add_context_processor=True)
        flask_jwtx.JWTManager(app)  # a second manager, as test fixtures do
        assert [r.rule for r in app.url_map.iter_rules()].count("/jwks") == 1
        assert (
            app.template_context_processors[None].count(
                flask_jwtx._core.web.context.current_user_context_processor
            )
            == 1
        )

        @app.get("/me")
        @flask_jwtx.jwt_required()
        def me() -> str:
            return render_template_string("ok")

        response = app.test_client().get("/me")
        assert (response.status_code, response.get_json()) == (
            401,
            {"error": "Missing Authorization Header"},
        )

    def test_the_previous_registrations_store_is_closed(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from flask_jwtx._core.revocation.memory import MemoryStore

        closed: list[MemoryStore] = []
        monkeypatch.setattr(MemoryStore, "close", lambda store: closed.append(store))
        app = Flask(__name__)
        app.config.update(JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE="memory://")
        flask_jwtx.JWTManager(app)
        first = app.extensions["flask-jwtx"]
        flask_jwtx.JWTManager(app)
        assert app.extensions["flask-jwtx"] is not first
        assert len(closed) == 1, "the store the first registration built from its URL"

    def test_a_store_wrapping_the_apps_own_object_is_not_closed(self) -> None:
        from flask_jwtx._core.revocation.memory import MemoryStore

        class OwnStore(MemoryStore):
            closed = 0

            def close(self) -> None:
                OwnStore.closed += 1

        app = Flask(__name__)
        app.config.update(JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE=OwnStore())
        manager = flask_jwtx.JWTManager(app)
        flask_jwtx.JWTManager(app)
        manager.close(app)
        assert OwnStore.closed == 0, "its lifetime is the app's"


class TestTokensOfOtherTypes:
    @BOTH
    def test_decode_token_returns_an_apps_own_token_kinds(self, lib: Any) -> None:
        app = app_on(lib)
        with app.app_context():
            token = lib.create_access_token(
                "alice", additional_claims={"type": "email_confirmation"}
            )
            assert lib.decode_token(token)["type"] == "email_confirmation"

    def test_jwt_required_still_refuses_them(self) -> None:
        """A deliberate difference: Flask-JWT-Extended lets any non-refresh type through."""
        app = app_on(flask_jwtx)
        token = testing.access_token(app, "a", claims={"type": "reset"})
        assert get(app, token) == (422, {"msg": "Only non-refresh tokens are allowed"})


class TestRelativedeltaLifetimes:
    @BOTH
    def test_per_token_expires_delta(self, lib: Any) -> None:
        app = app_on(lib)
        with app.app_context():
            token = lib.create_access_token("a", expires_delta=relativedelta(days=2))
            claims = lib.decode_token(token)
        assert claims["exp"] - claims["iat"] == 2 * 86400

    @BOTH
    def test_configured_lifetimes(self, lib: Any) -> None:
        app = app_on(
            lib,
            JWT_ACCESS_TOKEN_EXPIRES=relativedelta(hours=3),
            JWT_REFRESH_TOKEN_EXPIRES=relativedelta(weeks=1),
        )
        with app.app_context():
            access = lib.decode_token(lib.create_access_token("a"))
            refresh = lib.decode_token(lib.create_refresh_token("a"))
        assert access["exp"] - access["iat"] == 3 * 3600
        assert refresh["exp"] - refresh["iat"] == 7 * 86400

    def test_a_lifetime_of_another_type_is_a_clear_error(self) -> None:
        app = app_on(flask_jwtx)
        with app.app_context(), pytest.raises(TypeError, match="expires_delta must be"):
            flask_jwtx.create_access_token("a", expires_delta="2 days")  # type: ignore[arg-type]


def test_a_timedelta_still_works() -> None:
    app = app_on(flask_jwtx)
    with app.app_context():
        claims = flask_jwtx.decode_token(
            flask_jwtx.create_access_token("a", expires_delta=timedelta(minutes=5))
        )
    assert claims["exp"] - claims["iat"] == 300


class TestWhatAppsReachForInsideTheManager:
    def test_the_manager_is_where_flask_jwt_extended_kept_it(self) -> None:
        app = Flask(__name__)
        app.config.update(JWT_SECRET_KEY=SECRET)
        manager = flask_jwtx.JWTManager(app)
        assert app.extensions["flask-jwt-extended"] is manager
        registered = app.extensions["flask-jwt-extended"].decode_key_loader(lambda h, c: SECRET)
        assert callable(registered)

    @BOTH
    def test_private_encode_and_decode_from_config(self, lib: Any) -> None:
        app = app_on(lib)
        manager = app.extensions["flask-jwt-extended"]
        with app.app_context():
            token = manager._encode_jwt_from_config("alice", "refresh", claims={"x": 1})
            claims = manager._decode_jwt_from_config(token)
        assert (claims["sub"], claims["type"], claims["x"]) == ("alice", "refresh", 1)

    def test_set_error_handler_callbacks_on_an_api_keeps_working(self) -> None:
        """Flask-JWT-Extended's workaround for its #86 (with Flask-RESTX 1.3 it answers 500)."""
        import flask_restx

        lib = flask_jwtx

        app = Flask(__name__)
        app.config.update(JWT_SECRET_KEY=SECRET)
        manager = lib.JWTManager(app)
        api = flask_restx.Api(app)
        manager._set_error_handler_callbacks(api)  # Flask-JWT-Extended's #86 workaround

        @api.route("/items")
        class Items(flask_restx.Resource):  # type: ignore[misc]
            @lib.jwt_required()
            def get(self) -> Any:
                return {"ok": True}

        response = app.test_client().get("/items")
        assert response.status_code == 401
        assert response.get_json()["msg"] == "Missing Authorization Header"

    def test_default_options_are_written_once(self) -> None:
        app = Flask(__name__)
        app.config["JWT_HEADER_TYPE"] = "JWT"
        flask_jwtx.JWTManager._set_default_configuration_options(app)
        assert app.config["JWT_HEADER_TYPE"] == "JWT"
        assert app.config["JWT_ACCESS_TOKEN_EXPIRES"] == timedelta(minutes=15)


def test_a_filter_for_pyjwts_short_key_warning_covers_ours() -> None:
    """Suites run with warnings as errors ignore PyJWT's class for short test secrets."""
    import warnings

    from jwt.warnings import InsecureKeyLengthWarning

    def short_secret_app() -> Flask:
        app = Flask(__name__)
        app.config.update(JWT_SECRET_KEY="short-test-secret")
        return app

    with pytest.warns(InsecureKeyLengthWarning):
        flask_jwtx.JWTManager(short_secret_app())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)
        flask_jwtx.JWTManager(short_secret_app())
    assert [w for w in caught if issubclass(w.category, InsecureKeyLengthWarning)] == []


class TestTheDefaultCallbacksAreTheManagers:
    """Apps tell whether a default was replaced by identity, and call key defaults directly."""

    def test_a_new_manager_holds_the_default_callbacks_themselves(self) -> None:
        from flask_jwtx import default_callbacks as defaults

        manager = flask_jwtx.JWTManager()
        assert manager._expired_token_callback is defaults.default_expired_token_callback
        assert manager._invalid_token_callback is defaults.default_invalid_token_callback
        assert manager._unauthorized_callback is defaults.default_unauthorized_callback
        assert manager._decode_key_callback is defaults.default_decode_key_callback
        assert manager._encode_key_callback is defaults.default_encode_key_callback

    @BOTH
    def test_the_key_defaults_return_the_configured_key(self, lib: Any) -> None:
        app = app_on(lib)
        manager = app.extensions["flask-jwt-extended"]
        with app.test_request_context():
            assert manager._decode_key_callback({}, {}) == SECRET
            assert manager._encode_key_callback("alice") == SECRET
        manager.encode_key_loader(lambda identity: "x" * 40)
        assert manager._encode_key_callback("alice") == "x" * 40
