"""`python -m supadeploy`."""

from .cli import entry

entry()
