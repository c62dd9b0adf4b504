"""Enrol a user in TOTP, verify a code once, refuse its replay; recovery codes.

Uses an SQLite store in a temporary directory (the embedded default); point
``TOTP`` at a ``RedisStore`` when several servers verify codes.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from securekit.errors import MFAError
from securekit.mfa import TOTP, RecoveryCodes, generate_totp_secret
from securekit.stores import SQLiteStore
from securekit.testing import FixedClock


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "mfa.db")
        # A fixed clock keeps the demo deterministic; omit it in real code.
        clock = FixedClock(datetime(2026, 5, 1, 9, 0, 0, tzinfo=UTC))
        totp = TOTP(store, issuer="Example App", clock=clock)

        # Enrolment: store the secret with the user (encrypted, e.g. with
        # securekit.aead), show the URI as a QR code, confirm one code.
        secret = generate_totp_secret()
        print("provisioning URI:", totp.provisioning_uri(secret, account="alice@example.com"))

        code = totp.code(secret)  # what the user's authenticator app shows
        totp.verify(code, secret=secret, user="alice")
        print("first use of the code: accepted")
        try:
            totp.verify(code, secret=secret, user="alice")
        except MFAError as exc:
            print(f"second use of the code: refused ({exc.reason.value})")
        else:
            raise SystemExit("a replayed code was accepted")

        try:
            totp.verify("000000" if code != "000000" else "111111", secret=secret, user="alice")
        except MFAError as exc:
            print(f"wrong code: refused ({exc.reason.value})")

        # Recovery codes: shown once, stored hashed, each usable once.
        recovery = RecoveryCodes(store, count=5)
        codes = recovery.generate("alice")
        print("recovery codes (show once):", ", ".join(codes))
        recovery.use(codes[0], user="alice")
        print("recovery code used; remaining:", recovery.remaining("alice"))
        try:
            recovery.use(codes[0], user="alice")
        except MFAError as exc:
            print(f"recovery code reused: refused ({exc.reason.value})")
        store.close()


if __name__ == "__main__":
    main()
