"""CSRF protection for an HTML form: Fetch Metadata, Origin, masked token.

Run: python examples/csrf_form.py

Shows: a token embedded in a form (different bytes on every render, against
BREACH); the same-origin POST accepted; a cross-site POST refused by its
Sec-Fetch-Site header; an old browser (no Fetch Metadata) from a foreign
Origin refused; a forged token refused. Every refusal carries a reason for logs.
"""

from __future__ import annotations

from html import escape

from securekit.csrf import FORM_FIELD, CSRFProtect
from securekit.errors import CSRFError
from securekit.keys import KeyRing

# In production: KeyRing.from_env("APP_MAC_KEYS"); the CSRF key is derived from it.
csrf = CSRFProtect(KeyRing.generate("mac"), origins={"https://shop.example"})
SESSION = "the-session-token-from-the-cookie"


def render_form() -> str:
    token = csrf.token(SESSION)
    return (
        '<form method="post" action="/transfer">'
        f'<input type="hidden" name="{FORM_FIELD}" value="{escape(token)}">'
        '<input name="amount"><button>Send</button></form>'
    )


def token_of(form: str) -> str:
    return form.split('value="', 1)[1].split('"', 1)[0]


def post(headers: dict[str, str], token: str | None) -> str:
    try:
        csrf.verify(method="POST", headers=headers, token=token, session_id=SESSION)
    except CSRFError as error:
        return f"403 ({error.reason.value})"
    return "200 transfer done"


def main() -> None:
    first, second = render_form(), render_form()
    print("token differs per render:", token_of(first) != token_of(second))
    token = token_of(first)

    same_origin = {"Sec-Fetch-Site": "same-origin", "Origin": "https://shop.example"}
    print("same-origin form post:     ", post(same_origin, token))
    print("cross-site form post:      ", post({"Sec-Fetch-Site": "cross-site"}, token))
    print("old browser, evil Origin:  ", post({"Origin": "https://evil.example"}, token))
    print("same origin, no token:     ", post(same_origin, None))
    print("same origin, forged token: ", post(same_origin, token[:-4] + "AAAA"))
    print("token of another session:  ", end=" ")
    other = csrf.token("someone-else's-session")
    print(post(same_origin, other))


if __name__ == "__main__":
    main()
