"""Fetch a user-supplied URL (a webhook, an avatar URL) without SSRF.

Run: python examples/urls_fetch_user_url.py

Real fetches need the internet, so this example shows the checks that run
before any connection: ``guard.fetch(url)`` runs the same ``check`` on the
URL and on every redirect hop, then connects to the checked address.
"""

from __future__ import annotations

from collections.abc import Sequence

from securekit.errors import UnsafeURLError
from securekit.urls import OutboundGuard

#: A stand-in for DNS, so the example runs offline: "rebind.example" is an
#: attacker's name that points at the cloud metadata service.
FAKE_DNS = {
    "images.example": ["93.184.216.34"],
    "rebind.example": ["169.254.169.254"],
    "dual.example": ["93.184.216.34", "10.0.0.7"],
}


def resolver(host: str, port: int) -> Sequence[str]:
    """Look the name up in FAKE_DNS (production uses the system resolver)."""
    return FAKE_DNS.get(host, []) if 0 < port < 65536 else []


def main() -> None:
    """Check a few user-supplied URLs."""
    guard = OutboundGuard(resolver=resolver, max_redirects=3, max_response_bytes=1_000_000)
    urls = [
        "https://images.example/cat.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://rebind.example/",
        "http://dual.example/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:8080/admin",
        "http://user:pw@images.example/",
        "file:///etc/passwd",
        "https://images.example:6379/",
    ]
    for url in urls:
        try:
            checked = guard.check(url)
        except UnsafeURLError as exc:
            print(f"refused  {url:45} ({exc.reason.value})")
        else:
            print(f"allowed  {url:45} -> connect to {checked.addresses[0]}")
    try:
        guard.fetch("http://rebind.example/")
    except UnsafeURLError as exc:
        print(f"fetch refused before connecting: {exc.reason.value}")
    # With httpx: every hop goes through the same checks.
    with guard.httpx_client() as client:
        print(f"httpx client ready (max_redirects={client.max_redirects})")
    print("ok")


if __name__ == "__main__":
    main()
