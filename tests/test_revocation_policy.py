"""The revocation policy, without Flask: the records it writes and its verdicts on tokens.

Each test reads as one rule of :mod:`flask_jwtx._core.revocation.policy`, checked
against a :class:`~flask_jwtx._core.revocation.memory.MemoryStore` with no app.
The Flask layer (exceptions, signals, failure policy) is covered by
``test_revocation.py`` and ``test_revocation_lifetimes.py``.
"""

from __future__ import annotations

import ast
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

import flask_jwtx
from flask_jwtx._core.jose.tokens import new_jti
from flask_jwtx._core.revocation.memory import MemoryStore
from flask_jwtx._core.revocation.policy import (
    CLOCK_MARGIN,
    OK,
    REVOKED,
    Outcome,
    Record,
    RevocationPolicy,
    Verdict,
    check,
    family_expiry,
    is_reuse,
    mark_used_record,
    now_millis,
    record_key,
    revoke_all_record,
    revoke_family_record,
    revoke_token_record,
    token_expiry,
    use_refresh_token,
)

ISSUER = "https://auth.example"
LEEWAY = 5.0
ACCESS = timedelta(minutes=15)
REFRESH = timedelta(days=30)
POLICY = RevocationPolicy(lifetimes=(ACCESS, REFRESH), leeway=LEEWAY)
ROTATING = RevocationPolicy(rotation=True, lifetimes=(ACCESS, REFRESH), leeway=LEEWAY)


def token(**claims: Any) -> dict[str, Any]:
    """The claims of an access token for alice, issued now by ``ISSUER``; ``claims`` override."""
    now = int(time.time())
    base = {"iss": ISSUER, "sub": "alice", "type": "access", "jti": new_jti(), "iat": now}
    return {**base, "exp": now + int(ACCESS.total_seconds()), **claims}


def refresh_token(family: str = "family-1", **claims: Any) -> dict[str, Any]:
    """The claims of a refresh token of ``family``."""
    exp = int(time.time() + REFRESH.total_seconds())
    return token(type="refresh", fam=family, exp=exp, **claims)


def put(store: MemoryStore, record: Record) -> None:
    store.put(*record)


class RecordingStore(MemoryStore):
    """A memory store that also keeps every record written, with its expiry."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[Record] = []

    def put_if_absent(self, key: str, value: str, expires_at: float | None) -> str | None:
        existing = super().put_if_absent(key, value, expires_at)
        if existing is None:
            self.written.append(Record(key, value, expires_at))
        return existing


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


class TestRecordKeys:
    def test_the_scheme_is_the_kind_and_a_digest_of_issuer_and_value(self) -> None:
        """A key is ``kind:`` and the unpadded base64url SHA-256 of ``[iss, value]`` as JSON."""
        jti = "0190d9b2-7c00-7000-8000-000000000000"
        assert record_key("jti", ISSUER, jti) == "jti:2Ug9HFlqLBSJ9IxIMxrp7i0ZzzLgqxXH65CX93SaB0w"
        assert record_key("sub", None, 42) == "sub:LYJXTvYWfffmMsCN1x4x72jPjNp6BuVsK5xFKPj1WaI"

    def test_every_value_gets_a_key_of_one_length(self) -> None:
        """A 1 KB identity, a NUL byte and a lone surrogate all fit the store's key column."""
        keys = [record_key("sub", ISSUER, v) for v in ("a", "x" * 1024, "a\x00b", "\ud800")]
        assert len({len(key) for key in keys}) == 1

    def test_values_of_different_json_types_never_share_a_record(self) -> None:
        """``42``, ``"42"`` and ``[42]`` are three identities."""
        assert len({record_key("sub", ISSUER, v) for v in (42, "42", [42])}) == 3

    def test_issuers_and_kinds_never_share_a_record(self) -> None:
        """User 1001 of one issuer is not user 1001 of another, and a jti is not a sub."""
        keys = {
            record_key("sub", "https://a.example", "1001"),
            record_key("sub", "https://b.example", "1001"),
            record_key("jti", "https://a.example", "1001"),
        }
        assert len(keys) == 3


class TestLifetimes:
    def test_a_record_about_a_token_lives_until_it_stops_verifying(self) -> None:
        """That is ``exp`` plus the leeway, plus a margin for clocks."""
        claims = token()
        assert token_expiry(claims, LEEWAY) == claims["exp"] + LEEWAY + CLOCK_MARGIN

    def test_a_record_about_a_token_that_never_expires_lives_forever(self) -> None:
        """No ``exp`` (or one that is not a number) means no end."""
        assert token_expiry({"jti": "a"}, LEEWAY) is None
        assert token_expiry({"jti": "a", "exp": "soon"}, LEEWAY) is None

    def test_a_revoked_family_outlives_every_token_a_thief_could_mint_now(self) -> None:
        """The longest configured lifetime from now, plus the leeway and margin."""
        claims = token(exp=int(time.time()) + 10)
        before = time.time()
        expires_at = family_expiry(claims, (ACCESS, REFRESH), LEEWAY)
        assert expires_at is not None
        longest = REFRESH.total_seconds() + LEEWAY + CLOCK_MARGIN
        assert before + longest <= expires_at <= time.time() + longest

    def test_a_revoked_family_outlives_the_presented_token_too(self) -> None:
        """A token longer-lived than the configured lifetimes keeps its family revoked."""
        claims = token(exp=int(time.time() + 2 * REFRESH.total_seconds()))
        assert family_expiry(claims, (ACCESS, REFRESH), LEEWAY) == token_expiry(claims, LEEWAY)

    def test_a_revoked_family_lives_forever_when_tokens_may(self) -> None:
        """A lifetime of ``False`` (``None``) or a presented token without ``exp``."""
        assert family_expiry(token(), (ACCESS, None), LEEWAY) is None
        assert family_expiry({"jti": "a"}, (ACCESS, REFRESH), LEEWAY) is None


class TestReuseGrace:
    def test_a_token_never_used_is_not_reused(self) -> None:
        """No used marker, no reuse."""
        assert not is_reuse(None, 0)
        assert not is_reuse(None, 30)

    def test_with_no_grace_any_second_use_is_reuse_even_in_the_same_millisecond(self) -> None:
        """Grace 0: exactly one use wins."""
        assert is_reuse(str(now_millis()), 0)

    def test_a_second_use_within_the_grace_is_not_reuse_and_after_it_is(self) -> None:
        """A positive grace lets a client's own concurrent refreshes through, for that long."""
        assert not is_reuse(str(now_millis() - 500), 1)
        assert is_reuse(str(now_millis() - 1500), 1)


class TestRecords:
    def test_revoking_a_token_writes_its_jti_until_it_stops_verifying(self) -> None:
        """Key ``jti`` of ``[iss, jti]``, value ``"1"``."""
        claims = token()
        assert revoke_token_record(claims, LEEWAY) == Record(
            record_key("jti", ISSUER, claims["jti"]), "1", token_expiry(claims, LEEWAY)
        )

    def test_revoking_all_writes_a_watermark_that_never_expires(self) -> None:
        """Key ``sub`` of ``[iss, identity]``, value the watermark in ms."""
        assert revoke_all_record(ISSUER, "alice", 1_700_000_000_123) == Record(
            record_key("sub", ISSUER, "alice"), "1700000000123", None
        )

    def test_marking_a_refresh_token_used_records_when_until_it_stops_verifying(self) -> None:
        """Key ``used`` of ``[iss, jti]``, value the time of use in ms."""
        claims = refresh_token()
        assert mark_used_record(claims, LEEWAY, 1_700_000_000_123) == Record(
            record_key("used", ISSUER, claims["jti"]),
            "1700000000123",
            token_expiry(claims, LEEWAY),
        )

    def test_revoking_a_family_writes_its_fam_until_the_given_time(self) -> None:
        """Key ``fam`` of ``[iss, fam]``, value ``"1"``."""
        assert revoke_family_record(refresh_token("f"), 123.0) == Record(
            record_key("fam", ISSUER, "f"), "1", 123.0
        )

    def test_a_refresh_token_without_a_family_is_a_family_of_one(self) -> None:
        """Its family is its own ``jti``."""
        claims = token(type="refresh")
        key = revoke_family_record(claims, None).key
        assert key == record_key("fam", ISSUER, claims["jti"])


class TestVerdicts:
    def test_the_verdict_type(self) -> None:
        """An outcome, and for ``REUSED`` the family to revoke and until when."""
        assert Verdict(Outcome.OK, None, None) == OK
        assert Verdict(Outcome.REVOKED, None, None) == REVOKED
        assert Verdict(Outcome.REUSED, "f", 1.0)._asdict() == {
            "outcome": Outcome.REUSED,
            "family": "f",
            "expires_at": 1.0,
        }

    def test_a_token_nothing_revokes_is_ok(self, store: MemoryStore) -> None:
        """An empty store revokes nothing."""
        assert check(store, token(), POLICY) == OK
        assert check(store, refresh_token(), ROTATING) == OK

    def test_a_revoked_token_is_revoked_and_only_it(self, store: MemoryStore) -> None:
        """A ``jti`` record revokes that one token."""
        revoked, other = token(), token()
        put(store, revoke_token_record(revoked, LEEWAY))
        assert check(store, revoked, POLICY) == REVOKED
        assert check(store, other, POLICY) == OK

    def test_a_jti_revoked_by_another_issuer_does_not_count(self, store: MemoryStore) -> None:
        """Records are per issuer."""
        claims = token()
        put(store, revoke_token_record({**claims, "iss": "https://other.example"}, LEEWAY))
        assert check(store, claims, POLICY) == OK

    def test_log_out_everywhere_revokes_tokens_issued_up_to_the_watermark(
        self, store: MemoryStore
    ) -> None:
        """Our UUIDv7 ``jti`` tells the millisecond: before or at it, revoked; after, ok."""
        mid_millisecond = int(time.time()) + 0.0005  # no float rounding across a boundary
        with time_machine.travel(mid_millisecond, tick=False) as clock:
            before = token()
            clock.shift(0.001)
            watermark = now_millis()
            at = token()
            put(store, revoke_all_record(ISSUER, "alice", watermark))
            clock.shift(0.001)
            after = token()
        assert check(store, before, POLICY) == REVOKED
        assert check(store, at, POLICY) == REVOKED
        assert check(store, after, POLICY) == OK
        assert check(store, token(sub="bob", jti=before["jti"]), POLICY) == OK

    def test_a_token_with_only_iat_is_revoked_in_the_watermarks_second(
        self, store: MemoryStore
    ) -> None:
        """Whole seconds cannot tell before from after; refusing is the safe side."""
        watermark = 1_700_000_000_500
        put(store, revoke_all_record(ISSUER, "alice", watermark))
        assert check(store, token(jti=None, iat=1_700_000_000), POLICY) == REVOKED
        assert check(store, token(jti=None, iat=1_700_000_001), POLICY) == OK

    def test_a_token_with_no_issue_time_is_revoked_by_any_watermark(
        self, store: MemoryStore
    ) -> None:
        """No ``jti`` and no ``iat``: it may predate the watermark, so it is refused."""
        claims = {"iss": ISSUER, "sub": "alice", "exp": int(time.time()) + 60}
        assert check(store, claims, POLICY) == OK
        put(store, revoke_all_record(ISSUER, "alice", 0))
        assert check(store, claims, POLICY) == REVOKED

    def test_the_watermark_is_read_from_the_configured_identity_claim(
        self, store: MemoryStore
    ) -> None:
        """``JWT_IDENTITY_CLAIM`` names the claim that holds the identity."""
        put(store, revoke_all_record(ISSUER, "alice", now_millis()))
        claims = token(sub="service", user_id="alice", jti=None, iat=0)
        assert check(store, claims, POLICY) == OK
        assert check(store, claims, RevocationPolicy(identity_claim="user_id")) == REVOKED

    def test_a_revoked_family_revokes_every_token_in_it(self, store: MemoryStore) -> None:
        """Access and refresh tokens that carry the family's ``fam``."""
        put(store, revoke_family_record(refresh_token("stolen"), None))
        assert check(store, refresh_token("stolen"), ROTATING) == REVOKED
        assert check(store, token(fam="stolen"), POLICY) == REVOKED
        assert check(store, refresh_token("another"), ROTATING) == OK

    def test_without_rotation_a_used_refresh_token_is_ok(self, store: MemoryStore) -> None:
        """Used markers are read only with ``JWT_REFRESH_TOKEN_ROTATION``."""
        claims = refresh_token()
        assert use_refresh_token(store, claims, POLICY) == OK
        assert check(store, claims, POLICY) == OK

    def test_with_rotation_a_used_refresh_token_is_reused(self, store: MemoryStore) -> None:
        """Its family is to be revoked until every token a thief could mint has expired."""
        claims = refresh_token("f")
        put(store, mark_used_record(claims, LEEWAY, now_millis()))
        before = time.time()
        verdict = check(store, claims, ROTATING)
        assert (verdict.outcome, verdict.family) == (Outcome.REUSED, "f")
        longest = REFRESH.total_seconds() + LEEWAY + CLOCK_MARGIN
        assert verdict.expires_at is not None
        assert before + longest <= verdict.expires_at <= time.time() + longest

    def test_only_refresh_tokens_are_watched_for_reuse(self, store: MemoryStore) -> None:
        """An access token whose ``jti`` somehow has a used marker is still ok."""
        claims = token()
        put(store, mark_used_record(claims, LEEWAY, now_millis()))
        assert check(store, claims, ROTATING) == OK

    def test_within_the_grace_a_used_refresh_token_is_ok(self, store: MemoryStore) -> None:
        """A client's own concurrent refresh; after the grace, reuse."""
        claims = refresh_token()
        put(store, mark_used_record(claims, LEEWAY, now_millis() - 500))
        assert check(store, claims, RevocationPolicy(rotation=True, reuse_grace=1)) == OK
        put(store, mark_used_record(claims, LEEWAY, now_millis() - 1500))
        verdict = check(store, claims, RevocationPolicy(rotation=True, reuse_grace=1))
        assert verdict.outcome is Outcome.REUSED

    def test_a_revoked_token_is_revoked_rather_than_reused(self, store: MemoryStore) -> None:
        """A family already revoked needs no second revocation."""
        claims = refresh_token("f")
        put(store, mark_used_record(claims, LEEWAY, now_millis()))
        put(store, revoke_family_record(claims, None))
        assert check(store, claims, ROTATING) == REVOKED

    def test_checking_writes_nothing(self, store: MemoryStore) -> None:
        """Even a ``REUSED`` verdict leaves revoking the family to the caller."""
        claims = refresh_token()
        put(store, mark_used_record(claims, LEEWAY, now_millis()))
        assert check(store, claims, ROTATING).outcome is Outcome.REUSED
        assert len(store) == 1


class TestUsingARefreshToken:
    def test_the_first_use_is_ok_and_marks_it_used(self) -> None:
        """The marker records the time of use and lives until the token stops verifying."""
        store = RecordingStore()
        claims = refresh_token()
        before = now_millis()
        assert use_refresh_token(store, claims, POLICY) == OK
        [(key, value, expires_at)] = store.written
        assert key == record_key("used", ISSUER, claims["jti"])
        assert before <= int(value) <= now_millis()
        assert expires_at == token_expiry(claims, LEEWAY)

    def test_with_no_grace_the_second_use_is_reused(self, store: MemoryStore) -> None:
        """Even at once; the verdict names the family and its revocation's end."""
        claims = refresh_token("f")
        use_refresh_token(store, claims, POLICY)
        verdict = use_refresh_token(store, claims, POLICY)
        assert (verdict.outcome, verdict.family) == (Outcome.REUSED, "f")
        assert verdict.expires_at == pytest.approx(
            time.time() + REFRESH.total_seconds() + LEEWAY + CLOCK_MARGIN, abs=5
        )

    def test_within_the_grace_a_second_use_is_ok(self, store: MemoryStore) -> None:
        """A client's two tabs refreshing at once both succeed."""
        claims = refresh_token()
        policy = RevocationPolicy(reuse_grace=30)
        assert use_refresh_token(store, claims, policy) == OK
        assert use_refresh_token(store, claims, policy) == OK

    def test_with_no_grace_exactly_one_of_many_concurrent_uses_wins(
        self, store: MemoryStore
    ) -> None:
        """The marker is written first-writer-wins."""
        claims = refresh_token()
        barrier = threading.Barrier(8)
        verdicts: list[Verdict] = []

        def use() -> None:
            barrier.wait()
            verdicts.append(use_refresh_token(store, claims, POLICY))

        threads = [threading.Thread(target=use) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(v.outcome.value for v in verdicts) == ["ok"] + ["reused"] * 7


#: The Flask-free core: the store interface, the stores, the factory and the policy.
CORE = ["base", "memory", "redis", "sql", "factory", "policy"]
#: What the core may not reach: Flask, and the request path.
FORBIDDEN = {
    "flask",
    "werkzeug",
    "flask_jwtx._core.web.decorators",
    "flask_jwtx._core.web.context",
    "flask_jwtx._core.web.creation",
    "flask_jwtx._core.web.decoding",
    "flask_jwtx._core.web.extension",
    "flask_jwtx._core.web.state",
    "flask_jwtx._core.web.revocation_checks",
    "flask_jwtx._core.web.revocation_api",
}


def _imports(module: str) -> set[str]:
    """The modules ``module`` (a flask_jwtx module) imports, relative imports resolved."""
    path = Path(flask_jwtx.__file__).parent.joinpath(*module.split(".")[1:])
    is_package = path.is_dir()
    source = (path / "__init__.py") if is_package else path.with_suffix(".py")
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            found.add(target)
            if not target.startswith("flask_jwtx"):
                continue
            for alias in node.names:  # ``from .. import signals`` names a module
                candidate = f"{target}.{alias.name}"
                parts = candidate.split(".")[1:]
                if Path(flask_jwtx.__file__).parent.joinpath(*parts).with_suffix(".py").exists():
                    found.add(candidate)
    return found


def test_the_core_imports_neither_flask_nor_the_request_path() -> None:
    """Followed through every flask_jwtx module it reaches (package faces aside)."""
    seen: set[str] = set()
    todo = [f"flask_jwtx._core.revocation.{name}" for name in CORE]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for imported in _imports(module):
            assert imported.split(".")[0] not in FORBIDDEN, f"{module} imports {imported}"
            assert imported not in FORBIDDEN, f"{module} imports {imported}"
            if imported.startswith("flask_jwtx.") and imported not in (
                "flask_jwtx",
                "flask_jwtx._core",
                "flask_jwtx._core.revocation",
            ):
                todo.append(imported)
    assert "flask_jwtx._core.jose.claimset" in seen, "the walk followed the core's imports"
