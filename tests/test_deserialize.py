"""securekit.deserialize: strict JSON, limited safe YAML, refusals for pickle & co."""

from __future__ import annotations

import sys
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from securekit import deserialize, validation
from securekit.deserialize import (
    DEFAULT_MAX_ALIASES,
    load_json,
    load_yaml,
    refuse_marshal,
    refuse_pickle,
    refuse_shelve,
)
from securekit.errors import ConfigurationError, InputReason, InputValidationError
from tests._leak import assert_no_leak


@pytest.fixture(params=["c", "python"])
def loader_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run each YAML test with libyaml's C loader and with the pure-Python one."""
    monkeypatch.setattr(deserialize, "_LOADERS", {})
    if request.param == "python":
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    elif not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("PyYAML was built without libyaml")
    return str(request.param)


def billion_laughs(levels: int, width: int) -> str:
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * width) + "]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_json_is_the_strict_loader() -> None:
    assert load_json is validation.load_json
    assert load_json(b'{"a": [1, 2]}') == {"a": [1, 2]}
    for bad in ['{"a": 1, "a": 2}', "[NaN]", "[" * 100 + "]" * 100]:
        with pytest.raises(InputValidationError):
            load_json(bad)


def test_yaml_loads_plain_documents(loader_kind: str) -> None:
    text = "name: demo\nports: [80, 443]\nnested: {a: [1, {b: null}]}\nflag: true\n"
    assert load_yaml(text) == {
        "name": "demo",
        "ports": [80, 443],
        "nested": {"a": [1, {"b": None}]},
        "flag": True,
    }
    assert load_yaml(text.encode()) == load_yaml(text)
    assert load_yaml("") is None
    assert load_yaml("---\n42\n...\n") == 42


def test_yaml_small_aliases_and_merge_keys_work(loader_kind: str) -> None:
    text = "base: &b {x: 1, y: 2}\nover:\n  <<: *b\n  x: 3\nlist: [*b, *b]\n"
    value = load_yaml(text)
    assert isinstance(value, dict)
    assert value["over"] == {"x": 3, "y": 2}
    assert value["list"] == [{"x": 1, "y": 2}] * 2


def test_billion_laughs_is_refused(loader_kind: str) -> None:
    with pytest.raises(InputValidationError) as info:
        load_yaml(billion_laughs(9, 9))
    assert info.value.reason is InputReason.TOO_LARGE
    # Few aliases, but each level doubles the expanded size: the node cap catches it.
    doubling = billion_laughs(30, 2)
    assert doubling.count("*") < DEFAULT_MAX_ALIASES
    with pytest.raises(InputValidationError) as info:
        load_yaml(doubling)
    assert info.value.reason is InputReason.TOO_LARGE
    # The same document with generous limits is small in memory: it is the
    # expansion, not the parse, that the cap protects.
    assert load_yaml(billion_laughs(3, 3)) is not None


def test_alias_count_limit(loader_kind: str) -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 20) + "]\n"
    assert load_yaml(text, max_aliases=20) is not None
    with pytest.raises(InputValidationError) as info:
        load_yaml(text, max_aliases=19)
    assert info.value.reason is InputReason.TOO_LARGE


def test_node_limit_counts_plain_nodes(loader_kind: str) -> None:
    text = "[" + ", ".join(["1"] * 50) + "]"
    assert load_yaml(text, max_nodes=51) == [1] * 50
    with pytest.raises(InputValidationError):
        load_yaml(text, max_nodes=50)
    with pytest.raises(InputValidationError):
        load_yaml("[1, 2]", max_nodes=2)


def test_scalar_root_counts(loader_kind: str) -> None:
    assert load_yaml("hello", max_nodes=1) == "hello"
    assert load_yaml("&x hello") == "hello"


def test_depth_limit(loader_kind: str) -> None:
    assert load_yaml("[" * 64 + "]" * 64) is not None
    for text in ["[" * 65 + "]" * 65, "{a: " * 65 + "1" + "}" * 65, "- " * 65 + "x"]:
        with pytest.raises(InputValidationError) as info:
            load_yaml(text)
        assert info.value.reason is InputReason.TOO_DEEP
    # Unclosed and very deep: libyaml's scanner may give up first (its own
    # nesting limit); either way one input error, never a crash.
    with pytest.raises(InputValidationError) as info:
        load_yaml("[" * 20_000)
    assert info.value.reason in {InputReason.TOO_DEEP, InputReason.BAD_FORMAT}
    with pytest.raises(InputValidationError):
        load_yaml("[[[1]]]", max_depth=2)


@pytest.mark.parametrize(
    "text",
    [
        '!!python/object/apply:os.system ["id"]',
        "!!python/name:os.system",
        "x: !!python/object/new:subprocess.Popen [[id]]",
        "- !<tag:yaml.org,2002:python/object/apply:os.system> [id]",
        "!!python/tuple [1, 2]",
    ],
)
def test_python_tags_are_refused(loader_kind: str, text: str) -> None:
    with pytest.raises(InputValidationError) as info:
        load_yaml(text)
    assert info.value.reason is InputReason.UNSAFE_FORMAT


def test_duplicate_keys_are_refused(loader_kind: str) -> None:
    for text in ["a: 1\na: 2\n", "{1: a, 1: b}", "x: {k: 1, k: 1}"]:
        with pytest.raises(InputValidationError) as info:
            load_yaml(text)
        assert info.value.reason is InputReason.DUPLICATE_KEY


@pytest.mark.parametrize(
    "text",
    [
        "&a [*a]",  # recursive
        "x: *undefined",
        "---\na\n---\nb\n",  # two documents
        "2001-13-45",  # impossible date (ValueError in PyYAML)
        "d: 2001-12-14t21:59:43.10+99:00",  # impossible offset
        "{[1]: 2}",  # unhashable key
        "? [1]\n: 2\n",
        "a: [1, 2",
        "key: value: other",
        "!custom 1",
        "\t- tab indented",
        "x: \x07",
        "9" * 5000,  # Python's int digit limit
    ],
)
def test_bad_yaml_is_one_error(loader_kind: str, text: str) -> None:
    with pytest.raises(InputValidationError) as info:
        load_yaml(text)
    assert info.value.reason is InputReason.BAD_FORMAT
    # The parser's message quotes the input: it must not ride along as a cause.
    assert info.value.__cause__ is None
    # Not even a suppressed context (review): reporters can still walk it.
    assert info.value.__context__ is None


def test_yaml_size_and_encoding() -> None:
    assert load_yaml("a" * 100, max_bytes=100) == "a" * 100
    too_large: list[str | bytes] = ["a" * 101, b"a" * 101, "é" * 51]
    for data in too_large:
        with pytest.raises(InputValidationError) as info:
            load_yaml(data, max_bytes=100)
        assert info.value.reason is InputReason.TOO_LARGE
    assert load_yaml("é" * 50, max_bytes=100) == "é" * 50
    bad_encodings: list[str | bytes] = [b"\xff\xfe", b"caf\xe9", "\ud800", b"\xed\xa0\x80"]
    for bad in bad_encodings:
        with pytest.raises(InputValidationError) as info:
            load_yaml(bad)
        assert info.value.reason is InputReason.BAD_ENCODING
        # UnicodeDecodeError.object is the input: not kept as the context.
        assert info.value.__context__ is None
    assert load_yaml(bytearray(b"[1]")) == [1]  # type: ignore[arg-type]
    assert load_yaml(memoryview(b"[1]")) == [1]  # type: ignore[arg-type]


def test_yaml_errors_do_not_leak(loader_kind: str) -> None:
    secret = "sk_live_" + "0123456789abcdef"  # pragma: allowlist secret
    for text in [f"password: {secret}\npassword: x", f"a: [{secret}", f"x: *{secret}"]:
        with pytest.raises(InputValidationError) as info:
            load_yaml(text)
        assert_no_leak(info.value, secret)


def test_yaml_misuse() -> None:
    with pytest.raises(TypeError):
        load_yaml(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        load_yaml(None)  # type: ignore[arg-type]
    bad_limits: list[dict[str, Any]] = [
        {"max_bytes": 0},
        {"max_depth": 0},
        {"max_depth": 10_000},
        {"max_aliases": -1},
        {"max_nodes": True},
        {"max_nodes": 1.5},
    ]
    for kwargs in bad_limits:
        with pytest.raises(ConfigurationError):
            load_yaml("a", **kwargs)


def test_yaml_missing_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(ConfigurationError, match=r"securekit\[yaml\]"):
        load_yaml("a: 1")


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=8),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(JSONISH)
def test_yaml_round_trip(value: object) -> None:
    assert load_yaml(yaml.safe_dump(value, allow_unicode=True)) == value


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80) | st.binary(max_size=80))
def test_yaml_junk_raises_only_input_errors(data: str | bytes) -> None:
    try:
        load_yaml(data)
    except InputValidationError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "&a ",
                "*a",
                "&b ",
                "*b",
                "[",
                "]",
                "{",
                "}",
                ", ",
                ": ",
                "- ",
                "\n",
                "x",
                "1",
                "!!python/tuple ",
                "<<: ",
                "? ",
                '"',
                "'",
                "!!binary ",
                "2001-01-01",
            ]
        ),
        max_size=30,
    )
)
def test_yaml_structural_junk_raises_only_input_errors(parts: list[str]) -> None:
    try:
        load_yaml("".join(parts))
    except InputValidationError:
        pass


@pytest.mark.parametrize("refuse", [refuse_pickle, refuse_marshal, refuse_shelve])
def test_refusals_point_to_the_safe_alternative(refuse: Any) -> None:
    with pytest.raises(ConfigurationError, match="load_json"):
        refuse(b"\x80\x04\x95")
    with pytest.raises(ConfigurationError, match="refused"):
        refuse("file.db", flag="r")


def test_refusal_is_a_drop_in_replacement() -> None:
    class Codec:
        loads = staticmethod(refuse_pickle)

    payload = b"cos\nsystem\n(S'id'\ntR."  # a classic pickle RCE payload
    with pytest.raises(ConfigurationError):
        Codec.loads(payload)
