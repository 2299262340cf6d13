"""The corpus encoder gives the tokens, vocabularies and ids the tokenizers define
(``vocab.encode(tokenizer.encode(text))``, text by text), and exactly what seqlab's earlier
token engine gave on the shared corpora and on random text (tests/fixtures/encoder_golden.json,
written by the engine this encoder replaced)."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest
import torch

from seqlab.tasks.tsv import TsvConfig
from seqlab.text.encoder import CorpusEncoder, vocabulary
from seqlab.text.tokenizers import SentencePieceTokenizer, Tokenizer, WordTokenizer
from seqlab.text.vocab import Vocab
from tests.conftest import CORPORA, ROOT, development_corpus

GOLDEN = json.loads((ROOT / "tests" / "fixtures" / "encoder_golden.json").read_text())
MULTI30K = CORPORA / "multi30k"
POOL = ["a", "the", "cat", "Hund", "école", "naïve", "ΣΟΦΙΑ", "straße", "日本語", "😀x", "(", ")",
        ".", ",", "don't", "self-made", "x¨y", "ﬁne", "Ⅻ", "３４", "...", "'", "—", "-a", "a-",
        "A.B.", "U.S.", "€5", "über", "ΑΣ", "İstanbul", "ǅ", "\u00ad", "n\u0303", "ñ", "x_y",
        "42"]  # fmt: skip
SPACES = [" ", " ", " ", "  ", "\u00a0", "\u2009", "\u3000", "\x0b", "\u2028", "\x1c", "\x85",
          "\x0c", ""]  # fmt: skip


def random_text(rng: random.Random) -> str:
    words = rng.randint(1, 12)
    text = rng.choice(["", " "])
    for i in range(words):
        text += rng.choice(POOL) + (rng.choice(SPACES) if i < words - 1 else "")
    return text if text.strip() else "x"


def random_corpus(seed: int, lines: int, path: Path) -> None:
    rng = random.Random(seed)
    pairs = ["\t".join(random_text(rng) for _ in range(2)) for _ in range(lines)]
    path.write_text("\n".join(pairs) + "\n", encoding="utf-8")


def digest(datamodule) -> str:
    h = hashlib.sha256()
    for vocab in (datamodule.source_vocab, datamodule.target_vocab):
        h.update("\n".join(vocab.itos).encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    for split in ("train", "val", "test"):
        data = datamodule.splits[split]
        for t in (data.src_ids, data.src_offsets, data.tgt_ids, data.tgt_offsets):
            h.update(t.to(torch.int64).numpy().tobytes())
    h.update(repr(datamodule.length_ratio).encode())
    return h.hexdigest()


def golden_case(corpus: str, root: Path, key: str) -> None:
    options = dict(item.split("=") for item in key.split(","))
    typed = {k: (v == "True" if v in ("True", "False") else int(v) if v.isdigit() else v)
             for k, v in options.items()}  # fmt: skip
    config = TsvConfig(
        train_path=str(root / "train.tsv"),
        valid_path=str(root / "valid.tsv"),
        test_path=str(root / "test.tsv"),
        cache=False,
        **typed,
    )
    datamodule = config.build("seq2seq")
    datamodule.setup()
    assert digest(datamodule) == GOLDEN[f"{corpus}:{key}"]["sha256"]


@pytest.fixture(scope="module")
def random_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("random")
    for seed, (split, lines) in enumerate((("train", 3000), ("valid", 500), ("test", 500))):
        random_corpus(seed, lines, root / f"{split}.tsv")
    return root


KEYS = sorted({k.split(":", 1)[1] for k in GOLDEN})
FAST = [k for k in KEYS if "sentencepiece" not in k]


@pytest.mark.parametrize("key", KEYS)
def test_random_text_encodes_as_the_earlier_engine_did(random_files: Path, key: str) -> None:
    golden_case("random", random_files, key)


@pytest.mark.parametrize("key", FAST)
def test_multi30k_encodes_as_the_earlier_engine_did(key: str) -> None:
    golden_case("multi30k", development_corpus("multi30k"), key)


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(set(KEYS) - set(FAST)))
def test_multi30k_sentencepiece_encodes_as_the_earlier_engine_did(key: str) -> None:
    golden_case("multi30k", development_corpus("multi30k"), key)


@pytest.mark.parametrize("tokenizer", [Tokenizer(), WordTokenizer(), WordTokenizer(True)])
def test_every_text_gets_the_ids_its_tokens_have(tokenizer: Tokenizer) -> None:
    rng = random.Random(7)
    train = [random_text(rng) for _ in range(400)]
    other = [random_text(rng) for _ in range(100)] + ["", "   ", "never seen words"]
    encoder = CorpusEncoder(tokenizer)
    train_tokens, other_tokens = encoder.tokens(train), encoder.tokens(other)
    vocab = vocabulary([(encoder, train_tokens)], min_freq=2, max_size=None)
    assert vocab.itos == Vocab.build(tokenizer.encode_all(train), min_freq=2).itos
    for texts, tokenized in ((train, train_tokens), (other, other_tokens)):
        ids, offsets = encoder.ids(tokenized, vocab)
        assert ids.dtype == torch.int32 and offsets.dtype == torch.int64
        assert len(offsets) == len(texts) + 1
        for i, text in enumerate(texts):
            expected = vocab.encode(tokenizer.encode(text))
            assert ids[offsets[i] : offsets[i + 1]].tolist() == expected, text


def test_sentencepiece_texts_are_encoded_whole() -> None:
    """A unigram model may cut a word differently inside a text than alone; the encoder gives
    the text's own pieces."""
    rng = random.Random(3)
    texts = [random_text(rng) for _ in range(300)]
    tokenizer = SentencePieceTokenizer.train(texts, 120, "unigram")
    encoder = CorpusEncoder(tokenizer)
    tokenized = encoder.tokens(texts)
    vocab = vocabulary([(encoder, tokenized)], min_freq=1, max_size=None)
    ids, offsets = encoder.ids(tokenized, vocab)
    for i, text in enumerate(texts):
        assert ids[offsets[i] : offsets[i + 1]].tolist() == vocab.encode(tokenizer.encode(text))


def test_texts_are_encoded_in_chunks_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from seqlab.text import encoder as module

    rng = random.Random(5)
    texts = [random_text(rng) for _ in range(250)]
    whole = CorpusEncoder(WordTokenizer()).tokens(texts)
    monkeypatch.setattr(module, "CHUNK", 7)
    chunked = CorpusEncoder(WordTokenizer()).tokens(texts)
    assert (whole.tokens == chunked.tokens).all() and (whole.offsets == chunked.offsets).all()
