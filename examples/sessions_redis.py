"""Sessions on Redis, shared by every application server.

Run: REDIS_URL=redis://127.0.0.1:6379/0 python examples/sessions_redis.py

Shows: the same SessionManager on RedisStore; the Redis keys hold only
SHA-256 of the session id; two concurrent rotations leave exactly one valid
id; a Redis outage fails closed with StoreUnavailableError.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor

from securekit.errors import SessionError, StoreUnavailableError
from securekit.sessions import SessionManager
from securekit.stores import RedisStore


def main() -> int:
    url = os.environ.get("REDIS_URL")
    if not url:
        print("set REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run this example")
        return 0
    store = RedisStore(url, prefix="example-sessions")
    sessions = SessionManager(store)

    token, _ = sessions.create(user_id="user-1", data={"role": "reader"})
    print("user:", sessions.get(token).user_id)

    keys = [k.decode() for k in store.client.scan_iter("{example-sessions}:*")]
    print("redis keys:", sorted(k[:40] + "..." for k in keys))
    print("raw id among the keys:", any(token in k for k in keys))

    # Two requests rotate the same session at once: one wins, one is refused.
    def rotate() -> str:
        try:
            return sessions.rotate(token)[0]
        except SessionError as error:
            return f"refused ({error.reason.value})"

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: rotate(), range(2)))
    winners = [r for r in results if not r.startswith("refused")]
    print("rotations:", ["new id" if r in winners else r for r in results])
    print("valid ids now:", len(winners))

    # An unreachable store denies instead of letting anyone in.
    down = SessionManager(RedisStore("redis://127.0.0.1:1/0", timeout=0.2))
    try:
        down.get(winners[0])
    except StoreUnavailableError as error:
        print("store down:", error)

    sessions.destroy_all("user-1")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
