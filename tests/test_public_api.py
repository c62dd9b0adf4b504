"""The public API: every module has a sorted ``__all__``, every name in it
imports, and every ``insecure_*`` switch is keyword-only, defaults to False
and warns.

Test modules register how to trigger each of their module's ``insecure_*``
switches in a module-level dict::

    INSECURE_CALLS = {
        "securekit.keys.KeyRing.to_json:insecure_cleartext": lambda: ring.to_json(
            insecure_cleartext=True
        ),
    }

and this file checks that every switch found in the public API is registered
and that calling it emits ``InsecureConfigurationWarning`` attributed to the
caller's file (``stacklevel`` is right).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

import securekit
import tests
from securekit.errors import InsecureConfigurationWarning

PRIVATE_PACKAGES = {"securekit._commands"}


def public_modules() -> list[ModuleType]:
    """Every public module of securekit (no ``_private`` part in its name)."""
    found = [securekit]
    for info in pkgutil.walk_packages(securekit.__path__, "securekit."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts) or info.name in PRIVATE_PACKAGES:
            continue
        if info.name.startswith("securekit.integrations.") or info.name == "securekit.__main__":
            # Framework adapters import optional frameworks; still public, still checked
            # when the framework is installed.
            try:
                found.append(importlib.import_module(info.name))
            except ImportError:
                continue
            continue
        found.append(importlib.import_module(info.name))
    return found


MODULES = public_modules()


def _isort_style(names: list[str]) -> list[str]:
    """The order ruff's RUF022 enforces: CONSTANTS, then Classes, then functions."""

    def group(name: str) -> int:
        if name.isupper() or (name.upper() == name and any(c.isalpha() for c in name)):
            return 0
        return 1 if name[:1].isupper() else 2

    return sorted(names, key=lambda name: (group(name), name))


def _callables(module: ModuleType) -> Iterator[tuple[str, Callable[..., object]]]:
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        if getattr(obj, "__module__", module.__name__).split(".")[0] != "securekit":
            continue
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                target = (
                    member.__func__ if isinstance(member, classmethod | staticmethod) else member
                )
                if inspect.isfunction(target) and (not attr.startswith("_") or attr == "__init__"):
                    yield f"{obj.__module__}.{obj.__qualname__}.{attr}", target
        elif inspect.isfunction(obj):
            yield f"{obj.__module__}.{obj.__qualname__}", obj


def insecure_switches() -> list[tuple[str, inspect.Parameter]]:
    seen: dict[str, inspect.Parameter] = {}
    for module in MODULES:
        for qualname, fn in _callables(module):
            for param in inspect.signature(fn).parameters.values():
                if param.name.startswith("insecure_"):
                    seen[f"{qualname}:{param.name}"] = param
    return sorted(seen.items())


def registered_calls() -> dict[str, Callable[[], object]]:
    calls: dict[str, Callable[[], object]] = {}
    for info in pkgutil.iter_modules(tests.__path__, "tests."):
        if info.name.split(".")[-1].startswith("test_"):
            module = importlib.import_module(info.name)
            calls.update(getattr(module, "INSECURE_CALLS", {}))
    return calls


SWITCHES = insecure_switches()


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_all_is_sorted_and_importable(module: ModuleType) -> None:
    names = getattr(module, "__all__", None)
    assert names is not None, f"{module.__name__} has no __all__"
    assert list(names) == _isort_style(names), f"{module.__name__}.__all__ is not sorted"
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(module, name), f"{module.__name__}.{name} does not exist"


def test_every_public_module_is_typed() -> None:
    assert (Path(securekit.__file__).parent / "py.typed").is_file()


@pytest.mark.parametrize(("where", "param"), SWITCHES, ids=[s[0] for s in SWITCHES])
def test_insecure_switch_is_keyword_only_false_bool(where: str, param: inspect.Parameter) -> None:
    assert param.kind is inspect.Parameter.KEYWORD_ONLY, where
    assert param.default is False, where
    assert param.annotation in {bool, "bool"}, where


@pytest.mark.parametrize(("where", "param"), SWITCHES, ids=[s[0] for s in SWITCHES])
def test_insecure_switch_warns_at_caller(where: str, param: inspect.Parameter) -> None:
    calls = registered_calls()
    assert where in calls, f"register {where} in INSECURE_CALLS of its test module"
    trigger = calls[where]
    with pytest.warns(InsecureConfigurationWarning) as record:
        trigger()
    caller = inspect.getsourcefile(trigger)
    assert any(w.filename == caller for w in record), (
        f"{where}: the warning should point at the caller (stacklevel)"
    )


def test_registered_calls_name_real_switches() -> None:
    known = {where for where, _ in SWITCHES}
    stale = set(registered_calls()) - known
    assert not stale, f"INSECURE_CALLS names switches that do not exist: {sorted(stale)}"
