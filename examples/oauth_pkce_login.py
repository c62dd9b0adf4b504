"""An OAuth 2.0 / OpenID Connect login with PKCE against a local fake provider.

The provider runs in a thread on 127.0.0.1 (loopback: plain http is
accepted there and nowhere else). The client side is what an application
writes: start the login, check the callback, exchange the code with the
PKCE verifier, validate the ID token. Then a forged callback (CSRF) and a
replayed ID token from another login are refused.
"""

from __future__ import annotations

import http.server
import json
import secrets
import threading
import time
import urllib.parse
from typing import Any

import httpx
import jwt as pyjwt

from securekit.errors import InvalidTokenError
from securekit.keys import KeyRing
from securekit.oauth import (
    AuthorizationCodeFlow,
    PendingAuthorization,
    pkce_challenge,
    redirect_uri_matches,
)

CLIENT_ID = "demo-client"
REDIRECT_URI = "http://127.0.0.1:8765/callback"  # the app's registered callback


class FakeProvider(http.server.ThreadingHTTPServer):
    """A minimal OpenID provider: authorize, token and JWKS endpoints."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ProviderHandler)
        self.issuer = f"http://127.0.0.1:{self.server_address[1]}"
        self.ring = KeyRing.generate("signing")
        # code -> (code_challenge, nonce, redirect_uri); each code is single-use.
        self.codes: dict[str, tuple[str, str, str]] = {}


class ProviderHandler(http.server.BaseHTTPRequestHandler):
    server: FakeProvider

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        """Keep the demo output quiet."""

    def _json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/jwks":
            self._json(200, self.server.ring.public_jwks())
            return
        query = dict(urllib.parse.parse_qsl(url.query))
        # A real provider checks these too: code flow only, PKCE S256 only,
        # and the redirect URI compared exactly with the registered one.
        if (
            url.path != "/authorize"
            or query.get("response_type") != "code"
            or query.get("code_challenge_method") != "S256"
            or not redirect_uri_matches(query.get("redirect_uri", ""), [REDIRECT_URI])
        ):
            self._json(400, {"error": "invalid_request"})
            return
        code = secrets.token_urlsafe(32)
        self.server.codes[code] = (query["code_challenge"], query["nonce"], query["redirect_uri"])
        back = urllib.parse.urlencode(
            {"code": code, "state": query["state"], "iss": self.server.issuer}
        )
        self.send_response(302)
        self.send_header("Location", f"{query['redirect_uri']}?{back}")
        self.end_headers()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        entry = self.server.codes.pop(form.get("code", ""), None)
        try:
            challenge = pkce_challenge(form.get("code_verifier", ""))
        except InvalidTokenError:
            challenge = ""
        if (
            entry is None
            or form.get("grant_type") != "authorization_code"
            or not secrets.compare_digest(challenge, entry[0])
            or form.get("redirect_uri") != entry[2]
        ):
            self._json(400, {"error": "invalid_grant"})
            return
        now = int(time.time())
        key = self.server.ring.primary
        id_token = pyjwt.encode(
            {
                "iss": self.server.issuer,
                "sub": "248289761001",
                "aud": CLIENT_ID,
                "azp": CLIENT_ID,
                "nonce": entry[1],
                "iat": now,
                "exp": now + 3600,
                "email": "alice@example.com",
            },
            key.private_key(),
            algorithm="EdDSA",
            headers={"kid": key.thumbprint(), "typ": "JWT"},
        )
        self._json(200, {"access_token": secrets.token_urlsafe(32), "id_token": id_token})


def main() -> None:
    provider = FakeProvider()
    thread = threading.Thread(target=provider.serve_forever, daemon=True)
    thread.start()
    try:
        with httpx.Client(timeout=5) as http:
            jwks = http.get(f"{provider.issuer}/jwks").json()
            flow = AuthorizationCodeFlow(
                issuer=provider.issuer,
                client_id=CLIENT_ID,
                authorization_endpoint=f"{provider.issuer}/authorize",
                token_endpoint=f"{provider.issuer}/token",
                redirect_uris=[REDIRECT_URI],
                keys=jwks,
                scopes=("openid", "email"),
            )

            # 1. Login starts: keep `pending` in the server-side session.
            request = flow.start()
            session = {"oauth": request.pending.to_dict()}
            print(
                "redirecting the browser to:", request.url.split("?")[0], "(+ PKCE, state, nonce)"
            )

            # 2. The browser comes back to our callback (simulated here).
            location = http.get(request.url).headers["location"]
            callback = urllib.parse.urlsplit(location)
            params = dict(urllib.parse.parse_qsl(callback.query))
            pending = PendingAuthorization.from_dict(session.pop("oauth"))
            token_request = flow.callback(
                params,
                pending=pending,
                redirect_uri=f"{callback.scheme}://{callback.netloc}{callback.path}",
            )

            # 3. Code exchange with the PKCE verifier, then the ID token.
            tokens = http.post(token_request.url, data=dict(token_request.data)).json()
            identity = flow.verify_id_token(tokens["id_token"], pending=pending)
            print(f"logged in: issuer={identity.issuer} subject={identity.subject}")
            print("email claim:", identity.claims.get("email"))

            # 4. Attacks. A callback with someone else's state (login CSRF):
            other = flow.start().pending
            try:
                flow.callback(params, pending=other)
            except InvalidTokenError as exc:
                print(f"forged callback refused: {exc.reason.value}")
            else:
                raise SystemExit("a forged callback was accepted")
            # The same ID token replayed into another login (nonce mismatch):
            try:
                flow.verify_id_token(tokens["id_token"], pending=other)
            except InvalidTokenError as exc:
                print(f"replayed ID token refused: {exc.reason.value}")
            else:
                raise SystemExit("a replayed ID token was accepted")
            # The code is single-use at the provider, and useless without the verifier.
            again = http.post(token_request.url, data=dict(token_request.data))
            print("code reuse at the token endpoint:", again.status_code, again.json()["error"])
    finally:
        provider.shutdown()
        provider.server_close()
        thread.join()


if __name__ == "__main__":
    main()
