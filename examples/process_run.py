"""Run a program without a shell: list argv, allowlist, timeout, output cap.

The "filename" below comes from a user. With ``subprocess.run(f"wc -c
{name}", shell=True)`` it would run a second command; with ``run`` it is one
argument, placed after ``--`` so it cannot be an option either.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from securekit.errors import ConfigurationError, ProcessError
from securekit.process import run

#: The programs this application may start, looked up in /usr/bin:/bin only.
ALLOWED = {"wc", "printf"}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hostile = "-l; touch pwned $(id) `id` | cat"
        (Path(tmp) / hostile).write_bytes(b"twelve bytes")
        result = run(["wc", "-c"], operands=[hostile], allowed_executables=ALLOWED, cwd=tmp)
        print("wc:", result.stdout.decode().strip())
        print("nothing else ran:", sorted(p.name for p in Path(tmp).iterdir()) == [hostile])

    echoed = run(["printf", "[%s]", "a;b", "$(x)", "\n"], allowed_executables=ALLOWED)
    print("printf received:", echoed.stdout)

    try:
        run("wc -c /etc/passwd")  # a str is refused at run time
    except TypeError as exc:
        print("str command refused:", exc)
    try:
        run(["curl", "http://example.com"], allowed_executables=ALLOWED)
    except ConfigurationError as exc:
        print("not allowlisted:", exc)

    # The interpreter by absolute path: no allowlist needed, but limits apply.
    python = sys.executable
    try:
        run([python, "-c", "import time; time.sleep(60)"], timeout=0.5)
    except ProcessError as exc:
        print("timeout, process group killed:", exc.reason.value)
    try:
        run([python, "-c", "print('x' * 10_000_000)"], max_output=64 * 1024)
    except ProcessError as exc:
        print("output cap:", exc.reason.value)
    env = run([python, "-c", "import os; print(sorted(os.environ))"]).stdout.decode()
    print("child environment:", env.strip())


if __name__ == "__main__":
    main()
