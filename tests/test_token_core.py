"""The token core's parts (jws, claims, claimset, csrf): their order, boundaries and façade."""

from __future__ import annotations

import ast
import time
from pathlib import Path
from typing import Any

import pytest

import flask_jwtx
from flask_jwtx import exceptions as exc
from flask_jwtx import tokens
from flask_jwtx._core.jose import claims, claimset, csrf, jws
from flask_jwtx._core.jose.keys import prepare_key

NOW = 1_700_000_000.0
POLICY = claims.VerifyPolicy(algorithms=frozenset({"HS256"}))
PACKAGE = Path(flask_jwtx.__file__).parent


def body(**override: Any) -> dict[str, Any]:
    """Valid claims at ``NOW``, with ``override`` applied (``None`` removes a claim)."""
    values: dict[str, Any] = {"sub": "alice", "iat": NOW, "nbf": NOW, "exp": NOW + 60}
    values.update(override)
    return {k: v for k, v in values.items() if v is not None}


def verify(values: dict[str, Any], policy: claims.VerifyPolicy = POLICY, **kw: Any) -> None:
    """Run the registered-claim checks at ``NOW``."""
    claims.verify_claims(values, policy, NOW, **kw)


class TestClaimOrder:
    def test_a_malformed_date_is_reported_before_anything_else(self) -> None:
        """A string ``exp`` wins over a future ``iat`` and a missing identity claim."""
        with pytest.raises(exc.DecodeError, match=r"Expiration Time claim \(exp\)"):
            verify(body(exp="soon", iat=NOW + 600, sub=None))

    def test_a_malformed_date_wins_over_a_failing_check_before_it(self) -> None:
        """Among the dates, iat's form is checked first, then nbf's, then exp's."""
        with pytest.raises(exc.InvalidIssuedAtError):
            verify(body(iat="x", nbf="y"))
        with pytest.raises(exc.DecodeError, match="Not Before"):
            verify(body(iat=NOW + 600, nbf="y"))

    def test_the_issuer_is_judged_before_the_audience(self) -> None:
        """As PyJWT (and so Flask-JWT-Extended) does: a token wrong in both is an issuer error."""
        strict = claims.VerifyPolicy(algorithms=frozenset(), audience=("api",), issuer="me")
        with pytest.raises(exc.InvalidIssuerError):
            verify(body(iss="them", aud="web"), strict)
        with pytest.raises(exc.MissingRequiredClaimError, match="iss"):
            verify(body(aud="web"), strict)

    def test_expiry_is_checked_after_the_conventions(self) -> None:
        """An expired token without its identity claim is refused for the missing claim."""
        with pytest.raises(exc.JWTDecodeError, match="Missing claim: sub"):
            verify(body(exp=NOW - 60, sub=None))

    def test_an_expired_token_passed_every_other_check(self) -> None:
        """Its claims are completed by the conventions before expiry is reported."""
        with pytest.raises(exc.ExpiredSignatureError) as info:
            verify(body(exp=NOW - 60))
        assert info.value.jwt_data["type"] == "access"

    def test_expiry_may_be_waived_but_not_its_form(self) -> None:
        """``verify_exp=False`` accepts an expired token, not a malformed ``exp``."""
        verify(body(exp=NOW - 60), verify_exp=False)
        with pytest.raises(exc.DecodeError, match="exp"):
            verify(body(exp="later"), verify_exp=False)


class TestClaimChecks:
    def test_the_policy_runs_only_the_checks_it_switches_on(self) -> None:
        """No audience, issuer or subject check unless configured; iat, nbf and jti always."""
        assert POLICY.checks == (
            claims.check_iat,
            claims.check_nbf,
            claims.check_sub,
            claims.check_jti,
        )
        strict = claims.VerifyPolicy(algorithms=frozenset(), audience=("api",), issuer="me")
        assert strict.checks == claims.BEFORE_EXPIRY
        assert strict == claims.VerifyPolicy(
            algorithms=frozenset(), audience=("api",), issuer="me"
        )

    @pytest.mark.parametrize(
        ("check", "values", "error"),
        [
            (claims.check_iat, body(iat=NOW + 5), exc.ImmatureSignatureError),
            (claims.check_nbf, body(nbf=NOW + 5), exc.ImmatureSignatureError),
            (claims.check_exp, body(exp=NOW), exc.ExpiredSignatureError),
            (claims.check_aud, body(aud="web"), exc.InvalidAudienceError),
            (claims.check_iss, body(), exc.MissingRequiredClaimError),
            (claims.check_sub, body(sub=5), exc.InvalidSubjectError),
            (claims.check_jti, body(jti=5), exc.InvalidJTIError),
        ],
    )
    def test_each_check_works_on_its_own(
        self, check: claims.ClaimCheck, values: dict[str, Any], error: type[Exception]
    ) -> None:
        """Called outside verify_claims, a check refuses what it is responsible for."""
        policy = claims.VerifyPolicy(algorithms=frozenset(), audience=("api",), issuer="me")
        with pytest.raises(error):
            check(values, policy, NOW)
        check(body(aud="api", iss="me"), policy, NOW)

    def test_with_trusted_issuers_each_token_meets_its_issuers_policy(self) -> None:
        """The verified ``iss`` picks the policy; the top-level one is never used."""
        billing = claims.VerifyPolicy(algorithms=frozenset(), audience=("billing",), issuer="b")
        trusting = claims.VerifyPolicy(
            algorithms=frozenset(), audience=("ignored",), issuers={"b": billing}
        )
        verify(body(iss="b", aud="billing"), trusting)
        with pytest.raises(exc.InvalidAudienceError):
            verify(body(iss="b", aud="ignored"), trusting)
        for iss in (None, "elsewhere", ["b"], {"b": 1}):
            with pytest.raises(exc.InvalidIssuerError, match="Untrusted issuer"):
                verify(body(iss=iss, aud="billing"), trusting)

    def test_checks_a_policy_switches_off_pass_when_called_directly(self) -> None:
        """The switch is read by the check itself, not only by the policy's selection."""
        strict = claims.VerifyPolicy(algorithms=frozenset(), audience=("api",), issuer="me")
        for check, error in (
            (claims.check_aud, exc.MissingRequiredClaimError),
            (claims.check_iss, exc.MissingRequiredClaimError),
        ):
            with pytest.raises(error):
                check(body(), strict, NOW)
            check(body(), POLICY, NOW)  # no audience, no issuer: passes
        with pytest.raises(exc.InvalidSubjectError):
            claims.check_sub(body(sub=5), POLICY, NOW)
        lenient = claims.VerifyPolicy(algorithms=frozenset(), verify_sub=False)
        claims.check_sub(body(sub=5), lenient, NOW)  # passes


class TestCsrf:
    def test_nothing_submitted_checks_nothing(self) -> None:
        """``None`` or an empty value means no CSRF value applies to the request."""
        for token_claims in ({}, {"csrf": "abc"}):
            csrf.check_double_submit(token_claims, None)  # passes
            csrf.check_double_submit(token_claims, "")  # passes
        with pytest.raises(exc.JWTDecodeError):
            csrf.check_double_submit({}, "abc")  # a value submitted is checked

    def test_a_missing_claim_is_a_decode_error(self) -> None:
        """A token without ``csrf`` (or with ``null``) cannot answer a submitted value."""
        for values in ({}, {"csrf": None}):
            with pytest.raises(exc.JWTDecodeError, match=r"^Missing claim: csrf$"):
                csrf.check_double_submit(values, "abc")

    @pytest.mark.parametrize("expected", ["abd", 5, "\udcff"])
    def test_a_different_value_is_a_csrf_error(self, expected: Any) -> None:
        """Different strings, non-strings and lone surrogates are refused, never a crash."""
        with pytest.raises(exc.CSRFError, match=r"^CSRF double submit tokens do not match$"):
            csrf.check_double_submit({"csrf": expected}, "abc")

    def test_a_lone_surrogate_matches_itself(self) -> None:
        """Values compare as surrogatepass-encoded bytes."""
        csrf.check_double_submit({"csrf": "a\udcff"}, "a\udcff")  # passes
        with pytest.raises(exc.CSRFError):
            csrf.check_double_submit({"csrf": "a\udcff"}, "a\udcfe")

    def test_the_facade_still_accepts_a_csrf_value(self) -> None:
        """``tokens.decode(csrf_value=...)`` delegates to the csrf module, after every check."""
        key = prepare_key("HS256", "x" * 32)
        now = int(time.time())
        token = jws.encode({"sub": "a", "exp": now - 10, "csrf": "abc"}, key)
        with pytest.raises(exc.ExpiredSignatureError):
            tokens.decode(token, POLICY, lambda _a, _h, _t: key, csrf_value="wrong")
        with pytest.raises(exc.CSRFError):
            tokens.decode(
                token, POLICY, lambda _a, _h, _t: key, verify_exp=False, csrf_value="wrong"
            )


class TestLayout:
    @pytest.mark.parametrize("module", ["jws", "claims", "claimset", "csrf"])
    def test_the_lower_modules_import_neither_flask_nor_the_facade(self, module: str) -> None:
        """jws, claims, claimset and csrf reach only the exceptions, the keys and the stdlib."""
        tree = ast.parse((PACKAGE / "_core" / "jose" / f"{module}.py").read_text())
        imported = {
            ("." * node.level) + (node.module or "")
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        ours = {name for name in imported if name.startswith(".")}
        assert ours <= {"...exceptions", ".keys"}, ours
        assert not {name for name in imported if name.split(".")[0] in ("flask", "werkzeug")}

    def test_the_facade_gives_the_parts_own_objects(self) -> None:
        """``from flask_jwtx._core.jose.tokens import X`` and the part's X are one object."""
        assert tokens.VerifyPolicy is claims.VerifyPolicy
        assert tokens.parse is jws.parse
        assert tokens.encode is jws.encode
        assert tokens.build_claims is claimset.build_claims
        assert tokens.jti_millis is claimset.jti_millis
