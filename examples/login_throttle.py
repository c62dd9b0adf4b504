"""A throttled login: counted before the password check, the same for unknown users.

Run: python examples/login_throttle.py

Shows: LoginThrottle.check() before PasswordHasher.verify(); the progressive
delay with Retry-After; an unknown username throttled exactly like a real
one; success resetting the account counter; the client IP taken from
X-Forwarded-For only behind a trusted proxy.
"""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from securekit.errors import RateLimitedError
from securekit.passwords import PasswordHasher
from securekit.ratelimit import LoginThrottle, TrustedProxies
from securekit.stores import SQLiteStore

HASHER = PasswordHasher()
USERS = {"alice": HASHER.hash("correct horse battery staple")}
PROXIES = TrustedProxies(["10.0.0.0/8"])  # our load balancer


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def log_in(throttle: LoginThrottle, username: str, password: str, ip: str) -> str:
    try:
        throttle.check(username=username, ip=ip)  # counts the attempt, atomically
    except RateLimitedError as error:
        return f"429 Retry-After: {math.ceil(error.retry_after)} ({error.reason.value})"
    if HASHER.verify(password, USERS.get(username)):
        throttle.success(username=username, ip=ip)
        return "200 welcome"
    throttle.failure(username=username, ip=ip)
    return "401 invalid user name or password"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = Clock()
        throttle = LoginThrottle(SQLiteStore(Path(tmp) / "throttle.db"), clock=clock)

        # The socket peer is our proxy, so X-Forwarded-For is believed (rightmost hop).
        ip = PROXIES.client_ip("10.0.0.5", "6.6.6.6, 203.0.113.7")
        print("client ip:", ip)
        # A client talking to us directly cannot spoof its address with the header.
        print("direct client:", PROXIES.client_ip("198.51.100.2", "1.1.1.1"))

        for user in ("alice", "nobody"):
            print(f"-- guessing {user!r}")
            for guess in range(5):
                print(" ", log_in(throttle, user, f"guess-{guess}", ip))

        clock.now += timedelta(seconds=2)
        print(
            "-- alice after waiting:", log_in(throttle, "alice", "correct horse battery staple", ip)
        )
        print("-- alice again:", log_in(throttle, "alice", "wrong", ip))


if __name__ == "__main__":
    main()
