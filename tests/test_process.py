"""securekit.process.run: no shell, allowlist, limits, minimal environment."""

from __future__ import annotations

import ast
import os
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securekit.errors import (
    ConfigurationError,
    InputValidationError,
    InsecureConfigurationWarning,
    ProcessError,
    ProcessReason,
)
from securekit.process import CompletedRun, run
from tests._leak import assert_no_leak

PYTHON = sys.executable
#: Prints its arguments as a Python literal, so the test sees them exactly.
ECHO_ARGV = "import sys; print(repr(sys.argv[1:]))"


def echoed(*arguments: str, **kwargs: object) -> list[str]:
    result = run([PYTHON, "-c", ECHO_ARGV, *arguments], **kwargs)  # type: ignore[arg-type]
    value = ast.literal_eval(result.stdout.decode())
    assert isinstance(value, list)
    return value


SHELL_METACHARACTERS = [
    "; touch {canary}",
    "$(touch {canary})",
    "`touch {canary}`",
    "| touch {canary}",
    "&& touch {canary}",
    "\ntouch {canary}",
    "> {canary}",
    "* ? [a-z] ~ {{a,b}}",
    "'\"\\",
]


@pytest.mark.parametrize("template", SHELL_METACHARACTERS)
def test_shell_metacharacters_are_plain_text(template: str, tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    argument = template.format(canary=canary)
    assert echoed(argument) == [argument]
    assert not canary.exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(st.characters(exclude_characters="\x00", codec="utf-8")), max_size=4))
def test_no_shell_for_any_argument(arguments: list[str]) -> None:
    # Through printf (a real C program): the bytes come back exactly.
    result = run(["printf", "%s\\0", *arguments], allowed_executables={"printf"})
    expected = b"".join(a.encode() + b"\x00" for a in arguments) or b"\x00"
    assert result.stdout == expected


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(st.characters(exclude_characters="\x00", codec="utf-8")), max_size=3))
def test_python_sees_exact_argv(arguments: list[str]) -> None:
    assert echoed(*arguments) == arguments


def test_str_command_is_refused() -> None:
    with pytest.raises(TypeError, match="list of str"):
        run("/bin/echo hello; rm -rf /")
    with pytest.raises(TypeError):
        run(b"/bin/echo")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        run(["/bin/echo", b"x"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        run(["/bin/echo"], operands="abc")
    with pytest.raises(TypeError):
        run(42)  # type: ignore[arg-type]


def test_empty_argv() -> None:
    with pytest.raises(ConfigurationError, match="program"):
        run([])


def test_relative_program_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="allowed_executables"):
        run(["echo", "x"])
    with pytest.raises(ConfigurationError, match="relative"):
        run(["./echo", "x"], allowed_executables={"./echo"})
    with pytest.raises(ConfigurationError, match="relative"):
        run(["bin/echo"])
    with pytest.raises(ConfigurationError):
        run([""])


def test_allowlist_by_name_uses_the_fixed_search_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A planted "echo" early in the caller's PATH is never used.
    fake = tmp_path / "echo"
    fake.write_text("#!/bin/sh\necho planted\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ.get('PATH', '')}")
    result = run(["echo", "real"], allowed_executables={"echo"})
    assert result.stdout == b"real\n"
    assert result.argv[0] in {"/usr/bin/echo", "/bin/echo", "/usr/local/bin/echo"}
    # ... unless the caller deliberately searches there.
    planted = run(["echo", "x"], allowed_executables={"echo"}, search_path=str(tmp_path))
    assert planted.stdout == b"planted\n"


def test_allowlist_refuses_other_programs() -> None:
    with pytest.raises(ConfigurationError, match="allowed_executables"):
        run(["cat", "/etc/hostname"], allowed_executables={"echo"})
    with pytest.raises(ConfigurationError, match="not in allowed_executables"):
        run(["/bin/cat", "/etc/hostname"], allowed_executables={"echo"})
    assert run(["/bin/echo", "x"], allowed_executables={"/bin/echo"}).stdout == b"x\n"
    with pytest.raises(TypeError):
        run(["/bin/echo"], allowed_executables="/bin/echo")


def test_missing_program(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        run([str(tmp_path / "nope")])
    not_executable = tmp_path / "data"
    not_executable.write_text("x")
    with pytest.raises(ConfigurationError, match="not found"):
        run([str(not_executable)])
    with pytest.raises(ConfigurationError, match="not found"):
        run(["securekit-no-such-tool"], allowed_executables={"securekit-no-such-tool"})


def test_operands_follow_double_dash() -> None:
    assert echoed("-v", operands=["-rf", "--output=/etc/passwd"]) == [
        "-v",
        "--",
        "-rf",
        "--output=/etc/passwd",
    ]
    # With no operands no "--" is added.
    assert echoed("a") == ["a"]


def test_operands_are_not_options_for_a_real_program(tmp_path: Path) -> None:
    target = tmp_path / "-n"
    target.write_text("content\n")
    # Without "--", cat would read "-n" as "number the lines" and wait on stdin.
    result = run(["/bin/cat"], operands=["-n"], cwd=tmp_path)
    assert result.stdout == b"content\n"


def test_require_double_dash() -> None:
    with pytest.raises(InputValidationError) as info:
        run([PYTHON, "-c", ECHO_ARGV], require_double_dash=True)
    assert info.value.reason == "forbidden_character"
    with pytest.raises(InputValidationError):
        run(["/bin/echo", "ok", "--help"], require_double_dash=True)
    assert run(["/bin/echo", "plain"], require_double_dash=True).stdout == b"plain\n"
    result = run(["/bin/echo", "ok", "--", "-n"], require_double_dash=True)
    assert result.stdout == b"ok -- -n\n"


def test_nul_is_refused() -> None:
    with pytest.raises(InputValidationError) as info:
        run(["/bin/echo", "a\x00b"])
    assert info.value.reason == "forbidden_character"
    with pytest.raises(InputValidationError):
        run(["/bin/echo"], operands=["x\x00"])


def _dead(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in {"Z", "X"}


def test_timeout_kills_the_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    # The grandchild records its pid, then waits; the shell waits too.
    script = f"sh -c 'echo $$ > {pidfile}; exec sleep 30' & sleep 30"
    start = time.monotonic()
    with pytest.raises(ProcessError) as info:
        run(["/bin/sh", "-c", script], timeout=1.0)
    assert info.value.reason is ProcessReason.TIMEOUT
    assert time.monotonic() - start < 5
    grandchild = int(pidfile.read_text())
    # SIGKILL is asynchronous: give the kernel a bounded moment to finish it.
    deadline = time.monotonic() + 5
    while not _dead(grandchild) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _dead(grandchild)


def test_background_child_does_not_hold_us(tmp_path: Path) -> None:
    start = time.monotonic()
    result = run(["/bin/sh", "-c", "sleep 30 & echo started"], timeout=10)
    assert result.stdout == b"started\n"
    assert time.monotonic() - start < 5


def test_program_that_closes_output_but_keeps_running() -> None:
    with pytest.raises(ProcessError) as info:
        run(["/bin/sh", "-c", "exec >&- 2>&-; sleep 30"], timeout=0.3)
    assert info.value.reason is ProcessReason.TIMEOUT


def test_output_cap() -> None:
    with pytest.raises(ProcessError) as info:
        run(["/bin/cat", "/dev/zero"], max_output=4096)
    assert info.value.reason is ProcessReason.OUTPUT_TOO_LARGE
    code = "import sys; sys.stderr.write('e' * 5000)"
    with pytest.raises(ProcessError):
        run([PYTHON, "-c", code], max_output=4096)
    exact = run([PYTHON, "-c", "print('x' * 4095)"], max_output=4096)
    assert len(exact.stdout) == 4096


def test_minimal_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECUREKIT_TEST_SECRET", "s3cr3t")
    code = "import os; print(sorted(os.environ))"
    names = ast.literal_eval(run([PYTHON, "-c", code]).stdout.decode())
    assert "SECUREKIT_TEST_SECRET" not in names
    assert set(names) <= {"PATH", "LANG", "LC_ALL", "LC_CTYPE"}
    extra = run([PYTHON, "-c", "import os; print(os.environ['X'])"], env={"X": "y"})
    assert extra.stdout == b"y\n"
    with pytest.warns(InsecureConfigurationWarning):
        inherited = run([PYTHON, "-c", code], insecure_inherit_environment=True)
    assert "SECUREKIT_TEST_SECRET" in ast.literal_eval(inherited.stdout.decode())


def test_unencodable_arguments() -> None:
    with pytest.raises(InputValidationError) as info:
        run(["/bin/echo", "\ud800"])
    assert info.value.reason == "bad_encoding"
    # PEP 383 escapes stand for raw bytes and pass through as those bytes.
    assert run(["printf", "%s", "a\udc80b"], allowed_executables={"printf"}).stdout == b"a\x80b"
    with pytest.raises(ConfigurationError):
        run(["/bin/true"], env={"A": "\ud800"})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=6), max_size=3))
def test_any_text_arguments_run_or_raise_input_errors(arguments: list[str]) -> None:
    try:
        result = run(["printf", "%s|", *arguments], allowed_executables={"printf"})
    except InputValidationError:
        assert any("\x00" in a or not all(map(_encodable_char, a)) for a in arguments)
        return
    assert result.stdout == b"".join(os.fsencode(a) + b"|" for a in arguments) or (
        not arguments and result.stdout == b"|"
    )


def _encodable_char(char: str) -> bool:
    try:
        os.fsencode(char)
    except UnicodeEncodeError:
        return False
    return True


def test_bad_env() -> None:
    with pytest.raises(ConfigurationError):
        run(["/bin/true"], env={"A=B": "x"})
    with pytest.raises(ConfigurationError):
        run(["/bin/true"], env={"": "x"})
    with pytest.raises(ConfigurationError):
        run(["/bin/true"], env={"A": "x\x00"})
    with pytest.raises(TypeError):
        run(["/bin/true"], env={"A": 1})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        run(["/bin/true"], env=[("A", "B")])  # type: ignore[arg-type]


def test_stdin_is_empty_by_default_and_input_is_written() -> None:
    assert run(["/bin/cat"]).stdout == b""
    assert run(["/bin/cat"], input=b"").stdout == b""
    big = os.urandom(200_000)
    assert run(["/bin/cat"], input=big).stdout == big
    # A program that does not read its input does not break the run.
    assert run(["/bin/true"], input=big).returncode == 0
    with pytest.raises(TypeError):
        run(["/bin/cat"], input="text")  # type: ignore[arg-type]


def test_check_and_returncode() -> None:
    hidden = "hidden" + "-output"  # built at run time: traceback source lines do not hold it
    with pytest.raises(ProcessError) as info:
        run(["/bin/sh", "-c", f"echo {hidden}; exit 3"])
    assert info.value.reason is ProcessReason.NONZERO_EXIT
    assert info.value.returncode == 3
    assert_no_leak(info.value, hidden)
    result = run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], check=False)
    assert (result.returncode, result.stdout, result.stderr) == (3, b"out\n", b"err\n")


def test_errors_and_repr_do_not_leak() -> None:
    secret = "token=abcdef123456"  # pragma: allowlist secret
    with pytest.raises(ProcessError) as info:
        run(["/bin/sh", "-c", f"echo {secret}; sleep 5"], timeout=0.2)
    assert_no_leak(info.value, secret)
    result = run(["/bin/echo", secret])
    assert secret not in repr(result)
    assert isinstance(result, CompletedRun)
    with pytest.raises(InputValidationError) as nul:
        run(["/bin/echo", f"{secret}\x00"])
    assert_no_leak(nul.value, secret)


def test_cwd(tmp_path: Path) -> None:
    assert run(["/bin/pwd"], cwd=tmp_path).stdout.decode().strip() == str(tmp_path.resolve())
    with pytest.raises(ConfigurationError, match="could not start"):
        run(["/bin/pwd"], cwd=tmp_path / "missing")


def test_program_that_cannot_start(tmp_path: Path) -> None:
    script = tmp_path / "bad-interpreter"
    script.write_text("#!/nonexistent/interpreter\n")
    script.chmod(0o755)
    with pytest.raises(ConfigurationError, match="could not start") as info:
        run([str(script)])
    assert_no_leak(info.value, "/nonexistent/interpreter")


# 10**400: math.isfinite raised OverflowError before the review.
@pytest.mark.parametrize(
    "timeout", [0, -1, float("nan"), float("inf"), 1e300, 86_401, 10**400, -(10**400)]
)
def test_bad_timeout(timeout: float) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        run(["/bin/true"], timeout=timeout)


def test_bad_parameters() -> None:
    with pytest.raises(TypeError):
        run(["/bin/true"], timeout="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        run(["/bin/true"], timeout=True)
    with pytest.raises(TypeError):
        run(["/bin/true"], max_output=1.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        run(["/bin/true"], max_output=0)
    with pytest.raises(ConfigurationError):
        run(["/bin/true"], search_path="")
    with pytest.raises(TypeError):
        run(["true"], allowed_executables=[b"true"])  # type: ignore[list-item]


def test_cwd_with_nul_is_a_configuration_error() -> None:
    # Popen raised a bare ValueError ("embedded null byte") before the review.
    with pytest.raises(ConfigurationError, match="could not start"):
        run(["/bin/true"], cwd="/tmp/\x00")


INSECURE_CALLS = {
    "securekit.process.run:insecure_inherit_environment": lambda: run(
        ["/bin/true"], insecure_inherit_environment=True
    ),
}


@pytest.fixture(params=["missing", "failing"])
def no_pidfd(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulate systems without pidfd_open (non-Linux, or Linux before 5.3)."""
    if request.param == "missing":
        monkeypatch.delattr(os, "pidfd_open", raising=False)
    else:

        def refuse(pid: int) -> int:
            raise OSError(38, "Function not implemented")

        monkeypatch.setattr(os, "pidfd_open", refuse)


def test_without_pidfd_the_same_guarantees_hold(no_pidfd: None) -> None:
    assert run(["/bin/echo", "x"]).stdout == b"x\n"
    assert run(["/bin/cat"], input=b"abc").stdout == b"abc"
    start = time.monotonic()
    assert run(["/bin/sh", "-c", "sleep 30 & echo started"]).stdout == b"started\n"
    assert time.monotonic() - start < 5
    with pytest.raises(ProcessError) as info:
        run(["/bin/sh", "-c", "exec >&- 2>&-; sleep 30"], timeout=0.3)
    assert info.value.reason is ProcessReason.TIMEOUT
    with pytest.raises(ProcessError) as info:
        run(["/bin/sleep", "30"], timeout=0.3)
    assert info.value.reason is ProcessReason.TIMEOUT
