"""Errors the CLI shows to people as one clear line."""


class CommandError(Exception):
    """A user-facing failure: printed as one clear line, exit status 2, no traceback."""
