"""Pretrained word vectors (GloVe, fastText, word2vec in text form) for a model's input
embeddings: one word per line followed by its numbers (a first line ``<count> <dim>`` is
skipped). Words the file lacks keep their random initialisation."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from seqlab.config.schema import ModelConfig
from seqlab.errors import ConfigError, DataFileError
from seqlab.spec import TaskSpec
from seqlab.text.vocab import SPECIALS, Vocab


def load_word_vectors(path: str | Path, vocab: Vocab, embedding: nn.Embedding) -> str:
    """Copy the vectors of ``vocab``'s words from ``path`` into ``embedding``; a word is
    looked up as it is, then ignoring case. Returns a line reporting the coverage."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"model.pretrained_embeddings={path}: no such file (relative paths are taken from "
            f"the directory you run seqlab in)"
        )
    wanted = {w for w in vocab.itos if w not in SPECIALS}
    wanted |= {w.lower() for w in wanted}
    size = embedding.embedding_dim
    vectors: dict[str, torch.Tensor] = {}  # as written in the file
    folded: dict[str, torch.Tensor] = {}  # by lowercased word, the first seen
    dimension_checked = False
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            word, _, rest = line.rstrip("\n").partition(" ")
            if number == 1 and word.isdigit() and rest.strip().isdigit():
                continue  # word2vec's header
            if not dimension_checked:  # the first vector says what the file holds
                found_size = len(rest.split())
                if found_size != size:
                    raise ConfigError(
                        f"model.pretrained_embeddings={path} holds {found_size}-dimensional "
                        f"vectors; set model.embedding_size={found_size}"
                    )
                dimension_checked = True
            key = word if word in wanted else word.lower()
            if key not in wanted or word in vectors:
                continue
            values = rest.split()
            if len(values) != size:
                raise DataFileError(f"{path}:{number}: {len(values)} numbers, expected {size}")
            try:
                vector = torch.tensor([float(v) for v in values])
            except ValueError:
                raise DataFileError(f"{path}:{number}: not a word followed by numbers") from None
            if not torch.isfinite(vector).all():
                raise DataFileError(
                    f"{path}:{number}: the vector of {word!r} holds NaN or infinite numbers; "
                    f"a damaged embeddings file (training from it would fail at once)"
                )
            vectors[word] = vector
            folded.setdefault(word.lower(), vector)
    found = 0
    with torch.no_grad():
        for index, word in enumerate(vocab.itos):
            vector = vectors.get(word, folded.get(word.lower()))
            if word not in SPECIALS and vector is not None:
                embedding.weight[index] = vector
                found += 1
    total = len(vocab) - len(SPECIALS)
    return (
        f"pretrained embeddings: {found:,} of {total:,} words ({100 * found / max(total, 1):.1f}%) "
        f"found in {path}; the others keep their random initialisation"
    )


def input_embedding(module: nn.Module) -> nn.Embedding:
    """The embedding a model reads its input (source) words through."""
    for name in ("embedding", "source_embedding"):
        embedding = getattr(module, name, None)
        if isinstance(embedding, nn.Embedding):
            return embedding
    raise ConfigError(f"{type(module).__name__} has no input embedding for pretrained vectors")


def load_pretrained(config: ModelConfig, module: nn.Module, spec: TaskSpec) -> str | None:
    """Initialise ``module``'s input embeddings from the model config's
    ``pretrained_embeddings`` file if it has one; returns a report of the coverage (None when
    there is none)."""
    path = getattr(config, "pretrained_embeddings", None)
    if not path:
        return None
    if spec.source_vocab is None:
        raise ConfigError(
            f"model.pretrained_embeddings needs a task with a word vocabulary; "
            f"task={spec.name} has none"
        )
    return load_word_vectors(path, spec.source_vocab, input_embedding(module))
