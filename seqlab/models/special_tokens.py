"""The special tokens a decoder never emits or feeds back (<pad>, <bos>), as an index tensor
made on the logits' device.

``torch.tensor([PAD_ID, BOS_ID], device=cuda)`` would copy the list from pageable host memory,
which makes the host wait for the GPU; computed on the device, it does not (decoding and
scheduled sampling need it at every step)."""

from __future__ import annotations

import torch
from torch import Tensor

from seqlab.text.vocab import BOS_ID, PAD_ID


def never_emitted_ids(device: torch.device) -> Tensor:
    """(2,) long: <pad>'s and <bos>'s ids, on ``device``."""
    return torch.arange(2, device=device) * (BOS_ID - PAD_ID) + PAD_ID


def never_emitted(logits: Tensor) -> Tensor:
    """logits (..., V) with -inf for <pad> and <bos> (a new tensor)."""
    return logits.index_fill(-1, never_emitted_ids(logits.device), float("-inf"))
