"""Assertions that an exception does not carry a secret or rejected value."""

from __future__ import annotations

import pickle
import traceback


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.append(current.__cause__)
        # ``raise ... from None`` hides the context from tracebacks and error
        # reporters; it is what recipes use to drop a cause that holds input.
        if not current.__suppress_context__:
            todo.append(current.__context__)
    return seen


def assert_no_leak(exc: BaseException, *secrets: str | bytes) -> None:
    """Fail if any secret appears anywhere an error reporter could look.

    Checks ``str``, ``repr``, ``args``, instance attributes, notes, the full
    formatted traceback (with chained causes and contexts) and the pickled
    form, for ``exc`` and every exception chained to it.
    """
    for error in _chain(exc):
        texts = [
            str(error),
            repr(error),
            repr(error.args),
            repr(vars(error)) if hasattr(error, "__dict__") else "",
            repr(getattr(error, "__notes__", "")),
        ]
        try:
            texts.append(repr(pickle.dumps(error)))
        except Exception:  # an unpicklable error simply has no pickled form
            pass
        for secret in secrets:
            needle = secret if isinstance(secret, str) else secret.decode("latin-1")
            for text in texts:
                assert needle not in text, f"{type(error).__name__} leaks a secret"
    formatted = "".join(traceback.format_exception(exc))
    for secret in secrets:
        needle = secret if isinstance(secret, str) else secret.decode("latin-1")
        assert needle not in formatted, "the formatted traceback leaks a secret"
