"""``python -m securekit`` runs the ``securekit`` command."""

import sys

from securekit.cli import main

sys.exit(main())
