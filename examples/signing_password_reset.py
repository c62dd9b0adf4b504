"""Password-reset links: signed, expiring, purpose-bound, single-use tokens.

Run: python examples/signing_password_reset.py
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from securekit.errors import InvalidTokenError
from securekit.keys import KeyRing
from securekit.signing import TokenSigner
from securekit.stores import MemoryStore


def main() -> None:
    ring = KeyRing.generate("mac")  # production: KeyRing.from_env(...)
    store = MemoryStore()  # production: SQLiteStore(...) or RedisStore(...)
    resets = TokenSigner(ring, purpose="password-reset", max_age=timedelta(minutes=30), store=store)
    verify_email = TokenSigner(ring, purpose="email-verify", max_age=timedelta(days=2))

    # The user asks for a reset: mail them a link. The payload is signed, not
    # encrypted: put an id in it, never a secret.
    issued = datetime.now(UTC)
    token = resets.sign({"user": "42"}, now=issued)
    link = "https://app.example/reset?" + urlencode({"token": token})
    print("mailed link:", link[:60] + "...")

    # GET /reset: show the form if the token is valid (verify does not use it up).
    received = parse_qs(urlsplit(link).query)["token"][0]
    print("form for user", resets.verify(received).payload["user"])

    # POST /reset: consume() marks the token used atomically, then set the password.
    print("password changed for user", resets.consume(received).payload["user"])

    attempts: list[tuple[str, Callable[[], object]]] = [
        ("reused link", lambda: resets.consume(received)),
        ("other purpose", lambda: verify_email.verify(received)),
        ("expired link", lambda: resets.verify(received, now=issued + timedelta(hours=1))),
        ("tampered link", lambda: resets.verify(received[:-4] + "AAAA")),
    ]
    for label, attempt in attempts:
        try:
            attempt()
        except InvalidTokenError as exc:
            print(f"{label}: refused ({exc.reason.value})")
        else:
            raise SystemExit(f"{label} must be refused")


if __name__ == "__main__":
    main()
