"""securekit.authz: default-deny RBAC/ABAC policy, require, scopes (IDOR)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit.authz import (
    GUARD_ATTRIBUTE,
    PUBLIC_ATTRIBUTE,
    Decision,
    Effect,
    Policy,
    Role,
    Rule,
    Scope,
    Subject,
    public,
    require,
)
from securekit.errors import ConfigurationError, PermissionDeniedError, PermissionReason
from securekit.safe_errors import problem_response
from tests._leak import assert_no_leak

ACTIONS = {"doc:read", "doc:edit", "doc:delete", "admin:panel"}


def make_policy(**kwargs: Any) -> Policy:
    return Policy(
        {
            "viewer": {"doc:read"},
            "editor": {"doc:read", "doc:edit"},
            "admin": ACTIONS,
        },
        actions=ACTIONS,
        **kwargs,
    )


@dataclass
class Doc:
    id: int
    owner_id: str
    tenant_id: str = "t1"
    locked: bool = False


# --- construction ---------------------------------------------------------


def test_role_granting_undeclared_action_fails_at_load() -> None:
    with pytest.raises(ConfigurationError, match="undeclared actions"):
        Policy({"viewer": {"doc:reed"}}, actions=ACTIONS)


def test_rule_naming_undeclared_action_fails_at_load() -> None:
    rule = Rule(
        name="r", actions=frozenset({"doc:purge"}), effect=Effect.DENY, condition=lambda *_: True
    )
    with pytest.raises(ConfigurationError, match="undeclared actions"):
        make_policy(rules=[rule])


def test_duplicate_rule_names_refused() -> None:
    rule = Rule(
        name="r", actions=frozenset({"doc:read"}), effect=Effect.DENY, condition=lambda *_: True
    )
    with pytest.raises(ConfigurationError, match="two rules"):
        make_policy(rules=[rule, rule])


@pytest.mark.parametrize(
    ("roles", "actions", "error"),
    [
        ([("viewer", {"doc:read"})], ACTIONS, TypeError),
        ({"viewer": "doc:read"}, ACTIONS, TypeError),
        ({"viewer": {"doc:read"}}, "doc:read", TypeError),
        ({"bad role!": {"doc:read"}}, ACTIONS, ConfigurationError),
        ({"viewer": {1}}, ACTIONS, TypeError),
        ({"viewer": {"doc:read"}}, {""}, ConfigurationError),
        ({"viewer": {"doc:read"}}, {"x\n"}, ConfigurationError),
    ],
)
def test_policy_misuse(roles: Any, actions: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        Policy(roles, actions=actions)


def test_policy_misuse_rules_and_audit() -> None:
    with pytest.raises(TypeError):
        make_policy(rules=["allow-all"])
    with pytest.raises(TypeError):
        make_policy(audit="log")


def test_rule_misuse() -> None:
    with pytest.raises(TypeError):
        Rule(name="r", actions="doc:read", effect=Effect.DENY, condition=lambda *_: True)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="no actions"):
        Rule(name="r", actions=frozenset(), effect=Effect.DENY, condition=lambda *_: True)
    with pytest.raises(TypeError):
        Rule(name="r", actions=frozenset({"a"}), effect="deny", condition=lambda *_: True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Rule(name="r", actions=frozenset({"a"}), effect=Effect.DENY, condition=None)  # type: ignore[arg-type]


def test_unknown_role_is_configuration_error() -> None:
    policy = make_policy()
    with pytest.raises(ConfigurationError, match="unknown role"):
        policy.role("superuser")
    with pytest.raises(ConfigurationError, match="unknown role"):
        policy.subject("alice", roles=["superuser"])
    with pytest.raises(TypeError):
        policy.subject("alice", roles="admin")


def test_unknown_action_is_configuration_error_not_silent_deny() -> None:
    policy = make_policy()
    with pytest.raises(ConfigurationError, match="unknown action"):
        policy.check(policy.subject("a", roles=["admin"]), "doc:reed")
    with pytest.raises(TypeError):
        policy.check(policy.subject("a"), 42)  # type: ignore[arg-type]


def test_subject_misuse() -> None:
    with pytest.raises(TypeError, match="Role objects"):
        Subject(id="alice", roles=frozenset({"admin"}))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Subject(id="alice", roles="admin")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Subject(id=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        Subject(id="")
    with pytest.raises(TypeError):
        Subject(id="a", tenant=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Subject(id="a", attributes=[("k", "v")])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Role(1)  # type: ignore[arg-type]
    policy = make_policy()
    with pytest.raises(TypeError):
        policy.check("alice", "doc:read")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        policy.check(policy.subject("a"), "doc:read", env=[("k", 1)])  # type: ignore[arg-type]


def test_subject_attributes_are_read_only_copies() -> None:
    attrs = {"dept": "x"}
    subject = Subject(id="a", attributes=attrs)
    attrs["dept"] = "y"
    assert subject.attributes["dept"] == "x"
    with pytest.raises(TypeError):
        subject.attributes["dept"] = "z"  # type: ignore[index]


# --- decisions --------------------------------------------------------------


def test_user_named_admin_gains_nothing() -> None:
    policy = make_policy()
    admin_named_user = policy.subject("admin")
    assert not policy.allowed(admin_named_user, "admin:panel")
    with pytest.raises(PermissionDeniedError) as info:
        policy.check(admin_named_user, "doc:read")
    assert info.value.reason is PermissionReason.NO_RULE


def test_roles_grant_exactly_their_actions() -> None:
    policy = make_policy()
    viewer = policy.subject("v", roles=["viewer"])
    editor = policy.subject("e", roles=["editor"])
    assert policy.allowed(viewer, "doc:read")
    assert not policy.allowed(viewer, "doc:edit")
    assert policy.allowed(editor, "doc:edit")
    assert not policy.allowed(editor, "doc:delete")
    policy.check(editor, "doc:edit")


def test_no_subject_is_not_authenticated() -> None:
    policy = make_policy()
    with pytest.raises(PermissionDeniedError) as info:
        policy.check(None, "doc:read")
    assert info.value.reason is PermissionReason.NOT_AUTHENTICATED


def test_role_unknown_to_policy_grants_nothing() -> None:
    policy = make_policy()
    stale = Subject(id="a", roles=frozenset({Role("superuser")}))
    assert not policy.allowed(stale, "doc:read")


def test_deny_rule_overrides_role_grant() -> None:
    locked = Rule(
        name="locked-docs",
        actions=frozenset({"doc:edit"}),
        effect=Effect.DENY,
        condition=lambda _s, r, _e: isinstance(r, Doc) and r.locked,
    )
    policy = make_policy(rules=[locked])
    admin = policy.subject("a", roles=["admin"])
    assert policy.allowed(admin, "doc:edit", Doc(1, "a"))
    decision = policy.decide(admin, "doc:edit", Doc(1, "a", locked=True))
    assert not decision.allowed
    assert decision.rule == "locked-docs"
    assert decision.reason is PermissionReason.DENIED_BY_RULE


def test_allow_rule_grants_owner() -> None:
    owner_may_delete = Rule(
        name="owner-delete",
        actions=frozenset({"doc:delete"}),
        effect=Effect.ALLOW,
        condition=lambda s, r, _e: r.owner_id == s.id,
    )
    policy = make_policy(rules=[owner_may_delete])
    alice = policy.subject("alice", roles=["viewer"])
    decision = policy.decide(alice, "doc:delete", Doc(1, "alice"))
    assert decision.allowed
    assert decision.rule == "owner-delete"
    assert not policy.allowed(alice, "doc:delete", Doc(1, "bob"))


@pytest.mark.parametrize("result", [1, "yes", [True], None, object()])
def test_allow_rule_needs_exactly_true(result: object) -> None:
    rule = Rule(
        name="r",
        actions=frozenset({"doc:delete"}),
        effect=Effect.ALLOW,
        condition=cast(Any, lambda *_: result),
    )
    policy = make_policy(rules=[rule])
    assert not policy.allowed(policy.subject("a"), "doc:delete")


@pytest.mark.parametrize("result", [0, "", None, [], object()])
def test_deny_rule_applies_unless_exactly_false(result: object) -> None:
    rule = Rule(
        name="r",
        actions=frozenset({"doc:read"}),
        effect=Effect.DENY,
        condition=cast(Any, lambda *_: result),
    )
    policy = make_policy(rules=[rule])
    assert not policy.allowed(policy.subject("a", roles=["admin"]), "doc:read")


@pytest.mark.parametrize("effect", list(Effect))
def test_crashing_condition_denies(effect: Effect, caplog: pytest.LogCaptureFixture) -> None:
    def boom(subject: Subject, resource: object, env: Mapping[str, object]) -> bool:
        raise KeyError("secret-row-data")

    rule = Rule(name="boom", actions=frozenset({"doc:read"}), effect=effect, condition=boom)
    policy = make_policy(rules=[rule])
    with caplog.at_level(logging.WARNING, logger="securekit.authz"):
        with pytest.raises(PermissionDeniedError) as info:
            policy.check(policy.subject("a", roles=["admin"]), "doc:read")
    assert info.value.reason is PermissionReason.DENIED_BY_RULE
    assert "secret-row-data" not in caplog.text
    assert_no_leak(info.value, "secret-row-data")


def test_rules_for_other_actions_are_skipped_and_env_is_passed() -> None:
    seen: list[Mapping[str, object]] = []

    def office_hours(subject: Subject, resource: object, env: Mapping[str, object]) -> bool:
        seen.append(env)
        return env.get("hour") in range(9, 17)

    rules = [
        Rule(
            name="other",
            actions=frozenset({"admin:panel"}),
            effect=Effect.DENY,
            condition=lambda *_: True,
        ),
        Rule(
            name="hours",
            actions=frozenset({"doc:edit"}),
            effect=Effect.ALLOW,
            condition=office_hours,
        ),
    ]
    policy = make_policy(rules=rules)
    bob = policy.subject("bob")
    assert policy.allowed(bob, "doc:edit", env={"hour": 10})
    assert not policy.allowed(bob, "doc:edit", env={"hour": 22})
    assert not policy.allowed(bob, "doc:edit")
    assert seen[0] == {"hour": 10}


def test_audit_hook_gets_redacted_decisions() -> None:
    records: list[Decision] = []
    policy = make_policy(audit=records.append)
    alice = policy.subject("alice", roles=["viewer"], attributes={"ssn": "123-45-6789"})
    policy.allowed(alice, "doc:read", Doc(7, "alice"))
    policy.allowed(alice, "doc:edit", {"body": "top secret"})
    assert records[0] == Decision(
        allowed=True,
        subject_id="alice",
        action="doc:read",
        resource_type="Doc",
        reason=None,
        rule="role:viewer",
    )
    assert records[1].allowed is False
    assert records[1].reason is PermissionReason.NO_RULE
    assert records[1].resource_type == "dict"
    text = repr(records)
    assert "top secret" not in text
    assert "123-45-6789" not in text


def test_failing_audit_hook_denies(caplog: pytest.LogCaptureFixture) -> None:
    def broken(decision: Decision) -> None:
        raise OSError("log sink down")

    policy = make_policy(audit=broken)
    with caplog.at_level(logging.ERROR, logger="securekit.authz"):
        with pytest.raises(PermissionDeniedError) as info:
            policy.check(policy.subject("a", roles=["admin"]), "doc:read")
    assert info.value.reason is PermissionReason.AUDIT_FAILED
    assert "audit hook failed" in caplog.text


def test_repr_and_actions() -> None:
    policy = make_policy()
    assert repr(policy) == "Policy(roles=3, actions=4)"
    assert policy.actions == frozenset(ACTIONS)


# --- hypothesis: RBAC is exactly the role table ------------------------------

_names = st.text(alphabet="abcdefgh", min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(
    table=st.dictionaries(_names, st.frozensets(_names, max_size=5), max_size=5),
    extra_actions=st.frozensets(_names, max_size=4),
    data=st.data(),
)
def test_subject_allowed_exactly_what_its_roles_grant(
    table: dict[str, frozenset[str]], extra_actions: frozenset[str], data: st.DataObject
) -> None:
    actions = frozenset().union(*table.values(), extra_actions) | {"zz"}
    policy = Policy(table, actions=actions)
    held = data.draw(
        st.lists(st.sampled_from(sorted(table)), unique=True) if table else st.just([])
    )
    subject = policy.subject("user", roles=held)
    granted = frozenset().union(*(table[r] for r in held))
    for action in actions:
        assert policy.allowed(subject, action) == (action in granted)
    # A subject whose id is a role name is no different from any other.
    for name in table:
        assert not any(policy.allowed(policy.subject(name), a) for a in actions)


@settings(max_examples=40, deadline=None)
@given(
    actions=st.frozensets(_names, min_size=1, max_size=6), role_names=st.lists(_names, max_size=4)
)
def test_empty_policy_allows_nothing(actions: frozenset[str], role_names: list[str]) -> None:
    policy = Policy({}, actions=actions)
    subject = Subject(id="u", roles=frozenset(Role(n) for n in role_names))
    assert not any(policy.allowed(subject, a) for a in actions)


# --- require ----------------------------------------------------------------


def test_require_sync_checks_subject_parameter() -> None:
    policy = make_policy()

    @require("doc:edit", policy=policy)
    def edit(doc_id: int, *, subject: Subject | None) -> str:
        return f"edited {doc_id}"

    assert edit(1, subject=policy.subject("e", roles=["editor"])) == "edited 1"
    with pytest.raises(PermissionDeniedError) as info:
        edit(1, subject=policy.subject("v", roles=["viewer"]))
    assert info.value.reason is PermissionReason.NO_RULE
    with pytest.raises(PermissionDeniedError) as info:
        edit(1, subject="admin")  # type: ignore[arg-type]
    assert info.value.reason is PermissionReason.NOT_AUTHENTICATED
    assert getattr(edit, GUARD_ATTRIBUTE) == "doc:edit"
    assert edit.__name__ == "edit"


def test_require_bad_call_is_denied_not_crashing() -> None:
    policy = make_policy()

    @require("doc:read", policy=policy)
    def read(subject: Subject) -> str:
        return "ok"

    with pytest.raises(PermissionDeniedError) as info:
        read(1, 2, 3)  # type: ignore[call-arg,arg-type]
    assert info.value.reason is PermissionReason.NOT_AUTHENTICATED


def test_require_async_and_resource_parameter() -> None:
    owner_edit = Rule(
        name="owner-edit",
        actions=frozenset({"doc:edit"}),
        effect=Effect.ALLOW,
        condition=lambda s, r, _e: isinstance(r, Doc) and r.owner_id == s.id,
    )
    policy = make_policy(rules=[owner_edit])

    @require("doc:edit", policy=policy, resource="doc")
    async def edit(subject: Subject, doc: Doc) -> int:
        return doc.id

    alice = policy.subject("alice")
    assert asyncio.run(edit(alice, Doc(3, "alice"))) == 3
    with pytest.raises(PermissionDeniedError):
        asyncio.run(edit(alice, Doc(4, "bob")))
    assert getattr(edit, GUARD_ATTRIBUTE) == "doc:edit"


def test_require_with_subject_provider() -> None:
    policy = make_policy()
    current: list[Subject | None] = [None]

    @require("doc:read", policy=policy, subject=lambda: current[0])
    def read() -> str:
        return "ok"

    with pytest.raises(PermissionDeniedError):
        read()
    current[0] = policy.subject("v", roles=["viewer"])
    assert read() == "ok"


def test_require_misuse() -> None:
    policy = make_policy()
    with pytest.raises(ConfigurationError, match="unknown action"):
        require("doc:reed", policy=policy)
    with pytest.raises(TypeError):
        require("doc:read", policy=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        require("doc:read", policy=policy, subject=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        require("doc:read", policy=policy, resource=3)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="no parameter 'subject'"):

        @require("doc:read", policy=policy)
        def no_subject(user: Subject) -> None:
            return None

    with pytest.raises(ConfigurationError, match="no parameter 'doc'"):

        @require("doc:read", policy=policy, resource="doc")
        def no_doc(subject: Subject) -> None:
            return None


def test_public_marker() -> None:
    @public
    def login() -> str:
        return "form"

    assert getattr(login, PUBLIC_ATTRIBUTE) is True
    assert login() == "form"


# --- FastAPI dependency -----------------------------------------------------


def test_fastapi_dependency() -> None:
    from fastapi import Depends, FastAPI, Header

    policy = make_policy()

    def current_user(x_user: str | None = Header(default=None)) -> Subject | None:
        if x_user == "ed":
            return policy.subject("ed", roles=["editor"])
        if x_user == "vi":
            return policy.subject("vi", roles=["viewer"])
        return None

    app = FastAPI()
    guard = policy.dependency("doc:edit", subject=current_user)

    @app.exception_handler(PermissionDeniedError)
    async def denied(request: Any, exc: PermissionDeniedError) -> Any:
        from fastapi.responses import JSONResponse

        return JSONResponse({"reason": exc.reason.value}, status_code=403)

    @app.post("/docs/{doc_id}")
    def edit(doc_id: int, user: Subject = Depends(guard)) -> dict[str, str]:  # noqa: B008
        return {"by": user.id}

    async def calls() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [
                await client.post("/docs/1", headers={"x-user": "ed"}),
                await client.post("/docs/1", headers={"x-user": "vi"}),
                await client.post("/docs/1"),
            ]

    editor, viewer, anonymous = asyncio.run(calls())
    assert editor.json() == {"by": "ed"}
    assert viewer.status_code == 403
    assert viewer.json() == {"reason": "no_rule"}
    assert anonymous.json() == {"reason": "not_authenticated"}
    assert getattr(guard, GUARD_ATTRIBUTE) == "doc:edit"
    with pytest.raises(ConfigurationError):
        policy.dependency("doc:reed", subject=current_user)
    with pytest.raises(TypeError):
        policy.dependency("doc:read", subject="current_user")  # type: ignore[arg-type]


# --- Scope (IDOR) -------------------------------------------------------------


DOCS = [Doc(1, "alice", "t1"), Doc(2, "bob", "t2")]


def lookup(**criteria: object) -> Doc | None:
    for doc in DOCS:
        if all(getattr(doc, k) == v for k, v in criteria.items()):
            return doc
    return None


def test_scope_foreign_and_missing_are_both_not_found() -> None:
    scope = Scope(field="owner_id")
    alice = Subject(id="alice")
    assert scope.load(alice, lookup, id=1) is DOCS[0]
    errors = []
    for doc_id in (2, 99):
        with pytest.raises(PermissionDeniedError) as info:
            scope.load(alice, lookup, id=doc_id)
        errors.append(info.value)
    assert {e.reason for e in errors} == {PermissionReason.NOT_FOUND}
    assert str(errors[0]) == str(errors[1])
    assert scope.filter(alice) == {"owner_id": "alice"}


def test_scope_check_after_unscoped_load() -> None:
    scope = Scope()
    alice = Subject(id="alice")
    assert scope.check(alice, DOCS[0]) is DOCS[0]
    assert scope.check(alice, {"owner_id": "alice"}) == {"owner_id": "alice"}
    assert scope.check(Subject(id="7"), {"owner_id": 7}) == {"owner_id": 7}
    for foreign in (
        DOCS[1],
        None,
        {"owner_id": None},
        {"owner_id": True},
        object(),
        {"owner_id": ["alice"]},
    ):
        with pytest.raises(PermissionDeniedError) as info:
            scope.check(alice, foreign)
        assert info.value.reason is PermissionReason.NOT_FOUND


def test_scope_by_tenant() -> None:
    scope = Scope(field="tenant_id", by_tenant=True)
    assert scope.load(Subject(id="x", tenant="t2"), lookup, id=2) is DOCS[1]
    with pytest.raises(PermissionDeniedError):
        scope.load(Subject(id="x", tenant="t2"), lookup, id=1)
    with pytest.raises(PermissionDeniedError):
        scope.filter(Subject(id="x"))


def test_scope_misuse() -> None:
    with pytest.raises(ConfigurationError):
        Scope(field="owner id")
    with pytest.raises(TypeError):
        Scope(by_tenant="yes")  # type: ignore[arg-type]
    scope = Scope()
    with pytest.raises(ConfigurationError, match="scope field"):
        scope.load(Subject(id="alice"), lookup, owner_id="bob")
    with pytest.raises(PermissionDeniedError):
        scope.filter(None)
    with pytest.raises(TypeError):
        scope.filter("alice")  # type: ignore[arg-type]


# --- regressions from the adversarial review ----------------------------------


@pytest.mark.parametrize(
    ("roles", "actions"),
    [
        ({"admin": set(), "Admin": set()}, {"doc:read"}),
        ({"admin": {"doc:read"}}, {"doc:read", "Doc:Read"}),
    ],
)
def test_names_differing_only_in_case_are_refused(
    roles: dict[str, set[str]], actions: set[str]
) -> None:
    with pytest.raises(ConfigurationError, match="only in case"):
        Policy(roles, actions=actions)


@pytest.mark.parametrize(
    "variant",
    ["Admin", "ADMIN", " admin", "admin ", "admin\n", "\uff41dmin", "adm\u0131n", "admin\u200b"],
)
def test_role_string_variants_never_resolve_to_the_role(variant: str) -> None:
    policy = make_policy()
    with pytest.raises(ConfigurationError):
        policy.subject("mallory", roles=[variant])
    with pytest.raises(ConfigurationError):
        policy.role(variant)
    # A subject *named* like the role gains nothing either.
    assert not policy.allowed(policy.subject(variant.strip() or "x"), "admin:panel")


def test_scope_uuid_owner_compares_canonically() -> None:
    owner = uuid.UUID(int=0xABC)
    scope = Scope()
    assert scope.check(Subject(id=str(owner)), {"owner_id": owner}) == {"owner_id": owner}
    with pytest.raises(PermissionDeniedError):
        scope.check(Subject(id=str(uuid.UUID(int=0xABD))), {"owner_id": owner})


class _Exploding:
    @property
    def owner_id(self) -> str:
        raise RuntimeError("database detached")


def test_scope_object_whose_field_raises_is_not_found() -> None:
    with pytest.raises(PermissionDeniedError) as info:
        Scope().check(Subject(id="alice"), _Exploding())
    assert info.value.reason is PermissionReason.NOT_FOUND


def test_scope_empty_tenant_sees_nothing() -> None:
    scope = Scope(field="tenant_id", by_tenant=True)
    with pytest.raises(PermissionDeniedError):
        scope.check(Subject(id="x", tenant=""), {"tenant_id": ""})
    with pytest.raises(PermissionDeniedError):
        scope.filter(Subject(id="x", tenant=""))


def test_scope_missing_and_foreign_take_the_same_comparison(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return bool(real(a, b))

    monkeypatch.setattr(hmac, "compare_digest", counting)
    scope = Scope()
    alice = Subject(id="alice")
    for obj in (None, {"owner_id": "bob"}, {"owner_id": "alicf"}, object()):
        with pytest.raises(PermissionDeniedError):
            scope.check(alice, obj)
    # One constant-time comparison on every path, missing object included.
    assert len(calls) == 4
    assert all(b == b"alice" for _a, b in calls)


def test_scope_missing_and_foreign_give_identical_problem_bodies() -> None:
    scope = Scope()
    alice = Subject(id="alice")
    bodies = []
    for doc_id in (2, 99):
        with pytest.raises(PermissionDeniedError) as info:
            scope.load(alice, lookup, id=doc_id)
        response = problem_response(info.value, correlation_id="corr-id-123")
        assert response.status == 404
        bodies.append((json.loads(response.content), dict(response.headers)))
        assert repr(info.value) == repr(PermissionDeniedError(PermissionReason.NOT_FOUND))
    assert bodies[0] == bodies[1]


@settings(max_examples=300, deadline=None)
@given(
    obj=st.one_of(
        st.none(),
        st.integers(),
        st.text(max_size=10),
        st.dictionaries(
            st.text(max_size=10),
            st.one_of(st.none(), st.text(max_size=10), st.integers(), st.binary(max_size=5)),
        ),
        st.builds(object),
    )
)
def test_scope_check_junk_objects_raise_only_not_found(obj: object) -> None:
    try:
        result = Scope().check(Subject(id="alice"), obj)
    except PermissionDeniedError as exc:
        assert exc.reason is PermissionReason.NOT_FOUND
    else:
        assert isinstance(result, Mapping)
        assert result.get("owner_id") == "alice"


@settings(max_examples=300, deadline=None)
@given(action=st.text(max_size=40), roles=st.lists(st.text(max_size=12), max_size=3))
def test_junk_actions_and_roles_raise_only_configuration_error(
    action: str, roles: list[str]
) -> None:
    policy = make_policy()
    try:
        subject = policy.subject("mallory", roles=roles)
    except ConfigurationError:
        subject = policy.subject("mallory")
    try:
        allowed = policy.allowed(subject, action)
    except ConfigurationError:
        assert action not in ACTIONS
    else:
        assert action in ACTIONS
        assert allowed == any(action in policy_grants(r.name) for r in subject.roles)


def policy_grants(role: str) -> set[str]:
    return {"viewer": {"doc:read"}, "editor": {"doc:read", "doc:edit"}, "admin": ACTIONS}.get(
        role, set()
    )
