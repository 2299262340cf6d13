"""Attention over the encoder states h_j (B, S, K).

Additive (Bahdanau, Cho & Bengio 2014), queried with the previous decoder state s_{i-1}:
e_ij = v_aᵀ tanh(W_a s_{i-1} + U_a h_j),  α_ij = softmax_j(e_ij),  c_i = Σ_j α_ij h_j.

Multiplicative (Luong, Pham & Manning 2015, "global attention"), queried with the current
decoder state h_t: score(h_t, h_j) = h_tᵀ h_j (dot) or h_tᵀ W_a h_j (general); the weights
and context as above. Both precompute what depends on the source alone (U_a h_j + b;
W_a h_j) once per sentence in :meth:`project_keys`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def additive_energies(query: Tensor, projected_keys: Tensor, score: Tensor) -> Tensor:
    """e_ij = v_aᵀ tanh(W_a s_{i-1} + U_a h_j): query (B, A) = W_a s_{i-1}, projected_keys
    (B, S, A), score (1, A) = v_aᵀ -> energies (B, S).

    tanh(a) is computed as 2σ(2a) − 1 (the same function), so e = 2 v_aᵀ σ(2a) − Σ v_a:
    on CPUs PyTorch's σ is several times faster than its tanh, and (B, S, A) is the largest
    tensor of a decoding step."""
    pre = (projected_keys + query.unsqueeze(1)).mul_(2).sigmoid_()  # σ(2a) (B, S, A)
    return torch.matmul(pre, score[0]).mul_(2).sub_(score.sum())


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
        energies = additive_energies(self.query_proj(query), projected_keys, self.score.weight)
        energies = energies.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(energies, dim=-1)
        context = torch.bmm(weights.unsqueeze(1), values).squeeze(1)
        return context, weights


class MultiplicativeAttention(nn.Module):
    """Luong's dot (``kind="dot"``: query and keys of one size) or general
    (``kind="general"``: score h_tᵀ W_a h_j) attention. query_size: decoder state size;
    key_size: encoder output size (2H if bidirectional)."""

    def __init__(self, kind: str, query_size: int, key_size: int) -> None:
        super().__init__()
        self.kind = kind
        self.key_proj = (
            nn.Linear(key_size, query_size, bias=False) if kind == "general" else None
        )  # W_a, applied to the keys once: h_tᵀ (W_a h_j)

    def project_keys(self, keys: Tensor) -> Tensor:
        """keys (B, S, K) -> W_a h_j (general) or h_j (dot), (B, S, Q)."""
        return keys if self.key_proj is None else self.key_proj(keys)

    def forward(
        self, query: Tensor, projected_keys: Tensor, values: Tensor, mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        """query (B, Q) for one step or (B, T, Q) for all steps at once; projected_keys
        (B, S, Q); values (B, S, K); mask (B, S) -> context (B, K) or (B, T, K), weights
        (B, S) or (B, T, S)."""
        one_step = query.dim() == 2
        queries = query.unsqueeze(1) if one_step else query
        energies = torch.bmm(queries, projected_keys.transpose(1, 2))  # (B, T, S)
        energies = energies.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(energies, dim=-1)
        context = torch.bmm(weights, values)  # (B, T, K)
        if one_step:
            return context.squeeze(1), weights.squeeze(1)
        return context, weights
