"""Sample text from a language-model checkpoint (task=lm).

    python -m seqlab.generate ckpt_path=PATH [prompt="..."] [max_tokens=200]
        [temperature=1.0] [top_k=K] [top_p=P] [seed=N]

The prompt is read with the checkpoint's own tokenizer (``\\n`` in it is a line end) and
primes the model from a line start; then ``max_tokens`` tokens are drawn one at a time and
printed as they come (the prompt first). temperature=0 is greedy (the most likely token each
time); top_k keeps the k most likely tokens, top_p the smallest set holding that much
probability (nucleus sampling). The same seed gives the same text. ``<unk>`` is never drawn:
it stands for no token in particular (a word-level corpus' rare words).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import torch

from seqlab.errors import ConfigError
from seqlab.inference.checkpoints import LoadedCheckpoint, read_checkpoint, restore_model
from seqlab.inference.evaluate import parse_args
from seqlab.models.sampling import NEVER_DRAWN, sample_tokens
from seqlab.spec import NEXT_TOKEN, TaskSpec
from seqlab.text.lines import LineDecoder
from seqlab.text.vocab import EOS_ID, UNK_ID

USAGE = (
    'usage: python -m seqlab.generate ckpt_path=PATH [prompt="text"] [max_tokens=200] '
    "[temperature=1.0] [top_k=K] [top_p=P] [seed=N]"
)
KEYS = ("ckpt_path", "prompt", "max_tokens", "temperature", "top_k", "top_p", "seed")


def split_prompt(argv: list[str]) -> tuple[str, list[str]]:
    """The prompt exactly as typed (not parsed as a config value: ``prompt=1.5`` or
    ``prompt=${x}`` stay text), with ``\\n`` read as a line end; and the other arguments."""
    prompts = [a for a in argv if a.startswith("prompt=")]
    rest = [a for a in argv if not a.startswith("prompt=")]
    prompt = prompts[-1][len("prompt=") :] if prompts else ""
    return prompt.replace("\\n", "\n"), rest


def _number(args: Any, key: str, kind: type, default: Any, ok: Callable[[Any], bool], rule: str):
    value = args.get(key, default)
    if value is None:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) or not ok(value):
        raise ConfigError(f"{key} must be {rule}; got {value!r}")
    return value


def generation_options(args: Any) -> dict[str, Any]:
    """max_tokens, temperature, top_k, top_p and seed from the command line, checked."""
    return {
        "max_tokens": _number(args, "max_tokens", int, 200, lambda v: v >= 1, "an integer >= 1"),
        "temperature": _number(
            args, "temperature", float, 1.0, lambda v: v >= 0, "a number >= 0 (0: greedy)"
        ),
        "top_k": _number(args, "top_k", int, None, lambda v: v >= 1, "an integer >= 1"),
        "top_p": _number(args, "top_p", float, None, lambda v: 0 < v <= 1, "in (0, 1]"),
        "seed": _number(args, "seed", int, None, lambda v: 0 <= v < 2**63, "an integer >= 0"),
    }


def language_model(checkpoint: LoadedCheckpoint) -> torch.nn.Module:
    """The checkpoint's model, refusing anything but a language model."""
    if NEXT_TOKEN not in checkpoint.task_config.offers or checkpoint.source_vocab is None:
        raise ConfigError(
            f"{checkpoint.path} is a model={checkpoint.model_config.name} "
            f"task={checkpoint.task_config.name} checkpoint, not a language model: "
            f"seqlab.generate samples from models trained with task=lm (a seq2seq model "
            f"translates with python -m seqlab.translate)"
        )
    vocab = checkpoint.source_vocab
    spec = TaskSpec(
        name=str(checkpoint.task_config.name),
        output=NEXT_TOKEN,
        vocab_size=len(vocab),
        num_classes=len(vocab),
    )
    return restore_model(checkpoint, spec)


def generate(argv: list[str], write: Callable[[str], Any] | None = None) -> str:
    """Sample as the command line says; the text (prompt included) goes to ``write`` piece by
    piece (default: standard output, flushed) and is returned whole."""
    prompt, rest = split_prompt(argv)
    args = parse_args(rest, ("ckpt_path",))
    unknown = sorted(set(args) - set(KEYS))
    if unknown:
        raise ConfigError(f"unknown argument {unknown[0]}; known: {', '.join(KEYS)}")
    options = generation_options(args)
    checkpoint = read_checkpoint(args.ckpt_path)
    model = language_model(checkpoint)
    vocab, tokenizer = checkpoint.source_vocab, checkpoint.source_tokenizer
    assert vocab is not None and tokenizer is not None
    context, decoder = [EOS_ID], LineDecoder(vocab, tokenizer)
    lines = prompt.split("\n")
    for number, line in enumerate(lines):
        tokens = tokenizer.encode(line)
        ids = vocab.encode(tokens)
        unknown_tokens = [t for t, i in zip(tokens, ids, strict=True) if i == UNK_ID]
        if unknown_tokens:
            print(
                f"seqlab.generate: not in the model's vocabulary, read as <unk>: "
                f"{' '.join(repr(t) for t in unknown_tokens[:10])}",
                file=sys.stderr,
            )
        context += ids
        if number < len(lines) - 1:
            context.append(EOS_ID)
        else:
            for i in ids:  # the line the sample continues, for spacing
                decoder.add(i)
    write = write or _stdout
    write(prompt)
    generator = None
    if options["seed"] is not None:
        generator = torch.Generator().manual_seed(options["seed"])
    pieces = [prompt]
    for token in sample_tokens(
        model,
        context,
        options["max_tokens"],
        options["temperature"],
        options["top_k"],
        options["top_p"],
        generator,
        never=NEVER_DRAWN,
    ):
        piece = decoder.add(token)
        write(piece)
        pieces.append(piece)
    write("\n")
    return "".join(pieces)


def _stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
