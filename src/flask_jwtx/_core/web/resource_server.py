"""flask-jwtx as an OAuth 2.0 protected resource: DPoP requests, challenges, metadata.

Three things, each switched on by settings (``flask_jwtx._core.oauth.resource_policy``)
and each off by default, so an app that sets none of them sees no change:

* **The DPoP step** of the verification pipeline (RFC 9449):
  :func:`dpop_token` finds an ``Authorization: DPoP <token>`` credential and
  :func:`verify_dpop` checks the request's ``DPoP`` proof against it (the
  checks themselves are ``flask_jwtx._core.oauth.dpop``'s, Flask-free). The ``jti``
  of each proof is written with the revocation store's atomic
  ``put_if_absent``, so a proof is accepted once across every instance that
  shares the store. Its key kind (``dpop``) is not one a local replica
  holds, so the write and its answer are always the store's own.
* **Challenges** (RFC 6750 section 3, RFC 9449 section 7.1):
  :func:`challenge` adds ``WWW-Authenticate`` to the answers of refused
  requests, next to the JSON body the loaders produce.
* **Metadata** (RFC 9728): :func:`serve_metadata` describes the resource at
  ``/.well-known/oauth-protected-resource``.

The request URL a proof's ``htu`` is compared with is the one Flask sees
(``request.base_url``, as a URI: :func:`request_uri`). Behind a reverse
proxy that terminates TLS or rewrites the host, wrap the app in
``werkzeug.middleware.proxy_fix.ProxyFix`` (configured for the number of
proxies you run) so that URL is the public one clients sign; otherwise
every proof is refused for its ``htu``. That URL's origin comes from the
request's ``Host`` header, which the client chooses:
with ``JWT_RESOURCE`` set, ``htu`` must also name the resource's own origin,
so a proof made for another service cannot be replayed here with its
``Host``; without it, restrict the hosts Flask accepts (``TRUSTED_HOSTS`` or
``SERVER_NAME``, or a proxy that sets ``Host`` itself).

A route declaration that cannot work with the app's settings (DPoP turned
on for a route in an app without a revocation store, or DPoP required where
the route takes tokens only from places a DPoP credential never is) is a
``ConfigurationError`` before the first request is served
(:func:`check_declared_routes`), not a 500 on the first request to that route.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final
from urllib.parse import quote

from flask import Response, after_this_request, current_app, jsonify, make_response, request
from flask.typing import ResponseReturnValue
from werkzeug.urls import iri_to_uri

from ...exceptions import (
    Claims,
    ConfigurationError,
    InsufficientUserAuthenticationError,
    InvalidHeaderError,
    InvalidQueryParamError,
    JWTExtendedException,
    LoginRefusedError,
    NoAuthorizationError,
    SessionNotFoundError,
)
from ..config.settings import Settings
from ..jose.jws import is_token68
from ..oauth.dpop import (
    DPoPBindingError,
    InvalidDPoPCredentialError,
    InvalidDPoPProofError,
    Proof,
    ProofOfPossessionError,
    UseDPoPNonceError,
    check_binding,
    normalize_uri,
    replay_record,
    verify_proof,
)
from ..oauth.resource_policy import ResourcePolicy
from .authorization import AuthorizationError, RouteRequirement, declared_requirements
from .state import get_state

#: The scheme of a DPoP-bound token in the ``Authorization`` header.
DPOP_SCHEME: Final = "dpop"
UNAUTHORIZED: Final = 401
FORBIDDEN: Final = 403
BAD_REQUEST: Final = 400
UNPROCESSABLE: Final = 422

# --- The DPoP step -------------------------------------------------------------------


def dpop_token(settings: Settings) -> str | None:
    """The token of an ``Authorization: DPoP <token>`` header; ``None`` for any other scheme.

    The credential must have RFC 7235's ``token68`` syntax (ASCII letters,
    digits, ``-._~+/``, trailing ``=``): anything else is refused here (401),
    so no later step (decoding, introspection, the ``ath`` hash) is handed
    text that is no token.
    """
    value = request.headers.get(settings.header_name, "").strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() != DPOP_SCHEME:
        return None
    token = rest.strip()
    if not token or " " in token or "," in token:
        raise InvalidHeaderError(
            f"Bad {settings.header_name} header. Expected '{settings.header_name}: DPoP <JWT>'"
        )
    if not is_token68(token):
        raise InvalidDPoPCredentialError(
            "The DPoP credential is not a token: only ASCII letters, digits and -._~+/ "
            "(then '=') are allowed"
        )
    return token


def bearer_refused() -> DPoPBindingError:
    """What a request without the ``DPoP`` scheme gets on a route that requires it."""
    return DPoPBindingError("This resource requires a DPoP-bound token and a DPoP proof")


def verify_dpop(settings: Settings, encoded: str, claims: Claims) -> None:
    """Check this request's ``DPoP`` proof for ``encoded`` (verified: ``claims``).

    Proof, binding (``cnf.jkt``), then the single use of its ``jti``, in
    that order: a proof that fails a check is not recorded, so it cannot be
    used to burn a ``jti`` its client has yet to send.
    """
    proof, now = _request_proof(settings, encoded)
    check_binding(claims, proof)
    _use_once(settings, proof, now)


def dpop_binding() -> dict[str, Any]:
    """Claims that bind a token about to be minted to the request's DPoP key (``cnf.jkt``).

    For this app's own token endpoints (login, refresh): the client sends a
    ``DPoP`` proof with the request (``htm``/``htu`` of this request, no
    ``ath``); the proof is checked like any other, its ``jti`` used once,
    and the answer is the claims to mint with::

        access = create_access_token(user.id, additional_claims=dpop_binding())

    The tokens are then DPoP-bound: every route refuses them as bearer
    tokens, and accepts them under the ``DPoP`` scheme with a proof of the
    same key. Raises ``InvalidDPoPProofError`` (401)
    when the request has no valid proof.
    """
    settings = get_state().settings.get()
    proof, now = _request_proof(settings, None)
    _use_once(settings, proof, now)
    return {"cnf": {"jkt": proof.jkt}}


def _request_proof(settings: Settings, access_token: str | None) -> tuple[Proof, float]:
    """This request's one ``DPoP`` proof, checked (``ath`` against ``access_token`` if given).

    Returns the proof and the time it was checked at, for the single-use
    record the caller writes once its own checks passed.
    """
    proofs = request.headers.getlist("DPoP")
    if len(proofs) != 1:
        raise InvalidDPoPProofError("Exactly one DPoP header with a proof is required")
    now = time.time()
    proof = verify_proof(
        proofs[0].strip(),
        method=request.method,
        url=request_uri(),
        access_token=access_token,
        policy=settings.resource.dpop,
        now=now,
        resource=settings.resource.resource,
        nonce_scope=nonce_scope(settings),
    )
    return proof, now


#: What stays as it is when the request's decoded path is encoded again: the
#: unreserved characters, the path's own delimiters and the sub-delimiters.
#: Not ``%``: a ``%`` in the decoded path was sent as ``%25``.
_PATH_SAFE: Final = "/:@!$&'()*+,;=-._~"


def request_uri() -> str | None:
    """This request's URL without its query, as a URI: what a proof's ``htu`` names.

    Werkzeug's ``request.base_url`` is an IRI: an internationalised host
    (sent as ``xn--...``) and percent-encoded UTF-8 in the path come back
    decoded, which no URI a client signs can equal. Worse, it keeps a ``%``
    of the decoded path as it is, so a path sent as ``/a%2541`` (routed as
    ``/a%41``) read as ``/aA``: a proof for another URL matched. So the
    origin is the host's URI form and the path is the routed one, every
    character outside :data:`_PATH_SAFE` (``%`` included) percent-encoded as
    UTF-8. A host or path that cannot be (a label IDNA refuses, a lone
    surrogate) leaves ``None``, which no proof matches.
    """
    origin = _as_uri(lambda: request.host_url)
    if origin is None:
        return None
    try:
        path = quote((request.script_root + request.path).encode("utf-8"), safe=_PATH_SAFE)
    except UnicodeError:
        return None
    return origin.rstrip("/") + path


def _as_uri(iri: Callable[[], str]) -> str | None:
    """The URI form of a URL Werkzeug builds as an IRI; ``None`` if either step fails.

    Werkzeug decodes ``xn--`` labels of the ``Host`` header while building
    the IRI, and a label that is no valid punycode (``xn--zz``) raises
    there: both steps are guarded, so a client's ``Host`` header is never a
    500.
    """
    try:
        return iri_to_uri(iri())
    except (UnicodeError, ValueError, IndexError):  # IndexError: punycode, on some labels
        return None


def nonce_scope(settings: Settings) -> str:
    """Whom this request's nonces are issued for: ``JWT_RESOURCE``, else the request's origin.

    Bound into each nonce's MAC (``dpop.NonceSource``), so that two services
    sharing ``JWT_DPOP_NONCE_SECRET`` do not accept each other's nonces.
    """
    resource = settings.resource.resource
    if resource is not None:
        return resource
    # "" for a Host no URI can name: such a request's proofs match no URL anyway.
    return normalize_uri(_as_uri(lambda: request.host_url)) or ""


def _use_once(settings: Settings, proof: Proof, now: float) -> None:
    """Record the proof's ``jti`` in the store; refuse a proof already recorded.

    With server nonces on, the answer carries the nonce for the next proof.
    """
    store = settings.revocation_store
    if store is None:
        raise ConfigurationError(
            "DPoP needs JWT_REVOCATION_STORE to keep each proof single-use across instances "
            "(memory:// for one process, redis://... or a SQL URL for several)"
        )
    # Not subject to JWT_REVOCATION_FAILURE_POLICY: with the store down, the
    # proof's single use cannot be established, so the request is refused (503).
    if store.put_if_absent(*replay_record(proof, settings.resource.dpop, now)) is not None:
        raise InvalidDPoPProofError("DPoP proof has already been used")
    nonces = settings.resource.dpop.nonces
    if nonces is not None:  # the nonce for the client's next proof
        scope = nonce_scope(settings)

        @after_this_request
        def _next_nonce(response: Response) -> Response:
            response.headers["DPoP-Nonce"] = nonces.issue(time.time(), scope)
            return response


# --- Challenges ----------------------------------------------------------------------

#: RFC 6750 section 3: what a quoted attribute value may hold.
_UNQUOTABLE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def _quoted(value: str) -> str:
    return '"' + _UNQUOTABLE.sub("'", value)[:200] + '"'


def _route_requirements() -> tuple[RouteRequirement, ...]:
    """What the requested view declared (``jwt_required``), outermost first."""
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return ()
    found = declared_requirements(view)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        found += declared_requirements(getattr(view_class, request.method.lower(), None))
    return found


def _route_mode(requirements: Iterable[RouteRequirement], policy: ResourcePolicy) -> str:
    for requirement in requirements:
        if requirement.dpop is not None:
            return requirement.dpop
    return policy.dpop.mode


def _route_scopes(requirements: Iterable[RouteRequirement]) -> list[str]:
    scopes: dict[str, None] = {}
    for requirement in requirements:
        needs = requirement.authorization
        if needs is not None and needs.scopes:
            scopes.update(dict.fromkeys(needs.scopes))
    return list(scopes)


def _error_code(error: JWTExtendedException) -> str | None:
    """The RFC 6750 / RFC 9449 error code for ``error``; ``None`` when no token was sent."""
    if isinstance(error, ProofOfPossessionError):
        return error.challenge
    if isinstance(error, NoAuthorizationError):
        return None
    if isinstance(error, InvalidHeaderError | InvalidQueryParamError):
        return "invalid_request"
    if isinstance(error, AuthorizationError):
        return "insufficient_scope"
    if isinstance(error, InsufficientUserAuthenticationError):
        return error.code  # RFC 9470
    return "invalid_token"


def _challenge(scheme: str, attributes: dict[str, str | None]) -> str:
    parts = [f"{name}={_quoted(value)}" for name, value in attributes.items() if value]
    return f"{scheme} {', '.join(parts)}" if parts else scheme


def _wants_challenge(error: JWTExtendedException, policy: ResourcePolicy, mode: str) -> bool:
    if isinstance(error, LoginRefusedError | SessionNotFoundError):
        return False
    return policy.challenges or mode != "off" or isinstance(error, ProofOfPossessionError)


def challenge(answer: ResponseReturnValue, error: JWTExtendedException) -> ResponseReturnValue:
    """``answer`` (a loader's response to ``error``) with its ``WWW-Authenticate`` challenge.

    Unchanged unless challenges are on (``JWT_WWW_AUTHENTICATE``, automatic
    with ``JWT_RESOURCE``), the route accepts DPoP, or the error is a DPoP
    one: RFC 9449 answers those with a ``DPoP`` challenge whatever the
    setting. On a resource server
    (``JWT_RESOURCE``) an invalid token is answered 401 and a malformed
    request 400, as RFC 6750 asks, instead of Flask-JWT-Extended's 422.
    """
    settings = get_state().settings.get()
    policy = settings.resource
    requirements = _route_requirements()
    mode = _route_mode(requirements, policy)
    if not _wants_challenge(error, policy, mode):
        return answer
    response = make_response(answer)
    code = _error_code(error)
    if policy.resource is not None and response.status_code == UNPROCESSABLE:
        response.status_code = BAD_REQUEST if code == "invalid_request" else UNAUTHORIZED
    if response.status_code not in (UNAUTHORIZED, FORBIDDEN, BAD_REQUEST, UNPROCESSABLE):
        return response
    common: dict[str, str | None] = {
        "error": code,
        "error_description": str(error) if code else None,
    }
    if code == "insufficient_scope":
        common["scope"] = " ".join(_route_scopes(requirements)) or None
    if isinstance(error, InsufficientUserAuthenticationError):
        # What the client asks the authorization server for (RFC 9470 section 3).
        common["max_age"] = None if error.max_age is None else str(error.max_age)
        common["acr_values"] = " ".join(error.acr_values) if error.acr_values else None
    common["resource_metadata"] = policy.metadata_url
    dpop_request = isinstance(error, ProofOfPossessionError) or (
        request.headers.get(settings.header_name, "").lower().startswith("dpop ")
    )
    algs: dict[str, str | None] = {"algs": " ".join(sorted(policy.dpop.algorithms))}
    headers = response.headers
    if mode != "required" and not isinstance(error, ProofOfPossessionError):
        bearer = common if not dpop_request else {"resource_metadata": policy.metadata_url}
        headers.add("WWW-Authenticate", _challenge("Bearer", bearer))
    if mode != "off" or isinstance(error, ProofOfPossessionError):
        dpop = {**algs, **common} if dpop_request or mode == "required" else algs
        headers.add("WWW-Authenticate", _challenge("DPoP", dpop))
    nonces = policy.dpop.nonces
    if isinstance(error, UseDPoPNonceError) and nonces is not None:
        headers["DPoP-Nonce"] = nonces.issue(time.time(), nonce_scope(settings))
    return response


# --- Metadata (RFC 9728) -------------------------------------------------------------


def declared_routes(app: Any) -> Iterator[tuple[str, RouteRequirement]]:
    """Every ``jwt_required`` declaration of ``app``'s views, with its endpoint.

    A class-based view's methods (``MethodView``, Flask-RESTX resources)
    are read too. ``verify_jwt_in_request`` called inside a view declares
    nothing that can be read here.
    """
    for endpoint, view in app.view_functions.items():
        for requirement in declared_requirements(view):
            yield endpoint, requirement
        view_class = getattr(view, "view_class", None)
        for method in ("get", "post", "put", "patch", "delete", "head", "options"):
            handler = getattr(view_class, method, None) if view_class is not None else None
            if handler is not None:
                for requirement in declared_requirements(handler):
                    yield endpoint, requirement


def _all_requirements() -> Iterable[RouteRequirement]:
    return (requirement for _, requirement in declared_routes(current_app))


def _named(endpoints: list[str]) -> str:
    shown = ", ".join(repr(e) for e in endpoints[:5])
    more = len(endpoints) - 5
    return f"{shown} and {more} more" if more > 0 else shown


#: Why a DPoP mode cannot work: no store to keep proofs single-use.
STORELESS: Final = "store"
#: Why a DPoP mode cannot work: required where the Authorization header is not read.
HEADERLESS: Final = "headers"


def unworkable(mode: str, where: Sequence[str], settings: Settings) -> str | None:
    """Why DPoP ``mode`` cannot work for a check reading tokens from ``where``; ``None`` if it can.

    :data:`STORELESS`: DPoP is on but there is no ``JWT_REVOCATION_STORE``,
    so no proof could be kept single-use (every DPoP request would fail).
    :data:`HEADERLESS`: DPoP is required but the ``Authorization`` header,
    the only place a DPoP credential is sent, is not read (no request could
    pass).
    """
    if mode == "off":
        return None
    if settings.revocation_store is None:
        return STORELESS
    if mode == "required" and "headers" not in where:
        return HEADERLESS
    return None


def _storeless_fix(what: str) -> str:
    return (
        f"{what}, but there is no JWT_REVOCATION_STORE to make each proof single-use. Set "
        "JWT_REVOCATION_STORE (memory:// for one process; redis://... or a SQL URL shared "
        "by every instance), or remove dpop= from those routes."
    )


def _headerless_fix(what: str) -> str:
    return (
        f"{what}, where no token is read from the Authorization header, the only place a "
        "DPoP-bound token is presented: no request could pass. Add 'headers' to their "
        "locations (for the auth blueprint: create_auth_blueprint(..., mode='headers')), or "
        "make DPoP 'allowed' there (JWT_DPOP, or jwt_required(dpop='allowed'))."
    )


def check_declared_routes(app: Any, settings: Settings) -> None:
    """Refuse route declarations whose DPoP mode cannot work with ``settings``.

    Run by ``init_app`` on the routes declared so far and again before the
    first request is served, when Flask allows no more routes (so every
    route is seen); either way before any request reaches such a route,
    where the same problem would otherwise be a 500:

    * a route that turns DPoP on (``jwt_required(dpop=...)``) in an app
      without ``JWT_REVOCATION_STORE``: proofs could not be kept single-use;
    * a route where DPoP is required but tokens are read only from cookies,
      the query string or the body: a DPoP credential is only ever sent in
      the ``Authorization`` header, so no request could pass (the
      cookie-mode auth blueprint in a ``JWT_DPOP = "required"`` app is one).

    What this cannot see (``verify_jwt_in_request(dpop=...)`` called in a
    view or a ``before_request`` function, a ``jwt_required`` hidden by a
    decorator that drops ``__wrapped__``) :func:`check_store` refuses on
    every request that reaches it when it lacks the store.
    """
    default = settings.resource.dpop.mode
    found: dict[str, list[str]] = {STORELESS: [], HEADERLESS: []}
    for endpoint, requirement in declared_routes(app):
        mode = requirement.dpop or default
        problem = unworkable(mode, requirement.locations or settings.token_location, settings)
        if problem is not None and endpoint not in found[problem]:
            found[problem].append(endpoint)
    if found[STORELESS]:
        named = _named(sorted(found[STORELESS]))
        raise ConfigurationError(
            _storeless_fix(f"jwt_required(dpop=...) turns DPoP on for {named}")
        )
    if found[HEADERLESS]:
        named = _named(sorted(found[HEADERLESS]))
        raise ConfigurationError(_headerless_fix(f"DPoP is required on {named}"))


def check_store(mode: str, settings: Settings) -> None:
    """Refuse, on every request, a check that turns DPoP on in an app without a store.

    The request-time half of :func:`check_declared_routes`, for the checks
    it cannot read before a request. Without it such a check lets bearer
    requests through and answers the first DPoP request with a 500, so the
    mistake shows only once a DPoP client comes. (DPoP required where no
    header is read is not refused here: it refuses every request, 401, and
    the auth blueprint's logouts try the body's refresh token that way.)
    """
    if mode != "off" and settings.revocation_store is None:
        what = (
            f"the token check of endpoint {request.endpoint!r} "
            "(jwt_required or verify_jwt_in_request)"
        )
        raise ConfigurationError(_storeless_fix(f"DPoP is {mode!r} for {what}"))


def metadata_document(settings: Settings) -> dict[str, Any]:
    """The protected resource metadata of this app (RFC 9728 section 2)."""
    policy = settings.resource
    requirements = list(_all_requirements())
    scopes = sorted(set(_route_scopes(requirements)))
    document: dict[str, Any] = {"resource": policy.resource}
    issuers = settings.policy.issuers
    if issuers is not None:
        document["authorization_servers"] = list(issuers)
    elif settings.policy.issuer is not None:
        document["authorization_servers"] = [settings.policy.issuer]
    if scopes:
        document["scopes_supported"] = scopes
    methods = {"headers": "header", "query_string": "query"}
    document["bearer_methods_supported"] = [
        methods[where] for where in settings.token_location if where in methods
    ]
    modes = {policy.dpop.mode, *(r.dpop for r in requirements if r.dpop is not None)}
    if modes - {"off"}:
        document["dpop_signing_alg_values_supported"] = sorted(policy.dpop.algorithms)
    document["dpop_bound_access_tokens_required"] = policy.dpop.mode == "required"
    return document


def serve_metadata() -> Response:
    """``GET /.well-known/oauth-protected-resource[/path]``: the metadata, as JSON."""
    response = jsonify(metadata_document(get_state().settings.get()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


#: The endpoint name of the metadata route.
METADATA_ENDPOINT: Final = "flask_jwtx_resource_metadata"


def register(app: Any, policy: ResourcePolicy) -> None:
    """Serve the metadata when the app is a resource server (``JWT_RESOURCE``)."""
    path = policy.metadata_path
    if path is not None and METADATA_ENDPOINT not in app.view_functions:
        app.add_url_rule(path, METADATA_ENDPOINT, serve_metadata)
