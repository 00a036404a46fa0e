"""OpenAPI documentation read from the ``jwt_required`` declarations themselves.

A route says once what it needs (``@jwt_required(fresh=True, scope="reports:read")``)
and the request path enforces exactly that. Writing the same requirement a
second time for the API documentation (``@doc(security=...)``, a list of
error responses) is how the two drift apart, so this module reads the
declaration that ``jwt_required`` attaches to the view
(``declared_requirements``) and adds to a
generated document:

- the security schemes, once: ``http``/``bearer`` (``bearerFormat: JWT``) for
  the ``Authorization: Bearer`` header (an ``apiKey`` header for any other
  header name or type), an ``apiKey`` cookie and the CSRF header in cookie
  mode, an ``apiKey`` query parameter for the query string;
- per protected operation, its ``security`` (the token's locations as
  alternatives, the CSRF header alongside the cookie for the methods in
  ``JWT_CSRF_METHODS``, ``{}`` for ``optional=True``), the 401 and 422
  answers every protected route can give, the 403 of a route with
  ``claims``/``scope``/``override``, all with the ``{JWT_ERROR_MESSAGE_KEY: ...}``
  body, and ``x-jwt`` / ``x-required-scopes`` extensions.

The core (:func:`annotate`) is plain data in, plain data out: a generated
document, the operations found, and the app's ``Settings``.
The framework adapters behind :func:`document` only find the operations and
hook the framework's own spec generation; the frameworks are imported only
there, so none of them is a dependency.

Scopes: OpenAPI 3.0 and Swagger 2.0 require the list in a security
requirement to be empty for anything but OAuth 2 / OpenID Connect schemes; a
JWT checked by this app is neither, so there the scopes go into
``x-required-scopes`` and the operation's description. OpenAPI 3.1 allows
"role names" in that list for any scheme, and there they appear in the list
too. ``docs/openapi.md`` argues this choice.
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any, Final

from flask import Flask, current_app, has_app_context

from ._core.config.settings import Settings
from ._core.web.authorization import RouteRequirement, declared_requirements
from ._core.web.state import EXTENSION_KEY, AppState
from .exceptions import ConfigurationError

__all__ = [
    "ERROR_SCHEMA",
    "Operation",
    "annotate",
    "document",
    "rule_operations",
    "rule_path",
    "security_schemes",
]

#: The names of the schemes this module registers (``jwt_`` is ours: a
#: scheme of that name already in the document is replaced).
HEADER: Final = "jwt_header"
COOKIE: Final = "jwt_cookie"
REFRESH_COOKIE: Final = "jwt_refresh_cookie"
CSRF: Final = "jwt_csrf"
REFRESH_CSRF: Final = "jwt_refresh_csrf"
_CSRF_SCHEMES: Final = frozenset({CSRF, REFRESH_CSRF})
QUERY: Final = "jwt_query"
#: The response body schema of every error answer.
ERROR_SCHEMA: Final = "JWTError"

#: Methods frameworks never document (and flask-jwtx never checks: OPTIONS).
_UNDOCUMENTED: Final = frozenset({"HEAD", "OPTIONS"})
#: ``<int:user_id>`` -> ``{user_id}``, as apispec's and APIFlask's Flask plugins write it.
_RULE_VARIABLE: Final = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_OPENAPI_3_1: Final = re.compile(r"3\.(?!0\.)\d+")


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented operation and what its view declared (outermost first)."""

    path: str
    #: Lower case, as OpenAPI's path items name operations.
    method: str
    requirements: tuple[RouteRequirement, ...]


# -- the core: a generated document in, an annotated copy out ----------------------------


def _dialect(spec: Mapping[str, Any]) -> str:
    """``"2.0"``, ``"3.0"`` or ``"3.1"``: what the document may contain."""
    if str(spec.get("swagger", "")).startswith("2."):
        return "2.0"
    version = str(spec.get("openapi", ""))
    if version.startswith("3."):
        return "3.1" if _OPENAPI_3_1.match(version) else "3.0"
    raise ValueError(f"not an OpenAPI 3 or Swagger 2.0 document (openapi={version!r})")


def _header_scheme(settings: Settings, dialect: str) -> dict[str, Any]:
    kind = settings.header_type
    shape = f"{settings.header_name}: {kind} <JWT>" if kind else f"{settings.header_name}: <JWT>"
    is_bearer = settings.header_name.lower() == "authorization" and kind.lower() == "bearer"
    if is_bearer and dialect != "2.0":
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": f"A JSON Web Token: `{shape}`.",
        }
    return {
        "type": "apiKey",
        "in": "header",
        "name": settings.header_name,
        "description": f"A JSON Web Token: `{shape}`.",
    }


def _cookie_scheme(settings: Settings, refresh: bool, dialect: str) -> dict[str, Any]:
    cookie = settings.cookies_for(refresh)
    kind = "refresh" if refresh else "access"
    setter = f"set_{kind}_cookies"
    if dialect == "2.0":  # Swagger 2.0 has no cookie location: the token rides in Cookie
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Cookie",
            "description": f"The {kind} token in the `{cookie.name}` cookie (`{setter}`).",
        }
    return {
        "type": "apiKey",
        "in": "cookie",
        "name": cookie.name,
        "description": f"The {kind} token (JWT), in the cookie `{setter}` sets.",
    }


def _csrf_scheme(settings: Settings, refresh: bool) -> dict[str, Any]:
    cookie = settings.cookies_for(refresh)
    source = (
        f"the value of the `{cookie.csrf_name}` cookie"
        if settings.csrf_in_cookies
        else "the token's `csrf` claim (`get_csrf_token`)"
    )
    form = f" or in the form field `{cookie.csrf_field}`" if settings.csrf_check_form else ""
    methods = ", ".join(sorted(settings.csrf_methods))
    return {
        "type": "apiKey",
        "in": "header",
        "name": cookie.csrf_header,
        "description": (
            f"Double-submit CSRF protection of the token cookie: {source}, sent back "
            f"in this header{form} with every {methods} request."
        ),
    }


def _query_scheme(settings: Settings) -> dict[str, Any]:
    prefix = settings.query_string_value_prefix
    value = f"`{prefix}<JWT>`" if prefix else "the JSON Web Token"
    return {
        "type": "apiKey",
        "in": "query",
        "name": settings.query_string_name,
        "description": f"{value} in the query string.",
    }


def _csrf_name(refresh: bool) -> str:
    # One scheme per token kind, as for the cookies, even when both send the
    # same header: the value comes from a different cookie (csrf_refresh_token
    # on refresh routes), and a scheme shared by both would describe one only.
    return REFRESH_CSRF if refresh else CSRF


def _alternatives(
    settings: Settings, locations: Iterable[str], refresh: bool, method: str, dialect: str
) -> list[dict[str, dict[str, Any]]]:
    """Each way the request may carry its token: ``{scheme name: scheme}``, in order.

    A token in the JSON body has no OpenAPI security scheme; it is named in
    ``x-jwt`` and the description instead.
    """
    found: list[dict[str, dict[str, Any]]] = []
    for location in locations:
        if location == "headers":
            found.append({HEADER: _header_scheme(settings, dialect)})
        elif location == "cookies":
            name = REFRESH_COOKIE if refresh else COOKIE
            alternative = {name: _cookie_scheme(settings, refresh, dialect)}
            if settings.csrf_protect and method.upper() in settings.csrf_methods:
                alternative[_csrf_name(refresh)] = _csrf_scheme(settings, refresh)
            found.append(alternative)
        elif location == "query_string":
            found.append({QUERY: _query_scheme(settings)})
    return found


def security_schemes(settings: Settings, dialect: str = "3.0") -> dict[str, dict[str, Any]]:
    """The schemes for the app's ``JWT_TOKEN_LOCATION`` (access tokens, every method)."""
    schemes: dict[str, dict[str, Any]] = {}
    for method in ("GET", *sorted(settings.csrf_methods)):
        for alternative in _alternatives(
            settings, settings.token_location, False, method, dialect
        ):
            schemes.update(alternative)
    return schemes


@dataclass(frozen=True, slots=True)
class _Summary:
    """Several ``jwt_required`` on one view, read as the one requirement they add up to."""

    locations: tuple[str, ...]
    #: The locations in words: "the `Authorization` header"...
    places: tuple[str, ...]
    refresh: bool
    any_type: bool
    optional: bool
    fresh: bool
    scopes: tuple[str, ...]
    claims: tuple[str, ...]
    authorization: bool

    @classmethod
    def of(cls, requirements: tuple[RouteRequirement, ...], settings: Settings) -> _Summary:
        # The outermost declaration runs first and decides where the token is read.
        first = requirements[0]
        scopes: dict[str, None] = {}
        claims: dict[str, None] = {}
        for requirement in requirements:
            granted = requirement.authorization
            if granted is None:
                continue
            scopes.update(dict.fromkeys(granted.scopes or ()))
            if granted.scope_object is not None:
                claims["scope"] = None
            claims.update(dict.fromkeys(granted.claims or {}))
        locations = first.locations or settings.token_location
        return cls(
            locations=locations,
            places=tuple(_place(settings, location, first.refresh) for location in locations),
            refresh=first.refresh,
            any_type=not first.verify_type,
            optional=all(r.optional for r in requirements),
            fresh=any(r.fresh for r in requirements),
            scopes=tuple(scopes),
            claims=tuple(claims),
            authorization=any(r.authorization is not None for r in requirements),
        )

    def describe(self) -> str:
        kind = "access or refresh" if self.any_type else "refresh" if self.refresh else "access"
        article = "a fresh" if self.fresh else "an" if kind.startswith("a") else "a"
        text = f"Requires {article} {kind} token (JWT) in {_joined(self.places)}"
        if self.scopes:
            text += "; scopes: " + ", ".join(f"`{s}`" for s in self.scopes)
        if self.claims:
            text += "; claims: " + ", ".join(f"`{c}`" for c in self.claims)
        text += "."
        if self.optional:
            text += " Optional: a request without a token is answered too."
        return text

    def extension(self) -> dict[str, Any]:
        return {
            "token": "any" if self.any_type else "refresh" if self.refresh else "access",
            "fresh": self.fresh,
            "optional": self.optional,
            "locations": list(self.locations),
            "scopes": list(self.scopes),
            "claims": list(self.claims),
        }


def _place(settings: Settings, location: str, refresh: bool) -> str:
    cookie = settings.cookies_for(refresh)
    return {
        "headers": f"the `{settings.header_name}` header",
        "cookies": f"the `{cookie.name}` cookie",
        "query_string": f"the `{settings.query_string_name}` query parameter",
        "json": f"the `{cookie.json_key}` key of the JSON body",
    }[location]


def _joined(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _responses(summary: _Summary, csrf_applies: bool) -> dict[str, str]:
    unauthorized = "No token, or an expired or revoked one"
    if summary.fresh:
        unauthorized += ", or one that is not fresh"
    if csrf_applies:
        unauthorized += ", or a cookie without its CSRF value"
    answers = {
        "401": unauthorized + ".",
        "422": (
            "A malformed token, one whose signature or claims do not verify, "
            "or a token of the wrong type."
        ),
    }
    if summary.authorization:
        answers["403"] = "The token does not grant the required scopes or claims."
    return answers


def _error_body(settings: Settings) -> dict[str, Any]:
    key = settings.error_msg_key
    return {
        "type": "object",
        "properties": {key: {"type": "string", "description": "What was wrong."}},
        "required": [key],
    }


def _annotate_operation(
    operation: dict[str, Any],
    summary: _Summary,
    alternatives: list[dict[str, dict[str, Any]]],
    dialect: str,
) -> None:
    roles = list(summary.scopes) if dialect == "3.1" else []
    # A fresh list each: YAML output would otherwise show anchors and aliases.
    # The scopes are the token's: the CSRF header next to a cookie grants none.
    security: list[dict[str, list[str]]] = [
        {name: [] if name in _CSRF_SCHEMES else list(roles) for name in alternative}
        for alternative in alternatives
    ]
    if security:  # a JSON-body-only route has no scheme: an empty list would mean "public"
        if summary.optional:
            security.append({})
        operation["security"] = security
    csrf_applies = any(_CSRF_SCHEMES.intersection(a) for a in alternatives)
    responses = operation.setdefault("responses", {})
    for status, description in _responses(summary, csrf_applies).items():
        if status in responses or int(status) in responses:
            continue  # the route documented this answer itself: its words win
        if dialect == "2.0":
            schema = {"$ref": f"#/definitions/{ERROR_SCHEMA}"}
            responses[status] = {"description": description, "schema": schema}
        else:
            schema = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
            content = {"application/json": {"schema": schema}}
            responses[status] = {"description": description, "content": content}
    operation["x-jwt"] = summary.extension()
    if summary.scopes:
        operation["x-required-scopes"] = list(summary.scopes)
    existing = operation.get("description")
    operation["description"] = (
        f"{existing}\n\n{summary.describe()}" if existing else (summary.describe())
    )


def annotate(
    spec: Mapping[str, Any], operations: Iterable[Operation], settings: Settings
) -> dict[str, Any]:
    """A copy of ``spec`` documenting the JWT requirements of ``operations``.

    Operations the document does not contain (hidden, or not part of this
    API) are skipped; a response an operation already documents is kept.
    """
    result = copy.deepcopy(dict(spec))
    dialect = _dialect(result)
    paths = result.get("paths") or {}
    schemes = security_schemes(settings, dialect)
    for found in operations:
        operation = (paths.get(found.path) or {}).get(found.method)
        if not isinstance(operation, dict) or not found.requirements:
            continue
        summary = _Summary.of(found.requirements, settings)
        alternatives = _alternatives(
            settings, summary.locations, summary.refresh, found.method, dialect
        )
        for alternative in alternatives:
            schemes.update(alternative)
        _annotate_operation(operation, summary, alternatives, dialect)
    if dialect == "2.0":
        result.setdefault("securityDefinitions", {}).update(schemes)
        result.setdefault("definitions", {})[ERROR_SCHEMA] = _error_body(settings)
    else:
        components = result.setdefault("components", {})
        components.setdefault("securitySchemes", {}).update(schemes)
        components.setdefault("schemas", {})[ERROR_SCHEMA] = _error_body(settings)
    return result


# -- finding the operations of a Flask app ------------------------------------------------


def rule_path(rule: str) -> str:
    """A Flask URL rule as an OpenAPI path: ``/users/<int:id>`` -> ``/users/{id}``."""
    return _RULE_VARIABLE.sub(r"{\1}", rule)


def rule_operations(app: Flask) -> Iterator[Operation]:
    """Every protected (rule, method) of ``app``, as apispec-style documents name them.

    A class-based view's requirements are those of its ``decorators`` (on the
    view function) followed by those of the method itself.
    """
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        outer = declared_requirements(view)
        view_class = getattr(view, "view_class", None)
        for method in sorted((rule.methods or set()) - _UNDOCUMENTED):
            handler = getattr(view_class, method.lower(), None)
            found = outer + declared_requirements(handler)
            if found:
                yield Operation(rule_path(rule.rule), method.lower(), found)


def _declared_by(decorators: Iterable[Any]) -> tuple[RouteRequirement, ...]:
    return tuple(chain.from_iterable(declared_requirements(d) for d in decorators))


def _restx_operations(api: Any) -> Iterator[Operation]:
    """The protected operations of a Flask-RESTX ``Api``, with its Swagger paths."""
    from flask_restx.swagger import extract_path  # optional: imported only for its APIs

    api_level = _declared_by(api.decorators)
    for namespace in api.namespaces:
        ns_level = api_level + _declared_by(namespace.decorators)
        for resource, urls, _route_doc, _kwargs in namespace.resources:
            class_level = ns_level + _declared_by(resource.decorators)
            # Applied in order at dispatch, so the last is the outermost. (Flask-RESTX
            # takes a list only: unlike Flask-RESTful, it has no per-method mapping.)
            method_level = _declared_by(reversed(list(resource.method_decorators)))
            for method in sorted({m.lower() for m in resource.methods or ()}):
                found = (
                    class_level + method_level + declared_requirements(getattr(resource, method))
                )
                if not found:
                    continue
                for url in api.ns_urls(namespace, urls):
                    yield Operation(extract_path(url), method, found)


# -- the framework adapters ---------------------------------------------------------------

_DOCUMENTED: Final = "__flask_jwtx_documented__"


def _settings(app: Flask) -> Settings:
    state = app.extensions.get(EXTENSION_KEY)
    if not isinstance(state, AppState):
        raise ConfigurationError(
            "flask_jwtx.openapi.document() reads the app's JWT settings: "
            "call JWTManager(app) (or jwt.init_app(app)) before the spec is generated"
        )
    return state.settings.get()


def _app_in_context() -> Flask:
    if not has_app_context():
        raise ConfigurationError(
            "flask_jwtx.openapi: the spec is generated from the current app's settings; "
            "generate it inside app.app_context() (the spec endpoint and the "
            "'flask openapi' commands do)"
        )
    return current_app


def _document_apiflask(app: Any) -> None:
    """Post-process APIFlask's generated document through its spec processor hook."""
    previous: Callable[[Any], Any] | None = app.spec_callback
    if getattr(previous, _DOCUMENTED, False):
        return

    def processor(spec: Any) -> Any:
        if previous is not None:
            spec = previous(spec)
        if isinstance(spec, Mapping):
            return annotate(spec, rule_operations(app), _settings(app))
        # SPEC_PROCESSOR_PASS_OBJECT: APIFlask calls .to_dict() on what we return.
        return _Finished(annotate(spec.to_dict(), rule_operations(app), _settings(app)))

    setattr(processor, _DOCUMENTED, True)
    app.spec_processor(processor)


class _Finished:
    """An annotated document standing in for an ``APISpec`` that is only asked ``to_dict()``."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document

    def to_dict(self) -> dict[str, Any]:
        return self._document


def _document_smorest(api: Any) -> None:
    """Wrap this ``Api``'s spec ``to_dict`` (what its endpoint and CLI serve)."""
    spec = api.spec
    if spec is None:
        raise ConfigurationError(
            "flask_jwtx.openapi.document(api): the flask-smorest Api has no app yet; "
            "call it after Api(app) or api.init_app(app)"
        )
    if getattr(spec.to_dict, _DOCUMENTED, False):
        return
    generate = spec.to_dict

    def to_dict() -> dict[str, Any]:
        app = _app_in_context()
        return annotate(generate(), rule_operations(app), _settings(app))

    setattr(to_dict, _DOCUMENTED, True)
    spec.to_dict = to_dict


def _document_restx(api: Any) -> None:
    """Mark the ``Api`` and make Flask-RESTX's Swagger 2.0 generator annotate marked APIs."""
    from flask_restx.swagger import Swagger  # optional: imported only for its APIs

    setattr(api, _DOCUMENTED, True)
    if getattr(Swagger.as_dict, _DOCUMENTED, False):
        return
    generate = Swagger.as_dict

    def as_dict(swagger: Any) -> dict[str, Any]:
        result: dict[str, Any] = generate(swagger)
        if not getattr(swagger.api, _DOCUMENTED, False):
            return result
        app = _app_in_context()  # RESTX itself generates only inside one
        return annotate(result, _restx_operations(swagger.api), _settings(app))

    setattr(as_dict, _DOCUMENTED, True)
    Swagger.as_dict = as_dict


#: Module of the framework's class -> (class name, adapter, what to install).
_FRAMEWORKS: Final[Mapping[str, tuple[str, Callable[[Any], None], str]]] = {
    "apiflask": ("APIFlask", _document_apiflask, "apiflask"),
    "flask_smorest": ("Api", _document_smorest, "flask-smorest"),
    "flask_restx": ("Api", _document_restx, "flask-restx"),
}


def document(api: Any) -> None:
    """Document every ``jwt_required`` route of ``api`` in its generated OpenAPI document.

    ``api`` is an ``apiflask.APIFlask`` app, a ``flask_smorest.Api`` or a
    ``flask_restx.Api``. Call it once, when the API is set up (after
    ``Api(app)`` for flask-smorest, after your own ``spec_processor`` for
    APIFlask). The requirements are read when the document is generated,
    with the app's settings at that time, so routes registered later are
    documented too. Idempotent.
    """
    for module_name, (class_name, adapter, _install) in _FRAMEWORKS.items():
        module = sys.modules.get(module_name)
        framework_class = getattr(module, class_name, None)
        if isinstance(framework_class, type) and isinstance(api, framework_class):
            adapter(api)
            return
    supported = ", ".join(
        f"{module}.{name} (pip install {package})"
        for module, (name, _adapter, package) in _FRAMEWORKS.items()
    )
    raise TypeError(
        f"flask_jwtx.openapi.document() documents an API of {supported}; "
        f"got {type(api).__module__}.{type(api).__qualname__}"
    )
