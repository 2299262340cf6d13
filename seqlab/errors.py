"""The errors seqlab reports to its user as a message alone, and the boundary that does it.

Every command (train, evaluate, translate) runs inside :func:`error_boundary`: a
:class:`SeqlabError` raised anywhere inside, before, during or after training, ends the
command with one line on standard error (``seqlab: configuration error: ...``) and exit
status 1, never a traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class SeqlabError(Exception):
    """Base of the errors caused by the user's input; ``kind`` names the category."""

    kind = "error"


class ConfigError(SeqlabError, ValueError):
    """A configuration value or combination that seqlab refuses to run."""

    kind = "configuration error"


class DataFileError(SeqlabError, ValueError):
    """A data file that is missing or malformed (the message names the file and line)."""

    kind = "data error"


class CheckpointError(ConfigError):
    """A checkpoint path that does not exist or is not a seqlab checkpoint."""

    kind = "checkpoint error"


class NonFiniteLossError(SeqlabError, RuntimeError):
    """Training produced a NaN or infinite loss or gradient norm."""

    kind = "training stopped"


@contextmanager
def error_boundary(program: str, usage: str | None = None) -> Iterator[None]:
    """Turn a :class:`SeqlabError` into ``<program>: <kind>: <message>`` on stderr and
    ``SystemExit`` with the error's ``exit_code`` (1 unless it says otherwise); ``usage`` is
    printed after the message when given."""
    try:
        yield
    except SeqlabError as error:
        print(f"{program}: {error.kind}: {error}", file=sys.stderr)
        if usage:
            print(usage, file=sys.stderr)
        raise SystemExit(getattr(error, "exit_code", 1)) from None
