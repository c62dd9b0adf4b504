"""Every public exception and warning of securekit.

Three families sit under :class:`SecurekitError`:

* :class:`ConfigurationError` (also a :class:`ValueError`): a developer mistake
  found at set-up. The message is specific and actionable, and never contains
  key material or other secrets.
* :class:`VerificationError`: untrusted input failed a check. The message is a
  constant public sentence; ``reason`` is an enum member for server-side logs.
  Neither the message, ``repr``, ``args`` nor any attribute carries the
  rejected value.
* :class:`UnavailableError`: a store or service is down. Recipes fail closed
  with it: they deny, they never fall back to weaker behaviour.

Each ``VerificationError`` subclass has its own reason enum, defined here so
that every reason code an application may log is listed in one place.
"""

from __future__ import annotations

import enum
from typing import ClassVar

__all__ = [
    "CSRFError",
    "CSRFReason",
    "ConfigurationError",
    "DecryptionError",
    "DecryptionReason",
    "InputReason",
    "InputValidationError",
    "InsecureConfigurationWarning",
    "InvalidTokenError",
    "MFAError",
    "MFAReason",
    "PasswordReason",
    "PermissionDeniedError",
    "PermissionReason",
    "ProcessError",
    "ProcessReason",
    "RateLimitReason",
    "RateLimitedError",
    "SecurekitError",
    "SessionError",
    "SessionReason",
    "StoreUnavailableError",
    "TokenReason",
    "URLReason",
    "UnavailableError",
    "UnsafeURLError",
    "UploadReason",
    "UploadRejectedError",
    "VerificationError",
    "WeakPasswordError",
]


class SecurekitError(Exception):
    """Base class of every exception securekit raises on purpose."""


class ConfigurationError(SecurekitError, ValueError):
    """A developer mistake found at set-up (wrong parameter, weak key, ...).

    The message says exactly what is wrong and how to fix it. It never
    contains key material, passwords or other secrets.
    """


class InsecureConfigurationWarning(UserWarning):
    """Emitted whenever an ``insecure_*`` argument weakens a default."""


class UnavailableError(SecurekitError):
    """A store or service that a recipe needs is down; the recipe denied."""

    def __init__(self, message: str = "a required service is unavailable") -> None:
        super().__init__(message)


class StoreUnavailableError(UnavailableError):
    """The state store (memory, SQLite, Redis) could not be reached or failed.

    Recipes treat this as a denial: no session is valid, no hit is allowed,
    no token is unrevoked while the store is down.
    """

    def __init__(self, message: str = "the state store is unavailable") -> None:
        super().__init__(message)


class _Reason(enum.StrEnum):
    """Base for reason enums: a stable, log-friendly code per failure."""


class InputReason(_Reason):
    """Why untrusted input was rejected by validation or strict parsing."""

    WRONG_TYPE = "wrong_type"
    TOO_LONG = "too_long"
    TOO_SHORT = "too_short"
    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    BAD_FORMAT = "bad_format"
    BAD_ENCODING = "bad_encoding"
    FORBIDDEN_CHARACTER = "forbidden_character"
    OUT_OF_RANGE = "out_of_range"
    NOT_FINITE = "not_finite"
    NOT_ALLOWED = "not_allowed"
    DUPLICATE_KEY = "duplicate_key"
    EXTRA_FIELD = "extra_field"
    MISSING_FIELD = "missing_field"
    INVALID_JSON = "invalid_json"
    UNSAFE_FORMAT = "unsafe_format"


class PasswordReason(_Reason):
    """Why a password was refused by the policy or the hasher."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    CONTEXT = "context"
    BREACHED = "breached"
    REPETITIVE = "repetitive"
    FORBIDDEN_CHARACTER = "forbidden_character"
    # Outcomes of PasswordHasher.verify (logged, never raised to callers).
    MISMATCH = "mismatch"
    NO_HASH = "no_hash"
    MALFORMED_HASH = "malformed_hash"
    UNSUPPORTED_HASH = "unsupported_hash"
    HASH_OVER_LIMIT = "hash_over_limit"
    UNKNOWN_KEY = "unknown_key"


class TokenReason(_Reason):
    """Why a token (JWT, signed token) was rejected."""

    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    BAD_ENCODING = "bad_encoding"
    BAD_HEADER = "bad_header"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_TYPE = "wrong_type"
    WRONG_PURPOSE = "wrong_purpose"
    MISSING_CLAIM = "missing_claim"
    BAD_CLAIM = "bad_claim"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    ISSUED_IN_FUTURE = "issued_in_future"
    LIFETIME_TOO_LONG = "lifetime_too_long"
    REVOKED = "revoked"
    REUSED = "reused"
    UNSUPPORTED_VERSION = "unsupported_version"
    # OAuth 2.0 / OpenID Connect callbacks (securekit.oauth).
    STATE_MISMATCH = "state_mismatch"
    NONCE_MISMATCH = "nonce_mismatch"
    PROVIDER_ERROR = "provider_error"


class DecryptionReason(_Reason):
    """Why a ciphertext could not be decrypted (logged, never shown)."""

    TOO_SHORT = "too_short"
    TOO_LARGE = "too_large"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_KEY = "unknown_key"
    ALGORITHM_MISMATCH = "algorithm_mismatch"
    AUTHENTICATION_FAILED = "authentication_failed"
    TRUNCATED = "truncated"
    TRAILING_DATA = "trailing_data"


class SessionReason(_Reason):
    """Why a session token was not accepted."""

    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    EXPIRED_IDLE = "expired_idle"
    EXPIRED_ABSOLUTE = "expired_absolute"
    REVOKED = "revoked"
    TOO_LARGE = "too_large"


class CSRFReason(_Reason):
    """Why a state-changing request was refused as cross-site."""

    CROSS_SITE = "cross_site"
    BAD_ORIGIN = "bad_origin"
    MISSING_ORIGIN = "missing_origin"
    MISSING_TOKEN = "missing_token"
    MALFORMED_TOKEN = "malformed_token"
    BAD_TOKEN = "bad_token"


class RateLimitReason(_Reason):
    """Why a request was refused by a rate limit or login throttle."""

    LIMIT_EXCEEDED = "limit_exceeded"
    ACCOUNT_LOCKED = "account_locked"
    THROTTLED = "throttled"


class UploadReason(_Reason):
    """Why an uploaded file (or archive, or path) was rejected."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    BAD_FILENAME = "bad_filename"
    EXTENSION_NOT_ALLOWED = "extension_not_allowed"
    TYPE_MISMATCH = "type_mismatch"
    DECLARED_TYPE_MISMATCH = "declared_type_mismatch"
    MALFORMED = "malformed"
    TRAILING_DATA = "trailing_data"
    EMBEDDED_MARKUP = "embedded_markup"
    ACTIVE_CONTENT = "active_content"
    TOO_MANY_PIXELS = "too_many_pixels"
    UNSAFE_PATH = "unsafe_path"
    ARCHIVE_BOMB = "archive_bomb"
    ARCHIVE_UNSAFE_ENTRY = "archive_unsafe_entry"
    READ_ERROR = "read_error"


class PermissionReason(_Reason):
    """Why an authorization check denied access."""

    NO_RULE = "no_rule"
    DENIED_BY_RULE = "denied_by_rule"
    NOT_AUTHENTICATED = "not_authenticated"
    NOT_FOUND = "not_found"
    AUDIT_FAILED = "audit_failed"


class ProcessReason(_Reason):
    """Why a subprocess run by ``securekit.process.run`` was stopped or failed."""

    TIMEOUT = "timeout"
    OUTPUT_TOO_LARGE = "output_too_large"
    NONZERO_EXIT = "nonzero_exit"


class MFAReason(_Reason):
    """Why a second factor was not accepted."""

    MALFORMED = "malformed"
    INVALID_CODE = "invalid_code"
    REPLAYED = "replayed"
    USED_CODE = "used_code"
    THROTTLED = "throttled"


class URLReason(_Reason):
    """Why a URL was refused as a redirect target or outbound fetch."""

    MALFORMED = "malformed"
    FORBIDDEN_CHARACTER = "forbidden_character"
    SCHEME_NOT_ALLOWED = "scheme_not_allowed"
    HOST_NOT_ALLOWED = "host_not_allowed"
    USERINFO = "userinfo"
    PORT_NOT_ALLOWED = "port_not_allowed"
    ADDRESS_NOT_ALLOWED = "address_not_allowed"
    RESOLUTION_FAILED = "resolution_failed"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    RESPONSE_TOO_LARGE = "response_too_large"
    TIMEOUT = "timeout"


class VerificationError(SecurekitError):
    """Untrusted input failed a check.

    ``str(error)`` is a constant public sentence safe to show to the client;
    ``error.reason`` is an enum member for server-side logs. The rejected value
    is never stored on the exception, so it cannot leak through ``str``,
    ``repr``, ``args``, tracebacks or error reporters.
    """

    public_message: ClassVar[str] = "the request could not be verified"
    reason: _Reason

    def __init__(self, reason: _Reason) -> None:
        super().__init__(self.public_message)
        self.reason = reason

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reason={self.reason.value!r})"

    def __reduce__(
        self,
    ) -> tuple[type[VerificationError], tuple[_Reason], dict[str, object]]:
        # Keeps the exception picklable for multiprocessing without ever
        # routing anything but the reason through args; the schema-level
        # attributes (field, retry_after) travel as state.
        return (type(self), (self.reason,), dict(vars(self)))


class InputValidationError(VerificationError):
    """Untrusted input failed validation or strict parsing."""

    public_message = "the input is not valid"
    reason: InputReason

    def __init__(self, reason: InputReason, *, field: str | None = None) -> None:
        super().__init__(reason)
        #: The name of the field that failed, from the *schema*, never from
        #: the input (``None`` when not applicable).
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reason={self.reason.value!r}, field={self.field!r})"


class WeakPasswordError(VerificationError):
    """A password was refused by the password policy or length cap."""

    public_message = "the password does not meet the password policy"
    reason: PasswordReason


class InvalidTokenError(VerificationError):
    """A token (JWT, signed link token, ...) is invalid, expired or revoked."""

    public_message = "the token is not valid"
    reason: TokenReason


class DecryptionError(VerificationError):
    """A ciphertext could not be authenticated and decrypted."""

    public_message = "the data could not be decrypted"
    reason: DecryptionReason


class SessionError(VerificationError):
    """A session token is unknown, malformed, expired or revoked."""

    public_message = "the session is not valid"
    reason: SessionReason


class CSRFError(VerificationError):
    """A state-changing request failed the cross-site request checks."""

    public_message = "the request was refused as cross-site"
    reason: CSRFReason


class RateLimitedError(VerificationError):
    """A request was refused by a rate limit or login throttle."""

    public_message = "too many requests"
    reason: RateLimitReason

    def __init__(self, reason: RateLimitReason, *, retry_after: float = 0.0) -> None:
        super().__init__(reason)
        #: Seconds until a retry may succeed (not secret).
        self.retry_after = retry_after


class UploadRejectedError(VerificationError):
    """An uploaded file, filename, path or archive was rejected."""

    public_message = "the file was rejected"
    reason: UploadReason


class PermissionDeniedError(VerificationError):
    """An authorization check denied access."""

    public_message = "permission denied"
    reason: PermissionReason


class MFAError(VerificationError):
    """A second-factor code was malformed, wrong, replayed or throttled."""

    public_message = "the verification code is not valid"
    reason: MFAReason


class UnsafeURLError(VerificationError):
    """A URL was refused as a redirect target or as an outbound fetch."""

    public_message = "the URL is not allowed"
    reason: URLReason


class ProcessError(VerificationError):
    """A subprocess timed out, produced too much output or exited non-zero.

    Neither the command line nor the output is stored on the exception (both
    may hold secrets or the untrusted value); ``returncode`` is set for
    ``NONZERO_EXIT``.
    """

    public_message = "the subprocess failed"
    reason: ProcessReason

    def __init__(self, reason: ProcessReason, *, returncode: int | None = None) -> None:
        super().__init__(reason)
        #: The exit status for ``NONZERO_EXIT`` (negative: killed by that signal).
        self.returncode = returncode
