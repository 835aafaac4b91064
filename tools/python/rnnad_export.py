"""Export PyTorch recurrent modules to rnnad model files and write reference files.

Implements docs/model_format.md (format version 1) with the Python standard library and numpy
only for the container; torch is needed only by the functions that take a module.

Library use (run with Debian's interpreter, /usr/bin/python3):

    import rnnad_export as rx
    rx.export_rnn(lstm, "model.safetensors")                   # kind "rnn", F32 weights
    rx.write_reference("model.reference.safetensors", lstm, x)  # x: float32, (T, B, input_size)
    tensors, metadata = rx.read_safetensors("model.safetensors")

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
