"""``flask jwt ...``, through click's runner: what each command does and says.

The real-process runs (``flask --app ... jwt ...`` against Redis, SQLite and
a served JWKS) are in ``tests/test_cli_processes.py``.
"""

from __future__ import annotations

import json
import os
import stat
import warnings
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask, jsonify
from flask.cli import ScriptInfo

import flask_jwtx
from flask_jwtx import create_access_token, jwt_required
from flask_jwtx._core.jose import jws
from flask_jwtx._core.jose.keys import prepare_key
from flask_jwtx._core.jose.keyset import PRIVATE_MEMBERS, Key, KeySet, thumbprint
from flask_jwtx.cli import jwt_cli
from flask_jwtx.exceptions import ConfigurationError
from flask_jwtx.testing import serve

from .helpers import SECRET, bearer, read_key
from .stores import RedisServer

ALL_ALGORITHMS = [
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "PS384",
    "ES256",
    "ES256K",
    "ES384",
    "ES512",
    "EdDSA",
]


def build_app(**config: Any) -> Flask:
    """An app with a protected route, to compare ``decode`` with what a request gets."""
    app = Flask("cli-test")
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET)
    app.config.update(config)
    flask_jwtx.JWTManager(app)

    @app.get("/protected")
    @jwt_required()
    def protected() -> Any:
        return jsonify(ok=True)

    return app


def run(app: Flask | None, *args: str, stdin: str | None = None) -> Result:
    """``flask jwt ARGS`` for ``app`` (loaded the way ``flask --app`` does: ScriptInfo)."""
    runner = CliRunner()
    obj = ScriptInfo(create_app=lambda: app) if app is not None else None
    return runner.invoke(jwt_cli, list(args), obj=obj, input=stdin, catch_exceptions=False)


def request_status(app: Flask, token: str) -> tuple[int, Any]:
    with app.test_client() as client:
        response = client.get("/protected", headers=bearer(token))
        return response.status_code, response.get_json()


def mint(app: Flask, identity: str = "alice", **kwargs: Any) -> str:
    with app.app_context():
        return create_access_token(identity, **kwargs)


# --- keygen ---------------------------------------------------------------------


class TestKeygen:
    def test_needs_no_app_and_prints_a_secret_an_hs512_app_accepts_without_warning(
        self,
    ) -> None:
        result = run(None, "keygen")
        assert result.exit_code == 0
        secret = result.stdout.strip()
        assert len(secret) >= 64
        app = build_app(JWT_SECRET_KEY=secret, JWT_ALGORITHM="HS512")  # warnings are errors
        assert request_status(app, mint(app))[0] == 200

    def test_two_secrets_differ(self) -> None:
        assert run(None, "keygen").stdout != run(None, "keygen").stdout

    @pytest.mark.parametrize("algorithm", ALL_ALGORITHMS)
    def test_a_private_jwk_for_every_algorithm_loads_and_its_kid_is_the_thumbprint(
        self, algorithm: str
    ) -> None:
        result = run(None, "keygen", "--alg", algorithm, "--format", "jwk", "--bits", "2048")
        assert result.exit_code == 0, result.output
        jwk = json.loads(result.stdout)
        assert jwk["alg"] == algorithm
        assert jwk["use"] == "sig"
        assert "key_ops" not in jwk
        key = Key.from_jwk(jwk)
        assert key.can_sign
        public = {k: v for k, v in jwk.items() if k not in PRIVATE_MEMBERS - {"k"}}
        assert jwk["kid"] == thumbprint(public)
        app = build_app(JWT_KEYS=KeySet([key]))
        assert request_status(app, mint(app))[0] == 200

    def test_eddsa_on_ed448(self) -> None:
        result = run(None, "keygen", "--alg", "EdDSA", "--curve", "Ed448", "--format", "jwk")
        assert json.loads(result.stdout)["crv"] == "Ed448"

    def test_rsa_bits(self) -> None:
        result = run(None, "keygen", "--alg", "RS256", "--bits", "2048", "--json")
        pem = json.loads(result.stdout)["key"]
        key = Key.from_pem(algorithm="RS256", private_key=pem)
        assert key.verifying.key.key_size == 2048

    def test_pem_files_private_0600_public_0644_and_the_app_signs_with_the_printed_kid(
        self, tmp_path: Path
    ) -> None:
        private, public = tmp_path / "key.pem", tmp_path / "key.pub"
        result = run(
            None, "keygen", "--alg", "ES256", "-o", str(private), "--public-out", str(public),
            "--json",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert "key" not in summary  # written to the file, not printed
        assert "PRIVATE KEY" not in result.output
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
        assert stat.S_IMODE(public.stat().st_mode) == 0o644
        app = build_app(
            JWT_ALGORITHM="ES256",
            JWT_PRIVATE_KEY=private.read_text(),
            JWT_PUBLIC_KEY=public.read_text(),
        )
        token = mint(app)
        assert flask_jwtx.get_unverified_jwt_headers.__module__  # imported for the app context
        with app.app_context():
            assert flask_jwtx.get_unverified_jwt_headers(token)["kid"] == summary["kid"]
        assert request_status(app, token)[0] == 200

    def test_an_existing_file_is_kept_unless_forced(self, tmp_path: Path) -> None:
        target = tmp_path / "secret.txt"
        target.write_text("precious")
        result = run(None, "keygen", "-o", str(target))
        assert result.exit_code == 1
        assert "exists; pass --force" in result.output
        assert target.read_text() == "precious"
        assert run(None, "keygen", "-o", str(target), "--force").exit_code == 0
        assert target.read_text() != "precious"
        assert stat.S_IMODE(target.stat().st_mode) == 0o600

    def test_an_unwritable_folder_is_an_error_not_a_trace(self, tmp_path: Path) -> None:
        result = run(None, "keygen", "-o", str(tmp_path / "missing" / "key"))
        assert result.exit_code == 1
        assert "Cannot write" in result.output

    def test_a_failed_write_leaves_nothing_behind(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def refuse(*args: Any) -> None:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(os, "replace", refuse)  # the last step of every write
        result = run(None, "keygen", "-o", str(tmp_path / "key"))
        assert result.exit_code == 1
        assert "Cannot write" in result.output
        assert "Permission denied" in result.output
        assert list(tmp_path.iterdir()) == []

    def test_add_to_creates_then_appends_a_key_set_the_app_loads(self, tmp_path: Path) -> None:
        keys = tmp_path / "keys.json"
        first = json.loads(
            run(None, "keygen", "--alg", "ES256", "--add-to", str(keys), "--json").stdout
        )
        second = json.loads(
            run(None, "keygen", "--alg", "ES256", "--add-to", str(keys), "--json").stdout
        )  # fmt: skip
        assert stat.S_IMODE(keys.stat().st_mode) == 0o600
        key_set = KeySet.from_file(keys)
        assert [k.kid for k in key_set] == [first["kid"], second["kid"]]
        # Appended: published and verifying, but the old key still signs.
        assert second["signing_kid"] == first["kid"] == key_set.signing_kid

    def test_rotation_with_first_keeps_old_tokens_valid(self, tmp_path: Path) -> None:
        keys = tmp_path / "keys.json"
        run(None, "keygen", "--alg", "RS256", "--bits", "2048", "--add-to", str(keys))
        app = build_app(JWT_KEYS=KeySet.from_file(keys))
        old_token = mint(app)
        result = run(None, "keygen", "--alg", "ES256", "--add-to", str(keys), "--first", "--json")
        new_kid = json.loads(result.stdout)["kid"]
        app.config["JWT_KEYS"] = KeySet.from_file(keys)
        new_token = mint(app)
        with app.app_context():
            assert flask_jwtx.get_unverified_jwt_headers(new_token)["kid"] == new_kid
        assert request_status(app, old_token)[0] == 200
        assert request_status(app, new_token)[0] == 200

    def test_add_to_with_a_given_kid_and_public_jwks_of_the_whole_set(
        self, tmp_path: Path
    ) -> None:
        keys, public = tmp_path / "keys.json", tmp_path / "jwks.json"
        run(None, "keygen", "--alg", "ES256", "--add-to", str(keys), "--kid", "2026-11")
        result = run(
            None, "keygen", "--alg", "HS256", "--add-to", str(keys), "--kid", "shared",
            "--public-out", str(public),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        published = json.loads(public.read_text())
        # The HMAC key signs nothing here and is never published; no private member leaks.
        assert [k["kid"] for k in published["keys"]] == ["2026-11"]
        assert not PRIVATE_MEMBERS & set(published["keys"][0])
        assert stat.S_IMODE(public.stat().st_mode) == 0o644

    def test_add_to_refuses_a_kid_already_there_and_leaves_the_file_alone(
        self, tmp_path: Path
    ) -> None:
        keys = tmp_path / "keys.json"
        run(None, "keygen", "--alg", "ES256", "--add-to", str(keys), "--kid", "a")
        before = keys.read_text()
        result = run(None, "keygen", "--alg", "ES256", "--add-to", str(keys), "--kid", "a")
        assert result.exit_code == 1
        assert "already has a key with kid 'a'" in result.output
        assert keys.read_text() == before

    def test_add_to_refuses_a_file_the_app_could_not_load(self, tmp_path: Path) -> None:
        keys = tmp_path / "keys.json"
        keys.write_text('{"keys": [{"kty": "RSA", "alg": "RS256", "n": "AQAB", "e": "AQAB"}]}')
        before = keys.read_text()
        result = run(None, "keygen", "--alg", "ES256", "--add-to", str(keys))
        assert result.exit_code == 1
        assert "is not a key set this app could load" in result.output
        assert keys.read_text() == before

    def test_add_to_warns_about_a_world_readable_file_and_tightens_it(
        self, tmp_path: Path
    ) -> None:
        keys = tmp_path / "keys.json"
        run(None, "keygen", "--alg", "ES256", "--add-to", str(keys))
        keys.chmod(0o644)
        result = run(None, "keygen", "--alg", "ES256", "--add-to", str(keys))
        assert "was readable by others (mode 0644)" in result.stderr
        assert stat.S_IMODE(keys.stat().st_mode) == 0o600

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--format", "pem"], "uses a shared secret"),
            (["--alg", "ES256", "--format", "secret"], "uses a key pair"),
            (["--alg", "ES256", "--kid", "x"], "--kid needs --format jwk"),
            (["--first"], "--first only means something with --add-to"),
            (["--add-to", "k.json", "--format", "pem"], "--add-to writes a JWK"),
            (["--public-out", "p"], "no public part"),
            (["--alg", "RS256", "--bits", "1024"], "1024 is not in the range"),
            (["--alg", "none"], "'none' is not one of"),
            (["--format", "jwk", "--kid", ""], "kid must be a non-empty string"),
            (["--format", "jwk", "--kid", "k" * 257], "of at most 256 chars"),
        ],
    )
    def test_options_that_do_not_fit_are_usage_errors(
        self, args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        result = run(None, "keygen", *args)
        assert result.exit_code == 2
        assert message in result.output
        assert list(tmp_path.iterdir()) == []  # nothing written


# --- token ----------------------------------------------------------------------


def decoded(app: Flask, token: str) -> dict[str, Any]:
    with app.app_context():
        return flask_jwtx.decode_token(token)


class TestToken:
    def test_prints_only_a_token_the_app_accepts(self) -> None:
        app = build_app()
        result = run(app, "token", "alice")
        assert result.exit_code == 0
        token = result.stdout.strip()
        assert token.count(".") == 2
        assert request_status(app, token)[0] == 200
        assert decoded(app, token)["sub"] == "alice"

    def test_claims_scopes_lifetime_and_freshness(self) -> None:
        app = build_app()
        result = run(
            app, "token", "alice", "--claim", "admin=true", "--claim", 'org={"plan": "pro"}',
            "--claim", "note=plain text", "--scope", "reports:read", "--scope", "reports:write",
            "--expires", "2h", "--fresh",
        )  # fmt: skip
        claims = decoded(app, result.stdout.strip())
        assert claims["admin"] is True
        assert claims["org"] == {"plan": "pro"}
        assert claims["note"] == "plain text"
        assert claims["scope"] == "reports:read reports:write"
        assert claims["exp"] - claims["iat"] == 7200
        assert claims["fresh"] is True

    def test_fresh_for_writes_a_numeric_date(self) -> None:
        app = build_app()
        claims = decoded(app, run(app, "token", "a", "--fresh-for", "10m").stdout.strip())
        assert claims["fresh"] == pytest.approx(claims["iat"] + 600, abs=2)

    def test_never_expiring_refresh_and_own_types(self) -> None:
        app = build_app()
        never = decoded(app, run(app, "token", "a", "--expires", "never").stdout.strip())
        assert "exp" not in never
        refresh = decoded(app, run(app, "token", "a", "--type", "refresh").stdout.strip())
        assert refresh["type"] == "refresh"
        reset = decoded(app, run(app, "token", "a", "--type", "password-reset").stdout.strip())
        assert reset["type"] == "password-reset"

    def test_json_shows_token_header_and_claims(self) -> None:
        app = build_app()
        document = json.loads(run(app, "token", "alice", "--json").stdout)
        assert document["header"] == {"alg": "HS256", "typ": "JWT"}
        assert document["claims"] == decoded(app, document["token"])

    def test_the_apps_loaders_apply(self) -> None:
        app = build_app()
        manager: flask_jwtx.JWTManager = app.extensions["flask-jwt-extended"]

        @manager.additional_claims_loader
        def claims(identity: Any) -> dict[str, Any]:
            return {"tenant": f"t-{identity}"}

        @manager.user_identity_loader
        def identity(value: Any) -> str:
            return f"user:{value}"

        claims_out = decoded(app, run(app, "token", "7").stdout.strip())
        assert claims_out["sub"] == "user:7"
        assert claims_out["tenant"] == "t-7"

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--type", "refresh", "--fresh"], "A refresh token is never fresh"),
            (["--claim", "novalue"], "is not NAME=VALUE"),
            (["--scope", "a", "--claim", "scope=b"], "not both"),
            (["--expires", "soon"], "is not a duration"),
            (["--fresh-for", "never"], "is not a duration"),
        ],
    )
    def test_usage_errors(self, args: list[str], message: str) -> None:
        result = run(build_app(), "token", "alice", *args)
        assert result.exit_code == 2
        assert message in result.output

    def test_a_verify_only_app_cannot_mint(self) -> None:
        app = build_app(
            JWT_JWKS_URL="http://127.0.0.1:9/jwks",
            JWT_DECODE_ALGORITHMS=["RS256"],
            JWT_DECODE_AUDIENCE="api",
            JWT_SECRET_KEY=None,
        )
        result = run(app, "token", "alice")
        assert result.exit_code == 1
        assert "This app has no signing key" in result.output
        assert "Traceback" not in result.output


# --- decode ---------------------------------------------------------------------


def _expired(app: Flask) -> str:
    return mint(app, expires_delta=-__import__("datetime").timedelta(seconds=30))


def _foreign_signature(app: Flask) -> str:
    return mint(build_app(JWT_SECRET_KEY=SECRET[::-1]))


def _other_audience(app: Flask) -> str:
    return mint(build_app(JWT_ENCODE_AUDIENCE="other-api"))


def _refresh(app: Flask) -> str:
    with app.app_context():
        return flask_jwtx.create_refresh_token("alice")


#: Token makers and the refusal a request with the token gets.
REFUSALS: dict[str, tuple[Callable[[Flask], str], int, str]] = {
    "expired": (_expired, 401, "token_expired"),
    "bad signature": (_foreign_signature, 422, "invalid_signature"),
    "wrong audience": (_other_audience, 422, "invalid_audience"),
    "malformed": (lambda app: "not.a-token", 422, "malformed_token"),
    "two segments": (lambda app: "abc.def", 422, "malformed_token"),
}


class TestDecode:
    def test_an_accepted_token_exits_0_and_shows_header_claims_and_times(self) -> None:
        app = build_app()
        result = run(app, "decode", mint(app))
        assert result.exit_code == 0
        out = result.stdout
        assert "Header\n" in out
        assert "Claims\n" in out
        assert '"alice"' in out
        assert "UTC (in 15 min)" in out  # exp, in human form
        assert "Accepted: a request carrying this token passes." in out

    @pytest.mark.parametrize("case", list(REFUSALS))
    def test_refusals_name_the_status_and_code_a_request_gets(self, case: str) -> None:
        make, status, code = REFUSALS[case]
        app = build_app(JWT_DECODE_AUDIENCE="api", JWT_ENCODE_AUDIENCE="api")
        token = make(app)
        api_status, body = request_status(app, token)
        assert api_status == status
        result = run(app, "decode", token, "--json")
        assert result.exit_code == 1
        verdict = json.loads(result.stdout)
        assert verdict["accepted"] is False
        assert verdict["error"]["status"] == api_status
        assert verdict["error"]["code"] == code
        assert verdict["error"]["body"] == body
        text = run(app, "decode", token)
        assert f"the API answers {status} {json.dumps(body)} ({code})" in text.stdout

    def test_an_expired_token_is_shown_as_verified_with_only_its_age_against_it(self) -> None:
        app = build_app()
        verdict = json.loads(run(app, "decode", _expired(app), "--json").stdout)
        assert verdict["verified"] is True
        assert verdict["times"]["exp"]["seconds_from_now"] < 0
        assert "every other check passed: only its age refuses it" in verdict["notes"]

    def test_a_bad_signature_shows_the_contents_marked_unverified(self) -> None:
        app = build_app()
        out = run(app, "decode", _foreign_signature(app)).stdout
        assert "Claims (NOT verified)" in out

    def test_revoked_by_the_store_and_by_the_blocklist_loader(self) -> None:
        app = build_app(JWT_REVOCATION_STORE="memory://")
        token = mint(app)
        assert run(app, "revoke", token).exit_code == 0
        assert request_status(app, token)[0] == 401
        verdict = json.loads(run(app, "decode", token, "--json").stdout)
        assert verdict["error"]["code"] == "token_revoked"

        other = build_app()
        manager = other.extensions["flask-jwt-extended"]
        manager.token_in_blocklist_loader(lambda header, claims: claims["sub"] == "mallory")
        bad = mint(other, "mallory")
        assert request_status(other, bad)[0] == 401
        assert json.loads(run(other, "decode", bad, "--json").stdout)["error"]["status"] == 401

    def test_the_token_verification_loader_refuses_with_400(self) -> None:
        app = build_app()
        app.extensions["flask-jwt-extended"].token_verification_loader(lambda h, c: False)
        token = mint(app)
        assert request_status(app, token)[0] == 400
        verdict = json.loads(run(app, "decode", token, "--json").stdout)
        assert verdict["error"]["code"] == "claims_verification_failed"

    def test_notes_say_which_routes_accept_it(self) -> None:
        app = build_app(JWT_TOKEN_LOCATION=["headers", "cookies"])
        refresh = json.loads(run(app, "decode", _refresh(app), "--json").stdout)
        assert any("jwt_required(refresh=True)" in note for note in refresh["notes"])
        fresh = run(app, "decode", mint(app, fresh=True)).stdout
        assert "fresh: @jwt_required(fresh=True) routes accept it" in fresh
        assert "CSRF" in fresh
        stale = run(app, "decode", mint(app)).stdout
        assert "not fresh" in stale
        with app.app_context():
            own = create_access_token("a", additional_claims={"type": "reset"})
        assert "verify_type=False" in run(app, "decode", own).stdout

    def test_reads_stdin_and_drops_a_pasted_bearer(self) -> None:
        app = build_app()
        token = mint(app)
        assert run(app, "decode", stdin=f"{token}\n").exit_code == 0
        assert run(app, "decode", "-", stdin=f"Bearer {token}\n").exit_code == 0
        empty = run(app, "decode", stdin="")
        assert empty.exit_code == 2
        assert "Give the token" in empty.output

    def test_never_prints_key_material(self) -> None:
        key = Key.from_pem(algorithm="ES256", private_key=read_key("ec256_private.pem"), kid="k")
        private_jwk = json.loads(run(None, "keygen", "--alg", "ES256", "--format", "jwk").stdout)
        app = build_app(JWT_KEYS=KeySet([key, Key.from_jwk(private_jwk)]))
        for token in (mint(app), _foreign_signature(app), "x.y.z"):
            out = run(app, "decode", token).output + run(app, "decode", token, "--json").output
            assert SECRET not in out
            assert "PRIVATE" not in out
            assert private_jwk["d"] not in out

    def test_untrusted_text_cannot_reach_the_terminal_raw(self) -> None:
        app = build_app()
        with app.app_context():
            token = create_access_token(
                "a", additional_claims={"\x1b[2Jname": "\x1b]0;owned\x07", "n": 1}
            )
        for args in (["decode", token], ["decode", token, "--json"]):
            out = run(app, *args).output
            assert "\x1b" not in out
            assert "\x07" not in out

    def test_an_app_that_cannot_verify_any_token_is_an_error_not_a_verdict(self) -> None:
        app = build_app(JWT_SECRET_KEY=None)
        result = run(app, "decode", mint(build_app()))
        assert result.exit_code == 1
        assert "JWT_SECRET_KEY must be set to verify tokens" in result.output
        assert "Refused" not in result.output

    def test_works_inside_an_app_context_already_pushed(self) -> None:
        app = build_app()
        token = mint(app)
        with app.app_context():
            assert run(app, "decode", token).exit_code == 0

    def test_claims_of_a_forged_token_that_are_not_times(self) -> None:
        app = build_app()
        forged = jws.encode(
            {"sub": "a", "exp": "tomorrow", "iat": True},
            prepare_key("HS256", SECRET[::-1]),
        )
        verdict = json.loads(run(app, "decode", forged, "--json").stdout)
        assert verdict["verified"] is False
        assert verdict["times"] == {"exp": None, "iat": None}
        out = run(app, "decode", forged).stdout
        assert '"tomorrow"  not a NumericDate' in out

    def test_a_text_answer_from_the_apps_loader_is_shown_as_text(self) -> None:
        app = build_app()
        manager: flask_jwtx.JWTManager = app.extensions["flask-jwt-extended"]
        manager.invalid_token_loader(lambda reason: ("go away", 418))
        verdict = json.loads(run(app, "decode", "x.y.z", "--json").stdout)
        assert verdict["error"]["status"] == 418
        assert verdict["error"]["body"] == "go away"
        assert verdict["error"]["code"] == "malformed_token"

    def test_odd_times_are_named_not_crashed_on(self) -> None:
        app = build_app(JWT_DECODE_LEEWAY=0)
        with app.app_context():
            token = create_access_token("a", additional_claims={"exp": 10**20})
        result = run(app, "decode", token, "--json")
        assert result.exit_code in (0, 1)
        assert json.loads(result.stdout)["times"]["exp"] is None
        assert "out of range" in run(app, "decode", token).stdout


# --- revoke, revoke-all -------------------------------------------------------------


class TestRevoke:
    def test_revoke_then_every_request_with_it_is_refused(self) -> None:
        app = build_app(JWT_REVOCATION_STORE="memory://")
        token, other = mint(app), mint(app)
        result = run(app, "revoke", token, "--json")
        assert result.exit_code == 0
        document = json.loads(result.stdout)
        assert document["jti"] == decoded(app, token)["jti"]
        assert document["identity"] == "alice"
        assert document["store"] == "memory://"
        assert document["until"] is not None
        assert request_status(app, token)[0] == 401
        assert request_status(app, other)[0] == 200

    def test_human_output_and_a_token_that_never_expires(self) -> None:
        app = build_app(JWT_REVOCATION_STORE="memory://")
        out = run(app, "revoke", mint(app, expires_delta=False)).stdout
        assert out.startswith("Revoked access token ")
        assert "for good (it never expires)" in out

    @pytest.mark.parametrize("kind", ["memory", "redis"])
    def test_a_token_expiring_after_year_9999_is_revoked_for_good(
        self, kind: str, request: pytest.FixtureRequest
    ) -> None:
        """The command reports the revocation (no end date) and exits 0, on Redis too."""
        url = "memory://"
        if kind == "redis":
            server: RedisServer = request.getfixturevalue("redis_server")
            server.flush()
            url = server.url
        app = build_app(JWT_REVOCATION_STORE=url)
        year_12020 = mint(app, expires_delta=timedelta(days=3_650_000))
        result = run(app, "revoke", year_12020, "--json")
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        assert document["revoked"] is True
        assert document["until"] is None
        assert request_status(app, year_12020)[0] == 401
        beyond = mint(app, additional_claims={"exp": 10**17})
        human = run(app, "revoke", beyond)
        assert human.exit_code == 0, human.output
        assert "for good." in human.stdout
        assert "never expires" not in human.stdout, "it does expire, after year 9999"
        assert request_status(app, beyond)[0] == 401
        app.extensions["flask-jwtx"].manager.close(app)

    def test_an_expired_token_can_still_be_revoked(self) -> None:
        """Past its exp but within the leeway it still verifies; once revoked, it is refused."""
        app = build_app(JWT_REVOCATION_STORE="memory://", JWT_DECODE_LEEWAY=60)
        token = _expired(app)
        assert request_status(app, token)[0] == 200
        assert run(app, "revoke", token).exit_code == 0
        assert request_status(app, token) == (401, {"msg": "Token has been revoked"})

    def test_a_token_that_does_not_verify_is_not_revoked(self) -> None:
        app = build_app(JWT_REVOCATION_STORE="memory://")
        result = run(app, "revoke", _foreign_signature(app))
        assert result.exit_code == 1
        assert "Signature verification failed" in result.output

    @pytest.mark.parametrize("text", ["abc", "a.b.c"])
    def test_something_that_is_not_a_jwt_is_named_so_with_what_is_expected(
        self, text: str
    ) -> None:
        """Not only "Error: Not enough segments": what was given, and what to give."""
        result = run(build_app(JWT_REVOCATION_STORE="memory://"), "revoke", text)
        assert result.exit_code == 1
        assert result.output.startswith("Error: That is not a JWT (")
        assert "three base64url parts joined by dots (header.payload.signature)" in result.output
        assert "flask jwt revoke-all IDENTITY" in result.output

    def test_without_a_store_the_fix_is_named(self) -> None:
        app = build_app()
        result = run(app, "revoke", mint(app))
        assert result.exit_code == 1
        assert "No revocation store: set JWT_REVOCATION_STORE" in result.output

    def test_revoke_all_refuses_earlier_tokens_only(self) -> None:
        app = build_app(JWT_REVOCATION_STORE="memory://")
        before, bystander = mint(app), mint(app, "bob")
        result = run(app, "revoke-all", "alice", "--json")
        assert result.exit_code == 0
        assert json.loads(result.stdout)["identity"] == "alice"
        assert json.loads(result.stdout)["any_issuer"] is True
        after = mint(app)
        assert request_status(app, before)[0] == 401
        assert request_status(app, bystander)[0] == 200
        assert request_status(app, after)[0] == 200
        assert 'Every token issued to "bob" before' in run(app, "revoke-all", "bob").stdout

    def test_revoke_all_with_trusted_issuers_needs_the_issuer(self) -> None:
        app = build_app(
            JWT_REVOCATION_STORE="memory://",
            JWT_TRUSTED_ISSUERS=[
                {"issuer": "https://idp", "jwks_url": "http://127.0.0.1:9/k", "audience": "api"}
            ],
        )
        result = run(app, "revoke-all", "alice")
        assert result.exit_code == 2
        assert "--issuer" in result.output
        done = run(app, "revoke-all", "alice", "--issuer", "https://idp", "--json")
        assert json.loads(done.stdout)["issuer"] == "https://idp"
        assert json.loads(done.stdout)["any_issuer"] is False


# --- check ----------------------------------------------------------------------


def lines(result: Result) -> list[dict[str, str]]:
    document = json.loads(result.stdout)
    checks: list[dict[str, str]] = document["checks"]
    assert document["ok"] is (result.exit_code == 0)
    return checks


def init_app_refusal(**config: Any) -> str:
    """What init_app says about ``config``."""
    with pytest.raises(ConfigurationError) as info:
        build_app(**config)
    return str(info.value)


class TestCheck:
    def test_a_good_app_passes(self) -> None:
        app = build_app(JWT_REVOCATION_STORE="memory://")
        result = run(app, "check")
        assert result.exit_code == 0, result.output
        assert (
            "ok    configuration: signs HS256 tokens with keys from JWT_SECRET_KEY"
            in result.stdout
        )
        assert "ok    keys: a token signed with the HS256 key verifies" in result.stdout
        assert "ok    revocation store: memory:// answers" in result.stdout
        assert result.stdout.endswith("all checks passed\n")

    @pytest.mark.parametrize(
        "config",
        [
            {"JWT_ALGORITHM": "HS257"},
            {"JWT_REVOCATION_STORE": "sqlite:///:memory:"},
            {"JWT_TOKEN_LOCATION": ["header"]},
        ],
    )
    def test_an_app_init_app_refuses_fails_with_init_apps_message(
        self, config: dict[str, Any]
    ) -> None:
        expected = init_app_refusal(**config)
        result = CliRunner().invoke(
            jwt_cli, ["check", "--json"], obj=ScriptInfo(create_app=lambda: build_app(**config))
        )
        assert result.exit_code == 1
        assert lines(result) == [{"status": "fail", "check": "configuration", "message": expected}]
        other = CliRunner().invoke(
            jwt_cli, ["token", "a"], obj=ScriptInfo(create_app=lambda: build_app(**config))
        )
        assert other.exit_code == 1
        assert expected in other.output

    def test_a_setting_changed_after_init_app_is_validated_too(self) -> None:
        app = build_app()
        app.config["JWT_COOKIE_SAMESITE"] = "sometimes"
        result = run(app, "check", "--json")
        assert result.exit_code == 1
        assert lines(result)[0]["message"].startswith("JWT_COOKIE_SAMESITE is 'sometimes'")

    def test_keys_that_are_not_a_pair_fail(self) -> None:
        app = build_app(
            JWT_ALGORITHM="RS256",
            JWT_PRIVATE_KEY=read_key("rsa_private.pem"),
            JWT_PUBLIC_KEY=read_key("rsa2_public.pem"),
        )
        result = run(app, "check", "--json")
        assert result.exit_code == 1
        failed = [line for line in lines(result) if line["status"] == "fail"]
        assert failed[0]["check"] == "keys"
        assert "does not verify here" in failed[0]["message"]

    def test_a_missing_verification_key_fails_a_missing_signing_key_warns(self) -> None:
        nothing = build_app(JWT_SECRET_KEY=None)
        assert run(nothing, "check").exit_code == 1
        verify_only = build_app(
            JWT_SECRET_KEY=None, JWT_ALGORITHM="ES256", JWT_PUBLIC_KEY=read_key("ec256_public.pem")
        )
        result = run(verify_only, "check", "--json")
        assert result.exit_code == 0
        warned = [line["message"] for line in lines(result) if line["status"] == "warn"]
        assert warned == [
            "signs ES256 tokens with keys from JWT_PRIVATE_KEY/JWT_PUBLIC_KEY, but "
            "JWT_PRIVATE_KEY is not set",
            "JWT_PRIVATE_KEY must be set to sign tokens with the ES256 algorithm. Set "
            "JWT_PRIVATE_KEY to a PEM-encoded key, or use JWT_KEYS, or register a key loader "
            "before init_app.",
        ]
        assert run(verify_only, "check", "--strict").exit_code == 1

    def test_the_configuration_line_is_not_ok_while_its_key_is_missing(self) -> None:
        """Never "ok ... keys from JWT_SECRET_KEY" above a failure because it is not set."""
        result = run(build_app(JWT_SECRET_KEY=None), "check", "--json")
        assert result.exit_code == 1
        [configuration] = [line for line in lines(result) if line["check"] == "configuration"]
        assert configuration == {
            "status": "fail",
            "check": "configuration",
            "message": "signs HS256 tokens with keys from JWT_SECRET_KEY, but JWT_SECRET_KEY "
            "is not set",
        }

    def test_a_weak_secret_warns_and_strict_fails(self) -> None:
        with pytest.warns(flask_jwtx.WeakSecretWarning):
            app = build_app(JWT_SECRET_KEY="short")
        result = run(app, "check", "--json")
        assert result.exit_code == 0
        assert any(
            "below the minimum recommended length of 32 bytes" in line["message"]
            for line in lines(result)
        )
        assert run(app, "check", "--strict").exit_code == 1

    def test_warnings_that_are_not_about_tokens_are_passed_on(self) -> None:
        def create_app() -> Flask:
            warnings.warn("old API", DeprecationWarning, stacklevel=1)
            return build_app()

        with pytest.warns(DeprecationWarning, match="old API"):
            result = CliRunner().invoke(
                jwt_cli, ["check", "--json"], obj=ScriptInfo(create_app=create_app)
            )
        assert result.exit_code == 0
        assert "old API" not in result.stdout

    def test_a_store_that_stopped_answering_fails(self) -> None:
        server = RedisServer()
        try:
            app = build_app(JWT_REVOCATION_STORE=server.url)
            assert run(app, "check").exit_code == 0
            server.stop()
            result = run(app, "check", "--json")
            assert result.exit_code == 1
            (failed,) = [line for line in lines(result) if line["status"] == "fail"]
            assert failed["check"] == "revocation store"
            assert failed["message"].startswith(f"{server.url} does not answer: Redis")
        finally:
            server.start()
            server.stop()

    def test_an_app_without_the_extension(self) -> None:
        bare = Flask("bare")
        result = run(bare, "check")
        assert result.exit_code == 1
        assert "has no JWTManager" in result.stdout
        token = run(bare, "token", "a")
        assert token.exit_code == 1
        assert "has no JWTManager" in token.output

    def test_key_loaders_are_named_and_not_probed(self) -> None:
        app = build_app()
        app.extensions["flask-jwt-extended"].encode_key_loader(lambda identity: SECRET)
        out = run(app, "check").stdout
        assert "with the app's encode_key_loader" in out
        assert "skip  keys: keys come from the app's key loaders" in out

    def test_a_key_set_loader_is_asked_now(self) -> None:
        calls: list[int] = []
        key = Key.from_pem(algorithm="ES256", private_key=read_key("ec256_private.pem"), kid="a")
        app = Flask("loader")
        manager = flask_jwtx.JWTManager()

        @manager.key_set_loader
        def keys() -> KeySet:
            calls.append(1)
            return KeySet([key])

        manager.init_app(app)
        result = run(app, "check", "--json")
        assert result.exit_code == 0, result.output
        assert calls
        sources = [line for line in lines(result) if line["check"] == "key source"]
        assert sources[0]["message"].endswith(": 1 key: a")
        assert "key_set_loader" in sources[0]["message"]

    def test_a_key_set_loader_with_no_key_fails(self) -> None:
        app = Flask("empty-loader")
        manager = flask_jwtx.JWTManager()
        manager.key_set_loader(lambda: KeySet([]))
        manager.init_app(app)
        result = run(app, "check", "--json")
        assert result.exit_code == 1
        assert [line["message"] for line in lines(result) if line["status"] == "fail"] == [
            f"key_set_loader {TestCheck.__qualname__}."
            "test_a_key_set_loader_with_no_key_fails.<locals>.<lambda>: no usable key"
        ]


@pytest.fixture
def jwks_url() -> Iterator[tuple[Flask, str]]:
    """A real issuer publishing its JWKS over HTTP on loopback."""
    issuer = build_app(
        JWT_KEYS=KeySet(
            [Key.from_pem(algorithm="ES256", private_key=read_key("ec256_private.pem"), kid="e1")]
        ),
        JWT_JWKS_PATH="/jwks",
        JWT_ENCODE_ISSUER="https://issuer.test",
        JWT_ENCODE_AUDIENCE="api",
    )
    with serve(issuer) as base:
        yield issuer, f"{base}/jwks"


class TestCheckRemote:
    def resource(self, url: str) -> Flask:
        return build_app(
            JWT_SECRET_KEY=None,
            JWT_JWKS_URL=url,
            JWT_DECODE_ALGORITHMS=["ES256"],
            JWT_DECODE_AUDIENCE="api",
            JWT_JWKS_TIMEOUT=2,
        )

    def test_the_jwks_is_fetched_and_its_keys_listed(self, jwks_url: tuple[Flask, str]) -> None:
        issuer, url = jwks_url
        app = self.resource(url)
        result = run(app, "check")
        assert result.exit_code == 0, result.output
        assert "configuration: verifies ES256 tokens with keys from JWT_JWKS_URL" in result.stdout
        assert f"ok    key source: {url}: 1 key: e1" in result.stdout
        token = mint(issuer)
        assert run(app, "decode", token).exit_code == 0

    def test_an_unreachable_jwks_fails(self, jwks_url: tuple[Flask, str]) -> None:
        _, url = jwks_url
        app = self.resource(url.replace("/jwks", "/nothing-here"))
        result = run(app, "check", "--json")
        assert result.exit_code == 1
        failed = [line for line in lines(result) if line["status"] == "fail"]
        assert failed == [
            {
                "status": "fail",
                "check": "key source",
                "message": f"{url.replace('/jwks', '/nothing-here')}: JWKS endpoint "
                f"{url.replace('/jwks', '/nothing-here')} answered 404",
            }
        ]

    def test_a_jwks_without_usable_keys_fails(self) -> None:
        empty = Flask("empty")
        empty.add_url_rule("/jwks", "jwks", lambda: jsonify(keys=[{"kty": "oct", "k": "AAAA"}]))
        with serve(empty) as base:
            result = run(self.resource(f"{base}/jwks"), "check", "--json")
        assert result.exit_code == 1
        messages = [line["message"] for line in lines(result)]
        assert f"{base}/jwks: JWKS from {base}/jwks holds no usable signing key" in messages
        assert any("Skipping key #0" in message for message in messages)  # the logged reason

    def test_trusted_issuers_are_fetched_each(self, jwks_url: tuple[Flask, str]) -> None:
        _, url = jwks_url
        app = build_app(
            JWT_SECRET_KEY=None,
            JWT_TRUSTED_ISSUERS=[
                {"issuer": "https://issuer.test", "jwks_url": url, "algorithms": ["ES256"]},
                {"issuer": "https://down.test", "jwks_url": url + "-gone", "audience": "x"},
            ],
            JWT_DECODE_AUDIENCE="api",
        )
        result = run(app, "check")
        assert result.exit_code == 1
        assert "trusted issuers' JWKS" in result.stdout
        assert f"ok    key source: {url}: 1 key: e1" in result.stdout
        assert f"FAIL  key source: {url}-gone: JWKS endpoint {url}-gone answered 404" in (
            result.stdout
        )

    def test_untrusted_issuer_is_explained(self, jwks_url: tuple[Flask, str]) -> None:
        issuer, url = jwks_url
        app = build_app(
            JWT_SECRET_KEY=None,
            JWT_TRUSTED_ISSUERS=[
                {"issuer": "https://other.test", "jwks_url": url, "algorithms": ["ES256"]}
            ],
            JWT_DECODE_AUDIENCE="api",
        )
        token = mint(issuer)
        assert request_status(app, token)[0] == 422
        verdict = json.loads(run(app, "decode", token, "--json").stdout)
        assert verdict["error"] == {
            "message": "Untrusted issuer",
            "status": 422,
            "code": "invalid_issuer",
            "body": {"msg": "Untrusted issuer"},
        }
