"""Bring your own PyTorch model: export a user's nn.Module as an rnnad model kind.

rnnad's kinds (docs/models.md) are fixed networks with fixed tensor names (rnn.*, head.*;
encoder.*, decoder.*, output.*, bridge_h.*, bridge_c.*). A module written without rnnad's classes
(rnnad_models.py) keeps its own attribute names, batch_first, head layout and forward(). This
module maps it onto a kind, checks that what it finds fits, and writes the model file and a
reference file computed by running YOUR module's forward, so that `rnnad validate` fails when the
mapping or your forward do not match the kind's math. Worked example: docs/byo_model.md.

    import rnnad_byo
    rnnad_byo.export_module(model, "my.safetensors", "prediction",
                            names={"rnn": "lstm", "head": "fc"}, seq_len=64, horizon=1,
                            normalization=norm, scoring={"method": "squared", "stride": 1})
    # -> my.safetensors and my.reference.safetensors; then: rnnad validate --model my.safetensors

Mapping (`names`): rnnad's submodule name -> the dotted attribute path of yours (default: the same
name). Supported kinds and what each name must be (anything else is an error naming the attribute,
its type and what rnnad expects):

  prediction      rnn       one nn.LSTM or nn.GRU, unidirectional, bias=True, proj_size=0
                  head      one nn.Linear(hidden_size, horizon*K*d), or an nn.Sequential holding one
                            nn.Linear and only nn.Dropout / nn.Identity besides; or a pair of names
                            (mean head, log-variance head) of two such layers (output "gaussian")
  reconstruction  encoder   nn.LSTM or nn.GRU (may be bidirectional)
                  decoder   same cell, input_size = the encoder's input_size (it is fed its own
                            reconstruction), same hidden_size and num_layers, unidirectional
                  output    nn.Linear(hidden_size, input_size) (or a Sequential as for head)
                  bridge_h  nn.Linear(2*hidden_size, hidden_size), bidirectional encoder only;
                  bridge_c  the same for LSTM's cell state
  (attention is not mapped: use rnnad_models.Attention.)

No other parameter or buffer may exist in your module (an nn.Conv1d front end, a LayerNorm, a
second head): rnnad could not run it. Parameter-free steps in your forward (an activation between
rnn and head, a variance instead of a log-variance) cannot be seen in the weights; the reference
check below catches them.

Config fields that the module cannot tell are keyword arguments, with docs/models.md's names:
prediction: seq_len (windowed), horizon (1), targets (all input features), output ("point", or
"gaussian" when head is a pair), state ("windowed" | "stateful"); reconstruction: decode
("reverse" | "forward", required), seq_len (required). cell, input_size, hidden_size, num_layers
and bidirectional_encoder are read from the modules.

Weights: PyTorch's weights do not depend on batch_first, so the recurrent tensors are copied as
they are. The only conversion is the order of a Gaussian head's rows: yours are read as
[K, horizon, d] (the mean block, then the log-variance block, as `mean, log_var = y.chunk(2, -1)`
or two separate heads give them), rnnad stores [horizon, K, d]. A point head's rows are
[horizon, d] (`y.reshape(batch, horizon, d)`) in both.

What your forward must return (x is given in your layout: [batch, seq_len, I] when the rnn /
encoder has batch_first=True, [seq_len, batch, I] otherwise; a different convention: pass
forward=lambda module, x: ...):
  prediction, windowed   the prediction from the last step, [batch, P] or [batch, horizon, d]
                         (or the head's output at every step: the last one is taken)
  prediction, stateful   the head's output after every step, from zero states
  gaussian               (mean, log_var), each as above, or one tensor [mean | log_var] on its last dim
  reconstruction         the reconstruction in time order, [batch, seq_len, I] or [seq_len, batch, I],
                         with the decoder fed its own outputs (inference)
  A tuple whose first element is that result (e.g. (prediction, state)) is accepted.

The reference file (docs/model_format.md §4) is written from your module run in float64 (a deep
copy, eval mode, the float32 weights as stored). Its input is time-major [T, batch, I] float32
(seeded N(0, 1), or reference_input). Before anything is written, your module's outputs are
compared with rnnad's own PyTorch definition of the kind (rnnad_models.py) holding the exported
weights; a difference above 1e-9 * max(1, |value|) raises ValueError naming the worst element
(check=False writes the files anyway, and `rnnad validate` then FAILs).
"""
import copy
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rnnad_export as rx  # noqa: E402
import rnnad_models as rm  # noqa: E402

NAMES = {"prediction": ("rnn", "head"), "reconstruction": ("encoder", "decoder", "output", "bridge_h", "bridge_c")}
FIELDS = {"prediction": ("seq_len", "horizon", "targets", "output", "state"), "reconstruction": ("decode", "seq_len")}
WHAT = {"rnn": "prediction rnn", "head": "prediction head", "encoder": "reconstruction encoder",
        "decoder": "reconstruction decoder", "output": "reconstruction output",
        "bridge_h": "bridge_h (joins the bidirectional encoder's final states)",
        "bridge_c": "bridge_c (joins the bidirectional encoder's final cell states)"}
CHECK_RTOL = 1e-9  # both sides are float64 PyTorch runs of the same math: only summation order differs
_NO_OPS = (nn.Dropout, nn.Identity)  # inference no-ops accepted around a head's nn.Linear


def describe(m):
    """A short description of a module for messages: 'nn.Sequential(Linear, ReLU, Linear)',
    'nn.Conv1d(1, 4, kernel_size=(3,), stride=(1,))', or a user class's name."""
    if isinstance(m, nn.Sequential):
        return f"nn.Sequential({', '.join(type(c).__name__ for c in m)})"
    if type(m).__module__.startswith("torch.nn"):
        return f"nn.{type(m).__name__}({m.extra_repr()})"
    return type(m).__name__


def _submodule(model, path, what):
    if not isinstance(path, str) or not path:
        raise ValueError(f"the name of rnnad's {what} must be a non-empty attribute path, got {path!r}")
    try:
        return model.get_submodule(path)
    except AttributeError:
        children = ", ".join(f"{n} ({describe(c)})" for n, c in model.named_children()) or "none"
        raise ValueError(f"model has no submodule {path!r} for rnnad's {what}; its children are: {children}. "
                         f"Map it with names={{...}}") from None


def _recurrent(model, path, what, need=None):
    """(module, rx.rnn_config of it) for model.<path>, an nn.LSTM / nn.GRU fitting rnnad's `what`;
    need: {config key: (value, reason)} it must have."""
    m = _submodule(model, path, what)
    if type(m) not in (nn.LSTM, nn.GRU):
        raise ValueError(f"model.{path} is {describe(m)}; rnnad's {what} is one nn.LSTM or nn.GRU")
    try:
        cfg = rx.rnn_config(m)
    except ValueError as e:
        raise ValueError(f"model.{path}: {e}") from None
    if cfg["proj_size"]:
        raise ValueError(f"model.{path} is {describe(m)}; rnnad's {what} has no proj_size "
                         "(proj_size exists only for kind 'rnn', rnnad_export.export_rnn)")
    if not cfg["bias"]:
        raise ValueError(f"model.{path} is {describe(m)}; rnnad's {what} has biases (bias=True)")
    for key, (value, reason) in (need or {}).items():
        if cfg[key] != value:
            raise ValueError(f"model.{path} is {describe(m)}; rnnad's {what} needs {key}={value!r} ({reason})")
    return m, cfg


def _linear(model, path, what, in_features=None, out_features=None):
    """The nn.Linear at model.<path> (alone, or the only layer of an nn.Sequential besides
    nn.Dropout / nn.Identity), with a bias and the given widths (None: not checked)."""
    found = _submodule(model, path, what)
    m = found
    if isinstance(m, nn.Sequential):
        layers = [c for c in m if not isinstance(c, _NO_OPS)]
        m = layers[0] if len(layers) == 1 else m
    if type(m) is not nn.Linear:
        raise ValueError(f"model.{path} is {describe(found)}; rnnad's {what} is one nn.Linear "
                         "(nn.Dropout and nn.Identity around it are accepted)")
    if m.bias is None:
        raise ValueError(f"model.{path} is {describe(m)}; rnnad's {what} has a bias (bias=True)")
    if in_features is not None and (m.in_features != in_features or out_features not in (None, m.out_features)):
        want = f"nn.Linear({in_features}, {out_features if out_features is not None else 'P'})"
        raise ValueError(f"model.{path} is {describe(m)}; rnnad's {what} is {want}")
    return m


def _check_fields(kind, model_fields):
    unknown = sorted(set(model_fields) - set(FIELDS[kind]))
    if unknown:
        raise ValueError(f"{kind}: {unknown} cannot be given (allowed: {list(FIELDS[kind])}; cell, input_size, "
                         "hidden_size, num_layers and bidirectional_encoder are read from the modules)")


def _prediction(model, names, fields):
    rnn, c = _recurrent(model, names["rnn"], WHAT["rnn"],
                        {"bidirectional": (False, "the forecaster's rnn is unidirectional")})
    I, H, L = c["input_size"], c["hidden_size"], c["num_layers"]
    heads = names["head"] if isinstance(names["head"], (tuple, list)) else (names["head"],)
    if len(heads) not in (1, 2):
        raise ValueError(f"names['head'] must be one name or a pair (mean, log-variance), got {names['head']!r}")
    output = fields.get("output", "gaussian" if len(heads) == 2 else "point")
    if len(heads) == 2 and output != "gaussian":
        raise ValueError(f"names['head'] is a pair {tuple(heads)} (mean, log-variance), but output={output!r}")
    K, horizon = (2 if output == "gaussian" else 1), fields.get("horizon", 1)
    linears = [_linear(model, p, WHAT["head"], H) for p in heads]
    width = sum(m.out_features for m in linears)
    targets = fields.get("targets")
    if targets is None:
        if width != horizon * K * I:
            raise ValueError(f"model.{'/'.join(heads)} has {width} outputs, not horizon*K*input_size = "
                             f"{horizon}*{K}*{I}: pass targets=[the predicted feature indices]")
        targets = list(range(I))
    P = horizon * K * len(targets)
    for p, m in zip(heads, linears):
        if m.out_features * len(heads) != P:
            raise ValueError(f"model.{p} is {describe(m)}; with horizon={horizon}, {len(targets)} target(s) and "
                             f"output={output!r} rnnad's head has {P} outputs in all (horizon*K*d)")
    state = fields.get("state", "windowed")
    net = rm.Prediction(c["mode"], I, H, L, horizon, targets, output, state, fields.get("seq_len"))
    W = torch.cat([m.weight.detach() for m in linears])
    b = torch.cat([m.bias.detach() for m in linears])
    d = len(targets)
    W = W.reshape(K, horizon, d, H).transpose(0, 1).reshape(P, H)  # [K, horizon, d] -> [horizon, K, d]
    b = b.reshape(K, horizon, d).transpose(0, 1).reshape(P)
    weights = {**{"rnn." + k: v for k, v in rnn.state_dict().items()}, "head.weight": W, "head.bias": b}
    return net, weights, rnn.batch_first


def _reconstruction(model, names, fields):
    if "decode" not in fields or "seq_len" not in fields:
        raise ValueError("reconstruction: decode ('reverse' as EncDec-AD, or 'forward') and seq_len are required")
    enc, c = _recurrent(model, names["encoder"], WHAT["encoder"])
    I, H, L = c["input_size"], c["hidden_size"], c["num_layers"]
    same = "the decoder matches the encoder"
    dec, _ = _recurrent(model, names["decoder"], WHAT["decoder"], {
        "mode": (c["mode"], same), "hidden_size": (H, same), "num_layers": (L, same),
        "input_size": (I, "the decoder is fed its own reconstruction"),
        "bidirectional": (False, "the decoder is unidirectional")})
    out = _linear(model, names["output"], WHAT["output"], H, I)
    weights = {**{"encoder." + k: v for k, v in enc.state_dict().items()},
               **{"decoder." + k: v for k, v in dec.state_dict().items()},
               "output.weight": out.weight.detach(), "output.bias": out.bias.detach()}
    bridges = ("bridge_h", "bridge_c") if c["mode"] == "LSTM" else ("bridge_h",)
    for bridge in bridges if c["bidirectional"] else ():
        m = _linear(model, names[bridge], WHAT[bridge], 2 * H, H)
        weights.update({bridge + ".weight": m.weight.detach(), bridge + ".bias": m.bias.detach()})
    net = rm.Reconstruction(c["mode"], I, H, L, c["bidirectional"], fields["decode"], fields["seq_len"])
    return net, weights, enc.batch_first


def _map(model, kind, names, fields):
    """(rnnad_models module with the mapped weights, batch_first of your rnn / encoder)."""
    if kind not in NAMES:
        raise ValueError(f"kind must be one of {list(NAMES)} (attention: use rnnad_models.Attention), got {kind!r}")
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
    names = dict(names or {})
    unknown = sorted(set(names) - set(NAMES[kind]))
    if unknown:
        raise ValueError(f"{kind}: names {unknown} are not rnnad names (keys are rnnad's: {list(NAMES[kind])})")
    names = {n: names.get(n, n) for n in NAMES[kind]}
    _check_fields(kind, fields)
    _check_structure(model, kind, names)
    net, weights, batch_first = (_prediction if kind == "prediction" else _reconstruction)(model, names, fields)
    net.load_state_dict({k: v.detach().cpu().float() for k, v in weights.items()})
    return net.eval(), batch_first


def _check_structure(model, kind, names):
    """Every mapped name exists and has the right type (widths are checked later), and no parameter
    or buffer lies outside the mapped submodules (rnnad could not run it)."""
    roles = list(NAMES[kind][:3])
    if kind == "reconstruction":
        enc, _ = _recurrent(model, names["encoder"], WHAT["encoder"])
        roles += ["bridge_h", "bridge_c"][:(2 if enc.mode == "LSTM" else 1) if enc.bidirectional else 0]
    covered = set()
    for role in roles:
        for path in names[role] if isinstance(names[role], (tuple, list)) else (names[role],):
            (_recurrent if role in ("rnn", "encoder", "decoder") else _linear)(model, path, WHAT[role])
            covered |= {id(t) for t in model.get_submodule(path).state_dict(keep_vars=True).values()}
    stray = [n for n, t in model.state_dict(keep_vars=True).items() if id(t) not in covered]
    if stray:
        owner = stray[0].rpartition(".")[0]
        where = f"model.{owner} is {describe(model.get_submodule(owner))} and holds" if owner else "model holds"
        raise ValueError(f"{where} {', '.join(n for n in stray if n.rpartition('.')[0] == owner)}, which no rnnad "
                         f"name maps (mapping { {r: names[r] for r in roles} }); rnnad's {kind} is only "
                         f"{' -> '.join(NAMES[kind][:2] if kind == 'prediction' else NAMES[kind][:3])} "
                         "(docs/models.md, docs/byo_model.md)")


def to_rnnad(model, kind, names=None, **fields):
    """Your module as the equivalent rnnad_models module (Prediction or Reconstruction, eval mode)
    holding your weights under rnnad's names: for fitting scoring statistics with rnnad_scoring
    before export. Arguments as export_module; raises ValueError when the module does not fit."""
    return _map(model, kind, names, fields)[0]


def _round_weights(m, dtype):
    """Round every floating tensor of m (float32) in place as export(dtype=...) stores it."""
    if dtype == "F32":
        return
    with torch.no_grad():
        for t in m.state_dict(keep_vars=True).values():
            if t.is_floating_point():
                a = t.detach().numpy()
                r = a.astype(np.float16).astype(np.float32) if dtype == "F16" else \
                    rx.bf16_bits_to_float32(rx.to_bf16_bits(a))
                t.copy_(torch.from_numpy(r))


def _steps(t, batch, steps, width, batch_first, what):
    """A forward result t (one step or `steps` steps of `batch` rows of `width`) -> [n, batch, width]."""
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"forward returned {type(t).__name__} for the {what}; expected a tensor")
    shape = list(t.shape)
    if t.numel() == batch * width and shape[:1] == [batch]:
        return t.reshape(1, batch, width)
    if t.numel() == batch * width and shape[:2] == [1, batch]:
        return t.reshape(1, batch, width)
    if t.numel() == batch * steps * width and shape[:1] == [batch if batch_first else steps]:
        t = t.reshape(batch, steps, width).transpose(0, 1) if batch_first else t.reshape(steps, batch, width)
        return t
    layout = f"[{batch}, {steps}, ...]" if batch_first else f"[{steps}, {batch}, ...]"
    raise ValueError(f"forward returned shape {shape} for the {what}; expected {batch}x{width} values with the batch "
                     f"first ([{batch}, ...]), or every step's as {layout} (pass forward= to adapt)")


def module_outputs(model, kind, cfg, x, batch_first, forward=None):
    """float64 outputs of YOUR module (a float64 eval-mode copy) for the time-major float32 input
    x [T, B, I], in the reference layout of `kind` (docs/model_format.md §4): name -> numpy array."""
    m = copy.deepcopy(model).cpu().double().eval()
    T, B = x.shape[0], x.shape[1]
    xin = x.double().transpose(0, 1) if batch_first else x.double()
    with torch.no_grad():
        r = (forward or (lambda module, v: module(v)))(m, xin)
    if kind == "reconstruction":
        r = r[0] if isinstance(r, (tuple, list)) else r
        y = _steps(r, B, T, cfg["input_size"], batch_first, "reconstruction")
        if y.shape[0] != T:
            raise ValueError(f"forward must return the reconstruction of all {T} steps, got one step")
        return {"reconstruction": y.contiguous().numpy()}
    windowed = cfg["state"] == "windowed"
    hd = cfg["horizon"] * len(cfg["targets"])
    if cfg["output"] == "point":
        r = r[0] if isinstance(r, (tuple, list)) else r
        y = _steps(r, B, T, hd, batch_first, "prediction")
    else:
        if isinstance(r, (tuple, list)) and isinstance(r[0], (tuple, list)):
            r = r[0]
        pair = isinstance(r, (tuple, list)) and len(r) >= 2 and all(isinstance(p, torch.Tensor) for p in r[:2])
        if pair and r[0].shape == r[1].shape:                 # (mean, log_var), not (y, state)
            parts = [_steps(p, B, T, hd, batch_first, name) for p, name in zip(r, ("mean", "log-variance"))]
        else:
            r = r[0] if isinstance(r, (tuple, list)) else r
            y = _steps(r, B, T, 2 * hd, batch_first, "mean and log-variance")
            parts = [y[..., :hd], y[..., hd:]]
        y = torch.stack(parts, 2).reshape(-1, B, 2, cfg["horizon"], len(cfg["targets"]))
        y = y.transpose(2, 3).reshape(-1, B, 2 * hd)  # [K, horizon, d] -> [horizon, K, d]
    if windowed:
        return {"prediction": y[-1:].contiguous().numpy()}
    if y.shape[0] != T:
        raise ValueError(f"a stateful model's forward must return the prediction after every one of the {T} steps, "
                         "got one step")
    return {"prediction": y.contiguous().numpy()}


def _meaning(cfg, name, i):
    """' (horizon step h, mean/log-variance, target j = feature f)' for prediction index i."""
    if name != "prediction":
        return ""
    d, K = len(cfg["targets"]), 2 if cfg["output"] == "gaussian" else 1
    h, k, j = i // (K * d), i // d % K, i % d
    return f" (step {h + 1} ahead, {('mean', 'log-variance')[k]}, feature {cfg['targets'][j]})"


def export_module(model, path, kind, names=None, *, forward=None, reference_input=None, reference_batch=3,
                  reference_rows=64, check=True, dtype="F32", normalization=None, scoring=None, threshold=None,
                  stats=None, training=None, description="", **fields):
    """Export your nn.Module `model` as an rnnad model file of `kind` ("prediction" or
    "reconstruction") at `path`, and its reference file (path's .reference.safetensors).

    names: {rnnad name: your attribute path} (module docstring); fields: docs/models.md config
    fields the module cannot tell (seq_len, horizon, targets, output, state; decode, seq_len).
    forward(model, x) -> outputs: how to call your module (default model(x)); x comes in your
    layout. reference_input: float32 time-major [T, B, I] (default: seeded N(0, 1) with
    B = reference_batch, T = seq_len, or reference_rows for a stateful model). check: compare
    your module with rnnad's definition first (ValueError on a mismatch, nothing written).
    dtype, normalization, scoring, threshold, stats, training: as rnnad_export.export_model.
    Returns the config written. Raises ValueError when the module does not fit the kind."""
    net, batch_first = _map(model, kind, names, fields)
    _, cfg = rx.model_config(net)
    if reference_input is None:
        steps = cfg.get("seq_len") or reference_rows
        batch = reference_batch + (reference_batch == steps)  # batch != steps keeps the layouts distinct
        x = torch.randn(steps, batch, cfg["input_size"], generator=torch.Generator().manual_seed(0))
    else:
        x = rx._as_f32("reference_input", reference_input)
        if x.dim() != 3 or x.shape[2] != cfg["input_size"] or min(x.shape) < 1 or \
                cfg.get("seq_len", x.shape[0]) != x.shape[0]:
            raise ValueError(f"reference_input must be time-major [{cfg.get('seq_len', 'rows')}, batch, "
                             f"{cfg['input_size']}], got {list(x.shape)}")
    user = copy.deepcopy(model).cpu().float()
    _round_weights(user, dtype)
    ours = module_outputs(user, kind, cfg, x, batch_first, forward)
    if check:
        want = rx.model_reference_outputs(net, x, dtype)
        for name, b in want.items():
            a = ours[name]
            err = np.abs(a - b) / np.maximum(1.0, np.abs(b))
            if a.shape != b.shape or not np.all(err <= CHECK_RTOL):
                at = np.unravel_index(int(np.argmax(err)), err.shape) if a.shape == b.shape else None
                detail = f"shape {list(a.shape)} vs {list(b.shape)}" if at is None else \
                    f"{name}{list(at)}{_meaning(cfg, name, at[-1])} is {a[at]:.9g} from your module, " \
                    f"{b[at]:.9g} from rnnad's {kind}"
                raise ValueError(
                    f"your module's forward does not compute rnnad's {kind} with the mapped weights: {detail}. "
                    "Common causes: an activation or other step between the mapped layers; a variance or std "
                    "instead of a log-variance; head rows ordered [d, horizon]; the other decode order; a bridge "
                    "applied differently (docs/byo_model.md). check=False writes the files anyway")
    config = rx.export_model(net, path, dtype, normalization, scoring, threshold, stats, training)
    info = {"format_version": rx.FORMAT_VERSION, "producer": rx._producer(),
            "description": description or f"rnnad_byo.py: outputs of {type(model).__name__}.forward in float64"}
    rx.write_safetensors(rx.reference_path(os.fspath(path)), {"input": x.numpy(), **ours},
                         {"rnnad.reference": json.dumps(info)})
    return config
