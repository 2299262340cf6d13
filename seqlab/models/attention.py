"""Additive attention (Bahdanau, Cho & Bengio 2014).

e_ij = v_aᵀ tanh(W_a s_{i-1} + U_a h_j),  α_ij = softmax_j(e_ij),  c_i = Σ_j α_ij h_j.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class AdditiveAttention(nn.Module):
    """query_size: decoder state size; key_size: encoder output size (2H if bidirectional)."""

    def __init__(self, query_size: int, key_size: int, attention_size: int) -> None:
        super().__init__()
        self.query_proj = nn.Linear(query_size, attention_size, bias=False)  # W_a
        self.key_proj = nn.Linear(key_size, attention_size)  # U_a (and the bias)
        self.score = nn.Linear(attention_size, 1, bias=False)  # v_a

    def project_keys(self, keys: Tensor) -> Tensor:
        """keys (B, S, K) -> U_a h_j (B, S, A); computed once per source sentence."""
        return self.key_proj(keys)

    def forward(
        self, query: Tensor, projected_keys: Tensor, values: Tensor, mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        """query (B, Q) = s_{i-1}; projected_keys (B, S, A); values (B, S, K) = h_j;
        mask (B, S) True at real source positions -> context c_i (B, K), weights α_i (B, S)."""
        energies = self.score(torch.tanh(self.query_proj(query).unsqueeze(1) + projected_keys))
        energies = energies.squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(energies, dim=-1)
        context = torch.bmm(weights.unsqueeze(1), values).squeeze(1)
        return context, weights
