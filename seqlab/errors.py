"""The errors seqlab reports to its user as a message alone, and the boundary that does it.

Every command (train, evaluate, translate, generate, plot, summarize, prepare) runs inside
:func:`error_boundary`. What the user's input or machine causes ends the command with a
message on standard error and a non-zero exit status, never a traceback:

- a :class:`SeqlabError` raised anywhere (``seqlab: configuration error: ...``), exit 1;
- an operating-system error (a file that cannot be read or written, a full disk), named with
  its file, exit 1; running out of memory, exit 1; Ctrl-C, exit 130.

Anything else is a bug in seqlab: its traceback is printed, then a line saying how to report
it, exit 1.
"""

from __future__ import annotations

import errno
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

REPORT = (
    "this is a bug in seqlab, not a problem with your input: please report it on seqlab's "
    "issue tracker with the command you ran, `pip freeze` and the traceback above"
)


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
    """Training diverged: a NaN or infinite loss or gradient norm, or a loss past
    ``training.max_loss``."""

    kind = "training stopped"


def describe_os_error(error: OSError) -> str:
    """An operating-system error as a sentence naming its file and what to do."""
    names = " -> ".join(str(f) for f in (error.filename, error.filename2) if f is not None)
    where = f" ({names})" if names else ""
    reason = error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full{where}; free some space (or write elsewhere) and run again"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied{where}: {reason}; check the file's permissions"
    if error.errno == errno.ENOENT:
        return f"no such file or directory{where}"
    if error.errno in (errno.ENOTDIR, errno.EISDIR):
        return f"{reason}{where}: a file is where a directory should be, or the reverse"
    return f"{reason}{where}"


@contextmanager
def error_boundary(program: str, usage: str | None = None) -> Iterator[None]:
    """Turn expected failures into ``<program>: <kind>: <message>`` on stderr and
    ``SystemExit``: a :class:`SeqlabError` (exit status: its ``exit_code``, 1 unless it says
    otherwise; ``usage`` is printed after the message when given), an OSError, a MemoryError
    (1) and Ctrl-C (130). Anything else is a bug: its traceback and how to report it."""
    try:
        yield
    except SeqlabError as error:
        print(f"{program}: {error.kind}: {error}", file=sys.stderr)
        if usage:
            print(usage, file=sys.stderr)
        raise SystemExit(getattr(error, "exit_code", 1)) from None
    except KeyboardInterrupt:
        print(f"\n{program}: interrupted (Ctrl-C); nothing half-written was kept", file=sys.stderr)
        raise SystemExit(130) from None
    except MemoryError:
        print(
            f"{program}: out of memory: the data or model asked for more memory than this "
            f"machine has; use a smaller task.batch_size, model size or data file",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    except OSError as error:
        print(f"{program}: I/O error: {describe_os_error(error)}", file=sys.stderr)
        raise SystemExit(1) from None
    except Exception:
        traceback.print_exc()
        print(f"{program}: {REPORT}", file=sys.stderr)
        raise SystemExit(1) from None
