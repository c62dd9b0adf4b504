"""No error type carries its input; the error families are what DESIGN.md says."""

from __future__ import annotations

import inspect
import pickle

import pytest

from securekit import errors
from tests._leak import assert_no_leak

VERIFICATION_ERRORS = sorted(
    (
        obj
        for obj in vars(errors).values()
        if inspect.isclass(obj) and issubclass(obj, errors.VerificationError)
    ),
    key=lambda cls: cls.__name__,
)


def _reason_enum(cls: type[errors.VerificationError]) -> type[errors._Reason]:
    annotation = inspect.get_annotations(cls, eval_str=True).get("reason")
    if annotation is None or annotation is errors._Reason:  # the base: any reason enum
        return errors.InputReason
    return annotation  # type: ignore[no-any-return]


def test_families() -> None:
    assert issubclass(errors.ConfigurationError, ValueError)
    assert issubclass(errors.ConfigurationError, errors.SecurekitError)
    assert issubclass(errors.VerificationError, errors.SecurekitError)
    assert not issubclass(errors.VerificationError, ValueError)
    assert issubclass(errors.StoreUnavailableError, errors.UnavailableError)
    assert issubclass(errors.InsecureConfigurationWarning, UserWarning)
    for name in errors.__all__:
        obj = getattr(errors, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            assert name.endswith(("Error", "Warning")), name


@pytest.mark.parametrize("cls", VERIFICATION_ERRORS, ids=lambda c: c.__name__)
def test_every_reason_gives_constant_public_message(cls: type[errors.VerificationError]) -> None:
    for reason in _reason_enum(cls):
        exc = cls(reason)
        assert str(exc) == cls.public_message
        assert exc.args == (cls.public_message,)
        assert exc.reason is reason
        assert reason.value in repr(exc)
        clone = pickle.loads(pickle.dumps(exc))
        assert type(clone) is cls
        assert clone.reason is reason


@pytest.mark.parametrize("cls", VERIFICATION_ERRORS, ids=lambda c: c.__name__)
def test_raised_from_input_does_not_leak(cls: type[errors.VerificationError]) -> None:
    secret = "hunter2-S3cr3t-passw0rd"  # the kind of value a caller might have rejected
    reason = next(iter(_reason_enum(cls)))
    try:
        try:
            raise ValueError(secret)
        except ValueError:
            raise cls(reason) from None
    except errors.VerificationError as exc:
        assert exc.__suppress_context__
        assert exc.__cause__ is None
        assert_no_leak(exc, secret)
        # Without ``from None`` the cause is shown, and the check finds it.
        exc.__suppress_context__ = False
        with pytest.raises(AssertionError):
            assert_no_leak(exc, secret)


def test_public_messages_are_distinct_per_family() -> None:
    messages = {cls.public_message for cls in VERIFICATION_ERRORS}
    assert len(messages) == len(VERIFICATION_ERRORS)


def test_reason_values_are_unique_within_each_enum() -> None:
    for cls in VERIFICATION_ERRORS:
        enum_cls = _reason_enum(cls)
        values = [member.value for member in enum_cls]
        assert len(values) == len(set(values))


def test_unavailable_default_messages() -> None:
    assert str(errors.StoreUnavailableError()) == "the state store is unavailable"
    assert str(errors.UnavailableError()) == "a required service is unavailable"


def test_field_and_retry_after_are_schema_values() -> None:
    exc = errors.InputValidationError(errors.InputReason.TOO_LONG, field="username")
    assert exc.field == "username"
    assert "username" in repr(exc)
    limited = errors.RateLimitedError(errors.RateLimitReason.LIMIT_EXCEEDED, retry_after=3.5)
    assert limited.retry_after == 3.5


def test_pickling_keeps_schema_attributes() -> None:
    exc = errors.InputValidationError(errors.InputReason.TOO_LONG, field="username")
    clone = pickle.loads(pickle.dumps(exc))
    assert clone.field == "username"
    assert clone.reason is errors.InputReason.TOO_LONG
    limited = errors.RateLimitedError(errors.RateLimitReason.THROTTLED, retry_after=2.0)
    assert pickle.loads(pickle.dumps(limited)).retry_after == 2.0
