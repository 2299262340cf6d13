"""Objective of a language model over text streams: stateful truncated BPTT across batches.

Each training batch is one window of every stream (seqlab.data.streams). With a stateful
task the state a stream ends a window with is carried into its next window, detached: the
values cross the boundary, the gradients do not (truncated BPTT, Williams & Peng 1990, as a
language model over a long text runs it). It is reset at every epoch (the streams start
again) and saved in checkpoints, so a resumed run continues mid-stream exactly.

Validation and test read the split as streams with carried state and sum the cross-entropy
over every token: ce (nats per token), ppl = exp(ce), bpc (bits per character, for text
whose tokens spell it), acc (next-token accuracy), and the unigram baseline of the training
text on the same split.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from lightning.pytorch.loggers import TensorBoardLogger
from torch import Tensor

from seqlab.models.recurrent import State, detach_state
from seqlab.models.sampling import NEVER_DRAWN, sample_tokens
from seqlab.objectives.base import SeqlabObjective
from seqlab.objectives.per_step import IGNORE, per_step_ce
from seqlab.spec import Batch, PerStepModel, TaskSpec
from seqlab.text.lines import decode_text
from seqlab.text.vocab import EOS_ID

SAMPLE_TOKENS = 200  # the sample written to TensorBoard at each validation
SAMPLE_TEMPERATURE = 0.8
LN2 = math.log(2.0)


def perplexity(ce: float) -> float:
    """exp(ce), inf past what a float holds."""
    return math.exp(ce) if ce < 700 else math.inf


class LanguageModelObjective(SeqlabObjective):
    """Next-token cross-entropy over windows of text streams (batches: inputs (B, T),
    targets (B, T) with IGNORE past the end of the text)."""

    model: PerStepModel

    def __init__(self, model: Any, training: Any, spec: TaskSpec) -> None:
        super().__init__(model, training, spec)
        self.carried: State | None = None  # each training stream's state after its last window
        self.carried_epoch = -1  # the epoch of that window: a new epoch starts from zeros
        self._eval_state: State | None = None
        self._sums: Tensor | None = None  # nll, correct, tokens of the split being evaluated

    @classmethod
    def validation_metrics(cls, spec: TaskSpec) -> list[str]:
        names = ["ce", "ppl", "acc", "unigram_ce", "unigram_ppl"]
        if spec.characters_per_token:
            names += ["bpc", "unigram_bpc"]
        return [f"val/{name}" for name in names]

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        state = None  # a new epoch: the streams start again from the beginning of the text
        if self.spec.stateful and self.carried_epoch == self.current_epoch:
            state = _on(self.carried, batch["inputs"].device)
        logits, state = self.model(batch["inputs"], state=state)
        loss = self.optimize(per_step_ce(logits, batch["targets"]))
        if self.spec.stateful:
            self.carried, self.carried_epoch = detach_state(state), self.current_epoch
        self.log_training_loss(loss)
        return torch.as_tensor(loss)

    def on_train_start(self) -> None:
        super().on_train_start()
        restored = (self._restored or {}).get("carried_state")
        if restored is not None and self.resumed_mid_epoch:
            self.carried = restored[0] if len(restored) == 1 else tuple(restored)
            self.carried_epoch = self.current_epoch

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        if self.carried is not None:
            carried = self.carried
            parts = list(carried) if isinstance(carried, tuple) else [carried]
            checkpoint["seqlab_state"]["carried_state"] = [p.cpu() for p in parts]

    # ----- evaluation: the split as streams, state carried across its windows -------------

    def _begin(self) -> None:
        self._eval_state = None
        self._sums = torch.zeros(3, dtype=torch.float64, device=self.device)

    def _evaluate(self, batch: Batch) -> None:
        inputs, targets = batch["inputs"], batch["targets"]
        logits, self._eval_state = self.model(inputs, state=self._eval_state)
        nll = F.cross_entropy(
            logits.flatten(0, 1).float(), targets.flatten(), ignore_index=IGNORE, reduction="sum"
        )
        real = targets != IGNORE
        correct = ((logits.argmax(-1) == targets) & real).sum()
        assert self._sums is not None
        self._sums += torch.stack([nll.double(), correct.double(), real.sum().double()])

    def _finish(self, split: str) -> None:
        assert self._sums is not None
        nll, correct, tokens = self._sums.tolist()
        ce = nll / tokens
        values = {"ce": ce, "ppl": perplexity(ce), "acc": correct / tokens}
        baseline = self.spec.split_baseline_ce.get(split)
        if baseline is not None:
            values.update(unigram_ce=baseline, unigram_ppl=perplexity(baseline))
        per_token = self.spec.characters_per_token.get(split)
        if per_token:  # (a trainer.limit_*_batches run scores a part of the split)
            values["bpc"] = ce / (per_token * LN2)
            if baseline is not None:
                values["unigram_bpc"] = baseline / (per_token * LN2)
        for name, value in values.items():
            self.log(f"{split}/{name}", value, prog_bar=name in ("ppl", "bpc"))

    def on_validation_epoch_start(self) -> None:
        self._begin()

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch)

    def on_validation_epoch_end(self) -> None:
        self._finish("val")
        if not self.trainer.sanity_checking:
            self.write_sample()

    def on_test_epoch_start(self) -> None:
        self._begin()

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch)

    def on_test_epoch_end(self) -> None:
        self._finish("test")

    def write_sample(self) -> None:
        """A sample of SAMPLE_TOKENS tokens at SAMPLE_TEMPERATURE to TensorBoard (text, at
        this optimizer step), drawn from its own generator: training's random draws are as
        without it."""
        vocab, tokenizer = self.spec.source_vocab, self.spec.source_tokenizer
        loggers = [lg for lg in self.loggers if isinstance(lg, TensorBoardLogger)]
        if not loggers or vocab is None or tokenizer is None:
            return
        generator = torch.Generator(self.device).manual_seed(self.global_step)
        ids = sample_tokens(
            self.model,
            [EOS_ID],
            SAMPLE_TOKENS,
            SAMPLE_TEMPERATURE,
            generator=generator,
            never=NEVER_DRAWN,
        )
        text = decode_text(ids, vocab, tokenizer)
        # TensorBoard renders text as Markdown: indent every line to keep it verbatim
        shown = "\n".join("    " + line for line in text.split("\n"))
        for logger in loggers:
            logger.experiment.add_text("samples", shown, self.global_step)


def _on(state: State | None, device: torch.device) -> State | None:
    if isinstance(state, tuple):
        return tuple(s.to(device) for s in state)  # type: ignore[return-value]
    return None if state is None else state.to(device)
