"""A tsv training file tokenized straight from its bytes gives what its two columns give
(vocabularies, ids, lengths), and declines every file that is not plain pairs, so that the
line-by-line reader can name the line or skip the blank ones."""

from __future__ import annotations

import itertools
import re
import threading
from pathlib import Path

import pytest
import torch

from seqlab.errors import DataFileError
from seqlab.tasks import parallel_tokenize
from seqlab.tasks.flat_encoding import (
    encode_texts,
    encode_training_pairs,
    encode_training_texts,
    tokenize_training_pairs,
    word_vocabularies,
)
from seqlab.tasks.tokenizers import SentencePieceTokenizer, Tokenizer, WordTokenizer
from seqlab.tasks.tsv import TsvConfig, TsvTranslationDataModule
from seqlab.tasks.vector_tokenize import tokenize_pairs
from seqlab.tasks.vocab import UNK_ID
from tests.conftest import ROOT, clean_error

DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="module")
def multi30k_raw() -> bytes:
    lines = (DATA / "multi30k" / "train.tsv").read_bytes().split(b"\n")[:3000]
    return b"\n".join(lines) + b"\n"


def columns(raw: bytes) -> tuple[list[str], list[str]]:
    pairs = [line.split("\t") for line in raw.decode().split("\n")[:-1]]
    return [s.rstrip("\r") for s, _ in pairs], [t.rstrip("\r") for _, t in pairs]


def as_lists(flat) -> list[list[int]]:
    ids, offsets = flat
    return [ids[a:b].tolist() for a, b in itertools.pairwise(offsets.tolist())]


@pytest.mark.parametrize("tokenizer", [Tokenizer(), WordTokenizer(lowercase=True)])
@pytest.mark.parametrize("shared", [False, True])
def test_pairs_from_bytes_equal_the_columns_encoded(multi30k_raw, tokenizer, shared, monkeypatch):
    # several chunks, in two worker threads, with a CRLF line and a no-break space
    monkeypatch.setattr(parallel_tokenize, "PAIR_CHUNK_BYTES", 40_000)
    monkeypatch.setattr(parallel_tokenize, "default_workers", lambda: 2)
    raw = multi30k_raw + "Ein\u00a0Hund .\tA dog\u3000runs .\r\n".encode()
    sources, targets = columns(raw)
    encoded = encode_training_pairs(raw, tokenizer, shared, min_freq=2, max_vocab=None)
    assert encoded is not None
    (source_vocab, target_vocab), (source, target) = encoded
    if shared:
        both = [(sources, tokenizer), (targets, tokenizer)]
        vocab, expected = encode_training_texts(both, 2, None)
        assert source_vocab.itos == target_vocab.itos == vocab.itos
    else:
        vocab, expected = encode_training_texts([(sources, tokenizer)], 2, None)
        other_vocab, other = encode_training_texts([(targets, tokenizer)], 2, None)
        assert (source_vocab.itos, target_vocab.itos) == (vocab.itos, other_vocab.itos)
        expected += other
    assert as_lists(source) == as_lists(expected[0])
    assert as_lists(target) == as_lists(expected[1])
    assert source[0].dtype == torch.int32 and len(source[1]) == len(sources) + 1


@pytest.mark.parametrize(
    "raw",
    [
        b"a b\tc d\nno tab\n",
        b"a\tb\tc\nd\n",  # as many tabs as lines, in the wrong lines
        b"a\tb\n\nc\td\n",  # a blank line (skipped by the line reader)
        b"a\tb\n  \t c\n",  # a blank side
        b"a\tb\nc\t\xff\n",  # not UTF-8
    ],
)
@pytest.mark.parametrize("kind", ["whitespace", "word"])
def test_lines_that_are_not_plain_pairs_are_declined(raw, kind):
    assert tokenize_pairs(kind, False, raw) is None
    assert encode_training_pairs(raw, Tokenizer(), False, 1, None) is None


def test_plain_pairs_give_each_side_its_texts():
    source, target = tokenize_pairs("word", False, "a b.\tc\u00a0d\nÉté !\tx\n".encode())
    assert source.lengths.tolist() == [3, 2] and target.lengths.tolist() == [2, 1]
    assert [source.types[i] for i in source.ids] == ["a", "b", "￭.", "Été", "!"]
    assert [target.types[i] for i in target.ids] == ["c", "d", "x"]


# training lines, then texts to encode by the training keys: seen and unseen words, the
# specials' spellings, a joiner written in the text itself (its word is also a joined mark
# of the training text) and a word the training text holds only with such a joiner
KEYED_TRAIN = "Ein Hund , der läuft .\tA dog, running.\r\nZwei ￭, (Katzen) <unk>\tTwo ￭cats <pad>\n"
KEYED_OTHER = [
    "ein Hund ￭, <pad> <bos> neu",
    "A dog, ￭cats (cats) <eos>",
    "",
    "Zwei\u00a0Katzen, <unk>. ￭￭",
]


@pytest.mark.parametrize("tokenizer", [Tokenizer(), WordTokenizer(), WordTokenizer(lowercase=True)])
@pytest.mark.parametrize("shared", [False, True])
def test_other_texts_by_the_training_keys_equal_them_by_the_vocabulary(
    tokenizer, shared, monkeypatch
):
    monkeypatch.setattr(parallel_tokenize, "CHUNK", 2)  # chunks share the unseen types
    monkeypatch.setattr(parallel_tokenize, "PARALLEL_FROM", 1)
    monkeypatch.setattr(parallel_tokenize, "default_workers", lambda: 2)
    pairs = tokenize_training_pairs(KEYED_TRAIN.encode(), tokenizer, shared)
    assert pairs is not None
    ((source_vocab, target_vocab), _), keys = word_vocabularies(pairs, 1, None)
    texts = KEYED_OTHER * 3
    for vocab, side_keys in ((source_vocab, keys[0]), (target_vocab, keys[1])):
        seen = len(side_keys.table)
        by_keys = encode_texts(texts, tokenizer, vocab, side_keys)
        by_words = encode_texts(texts, tokenizer, vocab)
        assert as_lists(by_keys) == as_lists(by_words)
        assert len(side_keys.table) == seen  # the unseen types are not added
    found = as_lists(encode_texts(texts, tokenizer, source_vocab, keys[0]))
    assert UNK_ID in found[0] and found[0][:2] != [UNK_ID, UNK_ID]  # "neu"; "Hund" is seen


def write(path: Path, raw: bytes) -> str:
    path.write_bytes(raw)
    return str(path)


def module(tmp_path: Path, train: bytes, tokenizer: str = "word") -> TsvTranslationDataModule:
    other = write(tmp_path / "valid.tsv", b"a b\tc\n")
    config = TsvConfig(
        train_path=write(tmp_path / "train.tsv", train),
        valid_path=other,
        test_path=other,
        tokenizer=tokenizer,
        cache=False,
    )
    return TsvTranslationDataModule(config)


@pytest.mark.parametrize(
    "train",
    [
        b"\xef\xbb\xbfa b .\tc d\r\nx\ty\r\r\na b\tz",  # BOM, CRLF, stray CR, no final newline
        b"a b .\tc d\n\nx\ty\n\n",  # blank lines: read line by line, skipped
    ],
)
def test_the_task_encodes_the_file_as_its_columns(tmp_path: Path, train: bytes, monkeypatch):
    from_bytes = module(tmp_path, train)
    from_bytes.setup()
    monkeypatch.setattr(TsvTranslationDataModule, "training_file", lambda self: None)
    from_columns = module(tmp_path, train)
    from_columns.setup()
    assert from_bytes.source_vocab.itos == from_columns.source_vocab.itos
    assert from_bytes.target_vocab.itos == from_columns.target_vocab.itos
    for split in ("train", "val", "test"):
        a, b = from_bytes.splits[split], from_columns.splits[split]
        assert torch.equal(a.src_ids, b.src_ids) and torch.equal(a.tgt_ids, b.tgt_ids)
        assert torch.equal(a.src_offsets, b.src_offsets)
    assert from_bytes.length_ratio == from_columns.length_ratio


@pytest.mark.parametrize(
    ("train", "message"),
    [
        (b"a\tb\nno tab here\n", r"train.tsv:2: no tab in this line"),
        (b"a\tb\n\t c\n", r"train.tsv:2: the source side is empty"),
        (b"a\tb\nc\t\xff\n", r"train.tsv:2: not valid UTF-8"),
        (b"", "holds no sentence pairs"),
    ],
)
@pytest.mark.parametrize("kind", ["whitespace", "word"])  # (each a compiled kernel of its own)
def test_a_malformed_training_file_gets_the_line_readers_message(
    tmp_path, train, message, kind, capsys
):
    data = module(tmp_path, train, kind)
    with pytest.raises(DataFileError, match=message):
        data.setup()
    assert re.search(message, clean_error(module(tmp_path, train, kind).setup, capsys))


def trainings(monkeypatch) -> list[int]:
    """Counts sentencepiece trainings (the texts each learnt from)."""
    counted: list[int] = []
    train = SentencePieceTokenizer.train.__func__

    def counting(cls, texts, *args, **kwargs):
        counted.append(len(texts))
        return train(cls, texts, *args, **kwargs)

    monkeypatch.setattr(SentencePieceTokenizer, "train", classmethod(counting))
    return counted


def sentencepiece_module(tmp_path: Path, train: bytes, shared: bool) -> TsvTranslationDataModule:
    other = write(tmp_path / "valid.tsv", b"Ein Hund .\tA dog .\n")
    config = TsvConfig(
        train_path=write(tmp_path / "train.tsv", train),
        valid_path=other,
        test_path=other,
        tokenizer="sentencepiece",
        vocab_size=300,
        lowercase=True,
        shared_vocab=shared,
        min_freq=3,  # pieces counted from their words' counts: the same ones left out
        cache=False,
    )
    return TsvTranslationDataModule(config)


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize(
    "extra",
    [
        b"",
        "Zwei\u00a0Hunde\tTwo  dogs\r\n".encode(),  # splits where sentencepiece splits
        "Ein\x85Hund\tA\x0bdog\n".encode(),  # NEL and VT: spaces the model deletes
        b"\n  \nEin Hund\tA dog\n",  # blank lines: the columns, line by line
    ],
)
def test_sentencepiece_learns_and_encodes_the_file_as_its_columns(
    tmp_path, multi30k_raw, shared, extra, monkeypatch
):
    from seqlab.tasks import tokenizers

    # an evenly spaced sample of the texts, in several chunks, in two threads
    monkeypatch.setattr(tokenizers, "SENTENCEPIECE_MAX_SENTENCES", 1000)
    monkeypatch.setattr(parallel_tokenize, "PAIR_CHUNK_BYTES", 40_000)
    monkeypatch.setattr(parallel_tokenize, "default_workers", lambda: 2)
    raw = multi30k_raw[: multi30k_raw.index(b"\n", 100_000) + 1] + extra
    counted = trainings(monkeypatch)
    from_bytes = sentencepiece_module(tmp_path, raw, shared)
    from_bytes.setup()
    assert len(counted) == (1 if shared else 2)  # never trained twice
    monkeypatch.setattr(TsvTranslationDataModule, "training_file", lambda self: None)
    from_columns = sentencepiece_module(tmp_path, raw, shared)
    from_columns.setup()
    assert from_bytes.source_tokenizer.model == from_columns.source_tokenizer.model
    assert from_bytes.target_tokenizer.model == from_columns.target_tokenizer.model
    assert from_bytes.source_vocab.itos == from_columns.source_vocab.itos
    assert from_bytes.target_vocab.itos == from_columns.target_vocab.itos
    a, b = from_bytes.splits["train"], from_columns.splits["train"]
    assert torch.equal(a.src_ids, b.src_ids) and torch.equal(a.tgt_ids, b.tgt_ids)
    assert torch.equal(a.src_offsets, b.src_offsets) and torch.equal(a.tgt_offsets, b.tgt_offsets)
    assert from_bytes.length_ratio == from_columns.length_ratio


def test_the_two_sides_learn_at_once_and_learn_what_each_learns_alone(
    tmp_path, multi30k_raw, monkeypatch
):
    threads: list[str] = []
    train = SentencePieceTokenizer.train.__func__

    def recording(cls, texts, *args, **kwargs):
        threads.append(threading.current_thread().name)
        return train(cls, texts, *args, **kwargs)

    monkeypatch.setattr(SentencePieceTokenizer, "train", classmethod(recording))
    models = {}
    for workers in (1, 2):
        monkeypatch.setattr(parallel_tokenize, "default_workers", lambda workers=workers: workers)
        data = sentencepiece_module(tmp_path, multi30k_raw, shared=False)
        data.setup()
        models[workers] = (data.source_tokenizer.model, data.target_tokenizer.model)
    assert models[1] == models[2] and models[1][0] != models[1][1]
    main = threading.main_thread().name
    assert threads[:2] == [main, main] and main not in threads[2:]  # one thread, then two


def test_a_malformed_file_is_refused_before_sentencepiece_learns(tmp_path, monkeypatch, capsys):
    counted = trainings(monkeypatch)
    data = sentencepiece_module(tmp_path, b"a b\tc\nno tab here\n", shared=False)
    with pytest.raises(DataFileError, match="train.tsv:2: no tab in this line"):
        data.setup()
    again = sentencepiece_module(tmp_path, b"a b\tc\nno tab here\n", shared=False)
    assert "train.tsv:2: no tab in this line" in clean_error(again.setup, capsys)
    assert counted == []


def test_the_columns_are_read_once_when_the_bytes_path_is_not_taken(tmp_path, monkeypatch):
    read: list[tuple[str, ...]] = []
    make_columns = TsvTranslationDataModule.make_columns

    def counting(self, splits=("train", "val", "test")):
        read.append(tuple(splits))
        return make_columns(self, splits)

    monkeypatch.setattr(TsvTranslationDataModule, "make_columns", counting)
    monkeypatch.setattr(TsvTranslationDataModule, "training_file", lambda self: None)
    module(tmp_path, b"a b\tc\n").setup()
    assert read == [("train", "val", "test")]
    read.clear()
    monkeypatch.undo()
    monkeypatch.setattr(TsvTranslationDataModule, "make_columns", counting)
    module(tmp_path, b"a b\tc\n\nd\te\n").setup()  # a blank line: the bytes path declines
    assert read == [("val", "test"), ("train",)]
