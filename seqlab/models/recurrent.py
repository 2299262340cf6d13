"""A multi-layer, optionally bidirectional RNN / LSTM / GRU over padded batches.

Two implementations share one parameter layout (PyTorch's: ``weight_ih_l{k}[_reverse]``,
``weight_hh_l{k}[_reverse]``, ``bias_ih_l{k}[_reverse]``, ``bias_hh_l{k}[_reverse]``):

* ``impl="fused"``: the parameters live in ``torch.nn.RNN/LSTM/GRU`` and run through PyTorch's
  fused kernels (oneDNN for the LSTM on CPU, cuDNN on GPU).
* ``impl="explicit"``: :class:`ExplicitRNN`, seqlab's gate-level cells
  (:mod:`seqlab.models.cells`) in a Python loop over time. Slower; for teaching and
  diagnostics (every gate is an ordinary tensor you can inspect).

Padding. Batches are padded at the end and never packed (packing leaves oneDNN and was
measured 3-11x slower for the LSTM on CPU). A forward direction is unaffected by trailing
padding at the positions that matter. The backward direction is run on each sequence reversed
*within its own length*, so it starts at the last real token, exactly as with packing.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab.config.checks import require_choice, require_finite, require_positive
from seqlab.errors import ConfigError
from seqlab.models.cells import GATES, cell_step
from seqlab.models.padding import known_unpadded, last_position, reverse_padded
from seqlab.models.regularization import LockedDropout, drop_weights

CELLS = ("rnn", "lstm", "gru")
IMPLS = ("fused", "explicit")
RECURRENT_INITS = ("default", "orthogonal")

# State as PyTorch returns it: h of shape (layers * directions, B, H), or (h, c) for the LSTM.
State = Tensor | tuple[Tensor, Tensor]


@dataclass
class RecurrentConfig:
    """Options of a recurrent stack, shared by every recurrent model family (seqlab.models.rnn,
    seqlab.models.encoder_decoder) and passed whole to their constructors.

    cell: rnn (tanh) | lstm | gru.  embedding_size, hidden_size, layers: sizes.
    bidirectional: a second stack reads right to left (the encoder's, for seq2seq).
    dropout: on the embeddings, between stacked layers and on the features the output layer
    reads.
    pretrained_embeddings: a word-vector file (text format: a word, then its numbers) that
    initialises the input embeddings (the source side of an encoder-decoder).
    impl: fused (PyTorch kernels) | explicit (seqlab's gate-level cells).
    forget_bias: initial LSTM forget-gate bias (Jozefowicz et al. 2015).
    recurrent_init: default (PyTorch's uniform) | orthogonal (each gate's W_hh block, times
    recurrent_gain).
    """

    cell: str = "lstm"
    embedding_size: int = 32
    hidden_size: int = 128
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    impl: str = "fused"
    forget_bias: float = 1.0
    recurrent_init: str = "default"
    recurrent_gain: float = 1.0
    pretrained_embeddings: str | None = None

    def __post_init__(self) -> None:
        require_choice("model.cell", self.cell, CELLS, example="gru")
        require_choice("model.impl", self.impl, IMPLS)
        require_choice("model.recurrent_init", self.recurrent_init, RECURRENT_INITS)
        require_positive(
            "model",
            embedding_size=self.embedding_size,
            hidden_size=self.hidden_size,
            layers=self.layers,
            recurrent_gain=self.recurrent_gain,
        )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"model.dropout must be in [0, 1), got {self.dropout}")
        require_finite("model.forget_bias", self.forget_bias)


@dataclass
class RecurrentOutput:
    """What :class:`Recurrent` returns.

    outputs: (B, T, D*H) top-layer outputs at every position (D = 2 if bidirectional).
    last:    (B, D*H) the summary of each sequence: the forward direction's output at its last
             real position, concatenated with the backward direction's output at position 0.
    state:   final state as PyTorch lays it out, (L*D, B, H) (a pair for the LSTM). Exact
             when the batch has no padding (the case where it is carried between TBPTT chunks).
    """

    outputs: Tensor
    last: Tensor
    state: State


def _param_names(layer: int, direction: int) -> tuple[str, str, str, str]:
    suffix = f"l{layer}" + ("_reverse" if direction == 1 else "")
    return (f"weight_ih_{suffix}", f"weight_hh_{suffix}", f"bias_ih_{suffix}", f"bias_hh_{suffix}")


def split_state(state: State) -> tuple[list[Tensor], list[Tensor | None]]:
    """(L, B, H) state (a pair for the LSTM) -> per-layer lists of (B, H) (the cell states
    None for cells without one)."""
    if isinstance(state, tuple):
        return list(state[0].unbind(0)), list(state[1].unbind(0))
    hidden = list(state.unbind(0))
    return hidden, [None] * len(hidden)


def stack_step(
    cell: str,
    layers: list[tuple[Tensor, ...]],
    x_proj: Tensor,
    hidden: list[Tensor],
    cell_state: list[Tensor | None],
) -> None:
    """One time step of a stack of gate-level cells, in place: ``x_proj`` (B, G*H) is the
    first layer's input projection; each later layer projects the new state of the one
    below with its (w_ih, w_hh, b_ih, b_hh) from :func:`layer_parameters`. ``hidden`` and
    ``cell_state`` (per layer, as :func:`split_state` gives them) are updated."""
    for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(layers):
        if layer > 0:
            x_proj = F.linear(hidden[layer - 1], w_ih, b_ih)
        hidden[layer], cell_state[layer] = cell_step(
            cell, x_proj, hidden[layer], cell_state[layer], w_hh, b_hh
        )


def layer_parameters(rnn: nn.Module, layer: int, direction: int = 0) -> tuple[Tensor, ...]:
    """w_ih, w_hh, b_ih, b_hh of one layer and direction of an ``nn.RNN/LSTM/GRU`` or an
    :class:`ExplicitRNN` (the same names in both)."""
    return tuple(getattr(rnn, name) for name in _param_names(layer, direction))


class ExplicitRNN(nn.Module):
    """Gate-level multi-layer RNN with the same parameters as ``nn.RNN/LSTM/GRU``.

    Holds parameters only; :class:`Recurrent` drives it one layer and direction at a time
    through :meth:`run_direction`.
    """

    def __init__(
        self, cell: str, input_size: int, hidden_size: int, num_layers: int, bidirectional: bool
    ) -> None:
        super().__init__()
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        gates = GATES[cell]
        bound = 1.0 / math.sqrt(hidden_size)  # PyTorch's default U(-1/sqrt(H), 1/sqrt(H))
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh = _param_names(layer, direction)
                shapes = {
                    w_ih: (gates * hidden_size, layer_input),
                    w_hh: (gates * hidden_size, hidden_size),
                    b_ih: (gates * hidden_size,),
                    b_hh: (gates * hidden_size,),
                }
                for name, shape in shapes.items():
                    self.register_parameter(
                        name, nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
                    )

    def run_direction(
        self,
        x: Tensor,
        h0: Tensor,
        c0: Tensor | None,
        layer: int,
        direction: int,
        params: list[Tensor] | None = None,
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """x (B, T, I), h0/c0 (B, H) -> outputs (B, T, H), h_T (B, H), c_T (B, H) or None.
        ``params``: (w_ih, w_hh, b_ih, b_hh) to use instead of the layer's own (weight drop)."""
        w_ih, w_hh, b_ih, b_hh = params or layer_parameters(self, layer, direction)
        projected = F.linear(x, w_ih, b_ih)  # all steps' input projections in one GEMM
        h, c = h0, c0
        outputs = []
        for x_t in projected.unbind(1):  # unbind, not x[:, t]: cheap backward
            h, c = cell_step(self.cell, x_t, h, c, w_hh, b_hh)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h, c


@functools.cache
def cpu_has_bfloat16_lstm() -> bool:
    """Whether this CPU's oneDNN builds a bfloat16 LSTM (it needs the CPU's bfloat16
    instructions; without them PyTorch stops with "could not create a primitive descriptor
    for the LSTM forward propagation primitive")."""
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            nn.LSTM(2, 2, batch_first=True)(torch.zeros(1, 1, 2))
    except RuntimeError:
        return False
    return True


def _needs_float32_lstm(x: Tensor) -> bool:
    """Under CPU bfloat16 autocast (trainer.precision=bf16-mixed) on a CPU without a bfloat16
    LSTM kernel, the fused LSTM runs in float32, as autocast runs any op it cannot lower."""
    return (
        x.device.type == "cpu"
        and torch.is_autocast_enabled("cpu")
        and torch.get_autocast_dtype("cpu") == torch.bfloat16
        and not cpu_has_bfloat16_lstm()
    )


_FUSED_MODULES: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_FUSED_OPS: dict[str, Callable] = {"rnn": torch.rnn_tanh, "lstm": torch.lstm, "gru": torch.gru}


class Recurrent(nn.Module):
    """Embedding-free recurrent stack: (B, T, input_size) -> :class:`RecurrentOutput`.

    Args:
        cell: ``rnn`` (tanh), ``lstm`` or ``gru``.
        input_size, hidden_size, num_layers: sizes (all > 0).
        bidirectional: run a second stack right-to-left and concatenate per position.
        dropout: dropout between stacked layers (as in PyTorch; no effect with one layer).
        impl: ``fused`` (PyTorch kernels) or ``explicit`` (seqlab's gate-level cells).
        forget_bias: initial LSTM forget-gate bias (b_ih + b_hh of the f block).
        recurrent_init: ``default`` (PyTorch's uniform) or ``orthogonal`` (each gate's W_hh
            block orthogonal, times ``recurrent_gain``).
        weight_drop: in training, DropConnect on every W_hh with this probability, one mask
            per forward pass (AWD-LSTM); the layers then run one at a time.
        locked_dropout: the dropout between layers uses one mask per sequence, the same at
            every time step (variational dropout).
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        impl: str = "fused",
        forget_bias: float = 1.0,
        recurrent_init: str = "default",
        recurrent_gain: float = 1.0,
        weight_drop: float = 0.0,
        locked_dropout: bool = False,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {', '.join(CELLS)}")
        if impl not in IMPLS:
            raise ValueError(f"unknown impl {impl!r}; choose one of {', '.join(IMPLS)}")
        if recurrent_init not in RECURRENT_INITS:
            raise ValueError(
                f"unknown recurrent_init {recurrent_init!r}; choose one of "
                f"{', '.join(RECURRENT_INITS)}"
            )
        self.cell = cell
        self.impl = impl
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.num_directions = 2 if bidirectional else 1
        self.dropout = dropout
        self.weight_drop = weight_drop
        self.between_layers = LockedDropout(dropout) if locked_dropout else nn.Dropout(dropout)
        if impl == "fused":
            self.rnn: nn.Module = _FUSED_MODULES[cell](
                input_size,
                hidden_size,
                num_layers=num_layers,
                bidirectional=bidirectional,
                dropout=dropout if num_layers > 1 else 0.0,
                batch_first=True,
            )
        else:
            self.rnn = ExplicitRNN(cell, input_size, hidden_size, num_layers, bidirectional)
        self.reset_recurrent_parameters(forget_bias, recurrent_init, recurrent_gain)

    @classmethod
    def from_config(
        cls, config: RecurrentConfig, input_size: int, bidirectional: bool | None = None
    ) -> Recurrent:
        """A stack with ``config``'s options reading ``input_size`` features per step;
        ``bidirectional`` overrides the config's (a decoder is never bidirectional)."""
        return cls(
            config.cell,
            input_size,
            config.hidden_size,
            num_layers=config.layers,
            bidirectional=config.bidirectional if bidirectional is None else bidirectional,
            dropout=config.dropout,
            impl=config.impl,
            forget_bias=config.forget_bias,
            recurrent_init=config.recurrent_init,
            recurrent_gain=config.recurrent_gain,
        )

    @property
    def output_size(self) -> int:
        return self.hidden_size * self.num_directions

    @torch.no_grad()
    def reset_recurrent_parameters(
        self, forget_bias: float, recurrent_init: str, recurrent_gain: float
    ) -> None:
        """Apply the forget-gate bias (LSTM) and the recurrent weight initialisation."""
        hidden = self.hidden_size
        for name, param in self.rnn.named_parameters():
            if name.startswith("weight_hh") and recurrent_init == "orthogonal":
                for block in param.split(hidden, dim=0):
                    nn.init.orthogonal_(block, gain=recurrent_gain)
            if self.cell == "lstm" and name.startswith("bias_"):
                forget = param[hidden : 2 * hidden]
                forget.fill_(forget_bias if name.startswith("bias_ih") else 0.0)

    def zero_state(self, batch_size: int, device: torch.device, dtype: torch.dtype) -> State:
        """h_0 = 0 (and c_0 = 0): a blank-slate memory."""
        h = torch.zeros(
            self.num_layers * self.num_directions,
            batch_size,
            self.hidden_size,
            device=device,
            dtype=dtype,
        )
        return (h, torch.zeros_like(h)) if self.cell == "lstm" else h

    def forward(
        self, x: Tensor, lengths: Tensor | None = None, state: State | None = None
    ) -> RecurrentOutput:
        """x (B, T, input_size); lengths (B,) real lengths or None (no padding);
        state: initial state as PyTorch lays it out, or None for zeros."""
        if self.impl == "fused" and self.cell == "lstm" and _needs_float32_lstm(x):
            with torch.autocast("cpu", enabled=False):
                if state is not None:
                    state = (state[0].float(), state[1].float())
                return self.forward(x.float(), lengths, state)
        if known_unpadded(lengths, x.size(1)):
            lengths = None
        if state is None:
            state = self.zero_state(x.size(0), x.device, x.dtype)
        if (
            self.impl == "fused"
            and (lengths is None or self.num_directions == 1)
            and not (self.training and self._regularised_layers())
        ):
            # Fast path: one call to PyTorch's kernel. Trailing padding cannot reach the
            # forward direction's outputs at real positions.
            outputs, final = self.rnn(x, state)
        else:
            outputs, final = self._run_layers(x, lengths, state)
        return RecurrentOutput(outputs, self._summary(outputs, lengths), final)

    def _regularised_layers(self) -> bool:
        """Whether training needs the layers run one at a time: weight drop, or a locked
        dropout mask between layers (the fused kernel draws its own, per position)."""
        locked = isinstance(self.between_layers, LockedDropout)
        return self.weight_drop > 0 or (locked and self.num_layers > 1 and self.dropout > 0)

    def _summary(self, outputs: Tensor, lengths: Tensor | None) -> Tensor:
        forward_last = last_position(outputs[..., : self.hidden_size], lengths)
        if self.num_directions == 1:
            return forward_last
        return torch.cat([forward_last, outputs[:, 0, self.hidden_size :]], dim=-1)

    def _run_direction(
        self, x: Tensor, h0: Tensor, c0: Tensor | None, layer: int, direction: int
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        params = list(layer_parameters(self.rnn, layer, direction))
        params[1] = drop_weights(params[1], self.weight_drop, self.training)  # W_hh
        if isinstance(self.rnn, ExplicitRNN):
            return self.rnn.run_direction(x, h0, c0, layer, direction, params)
        op = _FUSED_OPS[self.cell]
        hx = [h0.unsqueeze(0), c0.unsqueeze(0)] if c0 is not None else h0.unsqueeze(0)
        result = op(
            x,
            hx,
            params,
            has_biases=True,
            num_layers=1,
            dropout=0.0,
            train=self.training,
            bidirectional=False,
            batch_first=True,
        )
        if self.cell == "lstm":
            out, h, c = result
            return out, h[0], c[0]
        out, h = result
        return out, h[0], None

    def _run_layers(self, x: Tensor, lengths: Tensor | None, state: State) -> tuple[Tensor, State]:
        h0, c0 = state if isinstance(state, tuple) else (state, None)
        finals_h, finals_c = [], []
        layer_input = x
        for layer in range(self.num_layers):
            direction_outputs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                seq = layer_input if direction == 0 else reverse_padded(layer_input, lengths)
                out, h, c = self._run_direction(
                    seq, h0[k], None if c0 is None else c0[k], layer, direction
                )
                direction_outputs.append(out if direction == 0 else reverse_padded(out, lengths))
                finals_h.append(h)
                finals_c.append(c)
            layer_input = torch.cat(direction_outputs, dim=-1)
            if layer < self.num_layers - 1 and self.dropout > 0:
                layer_input = self.between_layers(layer_input)
        h_n = torch.stack(finals_h)
        final: State = (h_n, torch.stack(finals_c)) if self.cell == "lstm" else h_n
        return layer_input, final


def detach_state(state: State) -> State:
    """Cut the graph at a state (truncated BPTT)."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)  # type: ignore[return-value]
    return state.detach()
