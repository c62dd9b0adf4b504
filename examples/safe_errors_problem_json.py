"""Safe error responses (RFC 9457) and log redaction.

Run: python examples/safe_errors_problem_json.py
"""

from __future__ import annotations

import logging
import secrets
import sys

from securekit.errors import (
    InputReason,
    InputValidationError,
    InvalidTokenError,
    RateLimitedError,
    RateLimitReason,
    SessionError,
    SessionReason,
    TokenReason,
)
from securekit.safe_errors import (
    LOGIN_FAILED,
    PASSWORD_RESET_REQUESTED,
    RedactingFilter,
    problem_response,
    redact,
)


def main() -> None:
    # Install the redaction filter on the handler, so every record is covered.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("log: %(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    log = logging.getLogger("app")

    # 1. Every authentication failure gets the same 401 body.
    for exc in [InvalidTokenError(TokenReason.EXPIRED), SessionError(SessionReason.REVOKED)]:
        response = problem_response(exc, correlation_id="req-0001-abcd")
        print(response.status, response.content.decode())

    # 2. Rate limits carry Retry-After; validation errors name the schema field.
    limited = problem_response(RateLimitedError(RateLimitReason.LIMIT_EXCEEDED, retry_after=7.5))
    print(limited.status, "Retry-After:", limited.headers["Retry-After"])
    invalid = problem_response(InputValidationError(InputReason.TOO_LONG, field="username"))
    print(invalid.status, invalid.content.decode())

    # 3. Unexpected errors: a generic 500 for the client, the full story in the log.
    try:
        {"users": 1}["orders"]
    except KeyError as exc:
        crash = problem_response(exc)
    print(crash.status, crash.content.decode())

    # 4. Secrets never reach the log: by key name, by value pattern, in arguments.
    submitted = secrets.token_urlsafe(12)  # stands in for a real password / token
    log.info("login attempt %s", {"user": "alice", "password": submitted})
    log.info("upstream call with Authorization: Bearer %s", secrets.token_urlsafe(24))
    log.info("charging card %s", "4111 1111 1111 1111")  # the Visa test number
    dsn = f"postgres://app:{submitted}@db/orders"
    print(redact({"user": "alice", "api_key": submitted, "db": dsn}))

    # 5. Enumeration-safe messages: the same text whether or not the account exists.
    print(LOGIN_FAILED)
    print(PASSWORD_RESET_REQUESTED)


if __name__ == "__main__":
    main()
