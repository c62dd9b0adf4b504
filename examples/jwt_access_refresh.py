"""Access and refresh tokens: issue at login, verify per request, rotate, detect reuse.

Run: python examples/jwt_access_refresh.py
"""

from __future__ import annotations

from securekit.errors import InvalidTokenError
from securekit.jwt import JTIDenylist, JWTIssuer, RefreshTokens
from securekit.keys import KeyRing
from securekit.stores import MemoryStore


def main() -> None:
    # In production: KeyRing.from_file(...) / from_env(...), and a shared
    # store (SQLiteStore on one machine, RedisStore for many).
    ring = KeyRing.generate("signing")  # EdDSA (Ed25519)
    store = MemoryStore()

    issuer = JWTIssuer(ring, issuer="https://auth.example", audience="api.example")
    refresh = RefreshTokens(issuer, store)
    denylist = JTIDenylist(store)
    # The API side: keys, issuer, audience, type and lifetime are pinned here.
    verifier = issuer.verifier(is_revoked=denylist)

    # Login: start a refresh family.
    pair = refresh.issue(subject="user-42", claims={"scope": "read write"})
    claims = verifier.verify(pair.access_token)
    print(f"access token ok: sub={claims.subject} scope={claims.get('scope')!r}")

    # A refresh token is not an access token.
    try:
        verifier.verify(pair.refresh_token)
    except InvalidTokenError as exc:
        print(f"refresh token used as access token: rejected ({exc.reason})")

    # The client refreshes: the old refresh token is used up.
    second = refresh.rotate(pair.refresh_token)
    print(f"rotated: same family={second.family_id == pair.family_id}")

    # Someone replays the old refresh token: the whole family is revoked.
    try:
        refresh.rotate(pair.refresh_token)
    except InvalidTokenError as exc:
        print(f"replayed refresh token: rejected ({exc.reason})")
    try:
        refresh.rotate(second.refresh_token)
    except InvalidTokenError as exc:
        print(f"legitimate client's refresh token after reuse: rejected ({exc.reason})")

    # Logout of one access token before it expires.
    access = verifier.verify(second.access_token)
    denylist.revoke(access)
    try:
        verifier.verify(second.access_token)
    except InvalidTokenError as exc:
        print(f"revoked access token: rejected ({exc.reason})")


if __name__ == "__main__":
    main()
