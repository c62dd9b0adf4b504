"""Safe loading of untrusted data: strict JSON, limited safe YAML, and no pickle.

* :func:`load_json` is :func:`securekit.validation.load_json` (size and depth
  limits, no duplicate keys, no NaN), re-exported here so that all loaders of
  untrusted data live in one place.
* :func:`load_yaml` parses YAML with PyYAML's *safe* loader (the libyaml C
  implementation when available) after a streaming pre-scan that enforces a
  size limit, a depth limit, an alias limit and a cap on the *expanded* size
  (so a "billion laughs" document is refused before it is built), refuses
  ``!!python/`` tags and duplicate keys. It needs the ``yaml`` extra
  (``pip install 'securekit[yaml]'``).
* :func:`refuse_pickle`, :func:`refuse_marshal` and :func:`refuse_shelve`
  always raise: ``pickle``, ``marshal`` and ``shelve`` execute or trust
  whatever the data says, so they must never see untrusted bytes. Bind them
  where a codebase used to call the unsafe loader, and the error message
  names the safe alternative.

Example:
    >>> load_yaml("name: demo\\nports: [80, 443]\\n")
    {'name': 'demo', 'ports': [80, 443]}
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final, NoReturn

from securekit.errors import ConfigurationError, InputReason, InputValidationError
from securekit.validation import load_json

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "DEFAULT_MAX_ALIASES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_NODES",
    "load_json",
    "load_yaml",
    "refuse_marshal",
    "refuse_pickle",
    "refuse_shelve",
]

#: 1 MiB, the same body limit as :func:`securekit.validation.load_json`.
DEFAULT_MAX_BYTES: Final = 1024 * 1024
#: 64 levels of nesting, as for JSON (RFC 8259 section 9 lets parsers limit
#: depth); the pre-scan enforces it before libyaml's recursive composer runs.
DEFAULT_MAX_DEPTH: Final = 64
#: Aliases (``*name``) per document. Real configuration files use a handful;
#: the billion-laughs attack (CVE-2003-1564 class, CWE-776) needs dozens.
DEFAULT_MAX_ALIASES: Final = 100
#: Nodes after expanding every alias. Aliases share one Python object, but
#: any consumer that walks or serializes the result (json.dumps, a template)
#: pays the expanded size: ten aliases nine levels deep is 10**9 nodes.
DEFAULT_MAX_NODES: Final = 100_000
_MAX_DEPTH_LIMIT: Final = 256
_FAILED: Final = object()  # sentinel: the loader refused the document
_PYTHON_TAG_PREFIX: Final = "tag:yaml.org,2002:python/"
_SAFE_ALTERNATIVE: Final = (
    "use securekit.deserialize.load_json (or load_yaml) for data from outside the process; "
    "to round-trip your own data through an untrusted place, serialize it as JSON and "
    "protect it with securekit.signing or securekit.aead"
)


def _fail(reason: InputReason) -> InputValidationError:
    return InputValidationError(reason)


def refuse_pickle(*_args: object, **_kwargs: object) -> NoReturn:
    """Always raise: ``pickle.load``/``loads`` run code chosen by the data.

    Unpickling calls any importable callable the byte stream names
    (``os.system`` included); no "restricted unpickler" has held up
    (Python docs, ``pickle`` module warning; CWE-502). Assign this where a
    codebase used ``pickle.loads`` so any remaining call fails loudly.

    Raises:
        ConfigurationError: always, naming the safe alternative.
    """
    raise ConfigurationError(f"pickle is refused for untrusted data: {_SAFE_ALTERNATIVE}")


def refuse_marshal(*_args: object, **_kwargs: object) -> NoReturn:
    """Always raise: ``marshal.loads`` is not safe against malicious data.

    The Python docs warn that ``marshal`` is "not intended to be secure
    against erroneous or maliciously constructed data" and its format changes
    between Python versions; it can also load code objects.

    Raises:
        ConfigurationError: always, naming the safe alternative.
    """
    raise ConfigurationError(f"marshal is refused for untrusted data: {_SAFE_ALTERNATIVE}")


def refuse_shelve(*_args: object, **_kwargs: object) -> NoReturn:
    """Always raise: ``shelve`` stores values with pickle.

    Opening a shelf that someone else could write unpickles their data (the
    ``shelve`` docs carry the same warning as ``pickle``).

    Raises:
        ConfigurationError: always, naming the safe alternative.
    """
    raise ConfigurationError(
        "shelve (pickle underneath) is refused for untrusted data: store JSON in "
        f"SQLite or a file instead; {_SAFE_ALTERNATIVE}"
    )


def _yaml() -> ModuleType:
    try:
        return importlib.import_module("yaml")
    except ImportError:
        raise ConfigurationError(
            "load_yaml needs PyYAML: install the extra with pip install 'securekit[yaml]'"
        ) from None


_LOADERS: dict[str, Any] = {}


def _loader(yaml: ModuleType) -> Any:
    """The safe loader class (C when available), refusing duplicate keys."""
    cached = _LOADERS.get("strict")
    if cached is not None:
        return cached
    base = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    mapping_node = yaml.MappingNode
    merge_tag = "tag:yaml.org,2002:merge"

    class StrictSafeLoader(base):  # type: ignore[misc, valid-type]
        """PyYAML's safe loader, refusing duplicate mapping keys (YAML 1.2 section 3.2.1.1)."""

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            # A non-mapping node is left to the base class, which rejects it.
            pairs = node.value if isinstance(node, mapping_node) else ()
            for key_node, _ in pairs:
                if key_node.tag == merge_tag:
                    continue  # merged keys may be overridden on purpose
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate: bool | None = key in seen
                except TypeError:  # an unhashable key, e.g. "? [1]"
                    duplicate = None
                if duplicate is None:
                    raise _fail(InputReason.BAD_FORMAT)
                if duplicate:
                    raise _fail(InputReason.DUPLICATE_KEY)
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    _LOADERS["strict"] = StrictSafeLoader
    _LOADERS["events"] = base
    return StrictSafeLoader


def _check_limit(value: int, name: str, upper: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{name} must be an int")
    if not 1 <= value <= upper:
        raise ConfigurationError(f"{name} must be between 1 and {upper}")


def _decode(data: str | bytes, max_bytes: int) -> str:
    if isinstance(data, bytes | bytearray | memoryview):
        if len(data) > max_bytes:
            raise _fail(InputReason.TOO_LARGE)
        try:
            # UTF-8 only (YAML 1.2 section 5.2 allows UTF-16/32 with a BOM;
            # guessing encodings is a source of parser differentials).
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            pass
        # Raised outside the handler: UnicodeDecodeError.object is the input.
        raise _fail(InputReason.BAD_ENCODING)
    if len(data) > max_bytes:
        raise _fail(InputReason.TOO_LARGE)
    if not data.isascii():
        try:
            size = len(data.encode("utf-8"))
        except UnicodeEncodeError:  # lone surrogates
            size = -1
        if size < 0:
            raise _fail(InputReason.BAD_ENCODING)
        if size > max_bytes:
            raise _fail(InputReason.TOO_LARGE)
    return data


def _prescan(yaml: ModuleType, text: str, max_depth: int, max_aliases: int, max_nodes: int) -> None:
    """Walk the event stream (no tree is built) and enforce every limit."""
    events = yaml.events
    collection_start = (events.SequenceStartEvent, events.MappingStartEvent)
    collection_end = (events.SequenceEndEvent, events.MappingEndEvent)
    # One frame per open collection: [expanded size so far, anchor].
    stack: list[list[Any]] = []
    anchors: dict[str, int] = {}
    aliases = documents = 0
    total = 0

    def add(size: int) -> None:
        nonlocal total
        if stack:
            stack[-1][0] += size
            grown = stack[-1][0]
        else:
            total += size
            grown = total
        if grown > max_nodes:
            raise _fail(InputReason.TOO_LARGE)

    for event in yaml.parse(text, Loader=_LOADERS["events"]):
        tag = getattr(event, "tag", None)
        if isinstance(tag, str) and tag.startswith(_PYTHON_TAG_PREFIX):
            raise _fail(InputReason.UNSAFE_FORMAT)
        if isinstance(event, collection_start):
            stack.append([1, event.anchor])
            if len(stack) > max_depth:
                raise _fail(InputReason.TOO_DEEP)
        elif isinstance(event, collection_end):
            size, anchor = stack.pop()
            if anchor is not None:
                anchors[anchor] = size
            add(size)
        elif isinstance(event, events.ScalarEvent):
            if event.anchor is not None:
                anchors[event.anchor] = 1
            add(1)
        elif isinstance(event, events.AliasEvent):
            aliases += 1
            if aliases > max_aliases:
                raise _fail(InputReason.TOO_LARGE)
            # An alias to an anchor still open (a recursive structure) or
            # never defined is refused: the former would be a cycle.
            expanded = anchors.get(event.anchor)
            if expanded is None:
                raise _fail(InputReason.BAD_FORMAT)
            add(expanded)
        elif isinstance(event, events.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _fail(InputReason.BAD_FORMAT)


def load_yaml(
    data: str | bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_aliases: int = DEFAULT_MAX_ALIASES,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> object:
    """Parse one untrusted YAML document with the safe loader, within limits.

    Checks, in order: type and size (before decoding), strict UTF-8, then a
    streaming pass over the parser's events (no tree built yet) for depth,
    alias count, expanded node count, ``!!python/`` tags and a single
    document; only then does PyYAML's safe loader build the result, refusing
    duplicate keys. Only YAML's standard types come back (mappings,
    sequences, strings, numbers, booleans, null, timestamps, binary, sets);
    aliases become shared references to one object.

    Args:
        data: the YAML text, as ``str`` or UTF-8 ``bytes``.
        max_bytes: the largest accepted input, in UTF-8 bytes.
        max_depth: the deepest nesting of sequences and mappings (1..256).
        max_aliases: the most ``*alias`` references.
        max_nodes: the most nodes after expanding every alias.

    Returns:
        The parsed value (``None`` for an empty document).

    Raises:
        TypeError: ``data`` is not ``str`` or ``bytes``.
        ConfigurationError: PyYAML is not installed, or a limit is out of range.
        InputValidationError: ``TOO_LARGE`` (bytes, aliases, expanded
            nodes), ``TOO_DEEP``, ``BAD_ENCODING``, ``UNSAFE_FORMAT``
            (``!!python/`` tags), ``DUPLICATE_KEY``, ``BAD_FORMAT`` (invalid
            YAML, several documents, recursive or undefined aliases, values
            the safe constructor cannot build).
    """
    if not isinstance(data, str | bytes | bytearray | memoryview):
        raise TypeError("data must be str or bytes")
    _check_limit(max_bytes, "max_bytes", 1 << 30)
    _check_limit(max_depth, "max_depth", _MAX_DEPTH_LIMIT)
    _check_limit(max_aliases, "max_aliases", 1 << 20)
    _check_limit(max_nodes, "max_nodes", 1 << 30)
    yaml = _yaml()
    loader = _loader(yaml)
    text = _decode(data, max_bytes)
    try:
        _prescan(yaml, text, max_depth, max_aliases, max_nodes)
        result: object = yaml.load(text, Loader=loader)
    except InputValidationError:
        raise
    except Exception:  # noqa: BLE001
        # PyYAML signals bad input with YAMLError but also, from the safe
        # constructor, ValueError (impossible dates, int digit limit),
        # TypeError and others; every one of them is "not valid YAML" here,
        # and the message (which quotes the input) is dropped.
        result = _FAILED
    if result is _FAILED:
        # Raised outside the handler, so the YAML error (whose problem mark
        # quotes the input) is not even a suppressed __context__.
        raise _fail(InputReason.BAD_FORMAT)
    return result
