"""Train and export the example model shipped in models/: an LSTM forecaster for NAB machine temperature.

    /usr/bin/python3 tools/python/make_nab_model.py [--csv models/data/machine_temperature_system_failure.csv]
                                                   [--out-dir models] [--steps 300]

Input: NAB realKnownCause/machine_temperature_system_failure.csv (header "timestamp,value", 22695
rows; a byte-for-byte copy is in models/data/, see models/data/ATTRIBUTION.md). Only the value column
is used, rows in file order (the duplicated hour 2014-01-07 02:00-02:55 is kept as it is).

Method: value z-scored with the mean and population std (ddof=0) of the first 50% of rows (the
training part); nn.LSTM(input_size=1, hidden_size=32, num_layers=2) + nn.Linear(32, 1) trained to
predict the next z-value at every step of random 64-step windows drawn from the training part
(batch 32, Adam lr 5e-3, MSE, --steps steps, torch.manual_seed(0), one thread; ~10-30 s on 2 cores).

Outputs (in --out-dir):
  nab_machine_temp_lstm.safetensors            the nn.LSTM only, kind "rnn", F32 (the Linear head is
                                               not part of format version 1 and is not exported)
  nab_machine_temp_lstm.reference.safetensors  input = the first 2500 z-scored values as (2500, 1, 1)
                                               float32, zero initial states, float64 PyTorch outputs
The normalization mean/std are printed and written into the reference file's description.
"""
import argparse
import csv
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rnnad_export as rx  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAME = "nab_machine_temp_lstm"
DATASET = "NAB realKnownCause/machine_temperature_system_failure.csv (numenta/NAB @ ea702d75cc22)"
WINDOW, BATCH, REFERENCE_STEPS = 64, 32, 2500


def read_values(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if rows[0] != ["timestamp", "value"]:
        raise ValueError(f"{path}: expected header timestamp,value, got {rows[0]}")
    return np.array([float(r[1]) for r in rows[1:]], dtype=np.float64)


class Forecaster(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(input_size=1, hidden_size=32, num_layers=2)
        self.head = torch.nn.Linear(32, 1)

    def forward(self, x):  # x: (T, B, 1) -> next-value prediction at every step, (T, B, 1)
        return self.head(self.lstm(x)[0])


def train(z_train, steps):
    torch.manual_seed(0)
    model = Forecaster()
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    series = torch.from_numpy(z_train.astype(np.float32))
    losses = []
    for _ in range(steps):
        starts = torch.randint(0, len(series) - WINDOW - 1, (BATCH,))
        windows = torch.stack([series[s:s + WINDOW + 1] for s in starts.tolist()], dim=1).unsqueeze(-1)
        loss = torch.nn.functional.mse_loss(model(windows[:-1]), windows[1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model.eval(), losses


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--csv", default=os.path.join(REPO, "models", "data", "machine_temperature_system_failure.csv"))
    p.add_argument("--out-dir", default=os.path.join(REPO, "models"))
    p.add_argument("--steps", type=int, default=300)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    start = time.monotonic()

    values = read_values(args.csv)
    n_train = len(values) // 2
    mean, std = float(values[:n_train].mean()), float(values[:n_train].std())
    z = (values - mean) / std
    model, losses = train(z[:n_train], args.steps)
    with torch.no_grad():
        held_out = torch.from_numpy(z[n_train:].astype(np.float32)).reshape(-1, 1, 1)
        val_mse = torch.nn.functional.mse_loss(model(held_out[:-1]), held_out[1:]).item()
    print(f"{len(values)} rows, normalization from rows 1-{n_train}: mean={mean!r} std={std!r}")
    print(f"training: {args.steps} steps, final loss {losses[-1]:.5f} (mean of last 20: {np.mean(losses[-20:]):.5f}, "
          f"first: {losses[0]:.5f}); MSE on the other {len(values) - n_train} rows: {val_mse:.5f}")

    model_path = os.path.join(args.out_dir, NAME + ".safetensors")
    reference_path = os.path.join(args.out_dir, NAME + ".reference.safetensors")
    rx.export_rnn(model.lstm, model_path)
    x = torch.from_numpy(z[:REFERENCE_STEPS].astype(np.float32)).reshape(REFERENCE_STEPS, 1, 1)
    description = (f"{DATASET}: value of data rows 1-{REFERENCE_STEPS} (of {len(values)}), z-scored with "
                   f"mean={mean!r}, std={std!r} (population std of rows 1-{n_train}); zero initial states; "
                   f"LSTM(1,32,2) of a next-step forecaster trained by tools/python/make_nab_model.py")
    rx.write_reference(reference_path, model.lstm, x, description=description)
    for path in (model_path, reference_path):
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    print(f"done in {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
