"""Where the shipped configs are: ``configs/`` beside the package in a clone (and an editable
install), ``seqlab/configs/`` inside it when installed from a wheel (pyproject.toml maps the
one onto the other)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
_INSTALLED = _PACKAGE / "configs"
CONFIG_DIR = _INSTALLED if (_INSTALLED / "train.yaml").is_file() else _PACKAGE.parent / "configs"
