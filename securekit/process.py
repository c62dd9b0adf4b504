"""Run a subprocess without a shell, with limits.

:func:`run` is what shell-string process calls (``os.system``, or
``subprocess.run`` through a shell) should have been: the command is a list
(a ``str`` is refused), the program is an absolute path or a name from an
allowlist resolved on a fixed search path, the environment is minimal,
untrusted operands go after ``--``, the whole process group is killed on
timeout, and output is read incrementally up to a cap.

Example:
    >>> result = run(["/bin/echo", "hello"])
    >>> result.stdout
    b'hello\\n'
"""

from __future__ import annotations

import contextlib
import math
import os
import selectors
import shutil
import signal
import subprocess  # nosec B404  # this module is the safe wrapper: list argv, never a shell
import time
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, cast

from securekit.errors import (
    ConfigurationError,
    InputReason,
    InputValidationError,
    InsecureConfigurationWarning,
    ProcessError,
    ProcessReason,
)

__all__ = [
    "DEFAULT_MAX_OUTPUT",
    "DEFAULT_SEARCH_PATH",
    "DEFAULT_TIMEOUT",
    "CompletedRun",
    "run",
]

#: Seconds before the process group is killed. OWASP OS Command Injection
#: Defense Cheat Sheet: bound every external call; 30 s suits request paths.
DEFAULT_TIMEOUT: Final = 30.0
#: Bytes kept per stream (stdout, stderr); more fails the run rather than
#: buffering without bound (CWE-400, uncontrolled resource consumption).
DEFAULT_MAX_OUTPUT: Final = 1024 * 1024
#: Where allowlisted bare names are looked up: the system directories only,
#: never the caller's ``PATH`` or the working directory (CWE-426, untrusted
#: search path).
DEFAULT_SEARCH_PATH: Final = "/usr/local/bin:/usr/bin:/bin"
#: The child's environment by default: enough for programs to run and to
#: decode text, nothing inherited (secrets in the parent's environment stay
#: there; CWE-214, CWE-526).
_BASE_ENV: Final = {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
_READ_CHUNK: Final = 65536
# One day: far above any sane subprocess call, far below what select() and
# time_t accept (a larger value would overflow inside the wait).
_MAX_TIMEOUT: Final = 86_400.0
# Without pidfd_open (Linux < 5.3, other POSIX systems): how often the read
# loop checks whether the program itself has exited.
_POLL_SECONDS: Final = 0.05


@dataclass(frozen=True, slots=True, kw_only=True)
class CompletedRun:
    """The outcome of :func:`run`.

    Attributes:
        argv: the command line as executed (resolved program first).
        returncode: the exit status (negative: killed by that signal).
        stdout: everything the program wrote to standard output.
        stderr: everything the program wrote to standard error.
    """

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    def __repr__(self) -> str:
        # The command line and output may hold secrets or untrusted data;
        # a repr that ends up in a log shows only sizes.
        return (
            f"CompletedRun(returncode={self.returncode}, stdout=<{len(self.stdout)} bytes>, "
            f"stderr=<{len(self.stderr)} bytes>)"
        )


def _check_arguments(values: Sequence[str], what: str) -> tuple[str, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        # A string would be split by a shell or taken as one program name;
        # both are the bug this module exists to prevent.
        raise TypeError(f"{what} must be a list of str, not {type(values).__name__}")
    checked = tuple(values)
    for value in checked:
        if not isinstance(value, str):
            raise TypeError(f"every element of {what} must be str, not {type(value).__name__}")
        if "\x00" in value:
            # execve() cannot pass NUL; it would truncate the argument.
            raise InputValidationError(InputReason.FORBIDDEN_CHARACTER) from None
        if not value.isascii() and not _encodable(value):
            raise InputValidationError(InputReason.BAD_ENCODING) from None
    return checked


def _encodable(value: str) -> bool:
    # Arguments reach execve() as bytes through os.fsencode: lone surrogates
    # U+DC80..U+DCFF stand for raw bytes (PEP 383), any other one cannot be
    # encoded at all.
    try:
        os.fsencode(value)
    except UnicodeEncodeError:
        return False
    return True


def _resolve(program: str, allowed: frozenset[str] | None, search_path: str) -> str:
    if Path(program).is_absolute():
        if allowed is not None and program not in allowed:
            raise ConfigurationError(f"{program} is not in allowed_executables")
        resolved: str | None = program
        if not (Path(program).is_file() and os.access(program, os.X_OK)):
            resolved = None
    elif "/" in program or not program:
        raise ConfigurationError(
            "the program must be an absolute path or a bare name listed in "
            "allowed_executables (relative paths depend on the working directory)"
        )
    else:
        if allowed is None or program not in allowed:
            raise ConfigurationError(
                f"{program!r} is not an absolute path; list it in allowed_executables "
                "or pass its absolute path"
            )
        resolved = shutil.which(program, path=search_path)
    if resolved is None:
        raise ConfigurationError(f"{program} was not found or is not executable")
    return resolved


def _check_dashes(arguments: Sequence[str]) -> None:
    for value in arguments:
        if value == "--":
            return
        if value.startswith("-"):
            raise InputValidationError(InputReason.FORBIDDEN_CHARACTER) from None


def _environment(env: Mapping[str, str] | None, search_path: str, inherit: bool) -> dict[str, str]:
    base = dict(os.environ) if inherit else {**_BASE_ENV, "PATH": search_path}
    if env is not None:
        if not isinstance(env, Mapping):
            raise TypeError("env must be a mapping of str to str")
        for key, value in env.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError("env must be a mapping of str to str")
            if not key or "=" in key or "\x00" in key or "\x00" in value:
                raise ConfigurationError("env names must be non-empty without '=' or NUL")
            if not (_encodable(key) and _encodable(value)):
                raise ConfigurationError(
                    "env names and values must be encodable (no lone surrogates)"
                )
            base[key] = value
    return base


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    # start_new_session made the child a group leader: its pgid is its pid,
    # so this reaches every grandchild that did not leave the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _exit_fd(proc: subprocess.Popen[bytes]) -> int:
    """A pidfd that turns readable when the child exits, or -1 without pidfd_open."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return -1
    try:
        fd: int = pidfd_open(proc.pid)
    except OSError:  # kernels before Linux 5.3
        return -1
    return fd


def _communicate(
    proc: subprocess.Popen[bytes], stdin: bytes | None, deadline: float, max_output: int
) -> tuple[bytes, bytes, bool]:
    """Pump stdin/stdout/stderr until the program exits and its pipes close.

    Returns stdout, stderr and whether the program is known to have exited.
    """
    # run() always opens both pipes; the casts only tell the type checker.
    fds = (cast("IO[bytes]", proc.stdout).fileno(), cast("IO[bytes]", proc.stderr).fileno())
    chunks: dict[int, list[bytes]] = {fd: [] for fd in fds}
    sizes: dict[int, int] = dict.fromkeys(fds, 0)
    pending = memoryview(stdin or b"")
    exit_fd = _exit_fd(proc)
    exited = False
    try:
        with selectors.DefaultSelector() as selector:
            for fd in fds:
                os.set_blocking(fd, False)
                selector.register(fd, selectors.EVENT_READ)
            if exit_fd >= 0:
                selector.register(exit_fd, selectors.EVENT_READ)
            stdin_fd = -1
            if proc.stdin is not None:
                stdin_fd = proc.stdin.fileno()
                if pending:
                    os.set_blocking(stdin_fd, False)
                    selector.register(stdin_fd, selectors.EVENT_WRITE)
                else:
                    proc.stdin.close()
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ProcessError(ProcessReason.TIMEOUT)
                if exit_fd < 0 and not exited and proc.poll() is not None:
                    # Without a pidfd, exit is noticed by polling (below).
                    _kill_group(proc)
                    exited = True
                wait = remaining if exit_fd >= 0 else min(remaining, _POLL_SECONDS)
                for key, _ in selector.select(wait):
                    fd = key.fd
                    if fd == exit_fd:
                        # The program is done; a background child still
                        # holding the pipes open must not keep us waiting
                        # until the timeout.
                        selector.unregister(fd)
                        _kill_group(proc)
                        exited = True
                    elif fd == stdin_fd and proc.stdin is not None:
                        try:
                            written = os.write(fd, pending[:_READ_CHUNK])
                        except BrokenPipeError:
                            written = len(pending)  # the child stopped reading: drop the rest
                        pending = pending[written:]
                        if not pending:
                            selector.unregister(fd)
                            proc.stdin.close()
                    else:
                        data = os.read(fd, _READ_CHUNK)
                        if not data:
                            selector.unregister(fd)
                            continue
                        sizes[fd] += len(data)
                        if sizes[fd] > max_output:
                            raise ProcessError(ProcessReason.OUTPUT_TOO_LARGE)
                        chunks[fd].append(data)
    finally:
        if exit_fd >= 0:
            os.close(exit_fd)
    return b"".join(chunks[fds[0]]), b"".join(chunks[fds[1]]), exited


def run(
    argv: Sequence[str],
    *,
    operands: Sequence[str] = (),
    allowed_executables: Collection[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_output: int = DEFAULT_MAX_OUTPUT,
    input: bytes | None = None,  # noqa: A002 - the name subprocess.run uses
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    check: bool = True,
    require_double_dash: bool = False,
    search_path: str = DEFAULT_SEARCH_PATH,
    insecure_inherit_environment: bool = False,
) -> CompletedRun:
    """Run a program without a shell and return its exit status and output.

    The program (``argv[0]``) must be an absolute path, or a bare name listed
    in ``allowed_executables`` that is then looked up on ``search_path`` only.
    Arguments reach the program exactly as given: no shell ever parses them,
    so ``;``, ``|``, ``$(...)``, backticks, globs and newlines are plain
    characters. The child runs in its own session (process group) with a
    minimal environment, stdin from ``input`` or ``/dev/null``, and no
    inherited file descriptors. When the program exits, anything left in its
    process group is killed; on timeout, the whole group is killed.

    Untrusted values belong in ``operands``: they are appended after a
    ``--`` so that a value such as ``--output=/etc/passwd`` or ``-rf`` is
    never read as an option (the program must follow the POSIX ``--``
    convention, Utility Syntax Guideline 10).

    Args:
        argv: the program and its (trusted) options, as a list of ``str``.
        operands: untrusted positional values, appended after ``--``.
        allowed_executables: programs that may run: bare names (looked up on
            ``search_path``) and/or absolute paths. ``None``: any absolute path.
        timeout: seconds until the process group is killed.
        max_output: bytes allowed on each of stdout and stderr.
        input: bytes written to the program's standard input.
        env: variables added to the minimal environment (``PATH`` is
            ``search_path``, ``LC_ALL``/``LANG`` are ``C.UTF-8``).
        cwd: the working directory.
        check: raise :class:`~securekit.errors.ProcessError` when the exit
            status is not zero.
        require_double_dash: refuse any argument starting with ``-`` that
            does not follow a ``--`` in ``argv`` (for commands built entirely
            from untrusted values).
        search_path: the directories (``:``-separated) for bare names.
        insecure_inherit_environment: **Danger**: pass this process's whole
            environment (database URLs, API keys, cloud credentials) to the
            child, and let its ``PATH`` decide nothing (lookups still use
            ``search_path``).

    Returns:
        A :class:`CompletedRun`.

    Raises:
        TypeError: ``argv`` or ``operands`` is a ``str``/``bytes`` or holds a
            non-``str`` element (a ``str`` command line is refused by design).
        ConfigurationError: an empty ``argv``, a program that is relative, not
            allowlisted or not found, or a bad ``timeout``/``max_output``/``env``.
        InputValidationError: ``FORBIDDEN_CHARACTER``: an argument holds NUL,
            or ``require_double_dash`` found an option-like argument before
            ``--``; ``BAD_ENCODING``: an argument holds a lone surrogate that
            ``os.fsencode`` cannot encode.
        ProcessError: ``TIMEOUT``, ``OUTPUT_TOO_LARGE``, or ``NONZERO_EXIT``
            (with ``check=True``). Neither argv nor output is attached.
    """
    command = _check_arguments(argv, "argv")
    extra = _check_arguments(operands, "operands")
    if not command:
        raise ConfigurationError("argv must name a program")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError("timeout must be a number of seconds")
    # Compared before math.isfinite, which raises OverflowError for 10**400.
    if not (0 < timeout <= _MAX_TIMEOUT and math.isfinite(timeout)):
        raise ConfigurationError(
            f"timeout must be a positive number of seconds, at most {_MAX_TIMEOUT:.0f}"
        )
    if isinstance(max_output, bool) or not isinstance(max_output, int):
        raise TypeError("max_output must be an int")
    if max_output <= 0:
        raise ConfigurationError("max_output must be positive")
    if input is not None and not isinstance(input, bytes):
        raise TypeError("input must be bytes or None")
    if not isinstance(search_path, str) or not search_path:
        raise ConfigurationError("search_path must be a non-empty ':'-separated str")
    allowed: frozenset[str] | None = None
    if allowed_executables is not None:
        if isinstance(allowed_executables, str):
            raise TypeError("allowed_executables must be a collection of str, not a str")
        allowed = frozenset(allowed_executables)
        if not all(isinstance(name, str) for name in allowed):
            raise TypeError("allowed_executables must hold only str")
    if insecure_inherit_environment:
        warnings.warn(
            "run(insecure_inherit_environment=True): the child receives every environment "
            "variable of this process, including secrets",
            InsecureConfigurationWarning,
            stacklevel=2,
        )
    program = _resolve(command[0], allowed, search_path)
    if require_double_dash:
        _check_dashes(command[1:])
    full = (program, *command[1:])
    if extra:
        full = (*full, "--", *extra)
    environment = _environment(env, search_path, insecure_inherit_environment)

    deadline = time.monotonic() + timeout
    try:
        proc = subprocess.Popen(  # noqa: S603  # nosec B603  # list argv, shell=False
            full,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            cwd=cwd,
            close_fds=True,
            start_new_session=True,
            shell=False,
        )
    except (OSError, ValueError) as exc:
        # A missing or unreadable cwd, a noexec mount, a bad interpreter line,
        # a NUL in cwd (ValueError): the deployment is wrong, and the OS
        # message may quote paths.
        raise ConfigurationError(
            f"could not start the program ({type(exc).__name__}); check the program, "
            "its permissions and cwd"
        ) from None
    try:
        stdout, stderr, exited = _communicate(proc, input, deadline, max_output)
        if exited:
            returncode = proc.wait()  # already exited: reaps without polling
        else:
            remaining = max(deadline - time.monotonic(), 0.0)
            try:
                returncode = proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                raise ProcessError(ProcessReason.TIMEOUT) from None
    finally:
        _kill_group(proc)
        if proc.returncode is None:
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    if check and returncode != 0:
        raise ProcessError(ProcessReason.NONZERO_EXIT, returncode=returncode)
    return CompletedRun(argv=full, returncode=returncode, stdout=stdout, stderr=stderr)
