"""A trusted issuer named by its URL alone: its keys found through its metadata.

``JWT_TRUSTED_ISSUERS = ["https://login.example.com/realms/api"]`` (or an
entry without ``jwks_url``) asks the issuer where its keys are: OpenID
Connect Discovery (``<issuer>/.well-known/openid-configuration``), else
RFC 8414 authorization server metadata
(``<origin>/.well-known/oauth-authorization-server<path>``). The document's
``issuer`` must equal the configured one exactly (RFC 8414 section 3.3,
OpenID Connect Discovery section 4.3): otherwise anyone who can serve a
document at that address could name their own keys for an issuer we trust.
Its ``jwks_uri`` is then fetched.

:class:`DiscoveredKeys` is a key source's ``load`` like
``JWKSFetcher``, and is cached the same way by
``CachedKeySource``: the metadata is read again with
each refresh, so an issuer that moves its JWKS is followed. The whole load
(metadata and JWKS) runs within one deadline, ``JWT_JWKS_TIMEOUT``; any
failure is :class:`~flask_jwtx.exceptions.KeySourceUnavailableError`, so a
cached set keeps serving, and with none a request is refused (503).
"""

from __future__ import annotations

import time
from typing import Any, Final
from urllib.parse import urlsplit

from ...exceptions import KeySourceUnavailableError
from ..jose.keyset import KeySet
from .jwks import JWKSFetcher

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
        # Built now, so a URL the fetcher cannot use fails at start-up.
        self._fetchers = [
            _DocumentFetcher(url, timeout=timeout, max_bytes=max_bytes)
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
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise KeySourceUnavailableError(
                f"The metadata of {self.issuer} has no http(s) jwks_uri"
            )
        try:
            fetcher = JWKSFetcher(
                jwks_uri,
                timeout=self._remaining(end),
                max_bytes=self.max_bytes,
                algorithm=self.algorithm,
            )
        except ValueError as exc:
            raise KeySourceUnavailableError(
                f"Unusable jwks_uri from {self.issuer}: {exc}"
            ) from None
        return fetcher()
