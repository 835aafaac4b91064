"""Round trip: train a tiny LSTM in PyTorch, export it and write its reference file.

    /usr/bin/python3 tools/python/roundtrip.py --out DIR

Trains nn.LSTM(input_size=3, hidden_size=8, num_layers=2) + nn.Linear(8, 1) for 20 Adam steps on
seeded random data (so the weights are no longer PyTorch's initialisation), then writes
  DIR/roundtrip.safetensors            the LSTM, kind "rnn", F32
  DIR/roundtrip.reference.safetensors  T=30, B=4, N(0,1) input, random h0/c0, float64 outputs
for `rnnad validate --model DIR/roundtrip.safetensors` (CTest fixture). Runs in a few seconds.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rnnad_export as rx  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="output directory (created if missing)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(1234)
    lstm, head = torch.nn.LSTM(3, 8, num_layers=2), torch.nn.Linear(8, 1)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-2)
    x_train = torch.randn(16, 8, 3)
    y_train = x_train.sum(dim=2, keepdim=True).cumsum(dim=0) * 0.1  # some target that needs memory
    for _ in range(20):
        loss = torch.nn.functional.mse_loss(head(lstm(x_train)[0]), y_train)
        opt.zero_grad()
        loss.backward()
        opt.step()

    os.makedirs(args.out, exist_ok=True)
    model = os.path.join(args.out, "roundtrip.safetensors")
    reference = os.path.join(args.out, "roundtrip.reference.safetensors")
    rx.export_rnn(lstm, model)
    x, h0, c0 = torch.randn(30, 4, 3), torch.rand(2, 4, 8) * 2 - 1, torch.rand(2, 4, 8) * 2 - 1
    rx.write_reference(reference, lstm, x, h0, c0,
                       description="roundtrip.py: LSTM(3,8,2) after 20 Adam steps; T=30, B=4, random h0/c0")
    print(f"final training loss {loss.item():.4f}; wrote {model} and {reference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
