"""lm: a language model over your own plain text (train / valid / test files).

Each line of a file is its tokens followed by the end-of-line token ``<eos>``, blank lines
included (as the standard corpora are read: PTB, WikiText, and a character-level text whose
line ends are characters too). A split is one stream of these tokens; the data module cuts
it into parallel streams and windows (seqlab.data.streams) and reports the unigram baseline
of the training text on every split.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from seqlab.config.checks import require_at_least, require_choice
from seqlab.config.schema import TaskConfig
from seqlab.config.training import TrainingConfig
from seqlab.data.files import read_data_text, require_paths
from seqlab.data.pairs import check_vocabulary_and_batching
from seqlab.data.streams import evaluation_stream_loader, training_stream_loader
from seqlab.errors import DataFileError
from seqlab.spec import NEXT_TOKEN, TaskSpec
from seqlab.text.tokenizers import SENTENCEPIECE_MODELS, Tokenizer, build_tokenizer
from seqlab.text.vocab import BOS_ID, EOS_ID, PAD_ID, Vocab

# task.level -> the tokenizer that cuts its lines (seqlab.text.tokenizers)
LEVEL_TOKENIZERS = {"char": "char", "word": "whitespace", "sentencepiece": "sentencepiece"}
LAYOUT = "plain text (UTF-8, any number of lines)"
# Validation and test windows when no training window is known (evaluate): the window does
# not change the result, only the memory a batch takes.
EVALUATION_WINDOW = 256


@dataclass
class LanguageModelConfig(TaskConfig):
    """lm: a language model over your text.

    train_path, valid_path, test_path: UTF-8 text files, read line by line.
    level: char (every character a token, spaces included) | word (whitespace-separated
    tokens, as WikiText and PTB ship; their ``<unk>`` is seqlab's) | sentencepiece
    (``vocab_size`` subword units, ``sentencepiece_model`` bpe | unigram, trained on the
    training file). lowercase: lowercase the text first. min_freq, max_vocab: the vocabulary
    (rarer tokens read as <unk>).
    batch_size: the parallel streams the training text is cut into; each carries its state
    from one window of training.tbptt_steps tokens to the next.
    eval_streams: the streams of the validation and test text. 1 (default) reads each split
    as one stream, the exact cross-entropy; more are faster, but every stream starts from a
    blank state, so the first tokens of each are predicted with less context.
    stateful: carry each stream's state (detached) from one window to the next; false resets
    it at every window (for comparison).
    """

    _target_: str = "seqlab.tasks.lm.LanguageModelConfig"
    name: str = "lm"
    train_path: str | None = None
    valid_path: str | None = None
    test_path: str | None = None
    level: str = "char"
    lowercase: bool = False
    vocab_size: int = 8000
    sentencepiece_model: str = "bpe"
    min_freq: int = 1
    max_vocab: int | None = None
    batch_size: int = 32
    eval_streams: int = 1
    stateful: bool = True

    offers = (NEXT_TOKEN,)

    def __post_init__(self) -> None:
        require_paths(self, "plain text")
        require_choice("task.level", self.level, LEVEL_TOKENIZERS, example="word")
        require_choice("task.sentencepiece_model", self.sentencepiece_model, SENTENCEPIECE_MODELS)
        require_at_least(
            "task",
            1,
            batch_size=self.batch_size,
            eval_streams=self.eval_streams,
            min_freq=self.min_freq,
        )
        require_at_least("task", 8, vocab_size=self.vocab_size)
        check_vocabulary_and_batching(None, self.max_vocab)

    def build(self, output: str) -> L.LightningDataModule:
        return LanguageModelDataModule(self)


def read_text_lines(path: str | Path) -> list[str]:
    """The lines of a plain-text file (line ends \\n or \\r\\n; a final line end adds no
    line). A file without any visible character stops with a DataFileError."""
    path, text = read_data_text(path, LAYOUT)
    if not text.strip():
        raise DataFileError(
            f"{path} holds no text (it is empty or only whitespace); a language model needs "
            f"some to read"
        )
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the final line end
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def stream_ids(lines: list[list[str]], vocab: Vocab) -> Tensor:
    """Tokenised lines -> (N + 1,) ids: <eos> (the context of the first token), then each
    line's ids and an <eos>."""
    ids = [EOS_ID]
    for tokens in lines:
        ids.extend(vocab.encode(tokens))
        ids.append(EOS_ID)
    return torch.tensor(ids, dtype=torch.long)


def unigram_log_probs(train_ids: Tensor, vocab_size: int) -> Tensor:
    """(V,) log-probabilities of the unigram model of the training targets, add-one smoothed
    over every token that can be a target (not <pad> or <bos>)."""
    counts = torch.bincount(train_ids[1:], minlength=vocab_size).double() + 1.0
    counts[[PAD_ID, BOS_ID]] = 0.0
    return (counts / counts.sum()).log()


def unigram_ce(log_probs: Tensor, ids: Tensor) -> float:
    """Mean cross-entropy (nats) of the unigram model on the targets of a stream."""
    return float(-log_probs[ids[1:]].mean())


class LanguageModelDataModule(L.LightningDataModule):
    """Your text, tokenised, as streams: training windows of training.tbptt_steps tokens
    (:meth:`use_training` sets them), validation and test read whole."""

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        self.config = config
        self.paths = {
            "train": config.train_path,
            "val": config.valid_path,
            "test": config.test_path,
        }
        self.steps = EVALUATION_WINDOW
        self.random_length = False
        self.ids: dict[str, Tensor] = {}
        # set from a checkpoint (seqlab.inference.checkpoints) before setup()
        self.source_vocab: Vocab | None = None
        self.source_tokenizer: Tokenizer | None = None
        self.needed_splits: tuple[str, ...] = ("train", "val", "test")
        self.spec: TaskSpec | None = None

    def use_training(self, training: TrainingConfig) -> None:
        """Train in windows of training.tbptt_steps tokens (random lengths if asked)."""
        assert training.tbptt_steps is not None  # checked by seqlab.config.compatibility
        self.steps = training.tbptt_steps
        self.random_length = training.tbptt_random_length

    def setup(self, stage: str | None = None) -> None:
        if self.spec is not None:
            return
        c = self.config
        lines = {split: read_text_lines(str(self.paths[split])) for split in self.needed_splits}
        if self.source_tokenizer is None:
            self.source_tokenizer = build_tokenizer(
                LEVEL_TOKENIZERS[c.level],
                lines["train"],
                c.lowercase,
                c.vocab_size,
                c.sentencepiece_model,
            )
        tokenizer = self.source_tokenizer
        tokens = {split: tokenizer.encode_all(text) for split, text in lines.items()}
        if self.source_vocab is None:
            counts: Counter[str] = Counter()
            for line in tokens["train"]:
                counts.update(line)
            self.source_vocab = Vocab.from_counts(counts, c.min_freq, c.max_vocab)
        vocab = self.source_vocab
        self.ids = {split: stream_ids(toks, vocab) for split, toks in tokens.items()}
        baseline = None
        if "train" in self.ids:
            baseline = unigram_log_probs(self.ids["train"], len(vocab))
        self.spec = TaskSpec(
            name=c.name,
            output=NEXT_TOKEN,
            vocab_size=len(vocab),
            num_classes=len(vocab),
            # positions per training stream (the one-window check needs it)
            sequence_length=self._train_positions(),
            source_vocab=vocab,
            source_tokenizer=tokenizer,
            stateful=c.stateful,
            split_baseline_ce={
                split: unigram_ce(baseline, ids)
                for split, ids in self.ids.items()
                if baseline is not None and split != "train"
            },
            characters_per_token={
                split: sum(len(line) + 1 for line in text) / (self.ids[split].numel() - 1)
                for split, text in lines.items()
                if c.level != "word"
            },
        )

    def _train_positions(self) -> int | None:
        if "train" not in self.ids:
            return None
        return math.ceil((self.ids["train"].numel() - 1) / self.config.batch_size)

    def train_dataloader(self) -> DataLoader:
        return training_stream_loader(
            self.ids["train"], self.config.batch_size, self.steps, self.random_length
        )

    def val_dataloader(self) -> DataLoader:
        return evaluation_stream_loader(self.ids["val"], self.config.eval_streams, self.steps)

    def test_dataloader(self) -> DataLoader:
        return evaluation_stream_loader(self.ids["test"], self.config.eval_streams, self.steps)


# The schemas this module declares, stored in Hydra's ConfigStore by
# seqlab.engine.run_config.register_schemas as schema/task/<name>.
SCHEMAS = {"lm": LanguageModelConfig}
