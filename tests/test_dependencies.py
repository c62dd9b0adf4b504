"""Known-vulnerable dependency versions: a table from the advisories, and checks.

``pip-audit`` cannot reach a vulnerability database from the build machines,
so it would pass whatever is installed. Instead this table lists, for every
runtime dependency and extra, the version ranges that published advisories
(CVE / GHSA / RUSTSEC) name as affected, and the tests fail when

* an installed version falls in a range, or
* a lower bound in ``pyproject.toml`` still admits a version in a range.

When a new advisory is published, add a row here and raise the bound.
Ranges are taken from the advisories' "affected versions"; where a fix was
backported to older series, the union of affected series is listed.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Final

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

PYPROJECT: Final = Path(__file__).resolve().parent.parent / "pyproject.toml"


@dataclass(frozen=True, slots=True, kw_only=True)
class Advisory:
    """One advisory: the affected ranges (a union) and the first fixed version."""

    id: str
    package: str
    affected: tuple[str, ...]
    fixed: str
    summary: str

    def affects(self, candidate: str | Version) -> bool:
        """True when ``candidate`` (pre-releases included) is in an affected range."""
        parsed = Version(str(candidate))
        return any(SpecifierSet(spec).contains(parsed, prereleases=True) for spec in self.affected)


def _a(
    id_: str, package: str, affected: str | tuple[str, ...], fixed: str, summary: str
) -> Advisory:
    ranges = (affected,) if isinstance(affected, str) else affected
    return Advisory(
        id=id_, package=canonicalize_name(package), affected=ranges, fixed=fixed, summary=summary
    )


ADVISORIES: Final = (
    # cryptography (pyca)
    _a("CVE-2020-25659", "cryptography", "<3.2", "3.2", "Bleichenbacher timing in RSA decryption"),
    _a("CVE-2023-23931", "cryptography", ">=0.8,<39.0.1", "39.0.1", "Cipher.update_into mutates immutable objects"),
    _a("CVE-2023-49083", "cryptography", ">=3.1,<41.0.6", "41.0.6", "NULL dereference loading PKCS7 certificates"),
    _a("CVE-2023-50782", "cryptography", "<42.0.0", "42.0.0", "Bleichenbacher timing oracle in RSA PKCS#1 v1.5 decryption"),
    _a("CVE-2024-26130", "cryptography", ">=38.0.0,<42.0.4", "42.0.4", "NULL dereference in pkcs12.serialize_key_and_certificates"),
    _a("CVE-2024-12797", "cryptography", ">=42.0.0,<44.0.1", "44.0.1", "bundled OpenSSL: RPK authentication failure not detected"),
    _a("CVE-2026-26007", "cryptography", "<46.0.5", "46.0.5", "missing subgroup validation for SECT curves"),
    # PyJWT
    _a("CVE-2017-11424", "PyJWT", "<1.5.1", "1.5.1", "key confusion with PEM public keys used as HMAC secrets"),
    _a("CVE-2022-29217", "PyJWT", ">=1.5.0,<2.4.0", "2.4.0", "algorithm confusion when algorithms are taken from the token"),
    _a("CVE-2024-53861", "PyJWT", "==2.10.0", "2.10.1", "issuer check accepts partial matches (`in` on a str)"),
    # pydantic
    _a("CVE-2021-29510", "pydantic", ("<1.6.2", ">=1.7,<1.7.4", ">=1.8,<1.8.2"), "1.8.2", "infinite loop parsing 'infinity' as date/datetime"),
    _a("CVE-2024-3772", "pydantic", ("<1.10.13", ">=2.0a1,<2.4.0"), "2.4.0", "ReDoS in email validation"),
    # nh3 (ammonia bindings)
    _a("RUSTSEC-2025-0071", "nh3", "<0.3.0", "0.3.0", "ammonia < 4.1.2: mutation XSS through tag/attribute handling"),
    # redis-py
    _a("CVE-2023-28858", "redis", ("<4.3.6", ">=4.4.0,<4.4.3", ">=4.5.0,<4.5.3"), "4.5.3", "cancelled async command leaves the connection open: responses leak across requests"),
    _a("CVE-2023-28859", "redis", ("<4.4.4", ">=4.5.0,<4.5.4"), "4.5.4", "incomplete fix for CVE-2023-28858 (pipelines)"),
    # bleach
    _a("CVE-2018-7753", "bleach", "<2.1.3", "2.1.3", "attributes with character entities bypass the protocol allowlist"),
    _a("CVE-2020-6802", "bleach", "<3.1.1", "3.1.1", "mutation XSS with noscript and raw tags"),
    _a("CVE-2020-6816", "bleach", "<3.1.2", "3.1.2", "mutation XSS with svg/math and raw tags"),
    _a("CVE-2021-23980", "bleach", "<3.3.0", "3.3.0", "mutation XSS with svg/math, raw tags and strip=False"),
    # Jinja2
    _a("CVE-2019-10906", "jinja2", "<2.10.1", "2.10.1", "sandbox escape via str.format_map"),
    _a("CVE-2020-28493", "jinja2", "<2.11.3", "2.11.3", "ReDoS in the urlize filter"),
    _a("CVE-2024-22195", "jinja2", "<3.1.3", "3.1.3", "xmlattr accepts keys with spaces (attribute injection)"),
    _a("CVE-2024-34064", "jinja2", "<3.1.4", "3.1.4", "xmlattr accepts keys with / > = (attribute injection)"),
    _a("CVE-2024-56201", "jinja2", ">=3.0.0,<3.1.5", "3.1.5", "code execution through a controlled template filename"),
    _a("CVE-2024-56326", "jinja2", "<3.1.5", "3.1.5", "sandbox escape through an indirect str.format reference"),
    _a("CVE-2025-27516", "jinja2", "<3.1.6", "3.1.6", "sandbox escape through the attr filter"),
    # Werkzeug
    _a("CVE-2023-23934", "werkzeug", "<2.2.3", "2.2.3", "nameless cookies shadow __Host- cookies"),
    _a("CVE-2023-25577", "werkzeug", "<2.2.3", "2.2.3", "unbounded multipart parts exhaust resources"),
    _a("CVE-2023-46136", "werkzeug", ("<2.3.8", ">=3.0.0,<3.0.1"), "3.0.1", "multipart parsing DoS with crafted boundaries"),
    _a("CVE-2024-34069", "werkzeug", "<3.0.3", "3.0.3", "debugger RCE when the attacker controls a trusted domain"),
    _a("CVE-2024-49766", "werkzeug", "<3.0.6", "3.0.6", "safe_join accepts UNC paths on Windows"),
    _a("CVE-2024-49767", "werkzeug", "<3.0.6", "3.0.6", "multipart form data exhausts memory"),
    _a("CVE-2025-66221", "werkzeug", "<3.1.4", "3.1.4", "safe_join accepts Windows device names"),
    # Starlette / FastAPI
    _a("CVE-2023-30798", "starlette", "<0.25.0", "0.25.0", "unbounded multipart fields and files (DoS)"),
    _a("CVE-2024-24762", "starlette", "<0.36.2", "0.36.2", "ReDoS in the multipart Content-Type parser"),
    _a("CVE-2024-47874", "starlette", "<0.40.0", "0.40.0", "multipart fields without filename are buffered in memory"),
    _a("CVE-2025-54121", "starlette", "<0.47.2", "0.47.2", "large file rollover blocks the event loop"),
    _a("CVE-2025-62727", "starlette", ">=0.39.0,<0.49.1", "0.49.1", "quadratic Range header parsing in FileResponse"),
    _a("CVE-2024-24762", "fastapi", "<0.109.1", "0.109.1", "ReDoS in form Content-Type parsing (python-multipart)"),
    # Flask
    _a("CVE-2018-1000656", "flask", "<0.12.3", "0.12.3", "JSON decoding DoS with crafted encodings"),
    _a("CVE-2023-30861", "flask", ("<2.2.5", ">=2.3.0,<2.3.2"), "2.3.2", "session cookie cached by proxies (missing Vary: Cookie)"),
    _a("CVE-2025-47278", "flask", "==3.1.0", "3.1.1", "key rotation uses the stale fallback key for signing"),
    # idna (added by securekit.urls)
    _a("CVE-2024-3651", "idna", "<3.7", "3.7", "quadratic-time idna.encode on crafted input"),
    # PyYAML
    _a("CVE-2017-18342", "PyYAML", "<5.1", "5.1", "yaml.load constructs arbitrary Python objects by default"),
    _a("CVE-2020-1747", "PyYAML", "<5.3.1", "5.3.1", "full_load code execution via python/object/new"),
    _a("CVE-2020-14343", "PyYAML", "<5.4", "5.4", "incomplete fix for CVE-2020-1747 (full_load code execution)"),
)  # fmt: skip

#: Reviewed dependencies with no known advisory against the maintained
#: package (kept as rows so that a missing review is visible).
NONE_KNOWN: Final = {
    "argon2-cffi": "no advisory known against argon2-cffi",
    "bcrypt": "no advisory known against pyca/bcrypt (the old py-bcrypt is a different package)",
    "python-magic": "no advisory known against python-magic (libmagic itself is patched by the OS)",
}

_ID: Final = re.compile(
    r"CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|RUSTSEC-\d{4}-\d{4}"
)


def covered() -> set[str]:
    return {a.package for a in ADVISORIES} | {canonicalize_name(n) for n in NONE_KNOWN}


def pyproject_requirements() -> dict[str, list[Requirement]]:
    """Requirements by group: "runtime" and each optional extra."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    groups = {"runtime": project["dependencies"], **project["optional-dependencies"]}
    return {
        group: [r for r in map(Requirement, specs) if canonicalize_name(r.name) != "securekit"]
        for group, specs in groups.items()
    }


def admits_vulnerable(requirement: Requirement, advisory: Advisory) -> bool:
    """True when some version the requirement admits is in the advisory's ranges.

    Both sides are unions of intervals, and two intervals intersect exactly
    when the larger of their lower ends lies in both; so it is enough to test
    every boundary version of either side (plus the version just above each
    exclusive ``>X`` bound, and the lowest possible version ``0``).
    """
    candidates = {Version("0")}
    for spec in requirement.specifier:
        bound = Version(spec.version)
        candidates |= {bound, Version(bound.base_version + ".1")}
    for text in advisory.affected:
        candidates |= {Version(spec.version) for spec in SpecifierSet(text)}
    return any(
        requirement.specifier.contains(candidate, prereleases=True) and advisory.affects(candidate)
        for candidate in candidates
    )


# --- the table itself -------------------------------------------------------------


def test_table_covers_every_dependency_and_extra() -> None:
    names = {
        canonicalize_name(r.name) for group in pyproject_requirements().values() for r in group
    }
    required = {
        canonicalize_name(n)
        for n in [
            "argon2-cffi", "bcrypt", "cryptography", "PyJWT", "nh3", "python-magic", "pydantic",
            "redis", "bleach", "fastapi", "starlette", "flask", "werkzeug", "PyYAML", "jinja2",
        ]
    }  # fmt: skip
    runtime_and_extras = {
        canonicalize_name(r.name)
        for group, reqs in pyproject_requirements().items()
        if group != "dev"
        for r in reqs
    }
    assert required <= names
    assert runtime_and_extras <= covered(), sorted(runtime_and_extras - covered())
    assert required <= covered(), sorted(required - covered())


@pytest.mark.parametrize("advisory", ADVISORIES, ids=lambda a: f"{a.package}-{a.id}")
def test_table_rows_are_well_formed(advisory: Advisory) -> None:
    assert _ID.fullmatch(advisory.id)
    assert advisory.affected
    for spec in advisory.affected:
        parsed = SpecifierSet(spec)
        assert any(s.operator in {"<", "=="} for s in parsed), "every range is bounded above"
    assert not advisory.affects(advisory.fixed), "the fixed version must be outside the range"
    assert advisory.summary


def test_table_has_the_advisories_the_project_tracks() -> None:
    ids = {(a.package, a.id) for a in ADVISORIES}
    for package, id_ in [
        ("pyjwt", "CVE-2022-29217"),
        ("pyjwt", "CVE-2024-53861"),
        ("cryptography", "CVE-2023-50782"),
        ("cryptography", "CVE-2024-26130"),
        ("cryptography", "CVE-2024-12797"),
        ("cryptography", "CVE-2026-26007"),
        ("pydantic", "CVE-2024-3772"),
        ("redis", "CVE-2023-28858"),
        ("redis", "CVE-2023-28859"),
        ("bleach", "CVE-2021-23980"),
        ("jinja2", "CVE-2024-56201"),
        ("jinja2", "CVE-2024-56326"),
        ("jinja2", "CVE-2025-27516"),
        ("werkzeug", "CVE-2024-34069"),
        ("werkzeug", "CVE-2024-49766"),
        ("werkzeug", "CVE-2024-49767"),
        ("werkzeug", "CVE-2025-66221"),
        ("starlette", "CVE-2024-47874"),
        ("starlette", "CVE-2025-54121"),
        ("pyyaml", "CVE-2020-14343"),
        ("flask", "CVE-2023-30861"),
        ("flask", "CVE-2025-47278"),
        ("nh3", "RUSTSEC-2025-0071"),
    ]:
        assert (package, id_) in ids


# --- the checks ----------------------------------------------------------------------


@pytest.mark.parametrize("advisory", ADVISORIES, ids=lambda a: f"{a.package}-{a.id}")
def test_installed_version_is_not_known_vulnerable(advisory: Advisory) -> None:
    try:
        installed = version(advisory.package)
    except PackageNotFoundError:
        pytest.skip(f"{advisory.package} is not installed")
    assert not advisory.affects(installed), (
        f"{advisory.package} {installed} is affected by {advisory.id} ({advisory.summary}); "
        f"upgrade to {advisory.fixed} or later"
    )


def _bounded_requirements() -> list[tuple[str, Requirement, Advisory]]:
    return [
        (group, requirement, advisory)
        for group, requirements in pyproject_requirements().items()
        for requirement in requirements
        for advisory in ADVISORIES
        if canonicalize_name(requirement.name) == advisory.package
    ]


@pytest.mark.parametrize(
    ("group", "requirement", "advisory"),
    _bounded_requirements(),
    ids=lambda x: str(x) if isinstance(x, str | Requirement) else x.id,
)
def test_pyproject_lower_bound_excludes_known_vulnerable(
    group: str, requirement: Requirement, advisory: Advisory
) -> None:
    assert not admits_vulnerable(requirement, advisory), (
        f"pyproject.toml [{group}] {requirement} admits versions affected by {advisory.id}; "
        f"raise the bound to >={advisory.fixed}"
    )


# --- the table logic on synthetic versions (so the checks cannot be vacuous) ----------

PYJWT_2022 = _a("CVE-2022-29217", "PyJWT", ">=1.5.0,<2.4.0", "2.4.0", "x")
PYJWT_2024 = _a("CVE-2024-53861", "PyJWT", "==2.10.0", "2.10.1", "x")
REDIS_2023 = _a("CVE-2023-28858", "redis", ("<4.3.6", ">=4.4.0,<4.4.3"), "4.4.3", "x")


@pytest.mark.parametrize(
    ("advisory", "candidate", "expected"),
    [
        (PYJWT_2022, "1.4.9", False),
        (PYJWT_2022, "1.5.0", True),
        (PYJWT_2022, "2.3.0", True),
        (PYJWT_2022, "2.3.1rc1", True),
        (PYJWT_2022, "2.4.0rc1", False),  # PEP 440: "<2.4.0" excludes 2.4.0 pre-releases
        (PYJWT_2022, "2.4.0", False),
        (PYJWT_2024, "2.10.0", True),
        (PYJWT_2024, "2.10.1", False),
        (PYJWT_2024, "2.9.0", False),
        (REDIS_2023, "4.3.5", True),
        (REDIS_2023, "4.3.6", False),
        (REDIS_2023, "4.4.2", True),
        (REDIS_2023, "4.4.3", False),
    ],
)
def test_affects_on_synthetic_versions(advisory: Advisory, candidate: str, expected: bool) -> None:
    assert advisory.affects(candidate) is expected


@pytest.mark.parametrize(
    ("requirement", "advisory", "expected"),
    [
        ("PyJWT", PYJWT_2022, True),  # no lower bound at all
        ("PyJWT>=2.0", PYJWT_2022, True),
        ("PyJWT>=2.4.0", PYJWT_2022, False),
        ("PyJWT>2.3.0", PYJWT_2022, True),  # admits 2.3.0.post1
        ("PyJWT>=2.4.0,<3", PYJWT_2022, False),
        ("PyJWT>=2.9", PYJWT_2024, True),
        ("PyJWT>=2.10.0", PYJWT_2024, True),
        ("PyJWT>=2.10.1", PYJWT_2024, False),
        ("PyJWT==2.11.0", PYJWT_2024, False),
        ("PyJWT~=2.10.0", PYJWT_2024, True),
        ("redis>=4.3.6", REDIS_2023, True),  # 4.4.0..4.4.2 still admitted
        ("redis>=4.4.3", REDIS_2023, False),
        ("redis>=5", REDIS_2023, False),
    ],
)
def test_admits_vulnerable_on_synthetic_requirements(
    requirement: str, advisory: Advisory, expected: bool
) -> None:
    assert admits_vulnerable(Requirement(requirement), advisory) is expected


def test_installed_check_fails_on_a_vulnerable_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.version", lambda _name: "2.10.0")
    with pytest.raises(AssertionError, match="CVE-2024-53861"):
        test_installed_version_is_not_known_vulnerable(PYJWT_2024)
