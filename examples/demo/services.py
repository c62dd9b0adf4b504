"""Every securekit recipe the demo uses, configured once at start-up.

Constructing the recipes here, not per request, means misconfiguration
(a wrong key kind, a bad CSP source, an unknown upload type) fails when the
app starts, with a ``ConfigurationError``, instead of on some later request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from securekit.aead import Aead
from securekit.authz import Policy
from securekit.csrf import CSRFProtect
from securekit.headers import ContentSecurityPolicy, CSPViolation, SecurityHeaders
from securekit.jwt import JWTIssuer, JWTVerifier, RefreshTokens
from securekit.mfa import TOTP, RecoveryCodes
from securekit.passwords import PasswordHasher, PasswordPolicy
from securekit.ratelimit import LoginThrottle, RateLimiter
from securekit.sessions import SessionCookie, SessionManager
from securekit.stores import SQLiteStore
from securekit.uploads import UploadPolicy

from .db import Database
from .keystore import DemoKeys, load_or_create_keys

__all__ = [
    "API_AUDIENCE",
    "AVATAR_MAX_BYTES",
    "CSP_REPORT_PATH",
    "ISSUER",
    "Clock",
    "Services",
    "build_services",
]

Clock = Callable[[], datetime]

#: The ``iss`` of the API's tokens and the TOTP issuer label.
ISSUER: Final = "securekit-demo"
#: The ``aud`` of the API's access tokens.
API_AUDIENCE: Final = "securekit-demo-api"
#: Avatars are small images: 1 MiB is plenty and bounds disk use per user.
AVATAR_MAX_BYTES: Final = 1024 * 1024
#: Where browsers send CSP violation reports (CSP Level 3 ``report-uri``).
CSP_REPORT_PATH: Final = "/csp-report"
#: Registrations per client IP per hour: each one costs an Argon2id hash.
_REGISTRATIONS_PER_HOUR: Final = 20
#: Kept in memory for the operator (and the end-to-end test); older ones drop.
_MAX_CSP_REPORTS: Final = 200

log = logging.getLogger("securekit.demo")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True, kw_only=True)
class CSPReportLog:
    """The latest CSP violation reports (bounded, thread-safe)."""

    _reports: list[CSPViolation] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, reports: list[CSPViolation]) -> None:
        """Record reports, dropping the oldest beyond the cap."""
        with self._lock:
            self._reports.extend(reports)
            del self._reports[:-_MAX_CSP_REPORTS]

    def snapshot(self) -> list[CSPViolation]:
        """A copy of the recorded reports."""
        with self._lock:
            return list(self._reports)


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """The configured recipes; one instance per app."""

    data_dir: Path
    avatars_dir: Path
    keys: DemoKeys
    db: Database
    store: SQLiteStore
    clock: Clock
    hasher: PasswordHasher
    password_policy: PasswordPolicy
    sessions: SessionManager
    cookie: SessionCookie
    csrf: CSRFProtect
    throttle: LoginThrottle
    registrations: RateLimiter
    uploads: UploadPolicy
    aead: Aead
    jwt_issuer: JWTIssuer
    jwt_verifier: JWTVerifier
    refresh_tokens: RefreshTokens
    totp: TOTP
    recovery_codes: RecoveryCodes
    authz: Policy
    headers: SecurityHeaders
    csp_reports: CSPReportLog


def _audit(decision: object) -> None:
    # Every authorization decision is logged (OWASP Logging Cheat Sheet:
    # access-control failures are security events).
    log.info("authz decision: %s", decision)


def build_services(
    data_dir: Path,
    *,
    origins: Collection[str],
    hasher: PasswordHasher | None = None,
    clock: Clock | None = None,
) -> Services:
    """Create the data directory's files (first run) and configure every recipe.

    Args:
        data_dir: where the databases, keys and avatars live (created 0700).
        origins: the origins the app is served from (CSRF ``Origin`` check).
        hasher: the password hasher (default: ``PasswordHasher()``).
        clock: the time source of every time-dependent recipe.

    Returns:
        The configured recipes.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    avatars_dir = data_dir / "avatars"
    avatars_dir.mkdir(mode=0o700, exist_ok=True)
    keys = load_or_create_keys(data_dir)
    now = clock if clock is not None else _utc_now
    store = SQLiteStore(data_dir / "securekit-store.db")
    throttle = LoginThrottle(
        store, secret=keys.mac.primary.derive("demo/login-throttle"), clock=now
    )
    issuer = JWTIssuer(keys.signing, issuer=ISSUER, audience=API_AUDIENCE, clock=now)
    return Services(
        data_dir=data_dir,
        avatars_dir=avatars_dir,
        keys=keys,
        db=Database(data_dir / "demo.db"),
        store=store,
        clock=now,
        hasher=hasher if hasher is not None else PasswordHasher(),
        # Service words: a password made of the site's own name is guessed first.
        password_policy=PasswordPolicy(service_words=("securekit", "demo")),
        sessions=SessionManager(store, clock=now),
        cookie=SessionCookie(name="demo"),
        csrf=CSRFProtect(keys.mac, origins=origins),
        throttle=throttle,
        registrations=RateLimiter(
            store,
            limit=_REGISTRATIONS_PER_HOUR,
            window=timedelta(hours=1),
            namespace="demo-register",
            clock=now,
        ),
        uploads=UploadPolicy(
            allowed={"png", "jpg", "jpeg", "gif", "webp"},
            max_bytes=AVATAR_MAX_BYTES,
            temp_dir=data_dir,
        ),
        aead=Aead(keys.aead),
        jwt_issuer=issuer,
        jwt_verifier=issuer.verifier(),
        refresh_tokens=RefreshTokens(issuer, store),
        totp=TOTP(store, issuer=ISSUER, throttle=throttle, clock=now),
        recovery_codes=RecoveryCodes(store),
        authz=Policy(
            {
                "user": {"comments.post", "notes.use", "account.manage"},
                "admin": {"comments.post", "notes.use", "account.manage", "admin.view"},
            },
            actions={"comments.post", "notes.use", "account.manage", "admin.view"},
            audit=_audit,
        ),
        headers=SecurityHeaders(csp=ContentSecurityPolicy(report_uri=CSP_REPORT_PATH)),
        csp_reports=CSPReportLog(),
    )
