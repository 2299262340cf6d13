"""Objective for sequence-to-sequence models (seq2seq copy, translation).

Training: cross-entropy of the next target word; the teacher-forcing ratio comes from the
scheduled-sampling schedule (logged every step); at ratio 1 the fused teacher-forced path.
Validation: teacher-forced CE and token accuracy, free-running (greedy) token accuracy and
BLEU; exposure bias = teacher-forced minus free-running token accuracy.
Test: free-running decoding (greedy, or beam search with beam_size > 1), corpus BLEU with its
signature, exact match, BLEU per source-length bucket.
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor

from seqlab.config.training import TrainingConfig
from seqlab.models.encoder_decoder import Seq2Seq
from seqlab.models.search import (
    DecodingConfig,
    decode,
    greedy_alignments,
    output_limits,
    source_length,
)
from seqlab.objectives.base import SeqlabObjective
from seqlab.objectives.schedules import teacher_forcing_ratio
from seqlab.reporting.alignments import Alignment, alignment_figure, alignments
from seqlab.reporting.bleu import bleu_by_length, bleu_with_interval, corpus_bleu
from seqlab.spec import Batch, TaskSpec
from seqlab.text.tokenizers import Tokenizer
from seqlab.text.vocab import EOS_ID, PAD_ID, Vocab


def seq2seq_ce(logits: Tensor, tgt_out: Tensor) -> Tensor:
    return F.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), ignore_index=PAD_ID)


def aligned_correct(tokens: Tensor, tgt_out: Tensor) -> Tensor:
    """Per-position equality of decoded tokens and the reference, at real positions."""
    length = tgt_out.size(1)
    if tokens.size(1) < length:
        tokens = F.pad(tokens, (0, length - tokens.size(1)), value=PAD_ID)
    return (tokens[:, :length] == tgt_out) & (tgt_out != PAD_ID)


class Seq2SeqObjective(SeqlabObjective):
    model: Seq2Seq

    def __init__(
        self,
        model: Seq2Seq,
        training: TrainingConfig,
        spec: TaskSpec,
        decoding: DecodingConfig | None = None,
        attention_maps: int = 0,
    ) -> None:
        super().__init__(model, training, spec)
        self.attention_maps = attention_maps  # heat-maps of the first N validation sentences
        self._alignments: list[tuple[int, Alignment]] = []
        if spec.source_vocab is None or spec.target_vocab is None:
            raise ValueError("a seq2seq task spec must carry its source and target vocabularies")
        self.source_vocab: Vocab = spec.source_vocab
        self.target_vocab: Vocab = spec.target_vocab
        self.target_tokenizer = spec.target_tokenizer or Tokenizer()
        self.decoding = decoding or DecodingConfig()
        self._outputs: dict[str, list[tuple[int, str, bool]]] = {}
        self._counts: dict[str, float] = {}
        self.test_report: dict[str, Any] = {}

    @classmethod
    def validation_metrics(cls, spec: TaskSpec) -> list[str]:
        names = ["ce", "bleu", "exact_match", "acc_teacher_forced", "acc_free_running"]
        return [f"val/{name}" for name in [*names, "exposure_bias", "truncated"]]

    def current_ratio(self) -> float:
        cfg = self.training_cfg
        return teacher_forcing_ratio(self.global_step, cfg.teacher_forcing, cfg.scheduled_sampling)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        ratio = self.current_ratio()
        if ratio >= 1.0:
            logits = self.model(batch["src"], batch["src_lengths"], batch["tgt_in"])
        else:
            logits = self.model.forward_sampled(
                batch["src"], batch["src_lengths"], batch["tgt_in"], ratio
            )
        loss = seq2seq_ce(logits, batch["tgt_out"])
        loss_value = self.optimize(loss)
        self.log_training_loss(loss_value, {"train/teacher_forcing_ratio": ratio})
        return loss.detach()

    # ----- evaluation --------------------------------------------------------------------
    def hypothesis_text(self, ids: list[int]) -> str:
        """Decoded ids -> text, detokenised by the tokenizer that made the targets."""

        return self.target_tokenizer.decode(self.target_vocab.decode(ids))

    def _evaluate(self, batch: Batch, split: str) -> None:
        src, lengths, tgt_out = batch["src"], batch["src_lengths"], batch["tgt_out"]
        real = tgt_out != PAD_ID
        n_real = int(real.sum())
        logits = self.model(src, lengths, batch["tgt_in"])
        self.log(f"{split}/ce", seq2seq_ce(logits, tgt_out), batch_size=n_real, prog_bar=True)
        forced_correct = int(((logits.argmax(-1) == tgt_out) & real).sum())
        ratio = self.spec.length_ratio
        greedy = DecodingConfig(max_length=self.decoding.max_length)
        decoding = self.decoding if split == "test" else greedy
        tokens = decode(self.model, src, lengths, decoding, ratio)
        free = (
            tokens if decoding.beam_size == 1 else decode(self.model, src, lengths, greedy, ratio)
        )
        counts = self._counts
        counts["tokens"] = counts.get("tokens", 0) + n_real
        counts["forced"] = counts.get("forced", 0) + forced_correct
        counts["free"] = counts.get("free", 0) + int(aligned_correct(free, tgt_out).sum())
        if split == "val" and self.attention_maps:
            self._keep_alignments(batch)
        finished = (tokens == EOS_ID).any(1)
        outputs = self._outputs.setdefault(split, [])
        for row in range(src.size(0)):
            hypothesis = self.hypothesis_text(tokens[row].tolist())
            outputs.append((int(batch["index"][row]), hypothesis, not bool(finished[row])))

    def _epoch_end(self, split: str) -> list[tuple[int, str, str, str]]:
        """Corpus metrics over the split; rows (index, source, reference, hypothesis) with the
        source and reference as they are in the data."""
        counts, outputs = self._counts, sorted(self._outputs.pop(split, []))
        self._counts = {}
        if not outputs:
            return []
        sources, references = self.spec.raw_text[split]
        texts = [(i, sources[i], references[i], hyp) for i, hyp, _ in outputs]
        forced = counts["forced"] / counts["tokens"]
        free = counts["free"] / counts["tokens"]
        bleu, _ = corpus_bleu([t[3] for t in texts], [t[2] for t in texts], *self.bleu_options)
        exact = sum(t[2] == t[3] for t in texts) / len(texts)
        self.log_dict(
            {
                f"{split}/bleu": bleu,
                f"{split}/exact_match": exact,
                f"{split}/acc_teacher_forced": forced,
                f"{split}/acc_free_running": free,
                f"{split}/exposure_bias": forced - free,
                f"{split}/truncated": sum(cut for _, _, cut in outputs) / len(outputs),
            },
            prog_bar=False,
        )
        return texts

    @property
    def bleu_options(self) -> tuple[bool, str]:
        """(lowercase, tokenize): how sacrebleu scores, from ``decoding.bleu_*``."""
        return self.decoding.bleu_lowercase, self.decoding.bleu_tokenize

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def on_validation_epoch_end(self) -> None:
        self._epoch_end("val")
        self._log_alignments()

    def _keep_alignments(self, batch: Batch) -> None:
        """Greedy attention weights of the batch's sentences among the first
        ``attention_maps`` of the validation split (fixed sentences, any batch order)."""
        rows = (batch["index"] < self.attention_maps).nonzero().flatten()
        if rows.numel() == 0:
            return
        src, lengths = batch["src"][rows], batch["src_lengths"][rows]
        limits = output_limits(lengths, self.spec.length_ratio, self.decoding.max_length)
        tokens, weights = greedy_alignments(self.model, src, lengths, limits)
        found = alignments(tokens, weights, src, lengths, self.source_vocab, self.target_vocab)
        self._alignments += zip(batch["index"][rows].tolist(), found, strict=True)

    def _log_alignments(self) -> None:
        """Each kept alignment as a TensorBoard figure ``attention/val_<index>``."""
        from lightning.pytorch.loggers import TensorBoardLogger

        kept, self._alignments = sorted(self._alignments, key=lambda p: p[0]), []
        if self.trainer.sanity_checking:
            return
        for logger in self.loggers:
            if isinstance(logger, TensorBoardLogger):
                for index, alignment in kept:
                    logger.experiment.add_figure(
                        f"attention/val_{index}",
                        alignment_figure(alignment, f"step {self.global_step}"),
                        global_step=self.global_step,
                    )

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def on_test_epoch_end(self) -> None:
        texts = self._epoch_end("test")
        if not texts:
            return
        hyps, refs = [t[3] for t in texts], [t[2] for t in texts]
        _, signature = corpus_bleu(hyps, refs, *self.bleu_options)
        bleu, interval = bleu_with_interval(hyps, refs, *self.bleu_options)
        unit = self.decoding.bucket_unit
        lengths = [source_length(t[1], unit) for t in texts]
        buckets = bleu_by_length(
            hyps, refs, lengths, self.decoding.bucket_width, *self.bleu_options
        )
        buckets = [{**bucket, "unit": unit} for bucket in buckets]
        self.test_report = {
            "test/bleu_signature": signature,
            "test/bleu_mean": round(interval.mean, 3) if interval else None,
            "test/bleu_ci95": round(interval.half_width, 3) if interval else None,
            "test/bleu_by_length": buckets,
            "decoding": {
                "beam_size": self.decoding.beam_size,
                "length_penalty": self.decoding.length_penalty,
                "max_length": self.decoding.max_length,
                "length_ratio": self.spec.length_ratio,
            },
            "hypotheses": texts,
        }
        self._log_buckets_to_tensorboard(buckets)
        mistakes = [t for t in texts if t[2] != t[3]][:3]
        if mistakes and self.trainer.is_global_zero:
            print(
                f"\nseqlab: {len(texts) - sum(t[2] == t[3] for t in texts)} of {len(texts)} "
                f"test sentences not exact (BLEU {bleu:.2f}); e.g."
            )
            for _, source, reference, hypothesis in mistakes:
                print(
                    f"  source     {source}\n  reference  {reference}\n  hypothesis {hypothesis}\n"
                )

    def _log_buckets_to_tensorboard(self, buckets: list[dict[str, Any]]) -> None:
        from lightning.pytorch.loggers import TensorBoardLogger

        from seqlab.reporting.figures import bleu_length_figure

        for logger in self.loggers:
            if isinstance(logger, TensorBoardLogger):
                for bucket in buckets:
                    logger.experiment.add_scalar(
                        "test/bleu_by_length", bucket["bleu"], global_step=bucket["hi"]
                    )
                figure = bleu_length_figure({self.spec.name: buckets})
                logger.experiment.add_figure(
                    "test/bleu_vs_length", figure, global_step=self.global_step
                )
