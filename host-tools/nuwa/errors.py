"""The one error type the CLI turns into a clear message and a nonzero exit."""


class NuwaError(Exception):
    """A user-facing failure: bad input, missing tool, failed build step."""
