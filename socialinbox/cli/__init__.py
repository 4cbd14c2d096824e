"""The socialinbox command line."""

from socialinbox.cli.main import main

__all__ = ["main"]
