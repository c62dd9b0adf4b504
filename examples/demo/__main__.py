"""``python -m examples.demo``: the same as ``securekit demo``."""

from __future__ import annotations

import sys

from securekit.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
