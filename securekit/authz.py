"""Default-deny authorization: roles (RBAC), attribute rules (ABAC), object scopes.

Build one :class:`Policy` at start-up from a role table and the list of every
permission (action) the application knows; a role or action that is not
declared is a :class:`~securekit.errors.ConfigurationError` right there, never
a silent deny later. Subjects carry :class:`Role` objects obtained from the
policy, never strings, so a user whose id is literally ``"admin"`` gains
nothing.

Example:
    >>> policy = Policy({"editor": {"doc:read", "doc:edit"}}, actions={"doc:read", "doc:edit"})
    >>> alice = policy.subject("alice", roles=["editor"])
    >>> policy.allowed(alice, "doc:edit")
    True
    >>> policy.allowed(policy.subject("admin"), "doc:edit")
    False
"""

from __future__ import annotations

import enum
import functools
import hmac
import inspect
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, ParamSpec, TypeVar, cast

from securekit.errors import ConfigurationError, PermissionDeniedError, PermissionReason

__all__ = [
    "GUARD_ATTRIBUTE",
    "PUBLIC_ATTRIBUTE",
    "Decision",
    "Effect",
    "Policy",
    "Role",
    "Rule",
    "Scope",
    "Subject",
    "public",
    "require",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

#: Attribute set on every callable guarded by securekit (``require``,
#: ``Policy.dependency``); :mod:`securekit.testing.routes` looks for it.
GUARD_ATTRIBUTE: Final = "__securekit_guard__"
#: Attribute set by :func:`public` on endpoints that are meant to be open.
PUBLIC_ATTRIBUTE: Final = "__securekit_public__"

# Names of roles and actions: identifiers, "resource:verb" and dotted forms.
# An allowlist keeps log lines and error messages free of control characters.
_NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:\-]{0,127}")
_MAX_SUBJECT_ID: Final = 1024

logger = logging.getLogger("securekit.authz")


def _name(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if not _NAME.fullmatch(value):
        raise ConfigurationError(
            f"{what} names are 1 to 128 characters of letters, digits, '_', '.', ':' or '-'"
        )
    return value


@dataclass(frozen=True, slots=True)
class Role:
    """A role of a :class:`Policy`; obtain one with :meth:`Policy.role`.

    Roles are a type of their own so that no string (a user id, a group name
    typed by a user) is ever mistaken for one.
    """

    name: str

    def __post_init__(self) -> None:
        _name(self.name, "role")


@dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """Who is asking: an opaque id, roles, and attributes for ABAC rules.

    Attributes:
        id: the application's user or service id. Never interpreted as a role.
        roles: the subject's :class:`Role` objects (strings are refused).
        tenant: the subject's tenant for tenant-scoped lookups, if any.
        attributes: read-only extra facts for attribute rules (department, ...).
    """

    id: str
    roles: frozenset[Role] = frozenset()
    tenant: str | None = None
    attributes: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not isinstance(self.id, str):
            raise TypeError("Subject.id must be a str")
        if not 0 < len(self.id) <= _MAX_SUBJECT_ID:
            raise ConfigurationError("Subject.id must be 1 to 1024 characters")
        raw: object = self.roles
        if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
            raise TypeError("Subject.roles must be an iterable of Role objects")
        roles = frozenset(raw)
        for role in roles:
            if not isinstance(role, Role):
                # A bare string here is the "user named admin" confusion.
                raise TypeError("Subject.roles must contain Role objects, not strings")
        object.__setattr__(self, "roles", roles)
        if self.tenant is not None and not isinstance(self.tenant, str):
            raise TypeError("Subject.tenant must be a str or None")
        if not isinstance(self.attributes, Mapping):
            raise TypeError("Subject.attributes must be a mapping")
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))


class Effect(enum.Enum):
    """What a matching :class:`Rule` does."""

    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """An attribute rule (ABAC) for some actions.

    ``condition(subject, resource, env)`` decides whether the rule applies.
    An ``ALLOW`` rule applies only when the condition returns exactly
    ``True``; a ``DENY`` rule applies unless it returns exactly ``False``.
    A condition that raises counts as a deny. Both choices fail closed.

    Attributes:
        name: the rule's name, reported in audit records.
        actions: the actions the rule is about (all must be declared).
        effect: allow or deny; deny rules override every grant.
        condition: the predicate.
    """

    name: str
    actions: frozenset[str]
    effect: Effect
    condition: Callable[[Subject, Any, Mapping[str, object]], bool]

    def __post_init__(self) -> None:
        _name(self.name, "rule")
        raw: object = self.actions
        if isinstance(raw, str) or not isinstance(raw, Iterable):
            raise TypeError("Rule.actions must be a collection of action names")
        actions = frozenset(_name(a, "action") for a in raw)
        if not actions:
            raise ConfigurationError(f"rule {self.name!r} names no actions")
        object.__setattr__(self, "actions", actions)
        if not isinstance(self.effect, Effect):
            raise TypeError("Rule.effect must be an Effect")
        if not callable(self.condition):
            raise TypeError("Rule.condition must be callable")


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """One authorization decision, as given to the audit hook.

    It holds no resource content and no subject attributes: only the
    subject id, the action, the resource's type name, the outcome, the
    reason and the rule (or ``"role:<name>"``) that decided.
    """

    allowed: bool
    subject_id: str | None
    action: str
    resource_type: str
    reason: PermissionReason | None
    rule: str | None


def _refuse_case_twins(names: Iterable[str], what: str) -> None:
    """Refuse two names that differ only in letter case ("admin" / "Admin").

    Names are matched exactly, so twins would be two unrelated grants that
    a reader (or a case-insensitive identity provider) takes for one.
    """
    seen: dict[str, str] = {}
    for name in names:
        folded = name.lower()
        if folded in seen and seen[folded] != name:
            raise ConfigurationError(
                f"{what} names differ only in case: {seen[folded]!r}, {name!r}"
            )
        seen[folded] = name


def _resource_type(resource: object) -> str:
    return "none" if resource is None else type(resource).__name__


class Policy:
    """Role table plus attribute rules, checked default-deny.

    A request is allowed when one of the subject's roles grants the action
    or an ``ALLOW`` rule applies, and no ``DENY`` rule applies. Everything
    else is denied.

    Args:
        roles: role name -> the actions it grants.
        actions: every action the application uses. Roles and rules may
            only name these, and :meth:`check` refuses any other.
        rules: attribute rules, evaluated in order.
        audit: called with every :class:`Decision`. If it raises, the
            request is denied (``AUDIT_FAILED``): an unaudited grant is a
            policy violation of its own.

    Raises:
        ConfigurationError: a role grants an undeclared action, a rule
            names one, or a name is malformed or duplicated.
    """

    __slots__ = ("_actions", "_audit", "_grants", "_roles", "_rules")

    def __init__(
        self,
        roles: Mapping[str, Collection[str]],
        *,
        actions: Collection[str],
        rules: Iterable[Rule] = (),
        audit: Callable[[Decision], None] | None = None,
    ) -> None:
        if not isinstance(roles, Mapping):
            raise TypeError("roles must be a mapping of role name -> actions")
        if isinstance(actions, str) or not isinstance(actions, Collection):
            raise TypeError("actions must be a collection of action names")
        self._actions = frozenset(_name(a, "action") for a in actions)
        _refuse_case_twins(self._actions, "action")
        _refuse_case_twins([str(name) for name in roles], "role")
        grants: dict[Role, frozenset[str]] = {}
        for role_name, granted in roles.items():
            role = Role(_name(role_name, "role"))
            if isinstance(granted, str) or not isinstance(granted, Collection):
                raise TypeError(f"role {role_name!r} must map to a collection of actions")
            granted_set = frozenset(_name(a, "action") for a in granted)
            unknown = granted_set - self._actions
            if unknown:
                raise ConfigurationError(
                    f"role {role_name!r} grants undeclared actions: {sorted(unknown)}"
                )
            grants[role] = granted_set
        self._grants: Mapping[Role, frozenset[str]] = MappingProxyType(grants)
        self._roles = frozenset(grants)
        rule_list = tuple(rules)
        seen: set[str] = set()
        for rule in rule_list:
            if not isinstance(rule, Rule):
                raise TypeError("rules must be Rule objects")
            if rule.name in seen:
                raise ConfigurationError(f"two rules are named {rule.name!r}")
            seen.add(rule.name)
            unknown = rule.actions - self._actions
            if unknown:
                raise ConfigurationError(
                    f"rule {rule.name!r} names undeclared actions: {sorted(unknown)}"
                )
        self._rules = rule_list
        if audit is not None and not callable(audit):
            raise TypeError("audit must be a callable taking a Decision")
        self._audit = audit

    def __repr__(self) -> str:
        return f"Policy(roles={len(self._roles)}, actions={len(self._actions)})"

    @property
    def actions(self) -> frozenset[str]:
        """Every declared action."""
        return self._actions

    def role(self, name: str) -> Role:
        """Return the role called ``name``.

        Raises:
            ConfigurationError: the policy has no such role.
        """
        role = Role(_name(name, "role"))
        if role not in self._roles:
            raise ConfigurationError(f"unknown role {name!r}")
        return role

    def subject(
        self,
        subject_id: str,
        *,
        roles: Iterable[str] = (),
        tenant: str | None = None,
        attributes: Mapping[str, object] | None = None,
    ) -> Subject:
        """Build a :class:`Subject`, resolving role names through this policy.

        Raises:
            ConfigurationError: a role name is unknown (load-time, not a
                silent deny at request time).
        """
        if isinstance(roles, str):
            raise TypeError("roles must be an iterable of role names, not one string")
        return Subject(
            id=subject_id,
            roles=frozenset(self.role(name) for name in roles),
            tenant=tenant,
            attributes=attributes or {},
        )

    def decide(
        self,
        subject: Subject | None,
        action: str,
        resource: object = None,
        *,
        env: Mapping[str, object] | None = None,
    ) -> Decision:
        """Decide without raising; the decision is audited.

        Args:
            subject: who asks (``None``: not authenticated, always denied).
            action: a declared action.
            resource: the object acted on, passed to attribute rules.
            env: request facts for attribute rules (time, IP, ...).

        Returns:
            The decision.

        Raises:
            ConfigurationError: ``action`` is not declared (a typo in code
                must not read as an ordinary deny).
        """
        if _name(action, "action") not in self._actions:
            raise ConfigurationError(f"unknown action {action!r}: declare it in the policy")
        if subject is not None and not isinstance(subject, Subject):
            raise TypeError("subject must be a Subject or None")
        if env is not None and not isinstance(env, Mapping):
            raise TypeError("env must be a mapping or None")
        decision = self._evaluate(subject, action, resource, env or MappingProxyType({}))
        if self._audit is not None:
            try:
                self._audit(decision)
            except Exception:
                # An audit sink that is down must not let requests through unrecorded.
                logger.exception("authz audit hook failed; denying")
                decision = Decision(
                    allowed=False,
                    subject_id=decision.subject_id,
                    action=action,
                    resource_type=decision.resource_type,
                    reason=PermissionReason.AUDIT_FAILED,
                    rule=decision.rule,
                )
        logger.debug(
            "authz %s action=%s rule=%s",
            "allow" if decision.allowed else "deny",
            action,
            decision.rule,
        )
        return decision

    def _evaluate(
        self,
        subject: Subject | None,
        action: str,
        resource: object,
        env: Mapping[str, object],
    ) -> Decision:
        kind = _resource_type(resource)

        def deny(reason: PermissionReason, rule: str | None) -> Decision:
            return Decision(
                allowed=False,
                subject_id=None if subject is None else subject.id,
                action=action,
                resource_type=kind,
                reason=reason,
                rule=rule,
            )

        if subject is None:
            return deny(PermissionReason.NOT_AUTHENTICATED, None)
        granted_by: str | None = None
        # Sorted so the reported role is deterministic across runs.
        for role in sorted(subject.roles, key=lambda r: r.name):
            # Roles unknown to this policy (stale data) grant nothing.
            if action in self._grants.get(role, frozenset()):
                granted_by = f"role:{role.name}"
                break
        for rule in self._rules:
            if action not in rule.actions:
                continue
            try:
                result = rule.condition(subject, resource, env)
            except Exception:  # noqa: BLE001 - any failure of app code must deny
                # A crashing condition is a deny, whatever the rule's effect.
                logger.warning("authz rule %s raised; denying", rule.name)
                return deny(PermissionReason.DENIED_BY_RULE, rule.name)
            if rule.effect is Effect.DENY and result is not False:
                return deny(PermissionReason.DENIED_BY_RULE, rule.name)
            if rule.effect is Effect.ALLOW and result is True and granted_by is None:
                granted_by = rule.name
        if granted_by is None:
            return deny(PermissionReason.NO_RULE, None)
        return Decision(
            allowed=True,
            subject_id=subject.id,
            action=action,
            resource_type=kind,
            reason=None,
            rule=granted_by,
        )

    def allowed(
        self,
        subject: Subject | None,
        action: str,
        resource: object = None,
        *,
        env: Mapping[str, object] | None = None,
    ) -> bool:
        """Return whether ``subject`` may do ``action`` (see :meth:`decide`)."""
        return self.decide(subject, action, resource, env=env).allowed

    def check(
        self,
        subject: Subject | None,
        action: str,
        resource: object = None,
        *,
        env: Mapping[str, object] | None = None,
    ) -> None:
        """Raise unless ``subject`` may do ``action`` on ``resource``.

        Raises:
            PermissionDeniedError: denied; ``reason`` says why.
            ConfigurationError: ``action`` is not declared.
        """
        decision = self.decide(subject, action, resource, env=env)
        if not decision.allowed:
            raise PermissionDeniedError(decision.reason or PermissionReason.NO_RULE)

    def dependency(self, action: str, *, subject: Callable[..., Any]) -> Callable[..., Any]:
        """A FastAPI dependency that checks ``action`` for the current subject.

        Use it as ``Depends(policy.dependency("doc:read", subject=current_user))``
        in a route's parameters or ``dependencies=[...]``; it returns the
        subject. ``subject`` is your own FastAPI dependency returning a
        :class:`Subject` (or ``None`` when nobody is logged in).

        Raises:
            ConfigurationError: ``action`` is not declared.
        """
        from fastapi import Depends  # noqa: PLC0415 - FastAPI is an optional extra

        if _name(action, "action") not in self._actions:
            raise ConfigurationError(f"unknown action {action!r}: declare it in the policy")
        if not callable(subject):
            raise TypeError("subject must be a FastAPI dependency callable")

        def guard(current: Any) -> Subject:
            self.check(current if isinstance(current, Subject) else None, action)
            return cast(Subject, current)

        guard.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(
                    "current",
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    default=Depends(subject),
                )
            ],
            return_annotation=Subject,
        )
        setattr(guard, GUARD_ATTRIBUTE, action)
        return guard


def _mark(fn: Callable[..., Any], action: str) -> None:
    setattr(fn, GUARD_ATTRIBUTE, action)


def require(
    action: str,
    *,
    policy: Policy,
    subject: str | Callable[[], Subject | None] = "subject",
    resource: str | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function (sync or async) so it runs only if allowed.

    Args:
        action: the declared action to check.
        policy: the policy that decides.
        subject: the name of the decorated function's parameter holding the
            :class:`Subject`, or a zero-argument callable returning the
            current subject (for example one reading ``flask.g``).
        resource: optional name of the parameter holding the resource,
            passed to attribute rules.

    Returns:
        The decorator. The wrapped function raises
        :class:`~securekit.errors.PermissionDeniedError` when denied.

    Raises:
        ConfigurationError: ``action`` is undeclared, or a named parameter
            does not exist on the decorated function.
    """
    if not isinstance(policy, Policy):
        raise TypeError("policy must be a Policy")
    if _name(action, "action") not in policy.actions:
        raise ConfigurationError(f"unknown action {action!r}: declare it in the policy")
    if not isinstance(subject, str) and not callable(subject):
        raise TypeError("subject must be a parameter name or a callable")
    if resource is not None and not isinstance(resource, str):
        raise TypeError("resource must be a parameter name or None")

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(fn)
        for name in (subject if isinstance(subject, str) else None, resource):
            if name is not None and name not in signature.parameters:
                raise ConfigurationError(f"{fn.__qualname__} has no parameter {name!r}")

        def authorize(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            if isinstance(subject, str) or resource is not None:
                try:
                    bound = signature.bind(*args, **kwargs)
                except TypeError:
                    # A call that does not fit the signature is not authorized.
                    raise PermissionDeniedError(PermissionReason.NOT_AUTHENTICATED) from None
                bound.apply_defaults()
                values = bound.arguments
            else:
                values = {}
            current = values.get(subject) if isinstance(subject, str) else subject()
            target = values.get(resource) if resource is not None else None
            policy.check(current if isinstance(current, Subject) else None, action, target)

        if inspect.iscoroutinefunction(fn):
            async_fn = cast(Callable[P, Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                authorize(args, kwargs)
                return await async_fn(*args, **kwargs)

            _mark(async_wrapper, action)
            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            authorize(args, kwargs)
            return fn(*args, **kwargs)

        _mark(wrapper, action)
        return wrapper

    return decorate


def public(fn: T) -> T:
    """Mark an endpoint as deliberately open (login page, health check).

    :mod:`securekit.testing.routes` then does not report it as unguarded.
    """
    setattr(fn, PUBLIC_ATTRIBUTE, True)
    return fn


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """Owner- or tenant-scoped object loading (IDOR protection).

    Put the scope into the query itself (:meth:`filter`), so other users'
    rows are never loaded, and let :meth:`load` / :meth:`check` turn a
    missing or foreign object into "not found": the same answer for "does
    not exist" and "not yours", so ids cannot be probed.

    Attributes:
        field: the object's attribute / column holding the owner or tenant.
        by_tenant: compare with ``Subject.tenant`` instead of ``Subject.id``.

    Example:
        >>> scope = Scope(field="owner_id")
        >>> # SQLAlchemy: session.scalars(select(Doc).filter_by(id=doc_id,
        >>> #     **scope.filter(subject))).one_or_none()
    """

    field: str = "owner_id"
    by_tenant: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.field, str) or not self.field.isidentifier():
            raise ConfigurationError("Scope.field must be an attribute name")
        if not isinstance(self.by_tenant, bool):
            raise TypeError("Scope.by_tenant must be a bool")

    def _owner(self, subject: Subject | None) -> str:
        if not isinstance(subject, Subject):
            if subject is None:
                raise PermissionDeniedError(PermissionReason.NOT_FOUND)
            raise TypeError("subject must be a Subject")
        value = subject.tenant if self.by_tenant else subject.id
        if not value:
            # A subject without a tenant (or with an empty one) sees no
            # tenant's data: "" must never match rows whose tenant is "".
            raise PermissionDeniedError(PermissionReason.NOT_FOUND)
        return value

    def _field_value(self, obj: object) -> str | None:
        if obj is None:
            return None
        try:
            actual = obj.get(self.field) if isinstance(obj, Mapping) else getattr(obj, self.field)
        except Exception:  # noqa: BLE001 - a broken object is as invisible as a missing one
            return None
        if isinstance(actual, int) and not isinstance(actual, bool):
            # Integer primary keys compare by their decimal form.
            return str(actual)
        if isinstance(actual, uuid.UUID):
            # UUID columns compare by their canonical (lower-case, hyphenated) form.
            return str(actual)
        return actual if isinstance(actual, str) else None

    def filter(self, subject: Subject | None) -> dict[str, str]:
        """Keyword criteria restricting a query to what ``subject`` may see.

        Raises:
            PermissionDeniedError: ``NOT_FOUND`` when there is nothing the
                subject could see (no subject, or no tenant).
        """
        return {self.field: self._owner(subject)}

    def check(self, subject: Subject | None, obj: T | None) -> T:
        """Return ``obj`` if it belongs to ``subject``, else raise "not found".

        A missing object, a foreign object and an object without a readable
        scope field take the same path (one constant-time comparison) and
        raise the same error, so neither the answer nor its timing tells
        them apart.

        Raises:
            PermissionDeniedError: ``NOT_FOUND`` for a missing object, a
                foreign object and an object without the scope field alike.
        """
        owner = self._owner(subject).encode("utf-8", "surrogatepass")
        actual = self._field_value(obj)
        presented = b"" if actual is None else actual.encode("utf-8", "surrogatepass")
        # owner is never empty, so b"" (missing object) never matches.
        if not hmac.compare_digest(presented, owner) or obj is None:
            raise PermissionDeniedError(PermissionReason.NOT_FOUND)
        return obj

    def load(self, subject: Subject | None, lookup: Callable[..., T | None], **criteria: Any) -> T:
        """Call ``lookup(**criteria, <field>=<owner>)`` and check the result.

        Raises:
            PermissionDeniedError: ``NOT_FOUND`` when nothing visible matched.
            ConfigurationError: ``criteria`` already names the scope field.
        """
        if self.field in criteria:
            raise ConfigurationError(f"criteria must not set the scope field {self.field!r}")
        scoped = self.filter(subject)
        return self.check(subject, lookup(**criteria, **scoped))
