"""Golden scoring cases: tiny models exported WITH normalization, scoring (and statistics) and a
threshold, plus a scoring reference file of PyTorch's row scores on a short series.

    /usr/bin/python3 tools/python/make_scoring_golden.py [--out tests/golden/scoring]

Every case writes NAME.safetensors (written by rnnad_export.export_model exactly as train.py
writes a model: `normalization`, `scoring`, `threshold` config objects, F64 scoring.mean /
scoring.precision for mahalanobis and lstm_ad) and NAME.reference.safetensors (series F64 [N, F]
raw values, scores F64 [N] with NaN = no score, contributions F64 [N, F'], metadata
rnnad.reference with first_row 0), and lists the names in OUT/cases.txt. Deterministic: every
case seeds torch and numpy with zlib.crc32(name).

Data (F = 3 features, raw units): a generator with feature 0 = 10 + 2 sin(2 pi t / 16) + noise,
feature 1 = -3 + cos(2 pi t / 11) + noise, feature 2 = 7.5 (constant: std 0 and max - min 0, so the
constant-feature guard of docs/scoring.md §1 applies) unless the case says otherwise. Training rows
0-159 (normalisation fitted here), validation rows 160-239 (statistics and the mean + 4 std
threshold fitted here), and a separate scored series of 96 rows (unless stated) with a spike at
row 57 (feature 0, +6) and a level shift of +1.5 on feature 1 over rows 70-77.
Models: hidden 6, 1 layer unless stated, trained 3 epochs (Adam, lr 1e-2, batch 16) by
train.py's train_model; windows T = 8; prediction horizon 3 (windowed, targets [0, 2]) or 2
(stateful, targets [0, 1, 2]).

Cases (kind, normalisation, method, pooling, stride):
  recon_<method>_<pooling>[_s2]    reconstruction LSTM reverse, zscore, absolute|squared|mahalanobis
                                   x mean|max|last; stride 2 for squared/last and mahalanobis/max
                                   (the latter on 97 rows: its last row is in no window, NaN)
  attn_<method>_<pooling>[_s2]     attention GRU, minmax (feature 2 constant: max - min = 0), the
                                   same 9; stride 2 for absolute/mean (97 rows, last row NaN) and
                                   mahalanobis/last
  predw_<method>[_s2]              prediction windowed LSTM point: absolute (stride 2), squared, lstm_ad
  preds_<method>                   prediction stateful GRU point: absolute, squared, lstm_ad
  predw_gauss_nll, preds_gauss_nll gaussian head, gaussian_nll (windowed LSTM, stateful GRU)
  preds_gauss_absolute             gaussian head scored with absolute (uses the means only)
  recon_one_window                 reconstruction GRU forward, series of exactly T = 8 rows, mahalanobis
  recon_norm_none                  reconstruction GRU forward, normalization "none", absolute, max
  recon_bi_l2_mahalanobis          reconstruction LSTM, bidirectional encoder, 2 layers, mahalanobis, mean
  recon_constant_series            reconstruction LSTM, scored series constant in every feature, mahalanobis
  predw_min_series                 prediction windowed, the shortest series (F10): T + 1 = 9 rows, two
                                   windows, one score (row 8); a shorter series is an error

The script checks that PyTorch's float32 scores are within a small fraction of the engine's score
tolerance of the float64 reference, that with max pooling no row's two best windows are within
1e-5 (relative) of each other (so which window's contributions a row reports does not depend on
fp32 rounding; ties would go to the earliest window), and that the directory totals < 1.5 MB.
"""
import argparse
import argparse as _ap
import os
import sys
import time
import zlib

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import rnnad_export as rx  # noqa: E402
import rnnad_models as rm  # noqa: E402
import rnnad_scoring as rs  # noqa: E402
import train as tr  # noqa: E402

SIZE_LIMIT = 1_500_000
T = 8
N_TRAIN, N_VAL, N_SCORED = 160, 80, 96


def generate(n, rng, const=True, t0=0):
    t = np.arange(t0, t0 + n, dtype=np.float64)
    x = np.empty((n, 3))
    x[:, 0] = 10 + 2 * np.sin(2 * np.pi * t / 16) + 0.3 * rng.standard_normal(n)
    x[:, 1] = -3 + np.cos(2 * np.pi * t / 11) + 0.2 * rng.standard_normal(n)
    x[:, 2] = 7.5 if const else 4 + 0.5 * np.sin(2 * np.pi * t / 7) + 0.1 * rng.standard_normal(n)
    return np.round(x, 6)           # values as a CSV would hold them


def scored_series(rng, n=N_SCORED, const=True):
    x = generate(n, rng, const, t0=1000)
    if n > 57:
        x[57, 0] += 6.0
    if n > 77:
        x[70:78, 1] += 1.5
    return x


def cases():
    """(name, kind, model kwargs, normalization, method, pooling, stride, options)."""
    out = []
    rec = dict(cell="LSTM", hidden_size=6, num_layers=1, bidirectional_encoder=False, decode="reverse", seq_len=T)
    att = dict(cell="GRU", hidden_size=6, num_layers=1, attention_size=4, seq_len=T)
    for method in ("absolute", "squared", "mahalanobis"):
        for pooling in ("mean", "max", "last"):
            s = 2 if (method, pooling) in (("squared", "last"), ("mahalanobis", "max")) else 1
            out.append((f"recon_{method}_{pooling}" + ("_s2" if s == 2 else ""), "reconstruction", rec, "zscore",
                        method, pooling, s, {"n": 97} if s == 2 and method == "mahalanobis" else {}))
    for method in ("absolute", "squared", "mahalanobis"):
        for pooling in ("mean", "max", "last"):
            s = 2 if (method, pooling) in (("absolute", "mean"), ("mahalanobis", "last")) else 1
            out.append((f"attn_{method}_{pooling}" + ("_s2" if s == 2 else ""), "attention", att, "minmax",
                        method, pooling, s, {"n": 97} if s == 2 and method == "absolute" else {}))
    pw = dict(cell="LSTM", hidden_size=6, num_layers=1, horizon=3, targets=[0, 2], output="point",
              state="windowed", seq_len=T)
    ps = dict(cell="GRU", hidden_size=6, num_layers=1, horizon=2, targets=[0, 1, 2], output="point", state="stateful")
    for method in ("absolute", "squared", "lstm_ad"):
        s = 2 if method == "absolute" else 1
        out.append((f"predw_{method}" + ("_s2" if s == 2 else ""), "prediction", pw, "zscore", method, None, s, {}))
    for method in ("absolute", "squared", "lstm_ad"):
        out.append((f"preds_{method}", "prediction", ps, "zscore", method, None, 1, {}))
    out.append(("predw_gauss_nll", "prediction", {**pw, "output": "gaussian"}, "zscore", "gaussian_nll", None, 1, {}))
    out.append(("preds_gauss_nll", "prediction", {**ps, "output": "gaussian"}, "zscore", "gaussian_nll", None, 1, {}))
    out.append(("preds_gauss_absolute", "prediction", {**ps, "output": "gaussian"}, "zscore", "absolute", None, 1, {}))
    fwd = dict(rec, cell="GRU", decode="forward")
    out.append(("recon_one_window", "reconstruction", fwd, "zscore", "mahalanobis", "mean", 1, {"n": T}))
    out.append(("recon_norm_none", "reconstruction", fwd, "none", "absolute", "max", 1, {}))
    out.append(("recon_bi_l2_mahalanobis", "reconstruction", dict(rec, bidirectional_encoder=True, num_layers=2),
                "zscore", "mahalanobis", "mean", 1, {}))
    out.append(("recon_constant_series", "reconstruction", rec, "zscore", "mahalanobis", "mean", 1, {"constant": True}))
    out.append(("predw_min_series", "prediction", pw, "zscore", "squared", None, 1, {"n": T + 1}))
    return out


def train_args(seed):
    return _ap.Namespace(seq_len=T, batch_size=16, train_stride=1, max_val_windows=1024, teacher_forcing=True,
                         max_train_windows=0, clip=1.0, lr=1e-2, weight_decay=0.0, epochs=3, patience=3, seed=seed)


def build(kind, kw):
    return rm.KINDS[kind](input_size=3, **kw)


def max_pool_gap(module, series, norm, scoring, stats):
    """Smallest relative gap between the two largest window scores of a row (max pooling): the
    window whose contributions a row reports must not depend on fp32 rounding."""
    x = rs.normalize(series, norm)
    starts, rec = rs.run_model(module, x, scoring["stride"])
    if len(starts) == 0:
        return float("inf")
    step, _ = rs.reconstruction_step_scores(x, rec, starts, scoring["method"], stats)
    T = rec.shape[1]
    ref, _ = rs.pool(len(x), starts, step, step[..., None], "max")
    med = float(np.nanmedian(np.abs(ref)))
    worst = float("inf")
    for r in range(len(x)):
        vals = sorted((step[w, r - st] for w, st in enumerate(starts) if 0 <= r - st < T), reverse=True)
        if len(vals) > 1:
            worst = min(worst, (vals[0] - vals[1]) / max(abs(vals[0]), med))
    return worst


def make_case(out_dir, name, kind, kw, norm_method, method, pooling, stride, opt, log):
    seed = zlib.crc32(name.encode())
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = generate(N_TRAIN + N_VAL, rng)
    names = ["f0", "f1", "f2"]
    norm = rs.fit_normalization(data[:N_TRAIN], norm_method, names)
    x = rs.normalize(data, norm)
    module = build(kind, kw)
    with_log = (lambda *a, **k: None)
    module, hist = tr.train_model(module, train_args(seed), x[:N_TRAIN], x, N_TRAIN, log=with_log)
    cfg = module.config()
    stats = None
    if rs.needs_stats(method):
        stats, _ = tr.fit_statistics(module, method, x[:N_TRAIN], x[N_TRAIN:], 1e-6)
    scoring = tr.scoring_object(kind, cfg, method, pooling, stride, stats, 1e-6 if stats else None)
    val_scores = tr.segment_scores(module, x[:N_TRAIN], x[N_TRAIN:], scoring, stats)
    threshold = {"method": "static", "value": tr.mean_std_threshold(val_scores), "calibration": "mean_std_4",
                 "spot": {"q": 1e-3, "level": 0.98}}
    n = opt.get("n", N_SCORED)
    series = scored_series(rng, n)
    if opt.get("constant"):
        series = np.tile(np.array([[11.25, -2.5, 7.5]]), (n, 1))
    scores, contrib = rs.score_series(module, series, norm, scoring, stats)
    f32, _ = rs.score_series(module, series, norm, scoring, stats, dtype="float32")
    ratio = rs.score_tolerance_ratio(f32, scores)
    model_path = os.path.join(out_dir, name + ".safetensors")
    ref_path = os.path.join(out_dir, name + ".reference.safetensors")
    rx.export_model(module, model_path, normalization=norm, scoring=scoring, threshold=threshold, stats=stats)
    desc = (f"golden scoring case {name}: {kind}, normalization {norm_method}, scoring {method}"
            + (f", pooling {pooling}" if pooling else "") + f", stride {stride}; {n} rows, F = 3")
    rx.write_score_reference(ref_path, series, scores, contrib, desc, first_row=0)
    scored = int(np.sum(~np.isnan(scores)))
    if scoring.get("pooling") == "max":
        gap = max_pool_gap(module, series, norm, scoring, stats)
        assert gap > 1e-5, f"{name}: max pooling near-tie (relative gap {gap:.2g})"
        log(f"  {name}: max pooling, smallest relative gap between the two best windows {gap:.2g}")
    log(f"  {name:28s} {os.path.getsize(model_path):6d} + {os.path.getsize(ref_path):6d} bytes, {n} rows, "
        f"{scored} scored, val loss {hist['best_val_loss']:.4f}, fp32 {ratio:.4f} x tol")
    return [model_path, ref_path], ratio, scores


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(HERE, "..", "..", "tests", "golden", "scoring"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    start = time.monotonic()
    files, worst, names = [], (0.0, ""), []
    for case in cases():
        written, ratio, scores = make_case(args.out, *case, log=print)
        files += written
        names.append(case[0])
        worst = max(worst, (ratio, case[0]))
        assert np.any(~np.isnan(scores)), case[0]
        if case[0] == "predw_min_series":
            assert np.flatnonzero(~np.isnan(scores)).tolist() == [T]
    rx.atomic_write_bytes(os.path.join(args.out, "cases.txt"), "".join(n + "\n" for n in names).encode())
    total = sum(os.path.getsize(f) for f in files)
    print(f"scoring: {len(names)} cases, {len(files)} files, {total} bytes, {time.monotonic() - start:.1f} s; "
          f"worst PyTorch float32 vs float64: {worst[0]:.4f} x score tolerance ({worst[1]})")
    assert worst[0] < 0.5, "float32 scores too far from the reference for the engine's tolerance"
    on_disk = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    assert on_disk < SIZE_LIMIT, f"{args.out}: {on_disk} bytes"
    stale = sorted(f for f in os.listdir(args.out) if f.endswith(".safetensors") and f not in
                   {os.path.basename(x) for x in files})
    if stale:
        print(f"warning: stale files in {args.out}: {stale}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
