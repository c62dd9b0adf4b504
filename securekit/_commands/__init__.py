"""Subcommands of the ``securekit`` command, one module each (see ``cli.py``)."""
