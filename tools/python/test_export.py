"""Self-check of the Python tools (rnnad_export.py, make_golden.py). Exits non-zero on failure.

    /usr/bin/python3 tools/python/test_export.py [-v]

Checks: the exact safetensors byte layout written by write_safetensors (header length, space
padding to 8 bytes, compact JSON with __metadata__ first, dtype/name order, contiguous offsets,
little-endian data); bf16/fp16 conversion of known values; that a failed atomic write leaves no
file behind; export_rnn / write_reference on small modules (names, config, float64 reference vs
PyTorch float32, batch_first, F16/BF16 weights, rejections); and that make_golden's committed set
covers every pair of axis values and matches tests/golden/cases.txt. Runs in a few seconds.
"""
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


if __name__ == "__main__":
    torch.set_num_threads(1)
    unittest.main()
