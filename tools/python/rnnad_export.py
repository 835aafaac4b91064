"""Export PyTorch recurrent modules to rnnad model files and write reference files.

Implements docs/model_format.md (format version 1) with the Python standard library and numpy
only for the container; torch is needed only by the functions that take a module.

Library use (run with Debian's interpreter, /usr/bin/python3):

    import rnnad_export as rx
    rx.export_rnn(lstm, "model.safetensors")                   # kind "rnn", F32 weights
    rx.write_reference("model.reference.safetensors", lstm, x)  # x: float32, (T, B, input_size)
    tensors, metadata = rx.read_safetensors("model.safetensors")

    import rnnad_models as rm                                  # docs/models.md
    m = rm.Prediction("LSTM", 25, 80, 2, horizon=10, targets=[0], seq_len=250)
    rx.export_model(m, "pred.safetensors")                     # kind "prediction", config "model"
    rx.write_model_reference("pred.reference.safetensors", m, x)  # x: float32, (250, B, 25)

    # with scoring settings (docs/scoring.md; fields listed in train.py's docstring)
    rx.export_model(m, "det.safetensors", normalization=norm, scoring=scoring, threshold=threshold,
                    stats=stats)                              # stats: rnnad_scoring.fit_stats() or None
    rx.write_score_reference("det.reference.safetensors", series, scores, contributions, "...", first_row=0)

write_safetensors() produces the byte layout of the reference safetensors writer: an 8-byte
little-endian header length, a compact JSON header with "__metadata__" first, tensors ordered by
dtype alignment (F64, F32, BF16, F16) then by name, contiguous offsets from 0, and the header
padded with spaces to a multiple of 8. Files are written atomically (temporary file in the same
directory, fsync, os.replace), so a failure never leaves a partial file behind.

Command line: export a module saved with torch.save (the whole module, not a state_dict):

    /usr/bin/python3 tools/python/rnnad_export.py model.pt out.safetensors \
        [--submodule encoder] [--prefix encoder.] [--dtype F32|F16|BF16] [--reference-steps T]

Inputs: a pickled torch module. Outputs: OUT (kind "rnn") and, with --reference-steps, the
reference file OUT with ".safetensors" replaced by ".reference.safetensors" (seeded N(0,1) input).
"""
import argparse
import copy
import json
import os
import struct
import sys
import tempfile

import numpy as np

FORMAT_VERSION = 1
MAX_HEADER = 100_000_000

# safetensors dtype enum order is the alignment order; the writer sorts by it descending.
_DTYPE_RANK = {"F16": 13, "BF16": 14, "F32": 17, "F64": 19}
_NUMPY_OF = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2")}


class BF16:
    """A bfloat16 tensor given by its raw bit patterns (numpy uint16 array)."""

    def __init__(self, bits):
        bits = np.asarray(bits)
        if bits.dtype != np.uint16:
            raise ValueError(f"BF16 expects a uint16 array of bit patterns, got {bits.dtype}")
        self.bits = bits

    @property
    def shape(self):
        return self.bits.shape

    def to_float32(self):
        return bf16_bits_to_float32(self.bits)


def to_bf16_bits(x):
    """float32 array -> uint16 bfloat16 bit patterns, round to nearest, ties to even.

    Infinities are kept, NaNs stay NaN (quiet), finite values that round past the largest
    bfloat16 become infinity (as IEEE rounding does)."""
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    u = x.view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    nan = np.isnan(x)
    rounded[nan] = (u[nan] >> 16) | 0x0040
    return rounded.astype(np.uint16)


def bf16_bits_to_float32(bits):
    """uint16 bfloat16 bit patterns -> float32 (exact)."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def _dtype_of(value):
    if isinstance(value, BF16):
        return "BF16", value.bits
    arr = np.asarray(value)
    for name in ("F64", "F32", "F16"):
        if arr.dtype == _NUMPY_OF[name]:
            return name, arr
    raise ValueError(f"unsupported tensor dtype {arr.dtype} (use float64, float32, float16 or BF16)")


def safetensors_bytes(tensors, metadata=None):
    """The complete file contents for `tensors` (name -> array or BF16) and `metadata`."""
    entries = []
    for name, value in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError(f"invalid tensor name {name!r}")
        dtype, arr = _dtype_of(value)
        data = np.ascontiguousarray(arr, dtype=_NUMPY_OF[dtype]).tobytes(order="C")
        entries.append((dtype, name, [int(d) for d in arr.shape], data))
    entries.sort(key=lambda e: (-_DTYPE_RANK[e[0]], e[1]))

    header = {}
    if metadata is not None:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise ValueError(f"__metadata__ must map strings to strings (key {k!r})")
        header["__metadata__"] = dict(metadata)
    offset = 0
    for dtype, name, shape, data in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return b"".join([struct.pack("<Q", len(text)), text] + [e[3] for e in entries])


def atomic_write_bytes(path, payload):
    """Write `payload` to `path` via a temporary file in the same directory, fsync and os.replace."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp creates 0600; give the file normal permissions
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable; not possible on every platform
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def write_safetensors(path, tensors, metadata=None):
    """Write a safetensors file atomically. tensors: name -> numpy float64/float32/float16 array
    or BF16(uint16 bits); metadata: str -> str (written first in the header)."""
    atomic_write_bytes(path, safetensors_bytes(tensors, metadata))


def read_safetensors(path, raw_bf16=False):
    """Read a safetensors file -> (tensors, metadata). BF16 tensors come back as float32
    (exact), or as BF16 bit wrappers with raw_bf16=True. Checks the layout rules of
    docs/model_format.md §1 that matter to a writer's tests (not a hardened parser)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER or 8 + n > len(blob):
        raise ValueError(f"{path}: header length {n} invalid for file size {len(blob)}")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = blob[8 + n:]
    tensors, spans = {}, []
    for name, info in header.items():
        dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in _NUMPY_OF:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
        nbytes = int(np.prod(shape, dtype=np.int64)) * _NUMPY_OF[dtype].itemsize
        if end - begin != nbytes or end > len(data):
            raise ValueError(f"{path}: tensor {name}: bad data_offsets {[begin, end]}")
        spans.append((begin, end, name))
        arr = np.frombuffer(data[begin:end], dtype=_NUMPY_OF[dtype]).reshape(shape).copy()
        tensors[name] = (BF16(arr) if raw_bf16 else bf16_bits_to_float32(arr)) if dtype == "BF16" else arr
    pos = 0
    for begin, end, name in sorted(spans):
        if begin != pos:
            raise ValueError(f"{path}: tensor {name}: not contiguous (begins at {begin}, expected {pos})")
        pos = end
    if pos != len(data):
        raise ValueError(f"{path}: {len(data) - pos} bytes after the last tensor")
    return tensors, metadata


# ---------------------------------------------------------------------------------------------
# torch side


def _producer():
    import torch
    return f"rnnad_export.py (torch {torch.__version__})"


def expected_tensor_names(cfg):
    """state_dict names (without prefix) of a module described by an `rnn` config dict."""
    names = []
    for k in range(cfg["num_layers"]):
        for sfx in ("", "_reverse") if cfg["bidirectional"] else ("",):
            names += [f"weight_ih_l{k}{sfx}", f"weight_hh_l{k}{sfx}"]
            if cfg["bias"]:
                names += [f"bias_ih_l{k}{sfx}", f"bias_hh_l{k}{sfx}"]
            if cfg["proj_size"] > 0:
                names.append(f"weight_hr_l{k}{sfx}")
    return names


def rnn_config(module, prefix=""):
    """The `rnn` object of the config for an nn.LSTM / nn.GRU / nn.RNN. Dropout and batch_first
    are ignored (no effect on inference math as stored); anything else unsupported raises."""
    import torch.nn as nn
    if not isinstance(module, nn.RNNBase) or type(module) not in (nn.LSTM, nn.GRU, nn.RNN):
        raise ValueError(f"unsupported module {type(module).__name__}: rnnad exports nn.LSTM, nn.GRU and "
                         "nn.RNN (cell modules and subclasses are not supported)")
    mode = module.mode
    if mode not in ("LSTM", "GRU", "RNN_TANH", "RNN_RELU"):
        raise ValueError(f"unsupported recurrent mode {mode!r}")
    proj = int(getattr(module, "proj_size", 0))
    if proj and mode != "LSTM":
        raise ValueError(f"proj_size={proj} is only valid for LSTM (module is {mode})")
    if not isinstance(prefix, str):
        raise ValueError("prefix must be a string")
    cfg = {"mode": mode, "input_size": int(module.input_size), "hidden_size": int(module.hidden_size),
           "num_layers": int(module.num_layers), "bidirectional": bool(module.bidirectional),
           "bias": bool(module.bias), "proj_size": proj, "prefix": prefix}
    for key in ("input_size", "hidden_size"):
        if not 1 <= cfg[key] <= 1 << 20:
            raise ValueError(f"{key}={cfg[key]} outside [1, 2^20]")
    if not 1 <= cfg["num_layers"] <= 1024:
        raise ValueError(f"num_layers={cfg['num_layers']} outside [1, 1024]")
    have, want = set(module.state_dict().keys()), set(expected_tensor_names(cfg))
    if have != want:
        raise ValueError(f"state_dict does not match a plain {mode} module: missing {sorted(want - have)}, "
                         f"unexpected {sorted(have - want)}")
    return cfg


def _weights(module, dtype):
    import torch
    if dtype not in ("F32", "F16", "BF16"):
        raise ValueError(f"weight dtype must be F32, F16 or BF16, got {dtype!r}")
    out = {}
    for name, t in module.state_dict().items():
        if not t.is_floating_point():
            raise ValueError(f"tensor {name} is not floating point ({t.dtype})")
        a = t.detach().cpu().to(torch.float32).numpy()
        if dtype == "F16":
            a = a.astype(np.float16)
        elif dtype == "BF16":
            a = BF16(to_bf16_bits(a))
        check = a.to_float32() if isinstance(a, BF16) else a
        if not np.all(np.isfinite(check)):
            raise ValueError(f"tensor {name} has non-finite values in {dtype}")
        out[name] = a
    return out


def export_rnn(module, path, prefix="", dtype="F32"):
    """Write `module` (nn.LSTM/GRU/RNN) as an rnnad model file of kind "rnn"; returns the config."""
    config = {"format_version": FORMAT_VERSION, "kind": "rnn", "producer": _producer(),
              "rnn": rnn_config(module, prefix)}
    tensors = {prefix + k: v for k, v in _weights(module, dtype).items()}
    write_safetensors(path, tensors, {"rnnad.config": json.dumps(config), "format": "pt"})
    return config


def _as_f32(name, t):
    import torch
    if isinstance(t, np.ndarray):
        t = torch.from_numpy(t)
    if t.dtype != torch.float32:
        raise ValueError(f"{name} must be float32 (the reference stores exactly these values), got {t.dtype}")
    return t.detach().cpu().contiguous()


def reference_outputs(module, x, h0=None, c0=None, weights_dtype="F32"):
    """float64 outputs (output, h_n, c_n or None) of `module` for time-major float32 x.
    weights_dtype F16/BF16 first rounds the weights as export_rnn(dtype=...) stores them."""
    import torch
    cfg = rnn_config(module)
    m = copy.deepcopy(module).cpu().float()
    if weights_dtype != "F32":
        m.load_state_dict({k: torch.from_numpy(v.to_float32() if isinstance(v, BF16) else v.astype(np.float32))
                           for k, v in _weights(m, weights_dtype).items()})
    m = m.double().eval()
    x = _as_f32("x", x)
    if x.dim() != 3 or x.shape[2] != cfg["input_size"] or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"x must be (seq_len>=1, batch>=1, {cfg['input_size']}), got {list(x.shape)}")
    states = cfg["num_layers"] * (2 if cfg["bidirectional"] else 1)
    h_out = cfg["proj_size"] or cfg["hidden_size"]
    batch = x.shape[1]
    h = torch.zeros(states, batch, h_out, dtype=torch.float64) if h0 is None else _as_f32("h0", h0).double()
    c = torch.zeros(states, batch, cfg["hidden_size"], dtype=torch.float64) if c0 is None else _as_f32("c0", c0).double()
    if c0 is not None and cfg["mode"] != "LSTM":
        raise ValueError("c0 is only valid for LSTM")
    if list(h.shape) != [states, batch, h_out] or list(c.shape) != [states, batch, cfg["hidden_size"]]:
        raise ValueError(f"h0/c0 shapes {list(h.shape)}/{list(c.shape)} do not match "
                         f"[{states}, {batch}, {h_out}]/[{states}, {batch}, {cfg['hidden_size']}]")
    xin = x.double().transpose(0, 1) if m.batch_first else x.double()
    with torch.no_grad():
        if cfg["mode"] == "LSTM":
            out, (h_n, c_n) = m(xin, (h, c))
        else:
            (out, h_n), c_n = m(xin, h), None
    if m.batch_first:
        out = out.transpose(0, 1)
    as_np = lambda t: None if t is None else t.contiguous().numpy().astype(np.float64)
    return as_np(out), as_np(h_n), as_np(c_n)


def write_reference(path, module, x, h0=None, c0=None, description="", weights_dtype="F32"):
    """Write a reference file (docs/model_format.md §4). x: float32 (seq_len, batch, input_size),
    time-major whatever the module's batch_first; h0/c0: optional float32 states."""
    out, h_n, c_n = reference_outputs(module, x, h0, c0, weights_dtype)
    tensors = {"input": _as_f32("x", x).numpy(), "output": out, "h_n": h_n}
    if h0 is not None:
        tensors["h0"] = _as_f32("h0", h0).numpy()
    if c0 is not None:
        tensors["c0"] = _as_f32("c0", c0).numpy()
    if c_n is not None:
        tensors["c_n"] = c_n
    info = {"format_version": FORMAT_VERSION, "description": description, "producer": _producer()}
    write_safetensors(path, tensors, {"rnnad.reference": json.dumps(info)})
    return tensors


# ---------------------------------------------------------------------------------------------
# model kinds (docs/models.md): reconstruction, prediction, attention

MODEL_KINDS = ("reconstruction", "prediction", "attention")
_COMMON_FIELDS = ("cell", "input_size", "hidden_size", "num_layers")
_MODEL_FIELDS = {
    "reconstruction": _COMMON_FIELDS + ("bidirectional_encoder", "decode", "seq_len"),
    "prediction": _COMMON_FIELDS + ("horizon", "targets", "output", "state", "seq_len"),
    "attention": _COMMON_FIELDS + ("attention_size", "seq_len"),
}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_model_config(kind, model):
    """Validate a `model` config object of `kind` as docs/models.md defines it (types, ranges, no
    unknown fields); returns a copy with defaults filled in. Raises ValueError naming the field."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"kind must be one of {MODEL_KINDS}, got {kind!r}")
    if not isinstance(model, dict):
        raise ValueError("model config must be an object")
    unknown = sorted(set(model) - set(_MODEL_FIELDS[kind]))
    if unknown:
        raise ValueError(f"{kind}: unknown model config field(s) {unknown}")
    cfg = dict(model)
    if kind == "reconstruction":
        cfg.setdefault("bidirectional_encoder", False)
    if kind == "prediction":
        cfg.setdefault("output", "point")
        cfg.setdefault("state", "windowed")
    optional = {"seq_len"} if kind == "prediction" else set()
    missing = sorted(set(_MODEL_FIELDS[kind]) - set(cfg) - optional)
    if missing:
        raise ValueError(f"{kind}: missing model config field(s) {missing}")

    def need(field, ok, what):
        if not ok(cfg[field]):
            raise ValueError(f"{kind}: model.{field} = {cfg[field]!r} is not {what}")

    need("cell", lambda v: v in ("LSTM", "GRU"), "'LSTM' or 'GRU'")
    for field in ("input_size", "hidden_size"):
        need(field, lambda v: _is_int(v) and 1 <= v <= 1 << 20, "an int in [1, 2^20]")
    need("num_layers", lambda v: _is_int(v) and 1 <= v <= 1024, "an int in [1, 1024]")
    if "seq_len" in cfg:
        need("seq_len", lambda v: _is_int(v) and v >= 1, "an int >= 1")
    if kind == "reconstruction":
        need("bidirectional_encoder", lambda v: isinstance(v, bool), "a bool")
        need("decode", lambda v: v in ("reverse", "forward"), "'reverse' or 'forward'")
    elif kind == "attention":
        need("attention_size", lambda v: _is_int(v) and 1 <= v <= 1 << 20, "an int in [1, 2^20]")
    else:
        need("horizon", lambda v: _is_int(v) and v >= 1, "an int >= 1")
        need("output", lambda v: v in ("point", "gaussian"), "'point' or 'gaussian'")
        need("state", lambda v: v in ("windowed", "stateful"), "'windowed' or 'stateful'")
        need("targets", lambda v: isinstance(v, list) and len(v) >= 1 and len(set(map(repr, v))) == len(v)
             and all(_is_int(t) and 0 <= t < cfg["input_size"] for t in v),
             f"a non-empty list of distinct ints in [0, {cfg['input_size']})")
        if cfg["state"] == "windowed" and "seq_len" not in cfg:
            raise ValueError(f"{kind}: model.seq_len is required with state 'windowed'")
        if cfg["state"] == "stateful" and "seq_len" in cfg:
            raise ValueError(f"{kind}: model.seq_len is for state 'windowed' only")
    return cfg


def _rnn_tensors(prefix, cell, input_size, hidden, layers, bidirectional=False):
    gates = (4 if cell == "LSTM" else 3) * hidden
    d = 2 if bidirectional else 1
    out = {}
    for k in range(layers):
        for sfx in ("", "_reverse") if bidirectional else ("",):
            out[f"{prefix}weight_ih_l{k}{sfx}"] = [gates, input_size if k == 0 else d * hidden]
            out[f"{prefix}weight_hh_l{k}{sfx}"] = [gates, hidden]
            out[f"{prefix}bias_ih_l{k}{sfx}"] = [gates]
            out[f"{prefix}bias_hh_l{k}{sfx}"] = [gates]
    return out


def expected_model_tensors(kind, model):
    """name -> shape of every tensor docs/models.md lists for a `kind` with config `model`."""
    c = check_model_config(kind, model)
    cell, I, H, L = c["cell"], c["input_size"], c["hidden_size"], c["num_layers"]
    if kind == "prediction":
        P = c["horizon"] * (2 if c["output"] == "gaussian" else 1) * len(c["targets"])
        return {**_rnn_tensors("rnn.", cell, I, H, L), "head.weight": [P, H], "head.bias": [P]}
    if kind == "reconstruction":
        t = {**_rnn_tensors("encoder.", cell, I, H, L, c["bidirectional_encoder"]),
             **_rnn_tensors("decoder.", cell, I, H, L)}
        if c["bidirectional_encoder"]:
            t.update({"bridge_h.weight": [H, 2 * H], "bridge_h.bias": [H]})
            if cell == "LSTM":
                t.update({"bridge_c.weight": [H, 2 * H], "bridge_c.bias": [H]})
    else:
        A = c["attention_size"]
        t = {**_rnn_tensors("encoder.", cell, I, H, L), **_rnn_tensors("decoder.", cell, I + H, H, L),
             "attention.query.weight": [A, H], "attention.key.weight": [A, H], "attention.key.bias": [A],
             "attention.v.weight": [1, A]}
    t.update({"output.weight": [I, H], "output.bias": [I]})
    return t


def model_config(module):
    """(kind, checked `model` config object) of an rnnad_models module; checks that its
    state_dict holds exactly the documented tensors with the documented shapes."""
    kind = getattr(module, "kind", None)
    if kind not in MODEL_KINDS or not callable(getattr(module, "config", None)):
        raise ValueError(f"unsupported module {type(module).__name__}: export_model takes the modules of "
                         "rnnad_models.py (Reconstruction, Prediction, Attention); use export_rnn for nn.LSTM/GRU/RNN")
    cfg = check_model_config(kind, module.config())
    want = expected_model_tensors(kind, cfg)
    have = {k: list(v.shape) for k, v in module.state_dict().items()}
    if set(have) != set(want):
        raise ValueError(f"{kind}: state_dict does not match docs/models.md: missing {sorted(set(want) - set(have))}, "
                         f"unexpected {sorted(set(have) - set(want))}")
    for name, shape in want.items():
        if have[name] != shape:
            raise ValueError(f"{kind}: tensor {name} has shape {have[name]}, docs/models.md says {shape}")
    return kind, cfg


def export_model(module, path, dtype="F32", normalization=None, scoring=None, threshold=None,
                 stats=None, training=None):
    """Write an rnnad_models module (kind reconstruction / prediction / attention) as an rnnad model
    file: config {format_version, kind, producer, model}, tensors = the module's state_dict.

    Optional (docs/scoring.md; see train.py's docstring for the exact fields): `normalization`,
    `scoring` and `threshold` config objects, checked by check_scoring_config(); `stats` (the
    rnnad_scoring.fit_stats() result, required exactly when scoring.method is mahalanobis or
    lstm_ad) adds the F64 tensors scoring.mean [k] and scoring.precision [k, k]; `training` (a
    JSON-able dict) goes to __metadata__["rnnad.training"], which the engine ignores."""
    kind, cfg = model_config(module)
    config = {"format_version": FORMAT_VERSION, "kind": kind, "producer": _producer(), "model": cfg}
    tensors = _weights(module, dtype)
    if normalization is not None or scoring is not None or threshold is not None or stats is not None:
        check_scoring_config(kind, cfg, normalization, scoring, threshold, stats)
    if normalization is not None:
        config["normalization"] = normalization
    if scoring is not None:
        config["scoring"] = scoring
        if stats is not None:
            tensors["scoring.mean"] = np.ascontiguousarray(stats["mean"], dtype=np.float64)
            tensors["scoring.precision"] = np.ascontiguousarray(stats["precision"], dtype=np.float64)
    if threshold is not None:
        config["threshold"] = threshold
    meta = {"rnnad.config": json.dumps(config, allow_nan=False), "format": "pt"}
    if training is not None:
        meta["rnnad.training"] = json.dumps(training, allow_nan=False)
    write_safetensors(path, tensors, meta)
    return config


SCORING_METHODS = ("absolute", "squared", "gaussian_nll", "mahalanobis", "lstm_ad")


def _finite_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def check_scoring_config(kind, model, normalization, scoring, threshold=None, stats=None):
    """Check the `normalization`, `scoring` and `threshold` objects written by train.py (the exact
    fields listed in train.py's docstring); raises ValueError naming the field."""
    F = model["input_size"]
    if normalization is not None:
        n = normalization
        method = n.get("method")
        allowed = {"zscore": {"method", "mean", "std", "features"}, "minmax": {"method", "min", "max", "features"},
                   "none": {"method", "features"}}
        if method not in allowed:
            raise ValueError(f"normalization.method = {method!r} is not zscore, minmax or none")
        if set(n) - allowed[method]:
            raise ValueError(f"normalization: unknown field(s) {sorted(set(n) - allowed[method])}")
        for key in sorted(allowed[method] - {"method", "features"}):
            v = n.get(key)
            if not isinstance(v, list) or len(v) != F or not all(_finite_number(a) for a in v):
                raise ValueError(f"normalization.{key} must be a list of {F} finite numbers")
        if method == "zscore" and any(s < 0 for s in n["std"]):
            raise ValueError("normalization.std must be >= 0")
        if method == "minmax" and any(b < a for a, b in zip(n["min"], n["max"])):
            raise ValueError("normalization.max must be >= min")
        if "features" in n and (not isinstance(n["features"], list) or len(n["features"]) != F
                                or not all(isinstance(f, str) for f in n["features"])):
            raise ValueError(f"normalization.features must be a list of {F} strings")
    if scoring is None:
        if stats is not None:
            raise ValueError("scoring statistics without a scoring object")
    else:
        s = scoring
        method = s.get("method")
        if method not in SCORING_METHODS:
            raise ValueError(f"scoring.method = {method!r} is not one of {SCORING_METHODS}")
        windowed = kind != "prediction" or model["state"] == "windowed"
        fields = {"method"}
        if kind in ("reconstruction", "attention"):
            fields.add("pooling")
        if windowed:
            fields.add("stride")
        if method in ("mahalanobis", "lstm_ad"):
            fields |= {"ridge", "log_det"}
        if set(s) != fields:
            raise ValueError(f"scoring: fields {sorted(s)}, expected exactly {sorted(fields)} for {kind} {method}")
        ok = {"reconstruction": ("absolute", "squared", "mahalanobis"),
              "attention": ("absolute", "squared", "mahalanobis"),
              "prediction": ("absolute", "squared", "lstm_ad") +
                            (("gaussian_nll",) if model.get("output") == "gaussian" else ())}[kind]
        if method not in ok:
            raise ValueError(f"scoring.method {method!r} does not apply to {kind} (use one of {ok})")
        if "pooling" in s and s["pooling"] not in ("mean", "max", "last"):
            raise ValueError(f"scoring.pooling = {s['pooling']!r} is not mean, max or last")
        if "stride" in s and not (_is_int(s["stride"]) and s["stride"] >= 1):
            raise ValueError(f"scoring.stride = {s['stride']!r} is not an int >= 1")
        if kind == "prediction" and method == "lstm_ad" and s.get("stride", 1) != 1:
            raise ValueError("scoring.stride must be 1 for lstm_ad (every row needs all horizon forecasts)")
        if method in ("mahalanobis", "lstm_ad"):
            if not (_finite_number(s["ridge"]) and s["ridge"] >= 0) or not _finite_number(s["log_det"]):
                raise ValueError("scoring.ridge must be a finite number >= 0 and scoring.log_det finite")
            k = F if method == "mahalanobis" else model["horizon"] * len(model["targets"])
            if stats is None:
                raise ValueError(f"scoring.method {method} needs statistics (scoring.mean, scoring.precision)")
            mu, P = np.asarray(stats["mean"]), np.asarray(stats["precision"])
            if mu.shape != (k,) or P.shape != (k, k) or not (np.all(np.isfinite(mu)) and np.all(np.isfinite(P))):
                raise ValueError(f"scoring.mean must be [{k}] and scoring.precision [{k}, {k}], finite")
        elif stats is not None:
            raise ValueError(f"scoring.method {method} takes no statistics")
    if threshold is not None:
        t = threshold
        if set(t) != {"method", "value", "calibration", "spot"} or t["method"] != "static":
            raise ValueError("threshold must be {method: 'static', value, calibration, spot}")
        if not _finite_number(t["value"]) or not isinstance(t["calibration"], str):
            raise ValueError("threshold.value must be a finite number and threshold.calibration a string")
        sp = t["spot"]
        if not isinstance(sp, dict) or set(sp) != {"q", "level"} or not _finite_number(sp["q"]) \
                or not _finite_number(sp["level"]) or not (0 <= sp["level"] < 1 and 0 < sp["q"] < 1 - sp["level"]):
            raise ValueError("threshold.spot must be {q, level} with level in [0, 1) and q in (0, 1 - level)")


def write_score_reference(path, series, scores, contributions, description="", first_row=0):
    """Write a scoring reference file: series F64 [N, F] (raw values), scores F64 [N] (NaN = no
    score), contributions F64 [N, F'] (NaN rows where no score), and __metadata__["rnnad.reference"]
    = {format_version, description, producer, first_row}."""
    series = np.ascontiguousarray(series, dtype=np.float64)
    scores = np.ascontiguousarray(scores, dtype=np.float64)
    contributions = np.ascontiguousarray(contributions, dtype=np.float64)
    N = series.shape[0]
    if series.ndim != 2 or scores.shape != (N,) or contributions.ndim != 2 or contributions.shape[0] != N:
        raise ValueError(f"shapes series {series.shape}, scores {scores.shape}, contributions {contributions.shape}")
    if not np.all(np.isfinite(series)):
        raise ValueError("series must be finite")
    nan_rows = np.isnan(scores)
    if not np.array_equal(np.all(np.isnan(contributions), axis=1), nan_rows) or \
            np.any(np.isnan(contributions[~nan_rows])) or np.any(np.isinf(scores)) or np.any(np.isinf(contributions)):
        raise ValueError("contributions must be NaN exactly on the rows without a score, all else finite")
    if not _is_int(first_row) or first_row < 0:
        raise ValueError("first_row must be an int >= 0")
    info = {"format_version": FORMAT_VERSION, "description": description, "producer": _producer(),
            "first_row": first_row}
    tensors = {"series": series, "scores": scores, "contributions": contributions}
    write_safetensors(path, tensors, {"rnnad.reference": json.dumps(info)})
    return tensors


def model_reference_outputs(module, x, weights_dtype="F32"):
    """float64 reference tensors (name -> numpy array, without `input`) of an rnnad_models module
    for the time-major float32 input x, computed on a float64 deep copy in eval mode.
    weights_dtype F16/BF16 first rounds the weights as export_model(dtype=...) stores them."""
    import torch
    kind, cfg = model_config(module)
    m = copy.deepcopy(module).cpu().float()
    if weights_dtype != "F32":
        m.load_state_dict({k: torch.from_numpy(v.to_float32() if isinstance(v, BF16) else v.astype(np.float32))
                           for k, v in _weights(m, weights_dtype).items()})
    m = m.double().eval()
    x = _as_f32("x", x)
    T = cfg.get("seq_len")
    if x.dim() != 3 or x.shape[2] != cfg["input_size"] or x.shape[0] < 1 or x.shape[1] < 1 or \
            (T is not None and x.shape[0] != T):
        raise ValueError(f"x must be ({T if T is not None else 'N>=1'}, batch>=1, {cfg['input_size']}), "
                         f"got {list(x.shape)}")
    as_np = lambda t: t.detach().contiguous().numpy().astype(np.float64)
    with torch.no_grad():
        if kind == "reconstruction":
            return {"reconstruction": as_np(m(x.double()))}
        if kind == "attention":
            rec, weights = m(x.double())
            return {"reconstruction": as_np(rec), "attention": as_np(weights)}
        if cfg["state"] == "windowed":
            return {"prediction": as_np(m(x.double()))}
        return {"prediction": as_np(m(x.double())[0])}


def write_model_reference(path, module, x, description="", weights_dtype="F32"):
    """Write the reference file (docs/model_format.md §4) of an rnnad_models module: x is the
    float32 time-major input ([seq_len, B, I], or [N, B, I] for a stateful prediction model, fed
    from a zero state); outputs are float64. Returns the tensors written."""
    tensors = {"input": _as_f32("x", x).numpy(), **model_reference_outputs(module, x, weights_dtype)}
    info = {"format_version": FORMAT_VERSION, "description": description, "producer": _producer()}
    write_safetensors(path, tensors, {"rnnad.reference": json.dumps(info)})
    return tensors


def reference_path(model_path):
    base = model_path[:-len(".safetensors")] if model_path.endswith(".safetensors") else model_path
    return base + ".reference.safetensors"


def main(argv=None):
    p = argparse.ArgumentParser(description="Export a torch.save'd nn.LSTM/GRU/RNN to an rnnad model file.")
    p.add_argument("module", help="file written by torch.save(module) (a whole module, not a state_dict)")
    p.add_argument("out", help="output model file, e.g. model.safetensors")
    p.add_argument("--submodule", default="", help="dotted attribute path of the recurrent module, e.g. encoder")
    p.add_argument("--prefix", default="", help="prefix of every tensor name, e.g. 'encoder.'")
    p.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"], help="weight dtype (default F32)")
    p.add_argument("--reference-steps", type=int, default=0, metavar="T",
                   help="also write OUT's .reference.safetensors for a seeded N(0,1) input of T steps")
    p.add_argument("--reference-batch", type=int, default=1, metavar="B", help="batch of that input (default 1)")
    args = p.parse_args(argv)
    import torch
    module = torch.load(args.module, map_location="cpu")
    for attr in filter(None, args.submodule.split(".")):
        module = getattr(module, attr)
    try:
        cfg = export_rnn(module, args.out, args.prefix, args.dtype)
        print(f"wrote {args.out}: {json.dumps(cfg['rnn'])}")
        if args.reference_steps > 0:
            gen = torch.Generator().manual_seed(0)
            x = torch.randn(args.reference_steps, args.reference_batch, cfg["rnn"]["input_size"], generator=gen)
            ref = reference_path(args.out)
            write_reference(ref, module, x, description=f"seeded N(0,1) input, T={args.reference_steps}, "
                            f"B={args.reference_batch}", weights_dtype=args.dtype)
            print(f"wrote {ref}")
    except ValueError as e:
        print(f"rnnad_export: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
