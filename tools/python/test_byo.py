"""Bring-your-own-model test (rnnad_byo.py, docs/byo_model.md). Exits non-zero on failure.

    RNNAD_CLI=build/release/tools/rnnad /usr/bin/python3 tools/python/test_byo.py [-v]

Defines modules the way users write them, not with rnnad's classes: a batch_first LSTM forecaster
with an nn.Sequential(Dropout, Linear) head under its own names; a GRU encoder-decoder
(EncDec-AD, reverse decoding) with its own names; a batch_first bidirectional LSTM encoder-decoder
with forward decoding and its own bridge layers; a Gaussian GRU forecaster with separate mean and
log-variance heads; a stateful Gaussian LSTM with one head split by chunk() (horizon 2, two targets,
so the head rows must be reordered); a stateful GRU returning ([mean | log_var], h) on a given
input. Each is exported (tiny, untrained: the weights only need to be random) and `rnnad
validate` (the CLI in $RNNAD_CLI) must print PASS and exit 0; the reference outputs are checked
against the user's module run here, and the exported weights against the user's tensors (the
Gaussian row order by its index formula). Negative controls: a forward that
returns a variance instead of a log-variance is refused at export, and with check=False
`rnnad validate` exits 1; unsupported modules (a head with a ReLU, a Conv1d front end or a Conv1d
mapped as the rnn, nn.RNN, proj_size, a bidirectional forecaster, a mismatched decoder, a LayerNorm
outside the mapping, a wrong name) are refused with a message naming the attribute, its type and
what rnnad expects, and write no file. Also: the docs/byo_model.md example runs as written (a few
training steps on the bundled NAB series, export, validate, detect). Runs in about 15 s.
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import rnnad_byo  # noqa: E402
import rnnad_export as rx  # noqa: E402

CLI = os.environ.get("RNNAD_CLI")


# ---------------------------------------------------------------------------------------------
# modules as users write them


class Forecaster(nn.Module):
    """batch_first LSTM, Sequential head, predicts features 0 and 2 for the next 2 steps."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.LSTM(3, 6, num_layers=2, batch_first=True, dropout=0.3)
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(6, 4))

    def forward(self, x):                       # x: [batch, seq_len, 3]
        out, _ = self.encoder(x)
        return self.head(out[:, -1]).view(-1, 2, 2)   # [batch, horizon, targets]


class GRUAutoencoder(nn.Module):
    """EncDec-AD: the decoder reconstructs the window backwards from the encoder's state."""

    def __init__(self, n=2, hidden=5):
        super().__init__()
        self.enc = nn.GRU(n, hidden, num_layers=2)
        self.dec = nn.GRU(n, hidden, num_layers=2)
        self.proj = nn.Linear(hidden, n)

    def forward(self, x):                       # x: [seq_len, batch, n]
        _, h = self.enc(x)
        y = self.proj(h[-1])
        outs = [y]
        for _ in range(x.shape[0] - 1):
            _, h = self.dec(y.unsqueeze(0), h)
            y = self.proj(h[-1])
            outs.append(y)
        return torch.stack(outs[::-1])


class BiLSTMAutoencoder(nn.Module):
    """batch_first bidirectional encoder; the decoder starts from per-layer [forward, reverse] states."""

    def __init__(self, n=2, hidden=4, layers=2):
        super().__init__()
        self.encoder = nn.LSTM(n, hidden, layers, batch_first=True, bidirectional=True)
        self.decoder = nn.LSTM(n, hidden, layers, batch_first=True)
        self.init_h = nn.Linear(2 * hidden, hidden)
        self.init_c = nn.Linear(2 * hidden, hidden)
        self.out = nn.Linear(hidden, n)

    def forward(self, x):                       # x: [batch, seq_len, n]
        _, (h, c) = self.encoder(x)
        h = self.init_h(torch.cat([h[0::2], h[1::2]], dim=-1))
        c = self.init_c(torch.cat([c[0::2], c[1::2]], dim=-1))
        y, outs = torch.zeros_like(x[:, 0]), []
        for _ in range(x.shape[1]):
            o, (h, c) = self.decoder(y.unsqueeze(1), (h, c))
            y = self.out(o[:, 0])
            outs.append(y)
        return torch.stack(outs, dim=1)         # [batch, seq_len, n]


class GaussianGRU(nn.Module):
    """Mean and log-variance of the next value from two heads."""

    def __init__(self, variance=False):
        super().__init__()
        self.rnn = nn.GRU(1, 7, batch_first=True)
        self.mu = nn.Linear(7, 1)
        self.log_var = nn.Linear(7, 1)
        self.variance = variance                # the negative control returns exp(log_var)

    def forward(self, x):
        out, _ = self.rnn(x)
        h = out[:, -1]
        v = self.log_var(h)
        return self.mu(h), (v.exp() if self.variance else v)


class StatefulGaussian(nn.Module):
    """LSTM-AD style: a forecast after every row, state carried; one head split by chunk()."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(2, 5)
        self.fc = nn.Linear(5, 2 * 2 * 2)       # [mean | log_var], each [horizon=2, d=2]

    def forward(self, x, state=None):           # x: [rows, batch, 2]
        out, state = self.lstm(x, state)
        mean, log_var = self.fc(out).chunk(2, dim=-1)
        return (mean, log_var), state


class StatefulGRU(nn.Module):
    """Returns (y, h) with y = [mean | log_var] in one tensor, batch first."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 4, batch_first=True)
        self.out = nn.Linear(4, 2 * 3)          # horizon 3, d = 1

    def forward(self, x, h=None):
        y, h = self.gru(x, h)
        return self.out(y), h


class ConvForecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, kernel_size=3, padding=1)
        self.rnn = nn.LSTM(4, 6, batch_first=True)
        self.head = nn.Linear(6, 1)


class MLPHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(1, 6, batch_first=True)
        self.head = nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 1))


class Holder(nn.Module):
    """Named submodules only, for the rejection cases."""

    def __init__(self, **modules):
        super().__init__()
        for name, m in modules.items():
            setattr(self, name, m)


# ---------------------------------------------------------------------------------------------


def validate(path):
    """(exit code, stdout + stderr) of `rnnad validate` on the CPU."""
    p = subprocess.run([CLI, "validate", "--model", path, "--device", "cpu"], capture_output=True, text=True,
                       timeout=120)
    return p.returncode, p.stdout + p.stderr


def run_user(model, x, batch_first):
    """The user's module in float64 on the time-major float32 x, as the user would call it."""
    import copy
    m = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        return m(x.double().transpose(0, 1) if batch_first else x.double())


class Export(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not CLI or not os.access(CLI, os.X_OK):
            raise RuntimeError(f"RNNAD_CLI must name the rnnad binary (got {CLI!r}); ctest sets it")
        torch.manual_seed(7)
        torch.set_num_threads(1)

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name + ".safetensors")

    def export_and_validate(self, name, model, kind, names, **kw):
        path = self.path(name)
        cfg = rnnad_byo.export_module(model, path, kind, names, **kw)
        code, out = validate(path)
        self.assertEqual(code, 0, out)
        self.assertIn("PASS", out)
        tensors, _ = rx.read_safetensors(path)
        ref, meta = rx.read_safetensors(rx.reference_path(path))
        self.assertIn("rnnad.reference", meta)
        return cfg, tensors, ref

    def test_forecaster_batch_first_sequential_head(self):
        m = Forecaster()
        training = m.training
        before = {k: v.clone() for k, v in m.state_dict().items()}
        cfg, t, ref = self.export_and_validate("forecaster", m, "prediction", {"rnn": "encoder"},
                                               seq_len=9, horizon=2, targets=[0, 2])
        self.assertEqual(cfg["model"], {"cell": "LSTM", "input_size": 3, "hidden_size": 6, "num_layers": 2,
                                        "horizon": 2, "targets": [0, 2], "output": "point",
                                        "state": "windowed", "seq_len": 9})
        sd = m.state_dict()
        for k in ("weight_ih_l0", "weight_hh_l1", "bias_hh_l1"):     # copied, not converted
            np.testing.assert_array_equal(t["rnn." + k], sd["encoder." + k].numpy())
        np.testing.assert_array_equal(t["head.weight"], sd["head.1.weight"].numpy())
        x = torch.from_numpy(ref["input"])
        self.assertEqual(list(x.shape), [9, 3, 3])                    # time-major [T, B, I]
        want = run_user(m, x, batch_first=True).reshape(1, 3, 4).numpy()
        np.testing.assert_allclose(ref["prediction"], want, rtol=0, atol=1e-12)
        self.assertEqual(m.training, training)                        # the user's module is untouched
        for k, v in m.state_dict().items():
            self.assertTrue(torch.equal(v, before[k]), k)

    def test_gru_encoder_decoder_own_names(self):
        m = GRUAutoencoder()
        cfg, t, ref = self.export_and_validate("gru_ae", m, "reconstruction",
                                               {"encoder": "enc", "decoder": "dec", "output": "proj"},
                                               decode="reverse", seq_len=7)
        self.assertEqual(cfg["model"]["cell"], "GRU")
        want = run_user(m, torch.from_numpy(ref["input"]), batch_first=False).numpy()
        np.testing.assert_allclose(ref["reconstruction"], want, rtol=0, atol=1e-12)

    def test_bidirectional_encoder_forward_decoding(self):
        m = BiLSTMAutoencoder()
        cfg, _, _ = self.export_and_validate("bilstm_ae", m, "reconstruction",
                                             {"bridge_h": "init_h", "bridge_c": "init_c", "output": "out"},
                                             decode="forward", seq_len=6)
        self.assertTrue(cfg["model"]["bidirectional_encoder"])

    def test_gaussian_two_heads_bf16(self):
        cfg, t, _ = self.export_and_validate("gauss", GaussianGRU(), "prediction", {"head": ("mu", "log_var")},
                                             seq_len=8, dtype="BF16")
        self.assertEqual(cfg["model"]["output"], "gaussian")
        self.assertEqual(list(t["head.weight"].shape), [2, 7])

    def test_stateful_gaussian_chunked_head_rows_reordered(self):
        m = StatefulGaussian()
        cfg, t, ref = self.export_and_validate("stateful", m, "prediction", {"rnn": "lstm", "head": "fc"},
                                               state="stateful", horizon=2, output="gaussian", reference_rows=20)
        self.assertEqual(cfg["model"]["targets"], [0, 1])
        W = m.fc.weight.detach().numpy()
        for h in range(2):
            for k in range(2):
                for j in range(2):   # rnnad row (h*K + k)*d + j  <-  user row k*horizon*d + h*d + j
                    np.testing.assert_array_equal(t["head.weight"][(h * 2 + k) * 2 + j], W[k * 4 + h * 2 + j])
        (mean, log_var), _ = run_user(m, torch.from_numpy(ref["input"]), batch_first=False)
        self.assertEqual(list(ref["prediction"].shape), [20, 3, 8])
        np.testing.assert_allclose(ref["prediction"][..., 2:4], log_var[..., 0:2].numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(ref["prediction"][..., 4:6], mean[..., 2:4].numpy(), rtol=0, atol=1e-12)

    def test_stateful_gru_one_gaussian_tensor_and_state(self):
        m = StatefulGRU()
        x = torch.randn(11, 2, 3)
        _, _, ref = self.export_and_validate("stateful_gru", m, "prediction", {"rnn": "gru", "head": "out"},
                                             state="stateful", horizon=3, targets=[1], output="gaussian",
                                             reference_input=x)
        np.testing.assert_array_equal(ref["input"], x.numpy())
        y, _ = run_user(m, x, batch_first=True)                      # [2, 11, 6] = [mean x3 | log_var x3]
        want = y.transpose(0, 1).reshape(11, 2, 2, 3).transpose(2, 3).reshape(11, 2, 6)
        np.testing.assert_allclose(ref["prediction"], want.numpy(), rtol=0, atol=1e-12)

    def test_forward_adapter(self):
        class DictOut(Forecaster):
            def forward(self, x):
                return {"forecast": super().forward(x)}
        self.export_and_validate("dict", DictOut(), "prediction", {"rnn": "encoder"}, seq_len=5, horizon=2,
                                 targets=[0, 2], forward=lambda module, x: module(x)["forecast"])

    def test_mismatched_forward_fails_at_export_and_in_validate(self):
        m, path = GaussianGRU(variance=True), self.path("variance")
        with self.assertRaisesRegex(ValueError, r"does not compute rnnad's prediction.*log-variance"):
            rnnad_byo.export_module(m, path, "prediction", {"head": ("mu", "log_var")}, seq_len=8)
        self.assertEqual(os.listdir(self.dir.name), [])
        rnnad_byo.export_module(m, path, "prediction", {"head": ("mu", "log_var")}, seq_len=8, check=False)
        code, out = validate(path)
        self.assertEqual(code, 1, out)
        self.assertIn("FAIL", out)

    def test_unsupported_modules_are_refused_by_name(self):
        lstm = lambda **kw: nn.LSTM(1, 6, batch_first=True, **kw)  # noqa: E731
        cases = [
            (MLPHead(), {}, {"seq_len": 4},
             r"^model\.head is nn\.Sequential\(Linear, ReLU, Linear\); rnnad's prediction head is one nn\.Linear"),
            (ConvForecaster(), {}, {"seq_len": 4},
             r"^model\.conv is nn\.Conv1d\(1, 4, kernel_size=\(3,\).*holds conv\.weight, conv\.bias, which no rnnad "
             r"name maps"),
            (ConvForecaster(), {"rnn": "conv"}, {"seq_len": 4},
             r"^model\.conv is nn\.Conv1d\(.*\); rnnad's prediction rnn is one nn\.LSTM or nn\.GRU"),
            (Holder(rnn=nn.RNN(1, 6), head=nn.Linear(6, 1)), {}, {"seq_len": 4},
             r"^model\.rnn is nn\.RNN\(1, 6\); rnnad's prediction rnn is one nn\.LSTM or nn\.GRU"),
            (Holder(rnn=lstm(proj_size=2), head=nn.Linear(2, 1)), {}, {"seq_len": 4},
             r"^model\.rnn is nn\.LSTM\(.*proj_size=2.*\); rnnad's prediction rnn has no proj_size"),
            (Holder(rnn=lstm(bidirectional=True), head=nn.Linear(12, 1)), {}, {"seq_len": 4},
             r"^model\.rnn is nn\.LSTM\(.*bidirectional=True\); rnnad's prediction rnn needs bidirectional=False"),
            (Holder(rnn=lstm(), norm=nn.LayerNorm(6), head=nn.Linear(6, 1)), {}, {"seq_len": 4},
             r"^model\.norm is nn\.LayerNorm\(\(6,\).*holds norm\.weight, norm\.bias, which no rnnad name maps"),
            (Holder(rnn=lstm(), head=nn.Linear(6, 3)), {}, {"seq_len": 4, "targets": [0]},
             r"^model\.head is nn\.Linear\(in_features=6, out_features=3.*rnnad's head has 1 outputs"),
            (Holder(lstm=lstm(), fc=nn.Linear(6, 1)), {}, {"seq_len": 4},
             r"^model has no submodule 'rnn' for rnnad's prediction rnn; its children are: lstm \(nn\.LSTM"),
            (Holder(rnn=lstm(), head=nn.Linear(6, 1)), {}, {"seq_len": 4, "hidden_size": 6},
             r"\['hidden_size'\] cannot be given"),
            (Holder(encoder=nn.GRU(2, 4), decoder=nn.GRU(3, 4), output=nn.Linear(4, 2)), {},
             {"decode": "reverse", "seq_len": 4},
             r"^model\.decoder is nn\.GRU\(3, 4\); rnnad's reconstruction decoder needs input_size=2 \(the decoder "
             r"is fed its own reconstruction\)"),
            (Holder(encoder=nn.GRU(2, 4, bidirectional=True), decoder=nn.GRU(2, 4), output=nn.Linear(4, 2)), {},
             {"decode": "reverse", "seq_len": 4},
             r"^model has no submodule 'bridge_h' for rnnad's bridge_h"),
        ]
        for i, (model, names, fields, pattern) in enumerate(cases):
            kind = "reconstruction" if "decode" in fields else "prediction"
            with self.subTest(case=i, pattern=pattern):
                with self.assertRaisesRegex(ValueError, pattern):
                    rnnad_byo.export_module(model, self.path(f"bad{i}"), kind, names, **fields)
        self.assertEqual(os.listdir(self.dir.name), [])


class DocExample(unittest.TestCase):
    """docs/byo_model.md's Python block runs as written, then its validate and detect commands."""

    def test_worked_example(self):
        with open(os.path.join(ROOT, "docs", "byo_model.md")) as f:
            text = f.read()
        code = re.search(r"```python\n(.*?)```", text.split("## Worked example", 1)[1], re.S).group(1)
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, RNNAD_BYO_OUT=d)
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120)
            model = os.path.join(d, "nab_forecaster.safetensors")
            code, out = validate(model)
            self.assertEqual(code, 0, out)
            p = subprocess.run([CLI, "detect", "--model", model, "--device", "cpu", "--order", "ignore",
                                "--input", "models/data/machine_temperature_system_failure.csv",
                                "--labels", "models/data/machine_temperature_system_failure_windows.json",
                                "--output", os.path.join(d, "nab.csv")],
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertRegex(p.stdout, r"22,?695 rows")
            self.assertTrue(os.path.exists(os.path.join(d, "nab.events.json")))


if __name__ == "__main__":
    unittest.main()
