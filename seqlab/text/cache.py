"""A cache of encoded corpora: tokenizing a large file once, not once per run.

A task that reads users' files (tsv) names its inputs by a key: the files' resolved paths,
sizes, modification and change times and inodes, and every option that changes the
encoding. The tokenizers,
vocabularies and flat id arrays built for that key are saved under the cache directory
(``$SEQLAB_CACHE_DIR``, default ``~/.cache/seqlab``) in ``encoded/<key>.pt``, and later runs
with the same key (a sweep's jobs, a second model, a resumed run) load them instead of
tokenizing again. An edited file has a new modification time, hence a new key. Files are
written whole and renamed into place (concurrent runs cannot see half a file) and read with
``torch.load(weights_only=True)``; an unreadable entry is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

FORMAT = 2  # bump when the cached layout or the encoding changes


def cache_dir() -> Path:
    """Where encoded corpora are kept: ``$SEQLAB_CACHE_DIR/encoded`` (default
    ``~/.cache/seqlab/encoded``)."""
    root = os.environ.get("SEQLAB_CACHE_DIR") or Path.home() / ".cache" / "seqlab"
    return Path(root).expanduser() / "encoded"


def files_key(paths: list[str], options: dict[str, Any]) -> str | None:
    """The key of these files (path, size, modification and change times, inode) and
    encoding options; None
    when a file is missing (reading it then reports the error)."""
    files = []
    for path in paths:
        resolved = Path(path).expanduser().resolve()
        try:
            stat = resolved.stat()
        except OSError:
            return None
        # the inode and the change time too: a file replaced by another (a new inode) or
        # rewritten with its old size and modification time restored (ctime cannot be set
        # back) gets a new key
        files.append([str(resolved), stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns])
    text = json.dumps([FORMAT, files, options], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def load(key: str) -> dict[str, Any] | None:
    """The cached entry of ``key``, or None when there is none (or it cannot be read)."""
    path = cache_dir() / f"{key}.pt"
    if not path.is_file():
        return None
    try:
        entry = torch.load(path, weights_only=True)
    except Exception as error:  # a truncated or foreign file: rebuild it
        print(f"seqlab: ignoring the unreadable data cache {path} ({error}); rebuilding it")
        return None
    return entry if isinstance(entry, dict) and entry.get("format") == FORMAT else None


def save(key: str, entry: dict[str, Any]) -> Path | None:
    """Write ``entry`` for ``key`` (write, then rename). A cache that cannot be written
    (read-only home, full disk) costs the next run time, not this run: a note, no error."""
    directory = cache_dir()
    path = directory / f"{key}.pt"
    partial = directory / f".{key}.{os.getpid()}.partial"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        torch.save({**entry, "format": FORMAT}, partial)
        os.replace(partial, path)
    except (OSError, RuntimeError) as error:  # torch.save reports some as RuntimeError
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        print(f"seqlab: could not write the data cache in {directory} ({error}); continuing")
        return None
    return path
