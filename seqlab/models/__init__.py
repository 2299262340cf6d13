"""Plain PyTorch models (no Lightning): usable from a notebook as ordinary nn.Modules.

Each model family is one module holding its config class (the ``model`` group's schema and
builder, named by ``_target_`` in configs/model/*.yaml) and its ``nn.Module`` classes:
``rnn`` (vanilla, lstm, gru, bi), ``encoder_decoder`` (seq2seq, seq2seq_attention),
``minimal`` (mingru, minlstm: parallel over time) and ``baselines`` (bow, window).
``recurrent``, ``cells``, ``attention``, ``attention_decoder``, ``padding``,
``regularization``, ``sampled_decoder``, ``sampling`` and ``search`` are their building
blocks.
"""

from torch import nn


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
