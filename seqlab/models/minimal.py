"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"): recurrences whose gates
read only the current input, so that h_t = a_t ⊙ h_{t-1} + b_t is linear in h and can be
computed for every t at once with a parallel scan.

    minGRU:  z_t = σ(W_z x_t + b_z),  h̃_t = g(W_h x_t + b_h),
             h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t
    minLSTM: f_t = σ(W_f x_t + b_f),  i_t = σ(W_i x_t + b_i),  h̃_t = g(W_h x_t + b_h),
             f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t),
             h_t = f'_t ⊙ h_{t−1} + i'_t ⊙ h̃_t

with g(x) = x + 0.5 for x ≥ 0 and σ(x) below (the paper's log-space form: h̃_t > 0, so a state
that starts at 0 or above stays positive and its logarithm exists). Against the LSTM and GRU:
no W_hh, so the gates cannot look at the state; and no tanh on the state.

Two implementations of one function (a test holds them equal in float64):

* ``scan`` (default): all steps at once, in log space (Heinsen 2023):
  log h_t = a*_t + log(h_0 + Σ_{s≤t} exp(log b_s − a*_s)) with a*_t = Σ_{s≤t} log a_s, one
  ``cumsum`` and one ``logcumsumexp`` over time.
* ``sequential``: the loop over t (the definition), one step at a time and constant memory;
  what generation runs (a single step is this either way).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.config.checks import require_choice, require_positive
from seqlab.config.schema import ModelConfig
from seqlab.errors import ConfigError
from seqlab.models.padding import last_position
from seqlab.spec import NEXT_TOKEN, PER_STEP, SEQUENCE, TaskSpec

MIN_CELLS = ("mingru", "minlstm")
MIN_IMPLS = ("scan", "sequential")
GATE_COUNT = {"mingru": 2, "minlstm": 3}  # input projections per unit: z, h̃ | f, i, h̃


def g(x: Tensor) -> Tensor:
    """x + 0.5 for x >= 0, sigmoid(x) below: positive and continuous."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: Tensor) -> Tensor:
    """log g(x), computed without taking the log of a small number."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


def coefficients(cell: str, projected: Tensor, log_space: bool) -> tuple[Tensor, Tensor]:
    """projected (B, T, G*H), the layer's input projections -> (a, b), each (B, T, H), of
    h_t = a_t ⊙ h_{t−1} + b_t; as log a and log b when ``log_space``."""
    if cell == "mingru":
        k, h_tilde = projected.chunk(2, dim=-1)
        if log_space:
            return -F.softplus(k), -F.softplus(-k) + log_g(h_tilde)  # log(1 − z), log(z·h̃)
        z = torch.sigmoid(k)
        return 1 - z, z * g(h_tilde)
    f, i, h_tilde = projected.chunk(3, dim=-1)
    if log_space:
        diff = F.softplus(-f) - F.softplus(-i)  # log i − log f
        return -F.softplus(diff), -F.softplus(-diff) + log_g(h_tilde)  # log f', log(i'·h̃)
    f, i = torch.sigmoid(f), torch.sigmoid(i)
    return f / (f + i), i / (f + i) * g(h_tilde)


def log_space_scan(log_a: Tensor, log_b: Tensor, h0: Tensor | None) -> Tensor:
    """h_t = a_t ⊙ h_{t−1} + b_t for every t at once: log_a, log_b (B, T, H), h0 (B, H) >= 0
    or None (zeros) -> h (B, T, H)."""
    a_star = torch.cumsum(log_a, dim=1)
    terms = log_b - a_star
    if h0 is None:
        return (a_star + torch.logcumsumexp(terms, dim=1)).exp()
    # h_0 enters as the first term; a zero h_0 (log = -inf) drops out of the sum
    first = torch.log(h0.clamp(min=torch.finfo(h0.dtype).tiny)).unsqueeze(1)
    summed = torch.logcumsumexp(torch.cat([first, terms], dim=1), dim=1)[:, 1:]
    return (a_star + summed).exp()


def sequential_scan(a: Tensor, b: Tensor, h0: Tensor | None) -> Tensor:
    """The same recurrence one step at a time: a, b (B, T, H), h0 (B, H) or None -> h."""
    h = torch.zeros_like(a[:, 0]) if h0 is None else h0
    outputs = []
    for a_t, b_t in zip(a.unbind(1), b.unbind(1), strict=True):
        h = a_t * h + b_t
        outputs.append(h)
    return torch.stack(outputs, dim=1)


class MinimalRNNLayer(nn.Module):
    """One minGRU or minLSTM layer: x (B, T, I), h0 (B, H) or None -> h (B, T, H)."""

    def __init__(self, cell: str, input_size: int, hidden_size: int, impl: str = "scan") -> None:
        super().__init__()
        self.cell, self.impl = cell, impl
        self.projection = nn.Linear(input_size, GATE_COUNT[cell] * hidden_size)

    def forward(self, x: Tensor, h0: Tensor | None = None) -> Tensor:
        projected = self.projection(x)
        if self.impl == "sequential" or x.size(1) == 1:
            return sequential_scan(*coefficients(self.cell, projected, False), h0)
        return log_space_scan(*coefficients(self.cell, projected, True), h0)


class MinimalRNN(nn.Module):
    """A stack of minGRU / minLSTM layers: x (B, T, E) -> (outputs (B, T, H), last (B, H),
    state (L, B, H)), like :class:`seqlab.models.recurrent.Recurrent`.

    The paper's extras, as options: ``residual`` adds each layer's input to its output
    (from the second layer, where the sizes match), ``layer_norm`` normalises each layer's
    input (pre-norm); ``dropout`` sits between layers.
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        impl: str = "scan",
        residual: bool = False,
        layer_norm: bool = False,
    ) -> None:
        super().__init__()
        sizes = [input_size] + [hidden_size] * num_layers
        self.layers = nn.ModuleList(
            MinimalRNNLayer(cell, sizes[k], hidden_size, impl) for k in range(num_layers)
        )
        self.norms = nn.ModuleList(
            nn.LayerNorm(sizes[k]) if layer_norm else nn.Identity() for k in range(num_layers)
        )
        self.residual = residual
        self.dropout = nn.Dropout(dropout)
        self.hidden_size = hidden_size
        self.output_size = hidden_size

    def forward(
        self, x: Tensor, lengths: Tensor | None = None, state: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        finals = []
        for k, (layer, norm) in enumerate(zip(self.layers, self.norms, strict=True)):
            if k > 0:
                x = self.dropout(x)
            h = layer(norm(x), None if state is None else state[k])
            x = x + h if self.residual and k > 0 else h
            finals.append(h[:, -1])
        return x, last_position(x, lengths), torch.stack(finals)


@dataclass
class MinimalRNNConfig(ModelConfig):
    """mingru, minlstm: Feng et al. (2024)'s minimal recurrences (seqlab.models.minimal).

    cell: mingru | minlstm. embedding_size, hidden_size, layers, dropout (on the embeddings,
    between layers and on the outputs). impl: scan (parallel over time, the default) |
    sequential (the loop over t). residual, layer_norm: the paper's extras (see
    :class:`MinimalRNN`).
    """

    _target_: str = "seqlab.models.minimal.MinimalRNNConfig"
    name: str = "mingru"
    cell: str = "mingru"
    embedding_size: int = 32
    hidden_size: int = 128
    layers: int = 1
    dropout: float = 0.0
    impl: str = "scan"
    residual: bool = False
    layer_norm: bool = False

    outputs = (PER_STEP, SEQUENCE, NEXT_TOKEN)
    carries_state = True

    def __post_init__(self) -> None:
        require_choice("model.cell", self.cell, MIN_CELLS, example="minlstm")
        require_choice("model.impl", self.impl, MIN_IMPLS)
        require_positive(
            "model",
            embedding_size=self.embedding_size,
            hidden_size=self.hidden_size,
            layers=self.layers,
        )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"model.dropout must be in [0, 1), got {self.dropout}")

    def build(self, spec: TaskSpec) -> nn.Module:
        classes = spec.vocab_size if spec.output == NEXT_TOKEN else spec.num_classes
        return MinimalRNNModel(spec.vocab_size, classes, self, per_step=spec.output != SEQUENCE)


class MinimalRNNModel(nn.Module):
    """Embedding -> dropout -> :class:`MinimalRNN` -> dropout -> linear.

    per_step: tokens (B, T), lengths, state -> logits (B, T, C) and the final state (L, B, H)
    (taggers and language models; the state carries across truncated-BPTT windows).
    Otherwise: tokens (B, T), lengths (B,) -> logits (B, C) from the last real position.
    """

    def __init__(
        self, vocab_size: int, num_classes: int, config: MinimalRNNConfig, per_step: bool
    ) -> None:
        super().__init__()
        self.per_step = per_step
        self.embedding = nn.Embedding(vocab_size, config.embedding_size)
        self.encoder = MinimalRNN(
            config.cell,
            config.embedding_size,
            config.hidden_size,
            config.layers,
            config.dropout,
            config.impl,
            config.residual,
            config.layer_norm,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, num_classes)

    def forward(
        self, tokens: Tensor, lengths: Tensor | None = None, state: Tensor | None = None
    ) -> Tensor | tuple[Tensor, Tensor]:
        outputs, last, final = self.encoder(self.dropout(self.embedding(tokens)), lengths, state)
        if self.per_step:
            return self.head(self.dropout(outputs)), final
        return self.head(self.dropout(last))


# The schemas this module declares, stored in Hydra's ConfigStore by
# seqlab.engine.run_config.register_schemas as schema/model/<name>.
SCHEMAS = {"minimal": MinimalRNNConfig}
