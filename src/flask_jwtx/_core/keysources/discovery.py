"""A trusted issuer named by its URL alone: its keys found through its metadata.

``JWT_TRUSTED_ISSUERS = ["https://login.example.com/realms/api"]`` (or an
entry without ``jwks_url``) asks the issuer where its keys are: OpenID
Connect Discovery (``<issuer>/.well-known/openid-configuration``), else
RFC 8414 authorization server metadata
(``<origin>/.well-known/oauth-authorization-server<path>``). The document's
``issuer`` must equal the configured one exactly (RFC 8414 section 3.3,
OpenID Connect Discovery section 4.3): otherwise anyone who can serve a
document at that address could name their own keys for an issuer we trust.
Its ``jwks_uri`` is then fetched. An ``https`` issuer's endpoints must be
``https`` too (:func:`check_endpoint`): a document read over TLS that sends
us to plain ``http`` for the keys would let anyone on that path substitute
them, so it is refused (logged, and handled as any failed fetch).

:class:`DiscoveredKeys` is a key source's ``load`` like
``JWKSFetcher``, and is cached the same way by
``CachedKeySource``: the metadata is read again with
each refresh, so an issuer that moves its JWKS is followed. The whole load
(metadata and JWKS) runs within one deadline, ``JWT_JWKS_TIMEOUT``; any
failure is :class:`~flask_jwtx.exceptions.KeySourceUnavailableError`, so a
cached set keeps serving, and with none a request is refused (503).
"""

from __future__ import annotations

import logging
import ssl
import time
from typing import Any, Final
from urllib.parse import urlsplit

from ...exceptions import KeySourceUnavailableError
from ..jose.keyset import KeySet
from .jwks import JWKSFetcher

logger = logging.getLogger("flask_jwtx.jwks")

OIDC_SUFFIX: Final = "/.well-known/openid-configuration"
OAUTH_SUFFIX: Final = "/.well-known/oauth-authorization-server"


def metadata_urls(issuer: str) -> tuple[str, str]:
    """Where ``issuer``'s metadata may be: OpenID Connect's place, then RFC 8414's."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    return (
        issuer.rstrip("/") + OIDC_SUFFIX,
        f"{parts.scheme}://{parts.netloc}{OAUTH_SUFFIX}{path}",
    )


def check_endpoint(issuer: str, name: str, url: Any) -> str:
    """The endpoint ``name`` of ``issuer``'s metadata, if it is usable; raise if not.

    It must be an absolute ``http(s)`` URL, and ``https`` when the issuer is:
    what was read over TLS must not send us on in clear text (the keys, or a
    token sent for introspection, would be open to whoever sits on the path).
    """
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise KeySourceUnavailableError(f"The metadata of {issuer} has no http(s) {name}")
    if issuer.startswith("https://") and not url.startswith("https://"):
        message = (
            f"The metadata of issuer {issuer} names the {name} {url[:200]!r}, which is not "
            "https: refused (an https issuer's endpoints are reached over TLS only)"
        )
        logger.warning(message)
        raise KeySourceUnavailableError(message)
    return url


class _DocumentFetcher(JWKSFetcher):
    """A JSON document (not a key set) fetched with the JWKS fetcher's deadline and size cap."""

    def document(self) -> dict[str, Any]:
        return self._get_json_object()


class DiscoveredKeys:
    """Load ``issuer``'s key set through its metadata; see the module docstring."""

    def __init__(
        self,
        issuer: str,
        *,
        timeout: float = 5.0,
        max_bytes: int = 256 * 1024,
        algorithm: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(issuer)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"an issuer to discover must be an http(s) URL: {issuer!r}")
        if parts.query or parts.fragment:
            raise ValueError(f"an issuer identifier has no query or fragment: {issuer!r}")
        self.issuer = issuer
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.algorithm = algorithm
        self._ssl_context = ssl_context
        # Built now, so a URL the fetcher cannot use fails at start-up.
        self._fetchers = [
            _DocumentFetcher(url, timeout=timeout, max_bytes=max_bytes, ssl_context=ssl_context)
            for url in metadata_urls(issuer)
        ]

    @property
    def url(self) -> str:
        """Where the metadata is looked for first (for messages)."""
        return self._fetchers[0].url

    def _remaining(self, end: float) -> float:
        left = end - time.monotonic()
        if left <= 0:
            raise KeySourceUnavailableError(
                f"Discovery for {self.issuer} did not finish within {self.timeout} s"
            )
        return left

    def metadata(self, end: float) -> dict[str, Any]:
        """The first metadata document found, within the deadline ``end`` (monotonic)."""
        problems: list[str] = []
        for fetcher in self._fetchers:
            fetcher.timeout = self._remaining(end)
            try:
                return fetcher.document()
            except KeySourceUnavailableError as exc:
                problems.append(str(exc))
        raise KeySourceUnavailableError(
            f"No metadata for issuer {self.issuer}: {'; '.join(problems)}"
        )

    def __call__(self) -> KeySet:
        end = time.monotonic() + self.timeout
        document = self.metadata(end)
        named = document.get("issuer")
        if named != self.issuer:
            shown = named if isinstance(named, str) else type(named).__name__
            raise KeySourceUnavailableError(
                f"The metadata of issuer {self.issuer} names the issuer {shown[:200]!r}: refused"
            )
        jwks_uri = check_endpoint(self.issuer, "jwks_uri", document.get("jwks_uri"))
        try:
            fetcher = JWKSFetcher(
                jwks_uri,
                timeout=self._remaining(end),
                max_bytes=self.max_bytes,
                algorithm=self.algorithm,
                ssl_context=self._ssl_context,
            )
        except ValueError as exc:
            raise KeySourceUnavailableError(
                f"Unusable jwks_uri from {self.issuer}: {exc}"
            ) from None
        return fetcher()
