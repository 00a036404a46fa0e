"""Differential fuzzing against PyJWT: whatever we accept, PyJWT accepts, with equal claims.

flask-jwtx parses the compact JWS itself (see :mod:`flask_jwtx._core.jose.tokens`) and
means to be *stricter* than PyJWT, never looser. Hypothesis builds tokens from
random headers and payloads rendered as odd JSON (duplicate keys, escapes,
whitespace, byte order marks, UTF-16, ``NaN``, non-objects), signs them with
the right key, a wrong key, or an HMAC over the public key, then mutates some
(flipped or inserted characters, swapped segments, a changed ``alg``, ``=``
padding, non-canonical base64url). Each token is checked under a random
verification policy (algorithms, leeway, audience, issuer, ``verify_sub``,
expiry on or off) by :func:`flask_jwtx._core.jose.tokens.decode`, without the app's
token conventions, and by ``jwt.decode`` with the same key, algorithms and
the matching options, both at one frozen instant.

tests/test_fuzz.py checks that no input escapes as an unexpected exception;
this file checks the accept set against the reference.

Where we accept a token PyJWT refuses, the property fails. The four cases
it found (``FORMER_FINDINGS``) were fixed in the token core and stay pinned
here. Run with ``--hypothesis-show-statistics`` to see how often each verdict
came up.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from types import SimpleNamespace
from typing import Any
from unittest import mock

import jwt
import jwt.api_jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import event, given, settings
from hypothesis import strategies as st

from flask_jwtx import exceptions as exc
from flask_jwtx import tokens
from flask_jwtx._core.jose import tokens as core_tokens
from flask_jwtx._core.jose.keys import PreparedKey, prepare_key

from .helpers import SECRET

#: The instant both libraries see as "now"; its fraction makes fractional
#: NumericDates matter.
NOW = 1_700_000_000.25

EC_PRIVATE = ec.generate_private_key(ec.SECP256R1())
EC_PUBLIC = EC_PRIVATE.public_key()
EC_PUBLIC_PEM = EC_PUBLIC.public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
OTHER_EC_PRIVATE = ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True)
class Family:
    """One configured key: how we verify, what PyJWT is given, how tokens get signed."""

    alg: str
    verifying: PreparedKey
    pyjwt_key: Any
    signing: PreparedKey
    wrong_signing: PreparedKey
    #: Another algorithm an application might list next to ``alg``.
    sibling: str


HS256 = Family(
    alg="HS256",
    verifying=prepare_key("HS256", SECRET),
    pyjwt_key=SECRET,
    signing=prepare_key("HS256", SECRET),
    wrong_signing=prepare_key("HS256", SECRET + "-but-not-quite"),
    sibling="HS512",
)
ES256 = Family(
    alg="ES256",
    verifying=prepare_key("ES256", EC_PUBLIC),
    pyjwt_key=EC_PUBLIC,
    signing=prepare_key("ES256", EC_PRIVATE),
    wrong_signing=prepare_key("ES256", OTHER_EC_PRIVATE),
    sibling="ES384",
)

AUDIENCES = ("api", "web", "Api")
LEEWAYS = (0.0, 0.5, 1.0, 30.0)
ISSUERS = ("https://issuer.example", "https://other.example")


# --- verification on both sides ---------------------------------------------


@dataclass(frozen=True)
class Policy:
    algorithms: frozenset[str]
    leeway: float
    audience: tuple[str, ...] | None
    issuer: str | None
    verify_sub: bool
    verify_exp: bool

    def ours(self) -> tokens.VerifyPolicy:
        return tokens.VerifyPolicy(
            algorithms=self.algorithms,
            leeway=self.leeway,
            audience=self.audience,
            issuer=self.issuer,
            verify_sub=self.verify_sub,
            conventions=None,  # PyJWT knows nothing of Flask-JWT-Extended's claims
            max_bytes=65536,
        )

    def pyjwt_options(self) -> jwt.types.Options:
        # As Flask-JWT-Extended calls PyJWT: the audience is checked only when
        # one is configured (PyJWT's default would refuse any token with an
        # ``aud`` claim when none is).
        return {
            "verify_aud": self.audience is not None,
            "verify_sub": self.verify_sub,
            "verify_exp": self.verify_exp,
        }


def policies(family: Family) -> st.SearchStrategy[Policy]:
    return st.builds(
        Policy,
        algorithms=st.sampled_from(
            [frozenset({family.alg}), frozenset({family.alg, family.sibling})]
        ),
        leeway=st.sampled_from(LEEWAYS),
        audience=st.none()
        | st.lists(st.sampled_from(AUDIENCES), min_size=1, max_size=2).map(tuple),
        issuer=st.none() | st.sampled_from(ISSUERS),
        verify_sub=st.booleans(),
        verify_exp=st.booleans(),
    )


@contextmanager
def frozen_clock() -> Iterator[None]:
    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> FrozenDatetime:
            return cls.fromtimestamp(NOW, tz)

    with ExitStack() as stack:
        stack.enter_context(
            mock.patch.object(core_tokens, "time", SimpleNamespace(time=lambda: NOW))
        )
        stack.enter_context(mock.patch.object(jwt.api_jwt, "datetime", FrozenDatetime))
        yield


def ours(token: str, family: Family, policy: Policy) -> dict[str, Any] | Exception:
    def lookup(alg: str, _header: Any, _token: Any) -> PreparedKey:
        if alg != family.alg:  # an allowed algorithm with no key configured
            raise exc.InvalidAlgorithmError("The specified alg value is not allowed")
        return family.verifying

    try:
        return tokens.decode(token, policy.ours(), lookup, verify_exp=policy.verify_exp)[1]
    except exc.JWTExtendedException as error:
        return error


def pyjwt(token: str, family: Family, policy: Policy) -> dict[str, Any] | Exception:
    try:
        return jwt.decode(
            token,
            family.pyjwt_key,
            algorithms=sorted(policy.algorithms),
            options=policy.pyjwt_options(),
            audience=list(policy.audience) if policy.audience else None,
            issuer=policy.issuer,
            leeway=policy.leeway,
        )
    except Exception as error:  # any refusal, even PyJWT crashing on its input
        return error


def assert_subset(token: str, family: Family, policy: Policy) -> None:
    with frozen_clock():
        accepted = ours(token, family, policy)
        reference = pyjwt(token, family, policy)
    if isinstance(accepted, Exception):
        verdict = "refused by both" if isinstance(reference, Exception) else "stricter than PyJWT"
        event(f"{verdict}: {type(accepted).__name__}")
        return
    assert not isinstance(reference, Exception), (
        f"flask-jwtx accepts what PyJWT refuses ({reference!r}):\ntoken={token}\npolicy={policy}"
    )
    event("accepted by both")
    assert accepted == reference, (token, policy)


# --- token generation ----------------------------------------------------------


def b64(data: bytes) -> str:
    return tokens.b64url_encode(data)


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)

# NumericDates near NOW: whole seconds, quarter seconds (so the leeways above
# land exactly on boundaries), and everything a NumericDate should not be.
EDGES = sorted(
    {
        NOW + sign * (leeway + delta)
        for leeway in LEEWAYS
        for delta in (-0.25, 0, 0.25, 0.5, 0.75)
        for sign in (1, -1)
    }
)
NUMERIC_DATE = st.one_of(
    st.sampled_from(EDGES),
    st.integers(min_value=-130, max_value=130).map(lambda s: int(NOW) + s),
    st.integers(min_value=-160, max_value=160).map(lambda q: NOW + q / 4),
    st.floats(min_value=NOW - 100, max_value=NOW + 100),
    st.sampled_from([0, -1, 2**53, 10**30, 1e300, -1e300, True, False, None]),
    st.sampled_from([str(int(NOW) + 60), str(int(NOW) - 60), "soon", ""]),
    JSON,
)
AUDIENCE_CLAIM = st.one_of(
    st.sampled_from(AUDIENCES),
    st.lists(st.sampled_from(AUDIENCES) | SCALARS, max_size=3),
    st.sampled_from(["", [], {}, {"api": 1}]),
    JSON,
)
PAYLOADS = st.builds(
    lambda extra, registered: {**extra, **registered},
    st.dictionaries(st.text(max_size=6), JSON, max_size=3),
    st.fixed_dictionaries(
        {},
        optional={
            "exp": NUMERIC_DATE,
            "nbf": NUMERIC_DATE,
            "iat": NUMERIC_DATE,
            "aud": AUDIENCE_CLAIM,
            "iss": st.sampled_from(ISSUERS) | JSON,
            "sub": st.text(max_size=8) | JSON,
            "jti": st.text(max_size=8) | JSON,
        },
    ),
)


def headers(family: Family, *, hostile: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    if not hostile:  # the right alg, and parameters that do not make a token invalid
        return st.builds(
            lambda base, extra: {**extra, **base},
            st.fixed_dictionaries(
                {"alg": st.just(family.alg)},
                optional={
                    "typ": st.sampled_from(["JWT", "at+jwt"]),
                    "kid": st.text(max_size=6),
                    "b64": st.just(True),
                    "jku": st.just("https://attacker.example/jwks.json"),
                },
            ),
            st.dictionaries(st.text(max_size=6).filter(lambda k: k != "crit"), JSON, max_size=2),
        )
    algs = st.one_of(
        st.just(family.alg),
        st.just(family.alg),
        st.sampled_from([family.sibling, "HS256", "RS256", "ES256", "PS256", "EdDSA"]),
        st.sampled_from(["none", "None", "NONE", "", family.alg.lower(), family.alg + " "]),
        SCALARS,
    )
    return st.builds(
        lambda base, extra: {**extra, **base},
        st.fixed_dictionaries(
            {"alg": algs},
            optional={
                "typ": st.sampled_from(["JWT", "at+jwt", "JOSE"]) | SCALARS,
                "kid": st.text(max_size=6) | SCALARS,
                "crit": st.lists(st.sampled_from(["b64", "exp", "kid"]), max_size=2) | SCALARS,
                "b64": st.booleans() | SCALARS,
                "cty": st.just("JWT"),
                "jku": st.just("https://attacker.example/jwks.json"),
                "x5u": st.just("https://attacker.example/cert.pem"),
                "jwk": st.just({"kty": "oct", "k": b64(b"attacker-chosen-secret-0123456789")}),
            },
        ),
        st.dictionaries(st.text(max_size=6), JSON, max_size=2),
    )


def _escape_all(key: str) -> str:
    return "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else json.dumps(c)[1:-1] for c in key)


LEGAL_STYLES = (
    "compact",
    "spaced",
    "pretty",
    "sorted",
    "unicode",
    "escaped-keys",
    "whitespace",
    "duplicate-first",
    "duplicate-last",
)
BROKEN_STYLES = ("bom", "utf-16", "nan", "huge-int", "deep", "not-object", "trailing")


@st.composite
def render(  # noqa: C901, PLR0911, PLR0912 - one branch per spelling it can draw
    draw: st.DrawFn, value: dict[str, Any], *, hostile: bool = True
) -> bytes:
    """``value`` as JSON text, in one of many legal, odd or broken spellings."""
    compact = json.dumps(value, separators=(",", ":"))
    style = draw(st.sampled_from(LEGAL_STYLES + BROKEN_STYLES if hostile else LEGAL_STYLES))
    if style == "spaced":
        return json.dumps(value).encode()
    if style == "pretty":
        return json.dumps(value, indent=2).encode()
    if style == "sorted":
        return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    if style == "unicode":
        return json.dumps(value, ensure_ascii=False).encode()
    if style == "escaped-keys":
        members = (f'"{_escape_all(k)}":{json.dumps(v)}' for k, v in value.items())
        return ("{" + ",".join(members) + "}").encode()
    if style == "whitespace":
        return (" \r\n\t" + compact + "\n ").encode()
    if style.startswith("duplicate") and value:
        name = draw(st.sampled_from(sorted(value)))
        other = json.dumps({name: draw(JSON)}, separators=(",", ":"))[1:-1]
        if style == "duplicate-first":  # the later, real value wins in both parsers
            return ("{" + other + "," + compact[1:]).encode()
        return (compact[:-1] + "," + other + "}").encode()  # the duplicate wins
    if style == "bom":
        return b"\xef\xbb\xbf" + compact.encode()
    if style == "utf-16":
        return compact.encode("utf-16")
    if style == "nan":
        return (compact[:-1] + ("," if value else "") + '"n":NaN}').encode()
    if style == "huge-int":
        return (compact[:-1] + ("," if value else "") + '"n":' + "9" * 5000 + "}").encode()
    if style == "deep":
        return (
            compact[:-1] + ("," if value else "") + '"n":' + "[" * 3000 + "]" * 3000 + "}"
        ).encode()
    if style == "not-object":
        return draw(
            st.sampled_from([b"[]", b"null", b'"x"', b"1", json.dumps([compact]).encode()])
        )
    if style == "trailing":
        return (compact + draw(st.sampled_from(["x", "}", ",", "\x00"]))).encode()
    return compact.encode()


@st.composite
def signed_tokens(draw: st.DrawFn, family: Family) -> str:
    header = draw(headers(family))
    payload = draw(PAYLOADS)
    signing_input = f"{b64(draw(render(header)))}.{b64(draw(render(payload)))}"
    message = signing_input.encode()
    how = draw(
        st.sampled_from(
            ["right", "right", "right", "right", "wrong-key", "public-as-hmac", "empty"]
        )
    )
    if how == "right":
        signature = family.signing.sign(message)
    elif how == "wrong-key":
        signature = family.wrong_signing.sign(message)
    elif how == "public-as-hmac":  # the classic algorithm confusion forgery
        signature = hmac.digest(EC_PUBLIC_PEM, message, "sha256")
    else:
        signature = b""
    return f"{signing_input}.{b64(signature)}"


ODD_CHARACTERS = "=.+/ \n\t\x00é"
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@st.composite
def mutated(  # noqa: C901, PLR0911, PLR0912 - one branch per mutation it can draw
    draw: st.DrawFn, token: str, family: Family
) -> str:
    """``token``, most often unchanged, otherwise with one mutation."""
    kind = draw(
        st.sampled_from(
            [
                "none",
                "none",
                "none",
                "flip",
                "insert",
                "delete",
                "swap-segments",
                "pad",
                "re-alg",
                "non-canonical",
                "swapcase",
                "drop-signature",
                "extra-segment",
            ]
        )
    )
    segments = token.split(".")
    if kind == "flip" and token:
        at = draw(st.integers(0, len(token) - 1))
        char = draw(st.sampled_from(BASE64URL + ODD_CHARACTERS))
        return token[:at] + char + token[at + 1 :]
    if kind == "insert":
        at = draw(st.integers(0, len(token)))
        return token[:at] + draw(st.sampled_from(ODD_CHARACTERS)) + token[at:]
    if kind == "delete" and token:
        at = draw(st.integers(0, len(token) - 1))
        return token[:at] + token[at + 1 :]
    if kind == "swap-segments" and len(segments) == 3:
        i, j = draw(st.sampled_from([(0, 1), (0, 2), (1, 2)]))
        segments[i], segments[j] = segments[j], segments[i]
        return ".".join(segments)
    if kind == "pad" and len(segments) == 3:
        index = draw(st.integers(0, 2))
        segments[index] += draw(st.sampled_from(["=", "==", "==="]))
        return ".".join(segments)
    if kind == "re-alg" and len(segments) == 3:
        try:
            header = json.loads(b64decode(segments[0]))
        except (ValueError, RecursionError):
            return token
        if isinstance(header, dict):
            header["alg"] = draw(st.sampled_from([family.sibling, "HS256", "ES256", "none"]))
            segments[0] = b64(json.dumps(header, separators=(",", ":")).encode())
        return ".".join(segments)
    if kind == "non-canonical" and len(segments) == 3:
        # Set trailing bits that canonical base64url leaves at zero: same bytes,
        # different string.
        index = draw(st.integers(0, 2))
        segment = segments[index]
        if len(segment) % 4 in (2, 3):
            last = BASE64URL.index(segment[-1])
            bits = 0b1111 if len(segment) % 4 == 2 else 0b11
            segments[index] = segment[:-1] + BASE64URL[last | draw(st.integers(1, bits))]
        return ".".join(segments)
    if kind == "swapcase":
        index = draw(st.integers(0, len(segments) - 1))
        segments[index] = segments[index].swapcase()
        return ".".join(segments)
    if kind == "drop-signature":
        return ".".join(segments[:2]) + "."
    if kind == "extra-segment":
        return token + "." + draw(st.sampled_from(["", "e30", segments[-1]]))
    return token


@st.composite
def well_signed_tokens(draw: st.DrawFn, family: Family) -> str:
    """Legal JSON, the right alg and key, no mutation: only the claims decide."""
    header = draw(render(draw(headers(family, hostile=False)), hostile=False))
    payload = draw(render(draw(PAYLOADS), hostile=False))
    signing_input = f"{b64(header)}.{b64(payload)}"
    return f"{signing_input}.{b64(family.signing.sign(signing_input.encode()))}"


def fuzzed(family: Family) -> st.SearchStrategy[str]:
    hostile = signed_tokens(family).flatmap(lambda token: mutated(token, family))
    return st.one_of(well_signed_tokens(family), hostile)


def _hs256(header: bytes, payload: bytes) -> str:
    signing_input = f"{b64(header)}.{b64(payload)}"
    return f"{signing_input}.{b64(HS256.signing.sign(signing_input.encode()))}"


# --- the properties -------------------------------------------------------------------


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(token=fuzzed(HS256), policy=policies(HS256))
def test_hs256_whatever_we_accept_pyjwt_accepts_alike(token: str, policy: Policy) -> None:
    assert_subset(token, HS256, policy)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(token=fuzzed(ES256), policy=policies(ES256))
def test_es256_whatever_we_accept_pyjwt_accepts_alike(token: str, policy: Policy) -> None:
    assert_subset(token, ES256, policy)


@st.composite
def around_the_boundaries(draw: st.DrawFn) -> tuple[dict[str, Any], Policy]:
    """exp near NOW - leeway, nbf and iat near NOW + leeway: where rounding would show."""
    leeway = draw(st.sampled_from(LEEWAYS))
    policy = Policy(frozenset({"HS256"}), leeway, None, None, True, draw(st.booleans()))
    near = st.sampled_from([-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0])
    claims: dict[str, Any] = {}
    for name, side in (("exp", -1), ("nbf", 1), ("iat", 1)):
        if draw(st.booleans()):
            value = NOW + side * leeway + draw(near)
            claims[name] = value if draw(st.booleans()) else int(value)
    return claims, policy


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(case=around_the_boundaries())
def test_numeric_date_boundaries_whatever_we_accept_pyjwt_accepts_alike(
    case: tuple[dict[str, Any], Policy],
) -> None:
    claims, policy = case
    assert_subset(_hs256(b'{"alg":"HS256"}', json.dumps(claims).encode()), HS256, policy)


@settings(max_examples=150, deadline=None)
@given(
    payload=st.fixed_dictionaries(
        {"sub": st.text(max_size=8)},
        optional={
            "exp": st.integers(min_value=int(NOW) + 2, max_value=int(NOW) + 10**6),
            "nbf": st.integers(min_value=int(NOW) - 10**6, max_value=int(NOW) + 60),
            "aud": st.sampled_from(AUDIENCES),
            "iss": st.sampled_from(ISSUERS),
            "jti": st.text(max_size=8),
        },
    ),
    policy=policies(HS256),
)
def test_well_formed_tokens_get_the_same_verdict(payload: dict[str, Any], policy: Policy) -> None:
    """On ordinary tokens the two libraries agree both ways, not only one way."""
    token = _hs256(b'{"alg":"HS256","typ":"JWT"}', json.dumps(payload).encode())
    with frozen_clock():
        accepted = ours(token, HS256, policy)
        reference = pyjwt(token, HS256, policy)
    assert isinstance(accepted, Exception) == isinstance(reference, Exception), (
        token,
        policy,
        accepted,
        reference,
    )
    if not isinstance(accepted, Exception):
        assert accepted == reference


STRICT = Policy(frozenset({"HS256"}), 0.0, None, None, verify_sub=True, verify_exp=True)


def test_the_harness_sees_acceptance() -> None:
    """Guard against a property that passes because every token is refused."""
    token = _hs256(b'{"alg":"HS256"}', b'{"exp":1700000060}')
    with frozen_clock():
        assert ours(token, HS256, STRICT) == {"exp": 1700000060}
        assert pyjwt(token, HS256, STRICT) == {"exp": 1700000060}
    # Outside the frozen clock the token is long expired, for both: the clock
    # is frozen for each library, not merely for one.
    assert isinstance(ours(token, HS256, STRICT), exc.ExpiredSignatureError)
    assert isinstance(pyjwt(token, HS256, STRICT), jwt.ExpiredSignatureError)
    early = _hs256(b'{"alg":"HS256"}', b'{"nbf":1700000002}')
    with frozen_clock():
        assert isinstance(ours(early, HS256, STRICT), exc.ImmatureSignatureError)
        assert isinstance(pyjwt(early, HS256, STRICT), jwt.ImmatureSignatureError)


def test_pyjwt_refuses_an_aud_claim_when_no_audience_is_configured_by_default() -> None:
    """Why ``verify_aud`` follows the configured audience in :meth:`Policy.pyjwt_options`."""
    token = _hs256(b'{"alg":"HS256"}', b'{"aud":"api"}')
    assert ours(token, HS256, STRICT) == {"aud": "api"}
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, SECRET, algorithms=["HS256"])
    assert pyjwt(token, HS256, STRICT) == {"aud": "api"}


# --- what this property found, fixed and pinned ------------------------------------

#: Tokens flask-jwtx used to accept while PyJWT 2.15 refused them, all HS256
#: with the test SECRET, checked at the frozen NOW with :data:`STRICT`. Each
#: is now refused by the token core too:
#:
#: ``b64-false``: the header says ``"b64": false`` (RFC 7797, unencoded
#: payload) without listing ``b64`` in ``crit``. We ignored the non-critical
#: parameter and base64url-decoded the payload as usual; PyJWT understands
#: ``b64`` and refuses ("Payload segment must be empty when 'b64' is false").
#:
#: ``fractional-exp``: ``exp`` is 0.5 s after NOW (1700000000.25). It was not
#: expired for us; PyJWT truncates it with ``int()`` to 1700000000 <= NOW, and
#: so do we now (a fractional part never extends a token's life).
#:
#: ``kid-null`` and ``crit-null``: the header has ``"kid": null`` or
#: ``"crit": null``. We treated a null parameter as absent; PyJWT refuses a
#: present ``kid`` that is not a string ("Key ID header parameter must be a
#: string") and a present ``crit`` that is not a non-empty list.
FORMER_FINDINGS = {
    "crit-null": _hs256(b'{"alg":"HS256","crit":null}', b'{"sub":"alice"}'),
    "b64-false": _hs256(b'{"alg":"HS256","b64":false}', b'{"sub":"alice"}'),
    "fractional-exp": _hs256(b'{"alg":"HS256"}', b'{"exp":1700000000.75}'),
    "kid-null": _hs256(b'{"alg":"HS256","kid":null}', b'{"sub":"alice"}'),
}


@pytest.mark.parametrize("name", sorted(FORMER_FINDINGS))
def test_former_findings_are_refused_like_pyjwt_does(name: str) -> None:
    token = FORMER_FINDINGS[name]
    with frozen_clock():
        assert isinstance(pyjwt(token, HS256, STRICT), Exception)
        assert isinstance(ours(token, HS256, STRICT), Exception)
