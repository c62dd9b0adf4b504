"""securekit.jwt refresh rotation and jti revocation on memory, SQLite and Redis."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from securekit.errors import (
    ConfigurationError,
    InvalidTokenError,
    StoreUnavailableError,
    TokenReason,
)
from securekit.jwt import JTIDenylist, JWTIssuer, JWTVerifier, RefreshTokens, TokenPair
from securekit.keys import KeyRing
from securekit.stores import MemoryStore, RedisStore, SQLiteStore
from securekit.testing import FixedClock, RedisServer
from tests._leak import assert_no_leak

ISS = "https://auth.example"
AUD = "api.example"
NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
RING = KeyRing.generate("signing")


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        yield SQLiteStore(tmp_path / "jwt.db")
    else:
        url = request.getfixturevalue("redis_url")
        yield RedisStore(url)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def make(store: object, clock: FixedClock) -> tuple[JWTIssuer, RefreshTokens, JWTVerifier]:
    issuer = JWTIssuer(RING, issuer=ISS, audience=AUD, clock=clock)
    refresh = RefreshTokens(issuer, store)  # type: ignore[arg-type]
    return issuer, refresh, issuer.verifier()


def reason_of(fn: object) -> TokenReason:
    with pytest.raises(InvalidTokenError) as info:
        fn()  # type: ignore[operator]
    return info.value.reason


def test_rotation_flow(store: object, clock: FixedClock) -> None:
    _, refresh, verifier = make(store, clock)
    pair = refresh.issue(subject="user-1", claims={"scope": "read", "roles": ["a", {"b": [1]}]})
    assert "access_token" not in repr(pair) or pair.access_token not in repr(pair)
    assert pair.refresh_token not in repr(pair)
    assert verifier.verify(pair.access_token).get("scope") == "read"
    clock.advance(timedelta(minutes=20))
    second = refresh.rotate(pair.refresh_token)
    assert second.family_id == pair.family_id
    assert second.refresh_token != pair.refresh_token
    claims = verifier.verify(second.access_token)
    assert claims.subject == "user-1"
    assert claims.get("scope") == "read"
    assert claims.get("roles") == ("a", {"b": (1,)})
    assert second.access_expires_at == clock() + timedelta(minutes=15)
    third = refresh.rotate(second.refresh_token)
    assert verifier.verify(third.access_token).subject == "user-1"


def test_reuse_revokes_the_family(store: object, clock: FixedClock) -> None:
    _, refresh, _ = make(store, clock)
    pair = refresh.issue(subject="user-1")
    second = refresh.rotate(pair.refresh_token)
    # The old token comes back (an attacker replaying a stolen copy).
    assert reason_of(lambda: refresh.rotate(pair.refresh_token)) is TokenReason.REUSED
    # Now the legitimate client's current token is dead too (RFC 9700 4.14.2).
    assert reason_of(lambda: refresh.rotate(second.refresh_token)) is TokenReason.REVOKED
    other = refresh.issue(subject="user-1")
    assert refresh.rotate(other.refresh_token).family_id == other.family_id


def test_parallel_rotation_exactly_one_wins(store: object, clock: FixedClock) -> None:
    _, refresh, _ = make(store, clock)
    pair = refresh.issue(subject="user-1")
    results: list[object] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        try:
            results.append(refresh.rotate(pair.refresh_token))
        except InvalidTokenError as exc:
            results.append(exc.reason)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if isinstance(r, TokenPair)]
    losers = [r for r in results if not isinstance(r, TokenPair)]
    assert len(winners) == 1
    assert len(losers) == 5
    assert set(losers) <= {TokenReason.REUSED, TokenReason.REVOKED}


def test_revoke_family(store: object, clock: FixedClock) -> None:
    _, refresh, _ = make(store, clock)
    pair = refresh.issue(subject="user-1")
    refresh.revoke_family(pair.family_id)
    assert reason_of(lambda: refresh.rotate(pair.refresh_token)) is TokenReason.REVOKED


def test_refresh_token_is_not_an_access_token(store: object, clock: FixedClock) -> None:
    _, refresh, verifier = make(store, clock)
    pair = refresh.issue(subject="user-1")
    assert reason_of(lambda: verifier.verify(pair.refresh_token)) is TokenReason.WRONG_TYPE
    # ... even for a verifier that would accept the issuer as audience.
    loose = JWTVerifier(RING, issuer=ISS, audience=ISS, clock=clock)
    assert reason_of(lambda: loose.verify(pair.refresh_token)) is TokenReason.WRONG_TYPE
    # And an access token is not a refresh token.
    assert reason_of(lambda: refresh.rotate(pair.access_token)) is TokenReason.WRONG_TYPE


def test_refresh_expiry_and_family_lifetime(store: object, clock: FixedClock) -> None:
    issuer = JWTIssuer(RING, issuer=ISS, audience=AUD, clock=clock)
    refresh = RefreshTokens(
        issuer,
        store,  # type: ignore[arg-type]
        refresh_lifetime=timedelta(days=1),
        family_lifetime=timedelta(days=2),
    )
    pair = refresh.issue(subject="u")
    clock.advance(timedelta(days=1, minutes=1))
    assert reason_of(lambda: refresh.rotate(pair.refresh_token)) is TokenReason.EXPIRED
    pair = refresh.issue(subject="u")
    for _ in range(3):
        clock.advance(timedelta(hours=20))
        try:
            pair = refresh.rotate(pair.refresh_token)
        except InvalidTokenError as exc:
            assert exc.reason is TokenReason.EXPIRED
            break
    else:
        pytest.fail("the family outlived its absolute lifetime")


def test_denylist(store: object, clock: FixedClock) -> None:
    issuer = JWTIssuer(RING, issuer=ISS, audience=AUD, clock=clock)
    denylist = JTIDenylist(store, clock=clock)  # type: ignore[arg-type]
    verifier = issuer.verifier(is_revoked=denylist)
    token = issuer.issue(subject="u")
    other = issuer.issue(subject="u")
    claims = verifier.verify(token)
    denylist.revoke(claims)
    assert reason_of(lambda: verifier.verify(token)) is TokenReason.REVOKED
    assert verifier.verify(other).subject == "u"
    denylist.revoke_jti("../../etc", expires_at=NOW - timedelta(hours=1))
    assert denylist("../../etc")
    assert "JTIDenylist" in repr(denylist)


class _DownStore:
    def get(self, key: str) -> bytes | None:
        raise StoreUnavailableError

    def set(self, key: str, value: bytes, *, ttl: float | None = None) -> None:
        raise StoreUnavailableError

    def add(self, key: str, value: bytes, *, ttl: float | None = None) -> bool:
        raise StoreUnavailableError


def test_store_down_fails_closed(clock: FixedClock) -> None:
    issuer = JWTIssuer(RING, issuer=ISS, audience=AUD, clock=clock)
    good = RefreshTokens(issuer, MemoryStore()).issue(subject="u")
    down = RefreshTokens(issuer, _DownStore())
    with pytest.raises(StoreUnavailableError):
        down.rotate(good.refresh_token)
    verifier = issuer.verifier(is_revoked=JTIDenylist(_DownStore()))
    with pytest.raises(StoreUnavailableError):
        verifier.verify(good.access_token)


@pytest.mark.redis
def test_redis_outage_fails_closed(redis_server: RedisServer, redis_url: str) -> None:
    clock = FixedClock(NOW)
    issuer = JWTIssuer(RING, issuer=ISS, audience=AUD, clock=clock)
    refresh = RefreshTokens(issuer, RedisStore(redis_url))
    pair = refresh.issue(subject="u")
    redis_server.stop()
    try:
        with pytest.raises(StoreUnavailableError):
            refresh.rotate(pair.refresh_token)
    finally:
        redis_server.start()
    assert refresh.rotate(pair.refresh_token).family_id == pair.family_id


def test_refresh_misuse(clock: FixedClock) -> None:
    issuer = JWTIssuer(RING, issuer=ISS, audience=AUD, clock=clock)
    store = MemoryStore()
    with pytest.raises(TypeError):
        RefreshTokens("issuer", store)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        RefreshTokens(issuer, store, refresh_lifetime=timedelta(days=40))
    with pytest.raises(ConfigurationError):
        RefreshTokens(issuer, store, refresh_lifetime=timedelta(0))
    with pytest.raises(ConfigurationError):
        RefreshTokens(
            issuer, store, refresh_lifetime=timedelta(days=1), family_lifetime=timedelta(days=400)
        )
    with pytest.raises(ConfigurationError):
        RefreshTokens(issuer, store, prefix="")
    with pytest.raises(TypeError):
        RefreshTokens(issuer, store, prefix=1)  # type: ignore[arg-type]
    refresh = RefreshTokens(issuer, store)
    assert "RefreshTokens" in repr(refresh)
    with pytest.raises(TypeError):
        refresh.rotate(b"token")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        refresh.revoke_family("")
    junk = "not." + "a-secret-" + "token"
    with pytest.raises(InvalidTokenError) as info:
        refresh.rotate(junk)
    assert_no_leak(info.value, junk)
    with pytest.raises(ConfigurationError):
        refresh.issue(subject="u", claims={"ext": 1})


def test_forged_refresh_payloads_are_rejected(clock: FixedClock) -> None:
    # A validly signed rt+jwt without a family or context (e.g. from another
    # securekit deployment sharing the key by mistake) is refused.
    issuer = JWTIssuer(RING, issuer=ISS, audience=AUD, clock=clock)
    refresh = RefreshTokens(issuer, MemoryStore())
    no_family = issuer._issue(
        subject="u",
        claims=None,
        typ="rt+jwt",
        audience=ISS,
        lifetime=timedelta(days=1),
        now=NOW,
    )
    assert reason_of(lambda: refresh.rotate(no_family)) is TokenReason.BAD_CLAIM
    bad_time = issuer._issue(
        subject="u",
        claims=None,
        typ="rt+jwt",
        audience=ISS,
        lifetime=timedelta(days=1),
        now=NOW,
        private={"fam": "f", "auth_time": "yesterday", "ext": {}},
    )
    assert reason_of(lambda: refresh.rotate(bad_time)) is TokenReason.BAD_CLAIM
