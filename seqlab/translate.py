"""Translate a file of sentences with a seq2seq checkpoint.

    python -m seqlab.translate ckpt_path=PATH input=sentences.txt [output=out.txt]
        [decoding.beam_size=5] [decoding.length_penalty=0.6] [batch_size=64]

One sentence per line of raw text, tokenized by the tokenizer saved in the checkpoint (as in
training: subword units, words, or whitespace, lowercased if training was); tokens the model
never saw become <unk>. Writes one detokenised translation per line to ``output`` (default:
standard output), in input order.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from seqlab.checkpoints import read_checkpoint, restore_model
from seqlab.errors import ConfigError, error_boundary
from seqlab.evaluate import decoding_options, parse_args
from seqlab.models.search import decode
from seqlab.spec import SEQ2SEQ, TaskSpec
from seqlab.tasks.vocab import PAD_ID

USAGE = (
    "usage: python -m seqlab.translate ckpt_path=PATH input=FILE [output=FILE] "
    "[decoding.beam_size=5]"
)


def translate_lines(argv: list[str]) -> list[str]:
    args = parse_args(argv, ("ckpt_path", "input"))
    checkpoint = read_checkpoint(args.ckpt_path)
    if checkpoint.source_vocab is None or checkpoint.target_vocab is None:
        raise ConfigError(
            f"{checkpoint.path} is a {checkpoint.model_config.name} checkpoint without "
            f"vocabularies; translation needs a seq2seq model (model=seq2seq|seq2seq_attention)"
        )
    source_path = Path(args.input).expanduser()
    if not source_path.is_file():
        raise ConfigError(f"input file {source_path} does not exist")
    source_tokenizer, target_tokenizer = checkpoint.source_tokenizer, checkpoint.target_tokenizer
    assert source_tokenizer is not None and target_tokenizer is not None
    try:
        lines = source_path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise ConfigError(f"input file {source_path} is not valid UTF-8 ({error.reason})") from None
    sentences = source_tokenizer.encode_all(lines)
    if not any(sentences):
        raise ConfigError(f"input file {source_path} has no sentences")
    spec = TaskSpec(
        name=str(checkpoint.config.task.name),
        output=SEQ2SEQ,
        vocab_size=len(checkpoint.source_vocab),
        num_classes=len(checkpoint.target_vocab),
    )
    model = restore_model(checkpoint, spec)
    decoding = decoding_options(checkpoint.config, args)
    batch_size = args.get("batch_size", 64)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
    outputs = [""] * len(sentences)
    order = sorted((i for i, s in enumerate(sentences) if s), key=lambda i: len(sentences[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        encoded = [checkpoint.source_vocab.encode(sentences[i]) for i in rows]
        lengths = torch.tensor([len(e) for e in encoded])
        src = torch.full((len(rows), int(lengths.max())), PAD_ID, dtype=torch.long)
        for r, ids in enumerate(encoded):
            src[r, : len(ids)] = torch.tensor(ids)
        with torch.no_grad():
            tokens = decode(model, src, lengths, decoding, checkpoint.length_ratio)
        for r, i in enumerate(rows):
            outputs[i] = target_tokenizer.decode(checkpoint.target_vocab.decode(tokens[r].tolist()))
    if args.get("output"):
        Path(args.output).write_text("\n".join(outputs) + "\n", encoding="utf-8")
        print(f"seqlab.translate: {len(outputs)} lines -> {args.output}", file=sys.stderr)
    else:
        print("\n".join(outputs))
    return outputs


def main() -> int:
    with error_boundary("seqlab.translate", USAGE):
        translate_lines(sys.argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
