"""What a task tells the rest of seqlab once its data is built: the shape of the output it
asks for, sizes, metric names, vocabularies. Plain Python (no Lightning): models read it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from torch import Tensor

from seqlab.text.tokenizers import Tokenizer
from seqlab.text.vocab import Vocab

# A batch, as every loader yields it and every objective reads it; its keys follow the output:
# PER_STEP: inputs (B, T) long, targets (B, T) long (-100 where nothing is scored), focus
#     (B, T) bool (the positions of the task's focus metric), lengths (B,) when padded;
# SEQUENCE: inputs (B, T) long, lengths (B,) long, labels (B,) long, focus (B,) bool;
# SEQ2SEQ: src (B, S) long, src_lengths (B,), tgt_in (B, T) = <bos> y1..yn, tgt_out (B, T) =
#     y1..yn <eos>, padded with PAD_ID; index (B,) the pairs' positions in their split;
# NEXT_TOKEN: inputs (B, T) long, one window of B contiguous streams of text, targets (B, T)
#     the tokens that follow (-100 past the end of the text).
Batch = dict[str, Tensor]


# The model interface per output shape: what each objective (seqlab/objectives/) calls. A
# model is a plain nn.Module whose forward has the signature of its output's protocol.
class PerStepModel(Protocol):
    """PER_STEP: tokens (B, T) long, lengths (B,) or None, a carried state or None ->
    logits (B, T, C) and the final state (truncated BPTT carries it to the next chunk)."""

    def __call__(
        self, tokens: Tensor, lengths: Tensor | None = None, state: Any = None
    ) -> tuple[Tensor, Any]: ...


class SequenceModel(Protocol):
    """SEQUENCE: tokens (B, T) long, lengths (B,) or None -> logits (B, C)."""

    def __call__(self, tokens: Tensor, lengths: Tensor | None = None) -> Tensor: ...


class Seq2SeqModel(Protocol):
    """SEQ2SEQ: src (B, S), src_lengths (B,), tgt_in (B, T) = <bos> y_1 .. y_{T-1} -> logits
    (B, T, V) under teacher forcing; ``forward_sampled`` feeds the model's own previous
    prediction with probability 1 - ratio (scheduled sampling)."""

    def __call__(self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor) -> Tensor: ...

    def forward_sampled(
        self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor, ratio: float
    ) -> Tensor: ...


# The output shapes seqlab trains. A model declares the ones it can produce, a task the ones it
# can serve; each has one objective (seqlab/objectives/). NEXT_TOKEN is a language model: the
# PerStepModel interface, reading left to right only, over a text stream with carried state.
PER_STEP, SEQUENCE, SEQ2SEQ, NEXT_TOKEN = "per_step", "sequence", "seq2seq", "next_token"
OUTPUTS = (PER_STEP, SEQUENCE, SEQ2SEQ, NEXT_TOKEN)
OUTPUT_WORDS = {
    PER_STEP: "one output per input step",
    SEQUENCE: "one label per sequence",
    SEQ2SEQ: "an output sequence (an encoder-decoder)",
    NEXT_TOKEN: "the next token from the ones before it (a left-to-right language model)",
}


@dataclass
class TaskSpec:
    """Sizes and metric names a task reports after its data is built.

    output: PER_STEP (one label per input position), SEQUENCE (one label per sequence) or
        SEQ2SEQ (a new output sequence).
    vocab_size / num_classes: input vocabulary and output classes (the target vocabulary for
        seq2seq).
    fixed_length: every sequence has the same length (no padding), which truncated BPTT needs;
        sequence_length: that length.
    focus_metric: name of the accuracy over the positions or examples marked in
        ``batch["focus"]`` (copy: recall_acc; tagging: acc_ambiguous; sentiment:
        acc_order_dependent).
    baseline_ce: a reference cross-entropy logged beside the model's (copy: memoryless).
    solved_when: (validation metric, threshold): the task counts as solved once the metric
        reaches the threshold; training stops there when ``callbacks.stop_when_solved``.
    source_vocab / target_vocab: the token vocabularies of text tasks (saved in checkpoints).
    source_tokenizer / target_tokenizer: how text became those tokens, and back (seq2seq).
    raw_text: split -> (sources, references) as they are in the data (seq2seq "val", "test"):
        BLEU scores detokenised hypotheses against these references.
    length_ratio: the largest target/source token-length ratio in the training data; the
        default output limit is ceil(length_ratio * |source|) + 10 (seqlab.models.search).
    stateful: NEXT_TOKEN: each stream's state is carried from one window to the next
        (detached), else reset at every window.
    split_baseline_ce: NEXT_TOKEN: split -> cross-entropy of the unigram model of the
        training text on that split (logged beside the model's).
    characters_per_token: NEXT_TOKEN: split -> characters of its text (line ends included)
        per token, for bits per character (ce / (characters_per_token × ln 2)); empty when the
        tokens do not spell the text (word level, <unk>).
    """

    name: str
    output: str
    vocab_size: int
    num_classes: int
    fixed_length: bool = False
    sequence_length: int | None = None
    focus_metric: str | None = None
    baseline_ce: float | None = None
    solved_when: tuple[str, float] | None = None
    source_vocab: Vocab | None = None
    target_vocab: Vocab | None = None
    source_tokenizer: Tokenizer | None = None
    target_tokenizer: Tokenizer | None = None
    raw_text: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    length_ratio: float = 2.0
    stateful: bool = False
    split_baseline_ce: dict[str, float] = field(default_factory=dict)
    characters_per_token: dict[str, float] = field(default_factory=dict)

    @property
    def plot_metrics(self) -> list[str]:
        """Test metrics a sweep draws as bars (accuracies in [0, 1]); none for seq2seq, whose
        figure is BLEU against sentence length, nor for language models (perplexity is no
        share)."""
        if self.output in (SEQ2SEQ, NEXT_TOKEN):
            return []
        return ["test/acc"] + ([f"test/{self.focus_metric}"] if self.focus_metric else [])

    def vocab_note(self) -> str:
        """`` vocab=S/T`` for text tasks (empty otherwise), for the startup line."""
        if self.source_vocab is None:
            return ""
        target = f"/{len(self.target_vocab)}" if self.target_vocab is not None else ""
        return f" vocab={len(self.source_vocab)}{target}"
