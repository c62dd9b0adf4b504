"""A safe post-login redirect: follow ?next= only to our own sites.

Run: python examples/urls_safe_redirect.py
"""

from __future__ import annotations

from securekit.urls import is_safe_redirect, safe_redirect_target

#: Our hosts; an entry with a port allows exactly that port.
ALLOWED_HOSTS = {"example.com", "admin.example.com:8443"}


def after_login(next_param: str | None) -> str:
    """Return the Location for the redirect after a successful login."""
    return safe_redirect_target(next_param, "/dashboard", allowed_hosts=ALLOWED_HOSTS)


def main() -> None:
    """Show which targets are followed and which fall back."""
    targets = [
        None,
        "/account/settings?tab=security",
        "?welcome=1",
        "https://example.com/orders",
        "//example.com/orders",
        "https://admin.example.com:8443/",
        "https://evil.example/phish",
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "https://example.com@evil.example/",
        "/\t/evil.example",
        "javascript:alert(1)",
        "http://example.com/",
    ]
    for target in targets:
        print(f"{target!r:42} -> {after_login(target)}")
    assert after_login("//evil.example") == "/dashboard"
    assert after_login("/account") == "/account"
    assert not is_safe_redirect("https://example.com.evil.example/", allowed_hosts=ALLOWED_HOSTS)
    # http to our own host is a redirect, not an open redirect (HSTS handles the
    # downgrade); an HTTPS-only site opts in to refusing it.
    assert after_login("http://example.com/") == "http://example.com/"
    strict = safe_redirect_target(
        "http://example.com/", "/dashboard", allowed_hosts=ALLOWED_HOSTS, require_https=True
    )
    assert strict == "/dashboard"
    print("ok: foreign targets fall back to /dashboard")


if __name__ == "__main__":
    main()
