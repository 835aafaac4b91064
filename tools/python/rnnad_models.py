"""The rnnad model kinds in PyTorch, exactly as docs/models.md specifies them.

    import rnnad_models as rm
    m = rm.Reconstruction("LSTM", input_size=3, hidden_size=8, num_layers=2, decode="reverse", seq_len=30)
    x_rec = m(x)                                   # x: (T, B, I) time-major -> (T, B, I) in time order
    p = rm.Prediction("LSTM", 25, 80, 2, horizon=10, targets=[0], seq_len=250)(x)     # (1, B, P)
    y, state = rm.Prediction("GRU", 3, 8, 1, 3, [0, 2], state="stateful")(x, state)   # (N, B, P)
    x_rec, weights = rm.Attention("GRU", 3, 8, 1, attention_size=5, seq_len=12)(x)    # + (T, B, T)

Submodule names give exactly the documented state_dict names (encoder.*, decoder.*, output.*,
bridge_h.*, bridge_c.*, rnn.*, head.*, attention.query/key/v.*). Every module has config(), the
`model` object of the rnnad config (docs/models.md field names), and kind, the config's `kind`.
Inputs are time-major (T, B, I); all recurrent states start at zero. The modules work in any
floating dtype (float32 as trained, float64 after .double() for references).

Dropout (dropout=p) is for training only: it acts between stacked recurrent layers (PyTorch's own
`dropout` argument, only when num_layers > 1) and on the top-layer output before the output/head
layer. It is an inference no-op and is neither stored nor part of config().

forward(x, teacher_forcing=False) of Reconstruction and Attention: with teacher_forcing=True the
decoder is fed the observed values (docs/models.md, "In training ..."); the default feeds the
decoder its own previous outputs, which is what inference (and the engine) does.
"""
import torch
import torch.nn as nn

CELLS = {"LSTM": nn.LSTM, "GRU": nn.GRU}


def _check_cell(cell):
    if cell not in CELLS:
        raise ValueError(f"cell must be 'LSTM' or 'GRU', got {cell!r}")
    return CELLS[cell]


def _check_int(name, value, lo=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {value!r}")
    return value


def _stack(cell, input_size, hidden_size, num_layers, dropout, bidirectional=False):
    return CELLS[cell](input_size, hidden_size, num_layers, bidirectional=bidirectional,
                       dropout=dropout if num_layers > 1 else 0.0)


def _check_x(x, input_size, seq_len=None):
    if x.dim() != 3 or x.shape[2] != input_size or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"x must be time-major (seq_len>=1, batch>=1, {input_size}), got {list(x.shape)}")
    if seq_len is not None and x.shape[0] != seq_len:
        raise ValueError(f"x has {x.shape[0]} steps, the model's window is seq_len={seq_len}")


def _top_h(cell, state):
    """Top-layer h of a (unidirectional) stack's state."""
    return (state[0] if cell == "LSTM" else state)[-1]


class Reconstruction(nn.Module):
    """Encoder-decoder reconstruction (EncDec-AD with decode="reverse", or the forward variant)."""

    kind = "reconstruction"

    def __init__(self, cell, input_size, hidden_size, num_layers=1, bidirectional_encoder=False,
                 decode="reverse", seq_len=None, dropout=0.0):
        super().__init__()
        _check_cell(cell)
        if decode not in ("reverse", "forward"):
            raise ValueError(f"decode must be 'reverse' or 'forward', got {decode!r}")
        if not isinstance(bidirectional_encoder, bool):
            raise ValueError(f"bidirectional_encoder must be a bool, got {bidirectional_encoder!r}")
        self.cell, self.decode = cell, decode
        self.input_size = _check_int("input_size", input_size)
        self.hidden_size = _check_int("hidden_size", hidden_size)
        self.num_layers = _check_int("num_layers", num_layers)
        self.seq_len = _check_int("seq_len", seq_len)
        self.bidirectional_encoder = bidirectional_encoder
        self.encoder = _stack(cell, input_size, hidden_size, num_layers, dropout, bidirectional_encoder)
        self.decoder = _stack(cell, input_size, hidden_size, num_layers, dropout)
        self.output = nn.Linear(hidden_size, input_size)
        if bidirectional_encoder:
            self.bridge_h = nn.Linear(2 * hidden_size, hidden_size)
            if cell == "LSTM":
                self.bridge_c = nn.Linear(2 * hidden_size, hidden_size)
        self.drop = nn.Dropout(dropout)

    def config(self):
        return {"cell": self.cell, "input_size": self.input_size, "hidden_size": self.hidden_size,
                "num_layers": self.num_layers, "bidirectional_encoder": self.bidirectional_encoder,
                "decode": self.decode, "seq_len": self.seq_len}

    def initial_decoder_state(self, x):
        """Decoder initial state from the encoder's final state (through the bridge if bidirectional)."""
        _, state = self.encoder(x)
        if not self.bidirectional_encoder:
            return state
        L, B, H = self.num_layers, x.shape[1], self.hidden_size

        def join(bridge, s):  # s: [2L, B, H] with index layer*2 + direction -> [L, B, H]
            return bridge(s.reshape(L, 2, B, H).permute(0, 2, 1, 3).reshape(L, B, 2 * H))

        if self.cell == "LSTM":
            return join(self.bridge_h, state[0]), join(self.bridge_c, state[1])
        return join(self.bridge_h, state)

    def _out(self, h_top):
        return self.output(self.drop(h_top))

    def forward(self, x, teacher_forcing=False):
        _check_x(x, self.input_size, self.seq_len)
        T = x.shape[0]
        state = self.initial_decoder_state(x)
        if self.decode == "reverse":
            outs = [self._out(_top_h(self.cell, state))]                  # x'(T-1)
            if teacher_forcing:   # inputs x(T-1) .. x(1) as one sequence
                if T > 1:
                    top, _ = self.decoder(x.flip(0)[:-1], state)          # h after x(i) -> x'(i-1)
                    outs += list(self._out(top).unbind(0))
            else:
                for _ in range(T - 1):
                    _, state = self.decoder(outs[-1].unsqueeze(0), state)
                    outs.append(self._out(_top_h(self.cell, state)))
            return torch.stack(outs[::-1], 0)
        # forward
        if teacher_forcing:
            prev = torch.cat([torch.zeros_like(x[:1]), x[:-1]], 0)
            top, _ = self.decoder(prev, state)
            return self._out(top)
        prev, outs = torch.zeros_like(x[0]), []
        for _ in range(T):
            _, state = self.decoder(prev.unsqueeze(0), state)
            prev = self._out(_top_h(self.cell, state))
            outs.append(prev)
        return torch.stack(outs, 0)


class Prediction(nn.Module):
    """Stacked forecaster: windowed (Telemanom) or stateful over a whole series (LSTM-AD)."""

    kind = "prediction"

    def __init__(self, cell, input_size, hidden_size, num_layers, horizon, targets, output="point",
                 state="windowed", seq_len=None, dropout=0.0):
        super().__init__()
        _check_cell(cell)
        if output not in ("point", "gaussian"):
            raise ValueError(f"output must be 'point' or 'gaussian', got {output!r}")
        if state not in ("windowed", "stateful"):
            raise ValueError(f"state must be 'windowed' or 'stateful', got {state!r}")
        self.cell, self.output_kind, self.state_mode = cell, output, state
        self.input_size = _check_int("input_size", input_size)
        self.hidden_size = _check_int("hidden_size", hidden_size)
        self.num_layers = _check_int("num_layers", num_layers)
        self.horizon = _check_int("horizon", horizon)
        targets = list(targets)
        if (not targets or any(isinstance(t, bool) or not isinstance(t, int) or not 0 <= t < input_size
                               for t in targets) or len(set(targets)) != len(targets)):
            raise ValueError(f"targets must be a non-empty list of distinct ints in [0, {input_size}), got {targets!r}")
        self.targets = targets
        if state == "windowed":
            self.seq_len = _check_int("seq_len", seq_len)
        elif seq_len is not None:
            raise ValueError("seq_len is for state='windowed' only (a stateful model takes series of any length)")
        else:
            self.seq_len = None
        self.K = 2 if output == "gaussian" else 1
        self.P = self.horizon * self.K * len(targets)
        self.rnn = _stack(cell, input_size, hidden_size, num_layers, dropout)
        self.head = nn.Linear(hidden_size, self.P)
        self.drop = nn.Dropout(dropout)

    def config(self):
        cfg = {"cell": self.cell, "input_size": self.input_size, "hidden_size": self.hidden_size,
               "num_layers": self.num_layers, "horizon": self.horizon, "targets": list(self.targets),
               "output": self.output_kind, "state": self.state_mode}
        if self.state_mode == "windowed":
            cfg["seq_len"] = self.seq_len
        return cfg

    def split(self, y):
        """Head outputs [..., P] -> (mean [..., horizon, d], log-variance [..., horizon, d] or None)."""
        y = y.reshape(*y.shape[:-1], self.horizon, self.K, len(self.targets))
        return y[..., 0, :], (y[..., 1, :] if self.K == 2 else None)

    def forward(self, x, state=None):
        """windowed: x (T, B, I) -> (1, B, P) from a zero state (state must be None).
        stateful: x (N, B, I), state (None = zeros at the series' first row) -> ((N, B, P), state)."""
        if self.state_mode == "windowed":
            if state is not None:
                raise ValueError("a windowed model starts every window from a zero state")
            _check_x(x, self.input_size, self.seq_len)
            top, _ = self.rnn(x)
            return self.head(self.drop(top[-1:]))
        _check_x(x, self.input_size)
        top, state = self.rnn(x, state)
        return self.head(self.drop(top)), state


class AdditiveAttention(nn.Module):
    """Bahdanau attention: e(j) = v(tanh(query(s) + key(enc_out(j))))."""

    def __init__(self, hidden_size, attention_size):
        super().__init__()
        self.query = nn.Linear(hidden_size, attention_size, bias=False)
        self.key = nn.Linear(hidden_size, attention_size)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def forward(self, s, keys, enc_out):
        """s [B, H], keys [T, B, A], enc_out [T, B, H] -> (context [B, H], weights [B, T])."""
        e = self.v(torch.tanh(self.query(s).unsqueeze(0) + keys)).squeeze(-1)   # [T, B]
        a = torch.softmax(e, dim=0)
        ctx = (a.unsqueeze(-1) * enc_out).sum(0)
        return ctx, a.transpose(0, 1)


class Attention(nn.Module):
    """Encoder-decoder with additive attention, reconstructing the window in forward order."""

    kind = "attention"

    def __init__(self, cell, input_size, hidden_size, num_layers, attention_size, seq_len, dropout=0.0):
        super().__init__()
        _check_cell(cell)
        self.cell = cell
        self.input_size = _check_int("input_size", input_size)
        self.hidden_size = _check_int("hidden_size", hidden_size)
        self.num_layers = _check_int("num_layers", num_layers)
        self.attention_size = _check_int("attention_size", attention_size)
        self.seq_len = _check_int("seq_len", seq_len)
        self.encoder = _stack(cell, input_size, hidden_size, num_layers, dropout)
        self.decoder = _stack(cell, input_size + hidden_size, hidden_size, num_layers, dropout)
        self.attention = AdditiveAttention(hidden_size, attention_size)
        self.output = nn.Linear(hidden_size, input_size)
        self.drop = nn.Dropout(dropout)

    def config(self):
        return {"cell": self.cell, "input_size": self.input_size, "hidden_size": self.hidden_size,
                "num_layers": self.num_layers, "attention_size": self.attention_size, "seq_len": self.seq_len}

    def forward(self, x, teacher_forcing=False):
        """x (T, B, I) -> (reconstruction (T, B, I), attention weights (T, B, T))."""
        _check_x(x, self.input_size, self.seq_len)
        enc_out, state = self.encoder(x)
        keys = self.attention.key(enc_out)
        prev, outs, weights = torch.zeros_like(x[0]), [], []
        for t in range(x.shape[0]):
            ctx, a = self.attention(_top_h(self.cell, state), keys, enc_out)
            _, state = self.decoder(torch.cat([prev, ctx], -1).unsqueeze(0), state)
            y = self.output(self.drop(_top_h(self.cell, state)))
            outs.append(y)
            weights.append(a)
            prev = x[t] if teacher_forcing else y
        return torch.stack(outs, 0), torch.stack(weights, 0)


KINDS = {"reconstruction": Reconstruction, "prediction": Prediction, "attention": Attention}


def from_config(kind, model):
    """The module (default-initialised) described by a `kind` and `model` config object."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    return KINDS[kind](**model)
