"""Generate golden test cases: rnnad model files plus PyTorch float64 reference files.

    /usr/bin/python3 tools/python/make_golden.py --out tests/golden --set committed
    /usr/bin/python3 tools/python/make_golden.py --out tests/golden/field --set field
    /usr/bin/python3 tools/python/make_golden.py --out BUILD/golden_full --set full   # CI, not committed
    /usr/bin/python3 tools/python/make_golden.py --out tests/golden/models --set models

Every case writes NAME.safetensors (model, F32; kind "rnn" except in the models set) and
NAME.reference.safetensors (docs/model_format.md §4) into --out. The names of the cases that must validate go to
--out/cases.txt; negative controls (must fail validation) go to --out/expected_failures.txt.

Grid axes (design.md §7): cell {RNN_TANH, RNN_RELU, LSTM, LSTM+proj, GRU} x input_size {1, 3, 38}
x hidden_size {1, 16, 64} x num_layers {1, 3} x bidirectional {F, T} x seq_len {1, 7, 100}
x batch {1, 5} x initial states given {F, T}.
  * LSTM+proj uses proj_size = max(1, hidden_size // 2). proj_size must be < hidden_size, so the
    hidden_size axis value 1 is realised as hidden_size=2, proj_size=1 (the smallest LSTM with a
    projection). Case names carry the real hidden size (lstmp_..._h2_...).
  * Names: <cell>_i<I>_h<H>_l<L>_bi<0|1>_t<T>_b<B>_s<0|1>, cell in rnntanh, rnnrelu, lstm, lstmp, gru.
  * Weights: PyTorch's default initialisation after torch.manual_seed(zlib.crc32(name)), float32.
    Then, from the same generator: x = clip(4 * N(0,1), -20, 20) with max(1, numel // 50) entries
    set to exactly +20 / -20 (alternating), and, if states are given, h0 (and c0 for LSTM) uniform
    in [-1, 1). The reference is computed in float64 from exactly these float32 values.

Sets:
  full       the whole cross product, 2160 cases (run live in CI; several hundred MB).
  committed  >= 150 cases, built greedily and deterministically: rounds over the full cross of
             cell x num_layers x bidirectional x states (40 combos); for each combo the other four
             axes are chosen to maximise newly covered value pairs (then triples) minus a size
             penalty (so cheap values are used wherever they cover as much) minus a small penalty
             for values already used often (so hidden_size 1 does not dominate). Rounds continue until
             every pair of axis values is covered and there are >= 150 cases. The script asserts
             pair coverage and a total size (file sizes rounded up to 4 KiB blocks) < 5 MB.
  field      named cases from /work/shared/docs/field_cases.md:
             f05_bilstm             LSTM(2,3,num_layers=2,bidirectional=True), T=4, B=2,
                                    x[t,b,k] = 0.1*(t+1) - 0.2*b + 0.05*k, seeded weights.
             f05_bilstm_swapped     NEGATIVE CONTROL: f05's model with the forward and _reverse
                                    weights swapped, paired with f05's reference file unchanged.
                                    Validation of this pair must FAIL (the script checks that the
                                    swapped model's outputs miss the reference by far more than
                                    the 1e-5 tolerance).
             f06a_lstm_batch_first  LSTM(2,3,num_layers=2,batch_first=True), B=2, T=4,
                                    h0[l,b,:] = (10*l+b+1)/100, c0 = -h0, x as in f05. Exported
                                    from the batch_first module; the reference input/output are
                                    still time-major (T, B, F); states are never batch-first.
             f08_lstm_proj          LSTM(3,4,proj_size=2), T=5, B=2, seeded weights, N(0,1) input,
                                    random h0 (1,2,2) and c0 (1,2,4).

  models     the model kinds of docs/models.md (rnnad_models.py; export_model / write_model_reference,
             reference tensors in docs/model_format.md §4), I = 3, H = 8, A = 5, T = 12, B = 3,
             stateful N = 40, prediction horizon 3 with targets [0, 2]:
               recon_<cell>_<rev|fwd>_bi<0|1>_l<L>   cell x decode x bidirectional_encoder x L   (16)
               pred_<cell>_<point|gauss>_<windowed|stateful>_l<L>   cell x output x state x L (16)
               attn_<cell>_l<L>                      cell x L                                     (4)
               pred_telemanom   prediction, LSTM, I 25, H 80, 2 layers, window 250, horizon 10,
                                targets [0], point, windowed, B 2
             cell in {lstm, gru}, L in {1, 2}. Weights: PyTorch's default initialisation after
             torch.manual_seed(zlib.crc32(name)), float32; then, from the same generator,
             x = clip(2 * N(0,1), -20, 20) with max(1, numel // 50) entries set to exactly +20 / -20
             (alternating). References are computed in float64 from exactly these float32 values.
             The script asserts every module's state_dict names are the documented tensor names
             and that the directory's files total < 1.5 MB.

For every case the script also runs the float32 module and prints the worst error of PyTorch's
own float32 result against the float64 reference, relative to the fp32 tolerance 1e-5*max(1,|b|).
"""
import argparse
import itertools
import json
import os
import sys
import time
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rnnad_export as rx  # noqa: E402
import rnnad_models as rm  # noqa: E402

CELLS = ["RNN_TANH", "RNN_RELU", "LSTM", "LSTMP", "GRU"]
CELL_TAG = {"RNN_TANH": "rnntanh", "RNN_RELU": "rnnrelu", "LSTM": "lstm", "LSTMP": "lstmp", "GRU": "gru"}
AXES = [("cell", CELLS), ("input", [1, 3, 38]), ("hidden", [1, 16, 64]), ("layers", [1, 3]),
        ("bidir", [False, True]), ("seq", [1, 7, 100]), ("batch", [1, 5]), ("states", [False, True])]
FIXED = [0, 3, 4, 7]   # cell, layers, bidir, states: fully crossed in the committed set
FREE = [1, 2, 5, 6]    # input, hidden, seq, batch: chosen greedily
MIN_COMMITTED = 150
SIZE_LIMIT = 5_000_000
BLOCK = 4096
EXPECTED_FAILURES = {"f05_bilstm_swapped"}  # listed in expected_failures.txt, not cases.txt
BALANCE = 0.2  # weight of the preference for free-axis values used less often so far


def sizes(case):
    """(hidden_size, proj_size) actually used for a grid case."""
    cell, hidden = case[0], case[2]
    if cell != "LSTMP":
        return hidden, 0
    hidden = max(hidden, 2)
    return hidden, max(1, hidden // 2)


def case_name(case):
    cell, inp, _, layers, bidir, seq, batch, states = case
    return f"{CELL_TAG[cell]}_i{inp}_h{sizes(case)[0]}_l{layers}_bi{int(bidir)}_t{seq}_b{batch}_s{int(states)}"


def estimated_bytes(case):
    """File sizes of a case (model + reference), each rounded up to a 4 KiB block."""
    cell, inp, _, layers, bidir, seq, batch, states = case
    hidden, proj = sizes(case)
    gates = {"LSTM": 4, "LSTMP": 4, "GRU": 3}.get(cell, 1) * hidden
    d, h_out = (2 if bidir else 1), (proj or hidden)
    params = 0
    for k in range(layers):
        params += d * (gates * ((inp if k == 0 else d * h_out) + h_out + 2) + proj * hidden)
    lstm = cell in ("LSTM", "LSTMP")
    state = layers * d * batch * (h_out + (hidden if lstm else 0))
    ref = seq * batch * inp * 4 + (state * 4 if states else 0) + seq * batch * d * h_out * 8 + state * 8
    model_bytes = params * 4 + 500 + 80 * layers * d * 5
    blocks = lambda n: -(-n // BLOCK) * BLOCK
    return blocks(model_bytes) + blocks(ref + 400)


def all_pairs():
    return {((i, a), (j, b)) for i, j in itertools.combinations(range(len(AXES)), 2)
            for a in AXES[i][1] for b in AXES[j][1]}


def tuples_of(case, t):
    return set(itertools.combinations(list(enumerate(case)), t))


def committed_cases():
    """The deterministic greedy covering set described in the module docstring."""
    uncovered2, uncovered3 = all_pairs(), set()
    for idx in itertools.combinations(range(len(AXES)), 3):
        uncovered3 |= {tuple(zip(idx, vals)) for vals in itertools.product(*(AXES[i][1] for i in idx))}
    combos = list(itertools.product(*(AXES[i][1] for i in FIXED)))
    chosen, seen = [], set()
    usage = {(i, v): 0 for i in FREE for v in AXES[i][1]}
    while uncovered2 or len(chosen) < MIN_COMMITTED:
        for combo in combos:
            best = None
            for free in itertools.product(*(AXES[i][1] for i in FREE)):
                case = [None] * len(AXES)
                for i, v in zip(FIXED + FREE, combo + free):
                    case[i] = v
                case = tuple(case)
                if case_name(case) in seen:
                    continue
                score = (100 * len(tuples_of(case, 2) & uncovered2) + 4 * len(tuples_of(case, 3) & uncovered3)
                         - estimated_bytes(case) / 4096 - BALANCE * sum(usage[i, case[i]] for i in FREE))
                if best is None or score > best[0]:
                    best = (score, case)
            case = best[1]
            chosen.append(case)
            seen.add(case_name(case))
            for i in FREE:
                usage[i, case[i]] += 1
            uncovered2 -= tuples_of(case, 2)
            uncovered3 -= tuples_of(case, 3)
    return chosen


def grid_module(case):
    cell, inp, _, layers, bidir, _, _, _ = case
    hidden, proj = sizes(case)
    kw = dict(input_size=inp, hidden_size=hidden, num_layers=layers, bidirectional=bidir)
    if cell in ("RNN_TANH", "RNN_RELU"):
        return torch.nn.RNN(nonlinearity="tanh" if cell == "RNN_TANH" else "relu", **kw)
    if cell == "GRU":
        return torch.nn.GRU(**kw)
    return torch.nn.LSTM(proj_size=proj, **kw)


def grid_inputs(case, module):
    _, inp, _, layers, bidir, seq, batch, states = case
    x = (torch.randn(seq, batch, inp) * 4).clamp(-20, 20).reshape(-1)
    n_ext = max(1, x.numel() // 50)
    idx = torch.randperm(x.numel())[:n_ext]
    x[idx] = torch.tensor([20.0 if k % 2 == 0 else -20.0 for k in range(n_ext)])
    x = x.reshape(seq, batch, inp)
    h0 = c0 = None
    if states:
        hidden, proj = sizes(case)
        n = layers * (2 if bidir else 1)
        h0 = torch.rand(n, batch, proj or hidden) * 2 - 1
        if isinstance(module, torch.nn.LSTM):
            c0 = torch.rand(n, batch, hidden) * 2 - 1
    return x, h0, c0


def fp32_error(module, x, h0, c0, ref):
    """Worst |a-b| / (1e-5 * max(1,|b|)) of PyTorch's own float32 run against the reference."""
    with torch.no_grad():
        m = module.eval()
        xin = x.transpose(0, 1) if m.batch_first else x
        if isinstance(m, torch.nn.LSTM):
            hs = None if h0 is None and c0 is None else (
                h0 if h0 is not None else torch.zeros(ref["h_n"].shape),
                c0 if c0 is not None else torch.zeros(ref["c_n"].shape))
            out, (h_n, c_n) = m(xin, hs)
        else:
            (out, h_n), c_n = m(xin, h0), None
        if m.batch_first:
            out = out.transpose(0, 1)
    worst = 0.0
    for key, got in (("output", out), ("h_n", h_n), ("c_n", c_n)):
        if got is not None:
            b = ref[key]
            worst = max(worst, float(np.max(np.abs(got.numpy() - b) / (1e-5 * np.maximum(1.0, np.abs(b))))))
    return worst


def write_case(out_dir, name, module, x, h0=None, c0=None, description=""):
    model = os.path.join(out_dir, name + ".safetensors")
    reference = os.path.join(out_dir, name + ".reference.safetensors")
    rx.export_rnn(module, model)
    ref = rx.write_reference(reference, module, x, h0, c0, description or name)
    return [model, reference], ref


def run_grid(out_dir, cases):
    files, worst = [], (0.0, "")
    for case in cases:
        name = case_name(case)
        torch.manual_seed(zlib.crc32(name.encode()))
        module = grid_module(case)
        x, h0, c0 = grid_inputs(case, module)
        written, ref = write_case(out_dir, name, module, x, h0, c0, f"golden grid case {name}")
        files += written
        worst = max(worst, (fp32_error(module, x, h0, c0, ref), name))
    return files, worst


def f05_input():
    t, b, k = torch.meshgrid(torch.arange(4.0), torch.arange(2.0), torch.arange(2.0), indexing="ij")
    return (0.1 * (t + 1) - 0.2 * b + 0.05 * k).float()


def run_field(out_dir):
    files, worst = [], (0.0, "")

    def emit(name, module, x, h0=None, c0=None, description=""):
        nonlocal files, worst
        written, ref = write_case(out_dir, name, module, x, h0, c0, description)
        files += written
        worst = max(worst, (fp32_error(module, x, h0, c0, ref), name))
        return ref

    torch.manual_seed(zlib.crc32(b"f05_bilstm"))
    f05 = torch.nn.LSTM(2, 3, num_layers=2, bidirectional=True)
    x = f05_input()
    ref = emit("f05_bilstm", f05, x, description="F05: bidirectional 2-layer LSTM(2,3), T=4, B=2, "
               "x[t,b,k] = 0.1*(t+1) - 0.2*b + 0.05*k")
    out, h_n = ref["output"], ref["h_n"]
    assert np.abs(h_n[2] - out[3, :, 0:3]).max() < 1e-7 and np.abs(h_n[3] - out[0, :, 3:6]).max() < 1e-7

    swapped = torch.nn.LSTM(2, 3, num_layers=2, bidirectional=True)
    sd = f05.state_dict()
    swap = lambda k: k[:-len("_reverse")] if k.endswith("_reverse") else k + "_reverse"
    swapped.load_state_dict({k: sd[swap(k)] for k in sd})
    model = os.path.join(out_dir, "f05_bilstm_swapped.safetensors")
    rx.export_rnn(swapped, model)
    reference = os.path.join(out_dir, "f05_bilstm_swapped.reference.safetensors")
    with open(os.path.join(out_dir, "f05_bilstm.reference.safetensors"), "rb") as f:
        rx.atomic_write_bytes(reference, f.read())
    files += [model, reference]
    miss = np.abs(rx.reference_outputs(swapped, x)[0] - out).max()
    assert miss > 1e-3, f"negative control too weak: swapped weights change the output by only {miss}"
    print(f"f05_bilstm_swapped: swapped model misses the f05 reference by {miss:.3g} (must fail validation)")

    torch.manual_seed(zlib.crc32(b"f06a_lstm_batch_first"))
    f06 = torch.nn.LSTM(2, 3, num_layers=2, batch_first=True)
    l, b = torch.meshgrid(torch.arange(2.0), torch.arange(2.0), indexing="ij")
    h0 = ((10 * l + b + 1) / 100).unsqueeze(-1).expand(2, 2, 3).contiguous().float()
    ref = emit("f06a_lstm_batch_first", f06, f05_input(), h0, -h0,
               description="F06a: LSTM(2,3,num_layers=2,batch_first=True) exported; B=2, T=4; reference "
                           "tensors are time-major; h0[l,b,:] = (10*l+b+1)/100, c0 = -h0")
    assert ref["h_n"].shape == (2, 2, 3)

    torch.manual_seed(zlib.crc32(b"f08_lstm_proj"))
    f08 = torch.nn.LSTM(3, 4, proj_size=2)
    x, h0, c0 = torch.randn(5, 2, 3), torch.rand(1, 2, 2) * 2 - 1, torch.rand(1, 2, 4) * 2 - 1
    ref = emit("f08_lstm_proj", f08, x, h0, c0, description="F08: LSTM(3,4,proj_size=2), T=5, B=2, N(0,1) input, "
                                                            "random h0/c0")
    assert ref["output"].shape == (5, 2, 2) and ref["h_n"].shape == (1, 2, 2) and ref["c_n"].shape == (1, 2, 4)
    return files, worst


MODELS_SIZE_LIMIT = 1_500_000
MODEL_CELLS = ["LSTM", "GRU"]
DECODE_TAG = {"reverse": "rev", "forward": "fwd"}
OUTPUT_TAG = {"point": "point", "gaussian": "gauss"}


def model_cases():
    """(name, constructor, kwargs, x shape) of the `models` set, in a fixed order."""
    I, H, A, T, B, N, horizon, targets = 3, 8, 5, 12, 3, 40, 3, [0, 2]
    cases = []
    for cell, decode, bi, layers in itertools.product(MODEL_CELLS, ["reverse", "forward"], [False, True], [1, 2]):
        name = f"recon_{cell.lower()}_{DECODE_TAG[decode]}_bi{int(bi)}_l{layers}"
        cases.append((name, rm.Reconstruction, dict(cell=cell, input_size=I, hidden_size=H, num_layers=layers,
                                                   bidirectional_encoder=bi, decode=decode, seq_len=T), (T, B, I)))
    for cell, output, state, layers in itertools.product(MODEL_CELLS, ["point", "gaussian"], ["windowed", "stateful"],
                                                         [1, 2]):
        name = f"pred_{cell.lower()}_{OUTPUT_TAG[output]}_{state}_l{layers}"
        kw = dict(cell=cell, input_size=I, hidden_size=H, num_layers=layers, horizon=horizon, targets=targets,
                  output=output, state=state)
        if state == "windowed":
            kw["seq_len"] = T
        cases.append((name, rm.Prediction, kw, (T if state == "windowed" else N, B, I)))
    for cell, layers in itertools.product(MODEL_CELLS, [1, 2]):
        cases.append((f"attn_{cell.lower()}_l{layers}", rm.Attention,
                      dict(cell=cell, input_size=I, hidden_size=H, num_layers=layers, attention_size=A, seq_len=T),
                      (T, B, I)))
    cases.append(("pred_telemanom", rm.Prediction,
                  dict(cell="LSTM", input_size=25, hidden_size=80, num_layers=2, horizon=10, targets=[0],
                       output="point", state="windowed", seq_len=250), (250, 2, 25)))
    return cases


def model_input(shape):
    x = (torch.randn(*shape) * 2).clamp(-20, 20).reshape(-1)
    n_ext = max(1, x.numel() // 50)
    idx = torch.randperm(x.numel())[:n_ext]
    x[idx] = torch.tensor([20.0 if k % 2 == 0 else -20.0 for k in range(n_ext)])
    return x.reshape(shape)


def model_fp32_error(module, x, ref):
    """Worst |a-b| / (1e-5 * max(1,|b|)) of the float32 module's outputs against the reference."""
    with torch.no_grad():
        m = module.eval()
        if isinstance(m, rm.Attention):
            rec, weights = m(x)
            got = {"reconstruction": rec, "attention": weights}
        elif isinstance(m, rm.Reconstruction):
            got = {"reconstruction": m(x)}
        else:
            got = {"prediction": m(x) if m.state_mode == "windowed" else m(x)[0]}
    worst = 0.0
    for key, value in got.items():
        b = ref[key]
        worst = max(worst, float(np.max(np.abs(value.numpy() - b) / (1e-5 * np.maximum(1.0, np.abs(b))))))
    return worst


def run_models(out_dir):
    files, worst = [], (0.0, "")
    for name, cls, kwargs, shape in model_cases():
        torch.manual_seed(zlib.crc32(name.encode()))
        module = cls(**kwargs)
        want = rx.expected_model_tensors(module.kind, module.config())
        have = module.state_dict()
        assert set(have) == set(want), f"{name}: state_dict names {sorted(have)} != documented {sorted(want)}"
        assert all(list(have[k].shape) == want[k] for k in want), f"{name}: tensor shapes differ from docs/models.md"
        assert module.config() == kwargs, f"{name}: config() {module.config()} != constructor arguments {kwargs}"
        x = model_input(shape)
        model = os.path.join(out_dir, name + ".safetensors")
        reference = os.path.join(out_dir, name + ".reference.safetensors")
        rx.export_model(module, model)
        desc = f"golden model case {name}: {module.kind} {json.dumps(module.config())}, input {list(shape)}"
        ref = rx.write_model_reference(reference, module, x, desc)
        files += [model, reference]
        err = model_fp32_error(module, x, ref)
        worst = max(worst, (err, name))
        print(f"  {name:34s} {os.path.getsize(model):8d} + {os.path.getsize(reference):7d} bytes, "
              f"input {list(shape)}, fp32 error {err:.3f} x tol")
    return files, worst


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="output directory (created if missing)")
    p.add_argument("--set", required=True, choices=["committed", "full", "field", "models"])
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    start = time.monotonic()
    if args.set == "field":
        files, worst = run_field(args.out)
    elif args.set == "models":
        files, worst = run_models(args.out)
    else:
        cases = committed_cases() if args.set == "committed" else list(itertools.product(*(a[1] for a in AXES)))
        if args.set == "committed":
            covered = set().union(*(tuples_of(c, 2) for c in cases))
            assert covered == all_pairs(), "pair coverage incomplete"
            cross = {tuple(c[i] for i in FIXED) for c in cases}
            assert len(cross) == 40 and len(cases) >= MIN_COMMITTED
            print(f"committed: {len(cases)} cases, {len(covered)}/{len(all_pairs())} value pairs covered, "
                  f"{len(cross)}/40 cell x layers x bidir x states combos")
        files, worst = run_grid(args.out, cases)
    names = sorted({os.path.basename(f)[:-len(".safetensors")] for f in files if not f.endswith(".reference.safetensors")})
    for listing, subset in (("cases.txt", [n for n in names if n not in EXPECTED_FAILURES]),
                            ("expected_failures.txt", [n for n in names if n in EXPECTED_FAILURES])):
        if subset:
            rx.atomic_write_bytes(os.path.join(args.out, listing), "".join(n + "\n" for n in subset).encode())
    total = sum(os.path.getsize(f) for f in files)
    blocks = sum(-(-os.path.getsize(f) // BLOCK) * BLOCK for f in files)
    print(f"{args.set}: {len(names)} cases, {len(files)} files, {total} bytes ({blocks} in 4 KiB blocks), "
          f"{time.monotonic() - start:.1f} s")
    print(f"worst PyTorch float32 error vs float64 reference: {worst[0]:.3f} x tolerance ({worst[1]})")
    if args.set == "committed":
        assert blocks < SIZE_LIMIT, f"committed set too large: {blocks} bytes"
    if args.set == "models":
        on_disk = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
        print(f"models: directory {args.out} holds {on_disk} bytes (limit {MODELS_SIZE_LIMIT})")
        assert on_disk < MODELS_SIZE_LIMIT, f"models directory too large: {on_disk} bytes"
    written = {os.path.basename(f) for f in files}
    stale = sorted(f for f in os.listdir(args.out) if f.endswith(".safetensors") and f not in written)
    if stale:
        print(f"warning: {len(stale)} stale .safetensors files in {args.out} (not written by this run): {stale[:5]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
