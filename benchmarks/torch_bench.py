#!/usr/bin/python3
"""PyTorch CPU peer of rnnad_bench (docs/benchmarks.md, performance.md §2.1, §2.5, §2.6).

Runs the CPU rows of rnnad_bench (shapes copied from benchmarks/src/rows.cpp; rnnad_bench --merge
verifies them) with torch.nn.LSTM / nn.GRU (+ nn.Linear heads) in eval mode under
torch.inference_mode(), fp32, on N threads, and writes JSON in rnnad_bench's --json format:

    /usr/bin/python3 benchmarks/torch_bench.py --threads 1 --json torch_t1.json
    rnnad_bench --suite cpu --threads 1 --merge torch_t1.json

Protocol, as rnnad_bench's: every row is checked first, against the same module and inputs run in
float64 (|fp32 - fp64| <= 1e-5 * max(1, |fp64|)); warm-up; then interleaved rounds (each round runs
every row's calls, the row order rotating); median, IQR and p99 of the per-call wall times.
Weights and inputs are PyTorch's own seeded ones, not rnnad_bench's: the work per call is the same,
the numbers are not compared across processes.

OMP_WAIT_POLICY is set to passive (performance.md §2.6) and OPENBLAS_NUM_THREADS to --threads
before torch is imported, unless already set; both are recorded in the output.
"""
import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time


def parse_args():
    """Command line (mirrors rnnad_bench's timing options)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (and OpenBLAS threads)")
    p.add_argument("--rows", default="", help="comma-separated row ids (default: all)")
    p.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds (at least 7 recommended)")
    p.add_argument("--time-per-row", type=float, default=1.0, help="seconds of timed calls per row")
    p.add_argument("--warmup-ms", type=float, default=100.0, help="warm-up per row, at least 3 calls")
    p.add_argument("--max-reps", type=int, default=1000, help="calls per row and round at most")
    p.add_argument("--json", default="", help="write the results here (rnnad_bench --merge reads it)")
    return p.parse_args()


ARGS = parse_args()
os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # read when libgomp loads, i.e. at import torch
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))
import torch  # noqa: E402

TOLERANCE = 1e-5

# id, mode, cell, input, hidden, layers, seq_len, batch, horizon: benchmarks/src/rows.cpp, suite cpu.
ROWS = [
    ("AD1", "forward", "LSTM", 25, 80, 2, 250, 1, 0),
    ("AD4", "forward", "LSTM", 25, 80, 2, 250, 1024, 0),
    ("AD4-win", "windows", "LSTM", 25, 80, 2, 250, 1024, 10),
    ("AD8", "forward", "GRU", 38, 500, 1, 100, 1, 0),
    ("AD6", "forward", "LSTM", 38, 64, 1, 100, 256, 0),
    ("DB1", "forward", "LSTM", 256, 256, 1, 150, 1, 0),
    ("STEP1", "step", "LSTM", 25, 80, 2, 1, 1, 0),
    ("STEP1024", "step", "LSTM", 25, 80, 2, 1, 1024, 0),
]


class Row:
    """One row: its modules (fp32 and the fp64 copy), inputs and the call rnnad_bench times."""

    def __init__(self, spec, seed):
        (self.id, self.mode, self.cell, self.I, self.H, self.L, self.T, self.B, self.P) = spec
        torch.manual_seed(seed)
        cls = torch.nn.LSTM if self.cell == "LSTM" else torch.nn.GRU
        self.rnn = cls(self.I, self.H, self.L).eval()  # PyTorch's init: uniform in ±1/sqrt(H)
        self.head = torch.nn.Linear(self.H, self.P).eval() if self.mode == "windows" else None
        self.rnn64 = copy.deepcopy(self.rnn).double()  # the check's reference
        self.head64 = copy.deepcopy(self.head).double() if self.head is not None else None
        if self.mode == "windows":
            self.x = torch.randn(self.B + self.T - 1, self.I)  # a series: B windows at stride 1
        else:
            self.x = torch.randn(self.T, self.B, self.I)
        self.state = None
        if self.mode == "step":
            h = 0.5 * torch.randn(self.L, self.B, self.H)
            self.state = (h, 0.5 * torch.randn(self.L, self.B, self.H)) if self.cell == "LSTM" else h
        self.initial_state = self.state
        self.flop = self.T * self.B * sum(
            2 * self.rnn.weight_ih_l0.shape[0] * ((self.I if l == 0 else self.H) + self.H) for l in range(self.L))
        if self.head is not None:
            self.flop += self.B * 2 * self.H * self.P

    def call(self, rnn=None, head=None, x=None, state=None):
        """One timed call (on the given modules/inputs, default the fp32 ones): forward from zero,
        one step from the carried state, or gather + stack + head on the last step."""
        rnn, head, x = rnn or self.rnn, head or self.head, self.x if x is None else x
        if self.mode == "windows":
            windows = x.unfold(0, self.T, 1).permute(2, 0, 1)  # [T, B, I]
            y, _ = rnn(windows)
            return (head(y[-1]),)
        if self.mode == "step":
            y, s = rnn(x, self.state if state is None else state)
            return (y,) + (s if isinstance(s, tuple) else (s,))
        y, s = rnn(x)
        return (y,) + (s if isinstance(s, tuple) else (s,))

    def step_call(self):
        """The timed call; Step carries the state to the next call."""
        out = self.call()
        if self.mode == "step":
            self.state = (out[1], out[2]) if self.cell == "LSTM" else out[1]
        return out

    def check(self):
        """fp32 outputs against the fp64 run of the same module and inputs (from the initial state)."""
        got = self.call(state=self.initial_state)
        state64 = None
        if self.mode == "step":
            s = self.initial_state
            state64 = tuple(t.double() for t in s) if isinstance(s, tuple) else s.double()
        want = self.call(self.rnn64, self.head64, self.x.double(), state64)
        worst_abs, worst_scaled, n = 0.0, 0.0, 0
        for g, w in zip(got, want):
            err = (g.double() - w).abs()
            if not torch.isfinite(g).all():
                return False, float("inf"), float("inf"), "non-finite output"
            worst_abs = max(worst_abs, err.max().item())
            worst_scaled = max(worst_scaled, (err / w.abs().clamp(min=1.0)).max().item())
            n += g.numel()
        ok = worst_scaled <= TOLERANCE
        msg = f"{n} values compared with PyTorch's own float64 run of the same module and inputs"
        return ok, worst_abs, worst_scaled, msg

    def describe(self):
        """Shape fields rnnad_bench --merge checks against its own row."""
        return {"id": self.id, "mode": self.mode, "input_size": self.I, "hidden_size": self.H,
                "num_layers": self.L, "seq_len": self.T, "batch": self.B, "flop_per_call": self.flop}


def stats(ms):
    """Median, p25/p75 (interpolated), min, max, p99 (nearest rank) of per-call milliseconds."""
    ms = sorted(ms)
    n = len(ms)

    def at(q):
        pos = q * (n - 1)
        lo = int(pos)
        hi = min(lo + 1, n - 1)
        return ms[lo] + (pos - lo) * (ms[hi] - ms[lo])

    rank99 = max(-(-99 * n // 100), 1)
    return {"calls": n, "median_ms": at(0.5), "p25_ms": at(0.25), "p75_ms": at(0.75), "min_ms": ms[0],
            "max_ms": ms[-1], "p99_ms": ms[rank99 - 1]}


def blas_alternative():
    """Which libblas.so.3 Debian's alternatives select (performance.md §2.5)."""
    try:
        out = subprocess.run(["update-alternatives", "--display", "libblas.so.3-x86_64-linux-gnu"],
                             capture_output=True, text=True, timeout=10).stdout
        return next((l.strip() for l in out.splitlines() if "currently points to" in l), out.strip()[:200])
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def fmt(ms):
    """'2.52 µs' / '1.02 ms' / '1.20 s' (three significant digits, as rnnad_bench prints them)."""
    value, unit = (ms * 1000, "µs") if ms < 1 else (ms, "ms") if ms < 1000 else (ms / 1000, "s")
    return f"{value:.{max(0, 2 - len(str(int(value))) + 1)}f} {unit}"


def main():
    torch.set_num_threads(ARGS.threads)
    wanted = [r for r in ARGS.rows.split(",") if r]
    specs = [s for s in ROWS if not wanted or s[0] in wanted or s[0].split("-")[0] in wanted]
    setup = {}
    rows = []
    for i, spec in enumerate(specs):  # modules built outside inference_mode (ordinary parameters)
        t0 = time.perf_counter()
        rows.append(Row(spec, seed=1 + i))
        setup[rows[-1].id] = (time.perf_counter() - t0) * 1000
    with torch.inference_mode():
        for row in rows:
            row.ok, row.abs_err, row.scaled_err, row.msg = row.check()
            warm, tw = [], time.perf_counter()
            while len(warm) < 3 or ((time.perf_counter() - tw) * 1000 < ARGS.warmup_ms and len(warm) < 10000):
                tc = time.perf_counter()
                row.step_call()
                warm.append((time.perf_counter() - tc) * 1000)
            per_call = max(statistics.median(warm), 1e-6)
            row.reps = min(max(int(ARGS.time_per_row * 1000 / ARGS.rounds / per_call), 1), ARGS.max_reps)
            row.ms = []
            print(f"torch_bench: {row.id}: check {'ok' if row.ok else 'FAILED'} ({row.scaled_err:.1e}), "
                  f"{row.reps} calls per round", file=sys.stderr)
        order = list(rows)
        for rnd in range(ARGS.rounds):  # interleaved: every row each round, who goes first rotating
            if rnd:
                order = order[1:] + order[:1]
            for row in order:
                for _ in range(row.reps):
                    tc = time.perf_counter()
                    row.step_call()
                    row.ms.append((time.perf_counter() - tc) * 1000)

    env = {k: os.environ.get(k, "") for k in ("OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    notes = (f"torch {torch.__version__}, {ARGS.threads} thread(s) (torch.set_num_threads), "
             f"OMP_WAIT_POLICY={env['OMP_WAIT_POLICY']}, OPENBLAS_NUM_THREADS={env['OPENBLAS_NUM_THREADS']}, "
             f"libblas: {blas_alternative()}; eval + inference_mode, fp32; checked against its own float64 run")
    out = {"tool": "torch_bench.py", "command": " ".join(sys.argv), "threads": ARGS.threads,
           "torch_version": torch.__version__, "environment": env, "blas": blas_alternative(),
           "protocol": {"rounds": ARGS.rounds, "time_per_row_s": ARGS.time_per_row,
                        "tolerance": "|fp32 - fp64| <= 1e-5 * max(1, |fp64|), PyTorch's own float64 run"},
           "rows": []}
    print(f"| row | pytorch ({ARGS.threads} thread(s)) median | IQR | calls | check |\n|---|---|---|---|---|")
    for row in rows:
        s = stats(row.ms)
        out["rows"].append(dict(row.describe(), results=[{
            "backend": "pytorch", "device": "cpu", "threads": ARGS.threads,
            "status": "ok" if row.ok else "failed",
            "reason": "" if row.ok else f"check: max scaled error {row.scaled_err:.2e} > 1e-5",
            "notes": notes, "check_ok": row.ok, "check_max_abs_err": row.abs_err,
            "check_max_scaled_err": row.scaled_err, "check_message": row.msg,
            "setup_ms": setup[row.id], "wall": s}]))
        print(f"| {row.id} | {fmt(s['median_ms'])} | {fmt(s['p25_ms'])}–{fmt(s['p75_ms'])} | {s['calls']} | "
              f"{'ok' if row.ok else 'FAILED'} {row.scaled_err:.1e} |")
    if ARGS.json:
        with open(ARGS.json, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
