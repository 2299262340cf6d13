"""Real parallel data from local TSV files: one ``source<TAB>target`` pair per line.

Whitespace tokenisation, optional lowercasing; the vocabularies come from the training file
(min_freq / max_vocab, rare words become <unk>) and are saved in every checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from seqlab.tasks.seq2seq_data import Pair, Seq2SeqDataModule


class DataFileError(ValueError):
    """A data file that is missing or malformed (message names the file and line)."""


def read_tsv_pairs(path: str | Path, lowercase: bool = False) -> list[Pair]:
    """Read ``source<TAB>target`` lines; blank lines are skipped, anything else malformed
    is an error naming the file and line number."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataFileError(
            f"data file {path.resolve()} does not exist. Give task.train_path / "
            f"task.valid_path / task.test_path as paths to source<TAB>target files "
            f"(relative paths are taken from the directory you run seqlab in)."
        )
    pairs: list[Pair] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            if "\t" not in line:
                raise DataFileError(
                    f"{path}:{number}: no tab in this line; expected 'source<TAB>target', got "
                    f"{line[:60]!r}"
                )
            source, target, *rest = line.split("\t")
            if rest:
                raise DataFileError(
                    f"{path}:{number}: {len(rest) + 2} tab-separated columns; expected 2 "
                    f"(source<TAB>target)"
                )
            if lowercase:
                source, target = source.lower(), target.lower()
            source_words, target_words = source.split(), target.split()
            if not source_words or not target_words:
                side = "source" if not source_words else "target"
                raise DataFileError(f"{path}:{number}: the {side} side is empty")
            pairs.append((source_words, target_words))
    if not pairs:
        raise DataFileError(f"{path} holds no sentence pairs (the file is empty)")
    return pairs


class TsvTranslationDataModule(Seq2SeqDataModule):
    """Parallel data from train / valid / test TSV files."""

    task_name = "tsv"

    def __init__(
        self,
        train_path: str,
        valid_path: str,
        test_path: str,
        lowercase: bool = False,
        batch_size: int = 64,
        min_freq: int = 1,
        max_vocab: int | None = None,
        data_seed: int = 0,
        batch_tokens: int | None = None,
    ) -> None:
        super().__init__(batch_size, min_freq, max_vocab, data_seed, batch_tokens)
        self.paths = {"train": train_path, "val": valid_path, "test": test_path}
        for key, value in zip(
            ("train_path", "valid_path", "test_path"), self.paths.values(), strict=True
        ):
            if not value:
                raise DataFileError(f"task.{key} is not set; give a source<TAB>target file")
        self.lowercase = lowercase

    def make_pairs(self) -> dict[str, list[Pair]]:
        return {split: read_tsv_pairs(path, self.lowercase) for split, path in self.paths.items()}
