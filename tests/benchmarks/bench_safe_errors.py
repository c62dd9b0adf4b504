"""Cost of redaction in the logging path, and of problem responses.

* Logging one formatted record through a handler with ``RedactingFilter``
  against the same handler without it (a formatter writing to memory, the
  cheapest possible handler): at most 5x, about 20 microseconds a record;
  handlers that write files or JSON make the ratio smaller.
* ``problem_response`` against building the same body with ``json.dumps``:
  at most 10x (it also classifies, validates the correlation id and logs).
"""

from __future__ import annotations

import io
import json
import logging

from securekit.errors import InvalidTokenError, TokenReason
from securekit.safe_errors import RedactingFilter, problem_response
from tests.benchmarks._harness import QUICK, compare


def _logger(name: str, *, redacting: bool) -> logging.Logger:
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    if redacting:
        handler.addFilter(RedactingFilter())
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_redacting_filter_overhead() -> None:
    plain = _logger("bench.plain", redacting=False)
    safe = _logger("bench.safe", redacting=True)
    user = {"id": 42, "name": "alice", "password": "not-logged"}  # pragma: allowlist secret
    result = compare(
        "logging with RedactingFilter vs without",
        {
            "logging": lambda: plain.info("user %s logged in from %s", user, "203.0.113.9"),
            "securekit": lambda: safe.info("user %s logged in from %s", user, "203.0.113.9"),
        },
        baseline="logging",
    )
    if not QUICK:
        assert result.ratio("securekit") <= 5.0


def test_problem_response_cost() -> None:
    exc = InvalidTokenError(TokenReason.EXPIRED)
    logging.getLogger("securekit.safe_errors").setLevel(logging.WARNING)
    body = {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "x"}
    result = compare(
        "problem_response vs json.dumps",
        {
            "json.dumps": lambda: json.dumps(body).encode(),
            "securekit": lambda: problem_response(exc, correlation_id="req-12345678"),
        },
        baseline="json.dumps",
    )
    if not QUICK:
        assert result.ratio("securekit") <= 10.0
