"""The never-emitted special tokens as an index made on the device (no host copy)."""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from seqlab.models.special_tokens import never_emitted, never_emitted_ids
from seqlab.text.vocab import BOS_ID, PAD_ID


class Dispatched(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        self.names.append(func._schema.name)
        return func(*args, **(kwargs or {}))


def test_the_ids_are_pad_and_bos_made_without_a_copy():
    assert never_emitted_ids(torch.device("cpu")).tolist() == [PAD_ID, BOS_ID]
    with Dispatched() as seen:
        ids = never_emitted_ids(torch.device("meta"))
    assert ids.shape == (2,) and ids.device.type == "meta"
    assert not {"aten::copy_", "aten::_to_copy"} & set(seen.names), seen.names


def test_never_emitted_masks_pad_and_bos_only():
    logits = torch.zeros(3, 6)
    masked = never_emitted(logits)
    assert torch.isinf(masked[:, [PAD_ID, BOS_ID]]).all() and not logits.isinf().any()
    others = [i for i in range(6) if i not in (PAD_ID, BOS_ID)]
    assert (masked[:, others] == 0).all()
