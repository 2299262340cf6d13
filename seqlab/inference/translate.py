"""Translate a file of sentences with a seq2seq checkpoint.

    python -m seqlab.translate ckpt_path=PATH input=sentences.txt [output=out.txt]
        [decoding.beam_size=5] [decoding.length_penalty=0.6] [batch_size=64]
        [nbest=N] [attention=DIR]

One sentence per line of raw text, tokenized by the tokenizer saved in the checkpoint (as in
training: subword units, words, or whitespace, lowercased if training was); tokens the model
never saw become <unk>. Writes one detokenised translation per line to ``output`` (default:
standard output), in input order. ``nbest=N`` (with decoding.beam_size >= N) writes the N
best translations of each line instead, best first, in Moses' n-best format:
``<line number from 0> ||| <translation> ||| <score>``, the score log p(Y) divided by the
length penalty. ``attention=DIR`` (attention models, greedy decoding) also
writes DIR/<line number>.png: the attention weights of each output token over the source
tokens (seqlab/reporting/alignments.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import Tensor

from seqlab.data.files import read_data_text
from seqlab.errors import ConfigError
from seqlab.inference.checkpoints import LoadedCheckpoint, read_checkpoint, restore_model
from seqlab.inference.evaluate import decoding_options, parse_args
from seqlab.models.search import beam_search_nbest, decode, greedy_alignments, output_limits
from seqlab.reporting.alignments import Alignment, alignments, write_alignment_pngs
from seqlab.spec import SEQ2SEQ, TaskSpec
from seqlab.text.vocab import PAD_ID

USAGE = (
    "usage: python -m seqlab.translate ckpt_path=PATH input=FILE [output=FILE] "
    "[decoding.beam_size=5] [batch_size=64] [nbest=N] [attention=DIR]"
)
KEYS = ("ckpt_path", "input", "output", "decoding", "batch_size", "nbest", "attention")


def translate_lines(argv: list[str]) -> list[str]:
    args = parse_args(argv, ("ckpt_path", "input"))
    unknown = sorted(set(args) - set(KEYS))
    if unknown:
        raise ConfigError(f"unknown argument {unknown[0]}; known: {', '.join(KEYS)}")
    checkpoint = read_checkpoint(args.ckpt_path)
    if checkpoint.source_vocab is None or checkpoint.target_vocab is None:
        raise ConfigError(
            f"{checkpoint.path} is a {checkpoint.model_config.name} checkpoint without "
            f"vocabularies; translation needs a seq2seq model (model=seq2seq|seq2seq_attention)"
        )
    source_path = Path(args.input).expanduser()
    if not source_path.is_file():
        raise ConfigError(f"input file {source_path} does not exist")
    output = check_output_path(args.get("output"))
    source_tokenizer, target_tokenizer = checkpoint.source_tokenizer, checkpoint.target_tokenizer
    assert source_tokenizer is not None and target_tokenizer is not None
    lines = input_lines(source_path)
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
    attention_dir = check_attention_dir(args.get("attention"), checkpoint, decoding.beam_size)
    nbest = check_nbest(args.get("nbest"), decoding.beam_size)
    if nbest and attention_dir is not None:
        raise ConfigError("attention=DIR draws greedy outputs; it does not combine with nbest=")
    found: dict[int, Alignment] = {}
    outputs = [""] * len(sentences)
    nbest_lists: list[list[tuple[str, float]]] = [[] for _ in sentences]
    order = sorted((i for i, s in enumerate(sentences) if s), key=lambda i: len(sentences[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        encoded = [checkpoint.source_vocab.encode(sentences[i]) for i in rows]
        lengths = torch.tensor([len(e) for e in encoded])
        src = torch.full((len(rows), int(lengths.max())), PAD_ID, dtype=torch.long)
        for r, ids in enumerate(encoded):
            src[r, : len(ids)] = torch.tensor(ids)
        with torch.no_grad():
            if nbest:
                limits = output_limits(lengths, checkpoint.length_ratio, decoding.max_length)
                ranked, scores = beam_search_nbest(
                    model, src, lengths, decoding.beam_size, decoding.length_penalty, limits
                )
                for r, i in enumerate(rows):
                    nbest_lists[i] = [
                        (detokenise(checkpoint, ranked[r, n]), float(scores[r, n]))
                        for n in range(nbest)
                    ]
                tokens = ranked[:, 0]
            elif attention_dir is None:
                tokens = decode(model, src, lengths, decoding, checkpoint.length_ratio)
            else:
                limits = output_limits(lengths, checkpoint.length_ratio, decoding.max_length)
                tokens, weights = greedy_alignments(model, src, lengths, limits)
                kept = alignments(
                    tokens, weights, src, lengths, checkpoint.source_vocab, checkpoint.target_vocab
                )
                found.update(zip(rows, kept, strict=True))
        for r, i in enumerate(rows):
            outputs[i] = detokenise(checkpoint, tokens[r])
    if attention_dir is not None:
        for i, alignment in sorted(found.items()):
            write_alignment_pngs([alignment], attention_dir, first_number=i + 1)
        print(
            f"seqlab.translate: {len(found)} attention maps -> {attention_dir}/<line>.png",
            file=sys.stderr,
        )
    if nbest:  # Moses n-best lines; an empty input line gets one empty hypothesis
        outputs = [
            f"{i} ||| {text} ||| {score:.6f}"
            for i, hypotheses in enumerate(nbest_lists)
            for text, score in (hypotheses or [("", 0.0)])
        ]
    if output is not None:
        partial = output.with_name(output.name + ".partial")
        try:
            partial.write_text("\n".join(outputs) + "\n", encoding="utf-8")
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)
        print(f"seqlab.translate: {len(outputs)} lines -> {output}", file=sys.stderr)
    else:
        print("\n".join(outputs))
    return outputs


def detokenise(checkpoint: LoadedCheckpoint, tokens: Tensor) -> str:
    """Output ids (T',) -> text, as the checkpoint's tokenizer writes it."""
    assert checkpoint.target_vocab is not None and checkpoint.target_tokenizer is not None
    return checkpoint.target_tokenizer.decode(checkpoint.target_vocab.decode(tokens.tolist()))


def check_nbest(nbest: object, beam_size: int) -> int:
    """``nbest=N`` as a count (0 when not asked for); it needs a beam of at least N."""
    if nbest is None:
        return 0
    if isinstance(nbest, bool) or not isinstance(nbest, int) or nbest < 1:
        raise ConfigError(f"nbest must be a positive integer, got {nbest!r}")
    if nbest > beam_size:
        raise ConfigError(
            f"nbest={nbest} needs at least that many hypotheses: set decoding.beam_size={nbest} "
            f"or more (now {beam_size})"
        )
    return nbest


def input_lines(path: Path) -> list[str]:
    """The lines of a text file as files define them: ended by \\n (\\r\\n accepted), so
    output line i is the translation of input line i. Other characters that ``str.splitlines``
    would also break at (U+2028, form feeds, lone \\r) stay inside their line."""
    _, text = read_data_text(path, "one sentence per line")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the last line's end
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def check_output_path(output: str | None) -> Path | None:
    """``output=`` as a path to write, checked before any work: its folder must exist and it
    must not be a folder itself."""
    if not output:
        return None
    path = Path(output).expanduser()
    if path.is_dir():
        raise ConfigError(f"output={output} is a directory; give a file name, e.g. {path}/out.txt")
    if not path.parent.is_dir():
        raise ConfigError(
            f"output={output}: the folder {path.parent} does not exist; create it first or "
            f"choose another path"
        )
    return path


def check_attention_dir(
    directory: str | None, checkpoint: LoadedCheckpoint, beam: int
) -> Path | None:
    """The directory for attention PNGs, or None; refused for a model without attention, with
    beam search (maps are drawn for greedy outputs), or a directory already holding PNGs."""
    if not directory:
        return None
    if not getattr(checkpoint.model_config, "has_attention", False):
        raise ConfigError(
            f"attention={directory}: {checkpoint.path} is a {checkpoint.model_config.name} model "
            "without attention; attention maps need model=seq2seq_attention"
        )
    if beam > 1:
        raise ConfigError(
            "attention=DIR draws the attention of greedy outputs; drop decoding.beam_size "
            f"(now {beam}) or run without attention="
        )
    path = Path(directory).expanduser()
    if path.is_dir() and any(path.glob("*.png")):
        raise ConfigError(
            f"attention={path} already holds PNG files; seqlab never overwrites them. Choose "
            "a new directory"
        )
    return path
