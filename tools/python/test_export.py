"""Self-check of the Python tools (rnnad_export.py, make_golden.py). Exits non-zero on failure.

    /usr/bin/python3 tools/python/test_export.py [-v]

Checks: the exact safetensors byte layout written by write_safetensors (header length, space
padding to 8 bytes, compact JSON with __metadata__ first, dtype/name order, contiguous offsets,
little-endian data); bf16/fp16 conversion of known values; that a failed atomic write leaves no
file behind; export_rnn / write_reference on small modules (names, config, float64 reference vs
PyTorch float32, batch_first, F16/BF16 weights, rejections); and that make_golden's committed set
covers every pair of axis values and matches tests/golden/cases.txt. Model kinds (rnnad_models.py,
docs/models.md): state_dict names equal the documented names; every kind equals a hand-unrolled
numpy float64 implementation of the docs' equations (so the reverse decoder is shown to feed its own
outputs at inference); teacher forcing differs from inference; a stateful prediction model fed in
chunks equals one pass; attention weights sum to 1; export_model / write_model_reference round trip
and rejections; and tests/golden/models is exactly what make_golden --set models writes.
Runs in a few seconds.
"""
import contextlib
import copy
import io
import json
import os
import struct
import sys
import tempfile
import unittest
from unittest import mock

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()
sys.path.insert(0, HERE)
import make_golden as mg  # noqa: E402
import rnnad_export as rx  # noqa: E402
import rnnad_models as rm  # noqa: E402


class Container(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "t.safetensors")

    def tearDown(self):
        self.dir.cleanup()

    def test_byte_layout(self):
        tensors = {
            "h16": np.array([1.5, -2.0, 65504.0], dtype=np.float16),
            "b32": np.arange(6, dtype=np.float32).reshape(2, 3),
            "a32": np.array(3.25, dtype=np.float32),             # scalar, shape []
            "empty": np.zeros((0, 3), dtype=np.float32),          # BEGIN == END
            "z64": np.array([1.0, -1e300], dtype=np.float64),
            "bf": rx.BF16(np.array([0x3F80, 0xC000, 0x7F80], dtype=np.uint16)),
        }
        meta = {"rnnad.config": '{"a": 1}', "format": "pt"}
        rx.write_safetensors(self.path, tensors, meta)
        blob = read_bytes(self.path)
        (n,) = struct.unpack("<Q", blob[:8])
        self.assertEqual((8 + n) % 8, 0)
        raw = blob[8:8 + n]
        text = raw.rstrip(b" ")
        self.assertTrue(raw[len(text):] == b" " * (n - len(text)) and n - len(text) < 8)
        self.assertTrue(text.startswith(b'{"__metadata__":'))
        header = json.loads(text)
        self.assertEqual(json.dumps(header, separators=(",", ":")).encode(), text)  # compact, order kept
        self.assertEqual(header.pop("__metadata__"), meta)
        self.assertEqual(list(header), ["z64", "a32", "b32", "empty", "bf", "h16"])  # F64 F32 BF16 F16, then name
        pos, data = 0, blob[8 + n:]
        for name, info in header.items():
            begin, end = info["data_offsets"]
            self.assertEqual(begin, pos, name)
            pos = end
            arr = tensors[name].bits if name == "bf" else tensors[name]
            self.assertEqual(info["shape"], list(arr.shape))
            self.assertEqual(data[begin:end], arr.astype(arr.dtype.newbyteorder("<")).tobytes())
            self.assertEqual(begin % arr.dtype.itemsize, 0)
        self.assertEqual(pos, len(data))
        self.assertEqual(header["bf"]["dtype"], "BF16")
        back, back_meta = rx.read_safetensors(self.path)
        self.assertEqual(back_meta, meta)
        np.testing.assert_array_equal(back["bf"], np.array([1.0, -2.0, np.inf], dtype=np.float32))
        np.testing.assert_array_equal(back["z64"], tensors["z64"])
        self.assertEqual(back["a32"].shape, ())
        np.testing.assert_array_equal(rx.read_safetensors(self.path, raw_bf16=True)[0]["bf"].bits, tensors["bf"].bits)

    def test_no_metadata_and_rejections(self):
        rx.write_safetensors(self.path, {"x": np.ones(2, np.float32)})
        self.assertNotIn(b"__metadata__", read_bytes(self.path))
        for bad in ({"x": np.ones(2, np.int32)}, {"__metadata__": np.ones(1, np.float32)}):
            with self.assertRaises(ValueError):
                rx.write_safetensors(self.path, bad)
        with self.assertRaises(ValueError):
            rx.write_safetensors(self.path, {}, {"k": 1})

    def test_atomic_write_leaves_nothing(self):
        with mock.patch.object(rx.os, "replace", side_effect=OSError("disk gone")):
            with self.assertRaises(OSError):
                rx.write_safetensors(self.path, {"x": np.ones(4, np.float32)})
        self.assertEqual(os.listdir(self.dir.name), [])
        rx.write_safetensors(self.path, {"x": np.ones(4, np.float32)})
        before = read_bytes(self.path)
        with mock.patch.object(rx.os, "fsync", side_effect=OSError("io error")):
            with self.assertRaises(OSError):
                rx.write_safetensors(self.path, {"x": np.zeros(9, np.float32)})
        self.assertEqual(os.listdir(self.dir.name), ["t.safetensors"])
        self.assertEqual(read_bytes(self.path), before)
        with self.assertRaises(ValueError):  # invalid input: rejected before any file is created
            rx.write_safetensors(os.path.join(self.dir.name, "u.safetensors"), {"x": np.ones(1, np.int64)})
        self.assertEqual(os.listdir(self.dir.name), ["t.safetensors"])


class Conversions(unittest.TestCase):
    def test_bf16(self):
        f = np.array([1.0, -2.0, 0.0, -0.0, np.inf, -np.inf, 3.140625,
                      np.frombuffer(struct.pack("<I", 0x3F808000), "<f4")[0],    # tie, even below -> down
                      np.frombuffer(struct.pack("<I", 0x3F818000), "<f4")[0],    # tie, odd below -> up
                      np.frombuffer(struct.pack("<I", 0x3F808001), "<f4")[0],    # above tie -> up
                      np.finfo(np.float32).max, 1e-40], dtype=np.float32)
        want = [0x3F80, 0xC000, 0x0000, 0x8000, 0x7F80, 0xFF80, 0x4049, 0x3F80, 0x3F82, 0x3F81, 0x7F80, 0x0001]
        self.assertEqual(rx.to_bf16_bits(f).tolist(), want)
        nan = rx.to_bf16_bits(np.array([np.nan, -np.nan], dtype=np.float32))
        self.assertTrue(np.all(np.isnan(rx.bf16_bits_to_float32(nan))))
        self.assertEqual(rx.bf16_bits_to_float32(np.array([0x3F80, 0x4049], np.uint16)).tolist(), [1.0, 3.140625])

    def test_f16(self):
        f = np.array([1.0, 65504.0, 65520.0, 2.0 ** -24, 1.0 + 2.0 ** -11, 0.1], dtype=np.float32)
        with np.errstate(over="ignore"):
            bits = f.astype(np.float16).view(np.uint16).tolist()
        self.assertEqual(bits, [0x3C00, 0x7BFF, 0x7C00, 0x0001, 0x3C00, 0x2E66])


class Export(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        torch.manual_seed(7)

    def tearDown(self):
        self.dir.cleanup()

    def p(self, name):
        return os.path.join(self.dir.name, name)

    def check_reference(self, module, x, h0=None, c0=None):
        ref = rx.write_reference(self.p("r.safetensors"), module, x, h0, c0, "d")
        tensors, meta = rx.read_safetensors(self.p("r.safetensors"))
        info = json.loads(meta["rnnad.reference"])
        self.assertEqual((info["format_version"], info["description"]), (1, "d"))
        self.assertEqual(tensors["input"].dtype, np.float32)
        self.assertEqual(tensors["output"].dtype, np.float64)
        self.assertEqual(set(tensors), {"input", "output", "h_n"} | ({"c_n"} if isinstance(module, torch.nn.LSTM) else set())
                         | ({"h0"} if h0 is not None else set()) | ({"c0"} if c0 is not None else set()))
        self.assertLess(mg.fp32_error(module, x, h0, c0, ref), 0.5)
        return ref

    def test_modules(self):
        for module in (torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2, dropout=0.5),
                       torch.nn.GRU(2, 4, bias=False), torch.nn.RNN(1, 3, nonlinearity="relu", num_layers=3)):
            cfg = rx.export_rnn(module, self.p("m.safetensors"), prefix="enc.")
            tensors, meta = rx.read_safetensors(self.p("m.safetensors"))
            self.assertEqual(json.loads(meta["rnnad.config"]), cfg)
            self.assertEqual(meta["format"], "pt")
            self.assertEqual(set(tensors), {"enc." + k for k in module.state_dict()})
            for k, v in module.state_dict().items():
                np.testing.assert_array_equal(tensors["enc." + k], v.numpy())
            h0 = torch.rand(cfg["rnn"]["num_layers"] * (1 + cfg["rnn"]["bidirectional"]), 2,
                            cfg["rnn"]["proj_size"] or cfg["rnn"]["hidden_size"])
            self.check_reference(module.train(), torch.randn(6, 2, cfg["rnn"]["input_size"]), h0)
        self.assertEqual(cfg["rnn"]["mode"], "RNN_RELU")

    def test_batch_first_reference_is_time_major(self):
        bf = torch.nn.LSTM(2, 3, num_layers=2, batch_first=True)
        tm = torch.nn.LSTM(2, 3, num_layers=2)
        tm.load_state_dict(bf.state_dict())
        x, h0 = torch.randn(4, 2, 2), torch.rand(2, 2, 3)
        a, b = self.check_reference(bf, x, h0, -h0), self.check_reference(tm, x, h0, -h0)
        for key in ("output", "h_n", "c_n"):
            np.testing.assert_array_equal(a[key], b[key])

    def test_half_weights(self):
        m = torch.nn.GRU(3, 4)
        for dtype in ("F16", "BF16"):
            rx.export_rnn(m, self.p("h.safetensors"), dtype=dtype)
            tensors, _ = rx.read_safetensors(self.p("h.safetensors"))
            w = m.state_dict()["weight_ih_l0"].numpy()
            np.testing.assert_allclose(tensors["weight_ih_l0"], w, rtol=1e-2)
            out = rx.reference_outputs(m, torch.randn(5, 1, 3), weights_dtype=dtype)[0]
            self.assertTrue(np.all(np.isfinite(out)))

    def test_rejections(self):
        with self.assertRaises(ValueError):
            rx.rnn_config(torch.nn.LSTMCell(2, 3))
        with self.assertRaises(ValueError):
            rx.rnn_config(torch.nn.Linear(2, 3))
        m = torch.nn.LSTM(2, 3)
        with torch.no_grad():
            m.weight_hh_l0[0, 0] = float("nan")
        with self.assertRaises(ValueError):
            rx.export_rnn(m, self.p("n.safetensors"))
        with self.assertRaises(ValueError):
            rx.export_rnn(torch.nn.LSTM(2, 3), self.p("n.safetensors"), dtype="F64")
        with self.assertRaises(ValueError):
            rx.write_reference(self.p("n.safetensors"), torch.nn.LSTM(2, 3), torch.randn(4, 1, 2).double())
        with self.assertRaises(ValueError):
            rx.write_reference(self.p("n.safetensors"), torch.nn.LSTM(2, 3), torch.randn(4, 1, 3))
        with self.assertRaises(ValueError):  # batch-first-shaped h0 is not accepted
            rx.write_reference(self.p("n.safetensors"), torch.nn.LSTM(2, 3, num_layers=2), torch.randn(4, 3, 2),
                               torch.zeros(3, 2, 3))
        self.assertFalse(os.path.exists(self.p("n.safetensors")))


class Golden(unittest.TestCase):
    def test_committed_covers_all_pairs(self):
        cases = mg.committed_cases()
        self.assertGreaterEqual(len(cases), 150)
        self.assertEqual(len({mg.case_name(c) for c in cases}), len(cases))
        self.assertEqual(set().union(*(mg.tuples_of(c, 2) for c in cases)), mg.all_pairs())
        self.assertEqual(len({tuple(c[i] for i in mg.FIXED) for c in cases}), 40)
        self.assertLess(sum(mg.estimated_bytes(c) for c in cases), mg.SIZE_LIMIT)
        self.assertEqual(cases, mg.committed_cases())  # deterministic
        listing = os.path.join(HERE, "..", "..", "tests", "golden", "cases.txt")
        if os.path.exists(listing):  # the committed files were generated from this selection
            self.assertEqual(read_bytes(listing).decode().split(), sorted(mg.case_name(c) for c in cases))

    def test_lstmp_hidden_rule(self):
        self.assertEqual(mg.sizes(("LSTMP", 3, 1, 1, False, 1, 1, False)), (2, 1))
        self.assertEqual(mg.sizes(("LSTMP", 3, 64, 1, False, 1, 1, False)), (64, 32))
        self.assertEqual(mg.sizes(("LSTM", 3, 1, 1, False, 1, 1, False)), (1, 0))

    def test_field_set(self):
        with tempfile.TemporaryDirectory() as d:
            files, _ = mg.run_field(d)
            self.assertEqual(len(files), 8)
            swapped, _ = rx.read_safetensors(os.path.join(d, "f05_bilstm_swapped.safetensors"))
            plain, _ = rx.read_safetensors(os.path.join(d, "f05_bilstm.safetensors"))
            np.testing.assert_array_equal(swapped["weight_ih_l1"], plain["weight_ih_l1_reverse"])


# ---------------------------------------------------------------------------------------------
# model kinds (docs/models.md)

def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


class NpStack:
    """A unidirectional nn.LSTM/GRU stack from its state_dict, stepped by hand in float64
    (algorithms.md §5.1), independent of torch's recurrent kernels."""

    def __init__(self, sd, prefix, cell, layers, sfx=""):
        self.cell, self.layers = cell, layers
        g = lambda n, k: sd[f"{prefix}{n}_l{k}{sfx}"].double().numpy()
        self.w = [(g("weight_ih", k), g("weight_hh", k), g("bias_ih", k), g("bias_hh", k)) for k in range(layers)]

    def step(self, x, state):
        """x [B, in]; state: list of per-layer h (GRU) or (h, c) (LSTM) -> new state."""
        new, inp = [], x
        for (wi, wh, bi, bh), st in zip(self.w, state):
            if self.cell == "LSTM":
                h, c = st
                i, f, gg, o = np.split(inp @ wi.T + bi + h @ wh.T + bh, 4, axis=-1)
                c = sigmoid(f) * c + sigmoid(i) * np.tanh(gg)
                h = sigmoid(o) * np.tanh(c)
                new.append((h, c))
            else:
                h = st
                xr, xz, xn = np.split(inp @ wi.T + bi, 3, axis=-1)
                hr, hz, hn = np.split(h @ wh.T + bh, 3, axis=-1)
                r, z = sigmoid(xr + hr), sigmoid(xz + hz)
                h = (1 - z) * np.tanh(xn + r * hn) + z * h
                new.append(h)
            inp = h
        return new

    def zeros(self, batch, hidden):
        z = lambda: np.zeros((batch, hidden))
        return [(z(), z()) if self.cell == "LSTM" else z() for _ in range(self.layers)]

    def top(self, state):
        return state[-1][0] if self.cell == "LSTM" else state[-1]

    def run(self, xs, state):
        """xs [T, B, in] -> (top-layer outputs [T, B, H], final state)."""
        outs = []
        for x in xs:
            state = self.step(x, state)
            outs.append(self.top(state))
        return np.stack(outs), state


def linear(sd, name, x, bias=True):
    y = x @ sd[name + ".weight"].double().numpy().T
    return y + sd[name + ".bias"].double().numpy() if bias else y


def np_encode(m, sd, x):
    """Encoder of a Reconstruction/Attention module by hand -> (top outputs, decoder initial state)."""
    B, H, L = x.shape[1], m.hidden_size, m.num_layers
    fwd = NpStack(sd, "encoder.", m.cell, L)
    if not getattr(m, "bidirectional_encoder", False):
        return fwd.run(x, fwd.zeros(B, H))
    # bidirectional: layer by layer, forward and reverse, output [fwd, rev] feeds the next layer
    finals, inp = [], x
    for k in range(L):
        f = NpStack({n.replace(f"_l{k}", "_l0"): v for n, v in sd.items() if f"_l{k}" in n}, "encoder.", m.cell, 1)
        r = NpStack({n.replace(f"_l{k}", "_l0"): v for n, v in sd.items() if f"_l{k}" in n}, "encoder.", m.cell, 1,
                    "_reverse")
        of, sf = f.run(inp, f.zeros(B, H))
        orv, sr = r.run(inp[::-1], r.zeros(B, H))
        inp = np.concatenate([of, orv[::-1]], -1)
        finals.append((sf[0], sr[0]))
    state = []
    for sf, sr in finals:
        if m.cell == "LSTM":
            state.append((linear(sd, "bridge_h", np.concatenate([sf[0], sr[0]], -1)),
                          linear(sd, "bridge_c", np.concatenate([sf[1], sr[1]], -1))))
        else:
            state.append(linear(sd, "bridge_h", np.concatenate([sf, sr], -1)))
    return None, state


def np_reconstruction(m, x, teacher_forcing=False):
    """docs/models.md reconstruction, hand-unrolled step by step."""
    sd, x = m.state_dict(), x.double().numpy()
    T = x.shape[0]
    dec = NpStack(sd, "decoder.", m.cell, m.num_layers)
    _, state = np_encode(m, sd, x)
    out = [None] * T
    if m.decode == "reverse":
        out[T - 1] = linear(sd, "output", dec.top(state))
        for i in range(T - 1, 0, -1):
            state = dec.step(x[i] if teacher_forcing else out[i], state)
            out[i - 1] = linear(sd, "output", dec.top(state))
    else:
        prev = np.zeros_like(x[0])
        for t in range(T):
            state = dec.step(prev, state)
            out[t] = linear(sd, "output", dec.top(state))
            prev = x[t] if teacher_forcing else out[t]
    return np.stack(out)


def np_attention(m, x, teacher_forcing=False):
    sd, x = m.state_dict(), x.double().numpy()
    enc_out, state = np_encode(m, sd, x)
    dec = NpStack(sd, "decoder.", m.cell, m.num_layers)
    keys = linear(sd, "attention.key", enc_out)
    prev, outs, weights = np.zeros_like(x[0]), [], []
    for t in range(x.shape[0]):
        q = linear(sd, "attention.query", dec.top(state), bias=False)
        e = linear(sd, "attention.v", np.tanh(q[None] + keys), bias=False)[..., 0]      # [T, B]
        a = np.exp(e - e.max(0)) / np.exp(e - e.max(0)).sum(0)
        ctx = (a[..., None] * enc_out).sum(0)
        state = dec.step(np.concatenate([prev, ctx], -1), state)
        outs.append(linear(sd, "output", dec.top(state)))
        weights.append(a.T)
        prev = x[t] if teacher_forcing else outs[-1]
    return np.stack(outs), np.stack(weights)


def np_prediction(m, x):
    sd, x = m.state_dict(), x.double().numpy()
    rnn = NpStack(sd, "rnn.", m.cell, m.num_layers)
    top, _ = rnn.run(x, rnn.zeros(x.shape[1], m.hidden_size))
    y = linear(sd, "head", top)
    return y[-1:] if m.state_mode == "windowed" else y


def small_modules():
    """One module per documented variant, float64, seeded."""
    torch.manual_seed(11)
    mods = []
    for cell in ("LSTM", "GRU"):
        for decode in ("reverse", "forward"):
            for bi in (False, True):
                for layers in (1, 2):
                    mods.append(rm.Reconstruction(cell, 3, 4, layers, bi, decode, seq_len=6))
        for output in ("point", "gaussian"):
            for state in ("windowed", "stateful"):
                mods.append(rm.Prediction(cell, 3, 4, 2, 2, [2, 0], output, state, 6 if state == "windowed" else None))
        for layers in (1, 2):
            mods.append(rm.Attention(cell, 3, 4, layers, 5, seq_len=6))
    return [m.double() for m in mods]


class Models(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        torch.manual_seed(5)

    def tearDown(self):
        self.dir.cleanup()

    def p(self, name):
        return os.path.join(self.dir.name, name)

    def test_state_dict_names_match_docs(self):
        def rnn(prefix, layers, bi=False):
            return {f"{prefix}{w}_l{k}{s}" for k in range(layers) for s in (("", "_reverse") if bi else ("",))
                    for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        lin = lambda *names: {f"{n}.{w}" for n in names for w in ("weight", "bias")}
        cases = [
            (rm.Reconstruction("LSTM", 3, 4, 2, True, "reverse", 5),
             rnn("encoder.", 2, True) | rnn("decoder.", 2) | lin("output", "bridge_h", "bridge_c")),
            (rm.Reconstruction("GRU", 3, 4, 2, True, "forward", 5),
             rnn("encoder.", 2, True) | rnn("decoder.", 2) | lin("output", "bridge_h")),
            (rm.Reconstruction("LSTM", 3, 4, 1, False, "forward", 5), rnn("encoder.", 1) | rnn("decoder.", 1) | lin("output")),
            (rm.Prediction("GRU", 3, 4, 2, 3, [1], "gaussian", "stateful"), rnn("rnn.", 2) | lin("head")),
            (rm.Prediction("LSTM", 3, 4, 1, 3, [1], "point", "windowed", 7, dropout=0.3), rnn("rnn.", 1) | lin("head")),
            (rm.Attention("LSTM", 3, 4, 2, 5, 7), rnn("encoder.", 2) | rnn("decoder.", 2) | lin("output", "attention.key")
             | {"attention.query.weight", "attention.v.weight"}),
        ]
        for m, want in cases:
            self.assertEqual(set(m.state_dict()), want, m.config())
            self.assertEqual(set(rx.expected_model_tensors(m.kind, m.config())), want)
            rx.model_config(m)  # shapes as documented
        m = cases[-1][0]
        self.assertEqual(list(m.state_dict()["decoder.weight_ih_l0"].shape), [16, 3 + 4])
        self.assertEqual(list(m.state_dict()["attention.v.weight"].shape), [1, 5])
        p = rm.Prediction("LSTM", 3, 4, 1, 3, [2, 0], "gaussian", "stateful")
        self.assertEqual(list(p.state_dict()["head.weight"].shape), [3 * 2 * 2, 4])

    def test_equal_hand_unrolled(self):
        """Every variant equals the docs' equations stepped by hand (numpy float64). For the
        reverse decoder this shows that at inference it feeds its own outputs."""
        x = torch.randn(6, 2, 3, dtype=torch.float64) * 2
        for m in small_modules():
            m.eval()
            with torch.no_grad():
                if isinstance(m, rm.Attention):
                    rec, a = m(x)
                    want_rec, want_a = np_attention(m, x)
                    np.testing.assert_allclose(a.numpy(), want_a, rtol=1e-10, atol=1e-12)
                    rec_tf, a_tf = m(x, teacher_forcing=True)
                    want_tf, want_atf = np_attention(m, x, teacher_forcing=True)
                    np.testing.assert_allclose(rec_tf.numpy(), want_tf, rtol=1e-10, atol=1e-12)
                    np.testing.assert_allclose(a_tf.numpy(), want_atf, rtol=1e-10, atol=1e-12)
                elif isinstance(m, rm.Reconstruction):
                    rec, want_rec = m(x), np_reconstruction(m, x)
                    np.testing.assert_allclose(m(x, teacher_forcing=True).numpy(),
                                               np_reconstruction(m, x, teacher_forcing=True), rtol=1e-10, atol=1e-12)
                else:
                    rec = m(x) if m.state_mode == "windowed" else m(x)[0]
                    want_rec = np_prediction(m, x)
                np.testing.assert_allclose(rec.numpy(), want_rec, rtol=1e-10, atol=1e-12, err_msg=str(m.config()))

    def test_reverse_decoder_feeds_own_outputs(self):
        """One small case unrolled by hand with torch's own cells: x'(T-1) from the encoder state,
        then the decoder consumes x'(i) (not x(i)) to produce x'(i-1)."""
        torch.manual_seed(3)
        m = rm.Reconstruction("LSTM", 2, 3, 1, False, "reverse", seq_len=4).double().eval()
        cell = torch.nn.LSTMCell(2, 3).double()
        cell.load_state_dict({k[len("decoder."):-len("_l0")]: v for k, v in m.state_dict().items()
                              if k.startswith("decoder.")})
        x = torch.randn(4, 1, 2, dtype=torch.float64)
        with torch.no_grad():
            _, (h, c) = m.encoder(x)
            h, c = h[0], c[0]
            x3 = m.output(h)
            h, c = cell(x3, (h, c))
            x2 = m.output(h)
            h, c = cell(x2, (h, c))
            x1 = m.output(h)
            h, c = cell(x1, (h, c))
            x0 = m.output(h)
            want = torch.stack([x0, x1, x2, x3])
            np.testing.assert_allclose(m(x).numpy(), want.numpy(), rtol=1e-12, atol=1e-14)
            # feeding the observations instead gives a different window (teacher forcing)
            self.assertGreater((m(x, teacher_forcing=True) - want).abs().max().item(), 1e-3)

    def test_teacher_forcing_differs_from_inference(self):
        x = torch.randn(6, 2, 3, dtype=torch.float64) * 2
        for m in small_modules():
            if isinstance(m, rm.Prediction):
                continue
            m.eval()
            with torch.no_grad():
                a, b = m(x), m(x, teacher_forcing=True)
            if isinstance(m, rm.Attention):
                a, b = a[0], b[0]
            self.assertEqual(a.shape, b.shape)
            diff = (a - b).abs()
            self.assertGreater(diff.max().item(), 1e-4, m.config())
            # the first decoded value comes before any decoder input differs
            first = diff[-1] if getattr(m, "decode", "forward") == "reverse" else diff[0]
            self.assertEqual(first.max().item(), 0.0, m.config())

    def test_stateful_chunks_equal_one_pass(self):
        for cell in ("LSTM", "GRU"):
            m = rm.Prediction(cell, 3, 5, 2, 2, [0, 1], "gaussian", "stateful").double().eval()
            x = torch.randn(23, 2, 3, dtype=torch.float64)
            with torch.no_grad():
                whole, s_whole = m(x)
                parts, state = [], None
                for lo, hi in ((0, 1), (1, 9), (9, 10), (10, 23)):
                    y, state = m(x[lo:hi], state)
                    parts.append(y)
            self.assertEqual(list(whole.shape), [23, 2, 2 * 2 * 2])
            np.testing.assert_allclose(torch.cat(parts).numpy(), whole.numpy(), rtol=1e-12, atol=1e-14)
            for a, b in zip(*(([s] if cell == "GRU" else list(s)) for s in (state, s_whole))):
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)
        w = rm.Prediction("LSTM", 3, 5, 2, 2, [0], "point", "windowed", seq_len=7).eval()
        self.assertEqual(list(w(torch.randn(7, 4, 3)).shape), [1, 4, 2])
        with self.assertRaises(ValueError):
            w(torch.randn(7, 4, 3), state=(torch.zeros(2, 4, 5), torch.zeros(2, 4, 5)))

    def test_attention_weights(self):
        for m in small_modules():
            if not isinstance(m, rm.Attention):
                continue
            with torch.no_grad():
                rec, a = m.eval()(torch.randn(6, 3, 3, dtype=torch.float64) * 3)
            self.assertEqual(list(a.shape), [6, 3, 6])
            self.assertTrue(torch.all(a >= 0))
            np.testing.assert_allclose(a.sum(-1).numpy(), np.ones((6, 3)), rtol=0, atol=1e-12)

    def test_export_and_reference(self):
        x12, x40 = torch.randn(12, 2, 3), torch.randn(40, 2, 3)
        mods = [(rm.Reconstruction("LSTM", 3, 4, 2, True, "reverse", 12), x12, {"reconstruction": [12, 2, 3]}),
                (rm.Attention("GRU", 3, 4, 2, 5, 12), x12, {"reconstruction": [12, 2, 3], "attention": [12, 2, 12]}),
                (rm.Prediction("GRU", 3, 4, 2, 3, [0, 2], "gaussian", "windowed", 12), x12, {"prediction": [1, 2, 12]}),
                (rm.Prediction("LSTM", 3, 4, 1, 3, [1], "point", "stateful"), x40, {"prediction": [40, 2, 3]})]
        for m, x, outputs in mods:
            cfg = rx.export_model(m, self.p("m.safetensors"))
            tensors, meta = rx.read_safetensors(self.p("m.safetensors"))
            self.assertEqual(json.loads(meta["rnnad.config"]), cfg)
            self.assertEqual((cfg["format_version"], cfg["kind"], cfg["model"]), (1, m.kind, m.config()))
            self.assertEqual(set(cfg), {"format_version", "kind", "producer", "model"})
            self.assertEqual(set(tensors), set(m.state_dict()))
            for k, v in m.state_dict().items():
                self.assertEqual(tensors[k].dtype, np.float32)
                np.testing.assert_array_equal(tensors[k], v.numpy())
            m.train()
            ref = rx.write_model_reference(self.p("r.safetensors"), m, x, "d")
            self.assertTrue(m.training)  # the caller's module is left as it was
            back, meta = rx.read_safetensors(self.p("r.safetensors"))
            info = json.loads(meta["rnnad.reference"])
            self.assertEqual((info["format_version"], info["description"]), (1, "d"))
            self.assertEqual(set(info), {"format_version", "description", "producer"})
            self.assertEqual(set(back), {"input"} | set(outputs))
            self.assertEqual(back["input"].dtype, np.float32)
            np.testing.assert_array_equal(back["input"], x.numpy())
            for k, shape in outputs.items():
                self.assertEqual((back[k].dtype, list(back[k].shape)), (np.float64, shape))
                np.testing.assert_array_equal(back[k], ref[k])
            self.assertLess(mg.model_fp32_error(m, x, ref), 0.5)
            # float64 from exactly the float32 weights: equal to a .double() copy's outputs
            d = copy.deepcopy(m).double().eval()
            with torch.no_grad():
                y = d(x.double())
            y = y[0] if isinstance(y, tuple) else y
            np.testing.assert_array_equal(ref["reconstruction" if "reconstruction" in outputs else "prediction"], y.numpy())
        m = rm.Reconstruction("GRU", 3, 4, 1, False, "forward", 12)
        rx.export_model(m, self.p("h.safetensors"), dtype="BF16")
        self.assertTrue(np.all(np.isfinite(rx.model_reference_outputs(m, x12, weights_dtype="BF16")["reconstruction"])))

    def test_dropout_is_training_only(self):
        torch.manual_seed(1)
        a = rm.Prediction("LSTM", 3, 6, 2, 2, [0], seq_len=9, dropout=0.5)
        b = rm.Prediction("LSTM", 3, 6, 2, 2, [0], seq_len=9)
        b.load_state_dict(a.state_dict())
        self.assertEqual(a.config(), b.config())
        self.assertNotIn("dropout", a.config())
        x = torch.randn(9, 4, 3)
        np.testing.assert_array_equal(rx.model_reference_outputs(a.train(), x)["prediction"],
                                      rx.model_reference_outputs(b, x)["prediction"])
        with torch.no_grad():
            self.assertFalse(torch.equal(a.train()(x), b.eval()(x)))
        r = rm.Reconstruction("GRU", 3, 6, 2, True, "reverse", 9, dropout=0.5)
        self.assertEqual(set(r.state_dict()), set(rx.expected_model_tensors("reconstruction", r.config())))

    def test_rejections(self):
        with self.assertRaises(ValueError):
            rx.export_model(torch.nn.LSTM(2, 3), self.p("n.safetensors"))
        m = rm.Reconstruction("LSTM", 3, 4, 1, False, "reverse", 5)
        with self.assertRaises(ValueError):   # float64 input
            rx.write_model_reference(self.p("n.safetensors"), m, torch.randn(5, 1, 3).double())
        with self.assertRaises(ValueError):   # not the window length
            rx.write_model_reference(self.p("n.safetensors"), m, torch.randn(6, 1, 3))
        with self.assertRaises(ValueError):   # wrong feature count
            rx.write_model_reference(self.p("n.safetensors"), m, torch.randn(5, 1, 2))
        extra = rm.Reconstruction("LSTM", 3, 4, 1, False, "reverse", 5)
        extra.scale = torch.nn.Parameter(torch.ones(1))   # not a documented tensor
        with self.assertRaises(ValueError):
            rx.export_model(extra, self.p("n.safetensors"))
        with torch.no_grad():
            m.output.weight[0, 0] = float("inf")
        with self.assertRaises(ValueError):
            rx.export_model(m, self.p("n.safetensors"))
        self.assertFalse(os.path.exists(self.p("n.safetensors")))
        for bad in (lambda: rm.Reconstruction("RNN_TANH", 3, 4), lambda: rm.Reconstruction("LSTM", 3, 4, decode="up", seq_len=4),
                    lambda: rm.Reconstruction("LSTM", 3, 4),   # seq_len is required
                    lambda: rm.Prediction("LSTM", 3, 4, 1, 2, [0, 0], seq_len=4),
                    lambda: rm.Prediction("LSTM", 3, 4, 1, 2, [3], seq_len=4),
                    lambda: rm.Prediction("LSTM", 3, 4, 1, 2, [], seq_len=4),
                    lambda: rm.Prediction("LSTM", 3, 4, 1, 2, [0]),                      # windowed needs seq_len
                    lambda: rm.Prediction("LSTM", 3, 4, 1, 2, [0], state="stateful", seq_len=4),
                    lambda: rm.Prediction("LSTM", 3, 4, 1, 0, [0], seq_len=4),
                    lambda: rm.Attention("GRU", 3, 4, 1, 0, 4)):
            with self.assertRaises(ValueError):
                bad()
        good = {"cell": "GRU", "input_size": 3, "hidden_size": 4, "num_layers": 1, "horizon": 2, "targets": [0],
                "state": "stateful"}
        self.assertEqual(rx.check_model_config("prediction", good)["output"], "point")
        for change in ({"dropout": 0.1}, {"targets": [True]}, {"num_layers": 0}, {"cell": "lstm"},
                       {"seq_len": 5}, {"state": "windowed"}, {"hidden_size": 2.0}):
            with self.assertRaises(ValueError, msg=change):
                rx.check_model_config("prediction", {**good, **change})
        with self.assertRaises(ValueError):
            rx.check_model_config("rnn", good)
        for kind, cls in rm.KINDS.items():
            for m in small_modules():
                if isinstance(m, cls):
                    self.assertEqual(rm.from_config(kind, m.config()).config(), m.config())


class GoldenModels(unittest.TestCase):
    def test_models_set(self):
        cases = mg.model_cases()
        names = [c[0] for c in cases]
        self.assertEqual(len(names), 37)
        self.assertEqual(len(set(names)), 37)
        for required in ("recon_lstm_rev_bi1_l2", "pred_gru_gauss_stateful_l1", "attn_lstm_l2", "pred_telemanom"):
            self.assertIn(required, names)
        committed = os.path.join(HERE, "..", "..", "tests", "golden", "models")
        with tempfile.TemporaryDirectory() as d:
            with contextlib.redirect_stdout(io.StringIO()):
                files, worst = mg.run_models(d)
            self.assertEqual(len(files), 74)
            self.assertLess(worst[0], 0.5)
            if not os.path.exists(os.path.join(committed, "cases.txt")):
                return
            self.assertEqual(read_bytes(os.path.join(committed, "cases.txt")).decode().split(), sorted(names))
            for f in files:   # the committed files are exactly what the script writes
                new, new_meta = rx.read_safetensors(f)
                old, old_meta = rx.read_safetensors(os.path.join(committed, os.path.basename(f)))
                self.assertEqual(set(new), set(old), f)
                key = "rnnad.config" if "rnnad.config" in new_meta else "rnnad.reference"
                strip = lambda m: {k: v for k, v in json.loads(m[key]).items() if k != "producer"}
                self.assertEqual(strip(new_meta), strip(old_meta), f)
                for k in new:
                    self.assertEqual(new[k].dtype, old[k].dtype)
                    if new[k].dtype == np.float32:
                        np.testing.assert_array_equal(new[k], old[k], err_msg=f"{f}: {k}")
                    else:
                        np.testing.assert_allclose(new[k], old[k], rtol=1e-12, atol=1e-14, err_msg=f"{f}: {k}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    unittest.main()
