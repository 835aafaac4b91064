"""Train an rnnad anomaly-detection model on a CSV series and export it with its scoring settings.

    /usr/bin/python3 tools/python/train.py DATA.csv --out models/NAME.safetensors [options]
    /usr/bin/python3 tools/python/train.py --help

Writes OUT (the model file) and OUT's `.reference.safetensors` (PyTorch's scores on the first
--reference-rows rows of the series), and prints the training time and losses. Runs with Debian's
interpreter (/usr/bin/python3: torch 1.13 + numpy), on --threads CPU threads (default 1).

Input
  * NAB form: a header line, then `timestamp,value[,value...]`; the first column is a timestamp
    (kept only for --labels windows), every other column is a feature (names from the header).
  * SMD/ASD form: comma-separated numbers, no header; every column is a feature (names m1, m2, ...).
  --format auto (default) looks at the first line: if every field is a number, plain, else NAB.
  An empty or non-numeric value is an error naming the line (never filled in).

Procedure
  1. Rows: all rows of DATA, or the first --train-rows N. The first --train-fraction (default 0.8)
     of them train, the rest validate (chronological split, no shuffling across it).
  2. Normalisation (--normalization zscore | minmax | none) fitted on the training rows only:
     mean and population std (ddof = 0), or min and max. The statistics are written as fitted;
     a constant feature keeps std 0 (or max - min 0) and the guard of docs/scoring.md §1 (scale < 1e-12 *
     max(1, |centre|) -> 1) is applied when they are used, here as in the engine (F13).
  3. Model (rnnad_models.py): --kind reconstruction | prediction | attention, --cell, --hidden,
     --layers, --seq-len (T), reconstruction --decode / --bidirectional-encoder, attention
     --attention-size, prediction --horizon / --targets / --output / --state.
  4. Training: torch.manual_seed(--seed) and numpy seeds; Adam (--lr, --weight-decay), --dropout,
     gradient norm clipped to --clip, mini-batches of --batch-size windows, at most --epochs epochs,
     early stopping when the validation loss has not improved for --patience epochs (the best
     epoch's weights are kept).
       reconstruction / attention: windows of T rows (training stride --train-stride), MSE of the
         reconstruction; training feeds the decoder the observed values (--teacher-forcing, default
         on), validation runs as inference (decoder fed its own outputs).
       prediction, windowed: windows of T rows and the next `horizon` rows as targets; MSE (point)
         or the Gaussian negative log-likelihood 1/2 (v + e^2 exp(-v)) (gaussian).
       prediction, stateful: truncated back-propagation through time: the training rows are cut
         into min(batch, rows / (16 T)) (at least 1) contiguous streams fed in chunks of T rows, the state carried
         (detached) from chunk to chunk; validation runs the whole series from a zero state at
         row 0 (as inference does) and averages the loss over the validation rows.
     An epoch is one pass over the training windows (at most --max-train-windows of them, drawn
     at random each epoch, if set).
  5. Scoring statistics (mahalanobis, lstm_ad), fitted in float64 on the validation part (a float64
     copy of the float32 weights): mahalanobis on |e| of every step of every stride-1 window inside
     the validation rows, lstm_ad on the error vector of every validation row that has one (the
     stateful model run from row 0). rnnad_scoring.fit_stats: ML covariance, ridge --ridge.
  6. Default threshold: with --inject, anomalies are injected into a COPY of the validation rows
     (raw values; spikes: one row +-U(4,8) sigma; level-shifts: T/2..2T rows shifted by +-U(2,4)
     sigma; noise-bursts: T/4..T rows plus N(0, (U(1.5,3) sigma)^2); sigma = the feature's guarded
     training scale; one to three non-constant features per event; about one event per
     max(4T, 100) rows per type, never overlapping), the copy is scored, and the threshold is the
     static value maximising the point-wise F1 on it (flagged = score > threshold; the midpoint
     between the lowest flagged and the highest unflagged score; ties go to fewer flagged rows).
     Without --inject: mean + 4 std of the validation scores (the engine's default static rule).
  7. Reference: the first --reference-rows rows of --reference-csv (default DATA) from
     --reference-first-row, scored as one series by the float64 model; the float32 model is scored
     too and its worst error against the reference is printed in units of the engine's score
     tolerance (|a - b| <= 1e-4 max(|b|, median |b|)).
  8. With --labels (NAB combined_windows.json, or a 0/1 file with one line per row), the whole
     --eval-csv (default DATA) is scored and detection of each labelled window/segment at the
     default threshold is printed.

Model file written (docs/model_format.md, docs/scoring.md). __metadata__:
  "format": "pt"
  "rnnad.config": {
      "format_version": 1, "kind": ..., "producer": "rnnad_export.py (torch ...)",
      "model": {... docs/models.md ...},
      "normalization": {"method": "zscore", "mean": [F numbers], "std": [F numbers], "features": [F strings]}
                     | {"method": "minmax", "min": [F], "max": [F], "features": [F]}
                     | {"method": "none", "features": [F]},
      "scoring": {"method": M,
                  "pooling": "mean" | "max" | "last",     reconstruction and attention only
                  "stride": int >= 1,                      reconstruction, attention, windowed prediction only
                  "ridge": number, "log_det": number},     mahalanobis and lstm_ad only
         M: reconstruction / attention: absolute | squared | mahalanobis;
            prediction: absolute | squared | lstm_ad, and gaussian_nll when output = gaussian.
         lstm_ad needs stride 1.
      "threshold": {"method": "static", "value": number,
                    "calibration": "max_f1_injected" | "mean_std_4",      (free text, informative)
                    "spot": {"q": 0.001, "level": 0.98}}                   (SPOT defaults)
  }
  "rnnad.training": JSON provenance (data, rows, epochs, losses, seconds, seed, arguments,
                    injected events, threshold F1); not read by the engine.
Tensors: the module's state_dict (F32, docs/models.md), plus for mahalanobis and lstm_ad
  "scoring.mean" F64 [k] and "scoring.precision" F64 [k, k], k = F (mahalanobis) or
  horizon * len(targets) (lstm_ad, dimension-major: index i * horizon + h).
No field is written that is not listed here; numbers are finite (JSON without NaN/Infinity).

Reference file (OUT with .safetensors -> .reference.safetensors):
  series        F64 [N, F]   the raw values as read from the CSV (before normalisation)
  scores        F64 [N]      PyTorch's row scores (NaN = no score)
  contributions F64 [N, F']  per-feature contributions (F' = F, or len(targets) for prediction;
                             NaN rows exactly where scores is NaN)
  __metadata__["rnnad.reference"] = {"format_version": 1, "description": ..., "producer": ...,
                                     "first_row": index in its CSV of series row 0}

Scoring conventions (rnnad_scoring.py's docstring): the model input is float32(x), errors are taken
against the float64 x; windows lie completely inside the series and start at 0, s, 2s, ...;
`max` pooling takes the contributions of the window with the largest score (earliest on ties),
`last` those of the latest-starting window; lstm_ad contributions group the quadratic part by
target and split the constant part evenly.
"""
import argparse
import csv
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import rnnad_export as rx  # noqa: E402
import rnnad_models as rm  # noqa: E402
import rnnad_scoring as rs  # noqa: E402

INJECTIONS = ("spikes", "level-shifts", "noise-bursts")


# ---------------------------------------------------------------------------------------------
# data


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_series(path, fmt="auto"):
    """(raw [N, F] float64, feature names, timestamps or None, format used)."""
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f)]
    while rows and not rows[-1]:
        rows.pop()
    if not rows:
        raise ValueError(f"{path}: empty file")
    if fmt == "auto":
        fmt = "plain" if all(_is_number(v) for v in rows[0]) else "nab"
    if fmt == "nab":
        header, body, first_line, skip = rows[0], rows[1:], 2, 1
        names = [h.strip() for h in header[1:]]
    elif fmt == "plain":
        header, body, first_line, skip = None, rows, 1, 0
        names = [f"m{i + 1}" for i in range(len(rows[0]))]
    else:
        raise ValueError(f"format must be auto, nab or plain, got {fmt!r}")
    width = len(names) + skip
    if not names:
        raise ValueError(f"{path}: no feature column")
    data = np.empty((len(body), len(names)))
    stamps = [] if fmt == "nab" else None
    for i, r in enumerate(body):
        if len(r) != width:
            raise ValueError(f"{path}:{i + first_line}: {len(r)} fields, expected {width}")
        try:
            vals = [float(v) for v in r[skip:]]
        except ValueError:
            raise ValueError(f"{path}:{i + first_line}: a value is not a number: {r!r}") from None
        if not all(math.isfinite(v) for v in vals):
            raise ValueError(f"{path}:{i + first_line}: non-finite value: {r!r}")
        data[i] = vals
        if stamps is not None:
            stamps.append(r[0].strip())
    return data, names, stamps, fmt


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read_labels(path, n_rows, stamps=None, key=None, csv_path=None):
    """[(first, last)] inclusive row ranges: NAB windows JSON (needs the timestamps) or 0/1 lines."""
    if path.endswith(".json"):
        with open(path) as f:
            table = json.load(f)
        if key is None:
            base = os.path.basename(csv_path)
            keys = [k for k in table if os.path.basename(k) == base]
            if len(keys) != 1:
                raise ValueError(f"{path}: no unique entry for {base} (use --labels-key)")
            key = keys[0]
        if stamps is None:
            raise ValueError("NAB windows need a CSV with timestamps")
        index = {}
        for i, s in enumerate(stamps):
            index.setdefault(s, i)
        out = []
        for a, b in table[key]:
            out.append((index[a[:19]], index[b[:19]]))
        return out
    lab = np.loadtxt(path, dtype=np.int64).reshape(-1)[:n_rows]
    d = np.diff(np.r_[0, lab, 0])
    return list(zip(np.flatnonzero(d == 1).tolist(), (np.flatnonzero(d == -1) - 1).tolist()))


# ---------------------------------------------------------------------------------------------
# model and training


def build_model(args, n_features):
    common = dict(cell=args.cell, input_size=n_features, hidden_size=args.hidden, num_layers=args.layers,
                  dropout=args.dropout)
    if args.kind == "reconstruction":
        return rm.Reconstruction(bidirectional_encoder=args.bidirectional_encoder, decode=args.decode,
                                 seq_len=args.seq_len, **common)
    if args.kind == "attention":
        return rm.Attention(attention_size=args.attention_size or args.hidden, seq_len=args.seq_len, **common)
    targets = parse_targets(args.targets, n_features)
    return rm.Prediction(horizon=args.horizon, targets=targets, output=args.output, state=args.state,
                         seq_len=args.seq_len if args.state == "windowed" else None, **common)


def parse_targets(text, n_features):
    if text in (None, "", "all"):
        return list(range(n_features))
    return [int(t) for t in text.split(",")]


def window_tensor(x32, starts, length):
    """[length, B, F] float32 windows starting at `starts` of the float32 tensor x32 [N, F]."""
    idx = torch.from_numpy(np.asarray(starts)[None, :] + np.arange(length)[:, None])
    return x32[idx]


def gaussian_nll(mean, logvar, y):
    return 0.5 * (logvar + (y - mean) ** 2 * torch.exp(-logvar)).mean()


def prediction_loss(m, head, y):
    """head [.., P] outputs against targets y [.., horizon, d] (same leading dims)."""
    mean, logvar = m.split(head)
    if logvar is None:
        return torch.nn.functional.mse_loss(mean, y)
    return gaussian_nll(mean, logvar, y)


class Trainer:
    """Loss functions per kind; windows drawn from float32 normalised series."""

    def __init__(self, module, args, x_train, x_trainval, n_train):
        self.m, self.a = module, args
        self.kind = module.kind
        self.cfg = module.config()
        self.xt = torch.from_numpy(x_train.astype(np.float32))
        self.xtv = torch.from_numpy(x_trainval.astype(np.float32))
        self.n_train = n_train
        T = args.seq_len
        if self.kind == "prediction":
            self.tg = torch.tensor(self.cfg["targets"])
            self.l = self.cfg["horizon"]
        if self.kind == "prediction" and self.cfg["state"] == "stateful":
            n = len(self.xt)
            self.streams = max(1, min(args.batch_size, n // (16 * T)))
            self.stream_len = n // self.streams
            self.train_starts = None
        else:
            extra = self.l if self.kind == "prediction" else 0
            self.train_starts = np.arange(0, len(self.xt) - T - extra + 1, args.train_stride)
            n_val = len(self.xtv) - n_train
            self.val_starts = n_train + np.arange(0, max(0, n_val - T - extra + 1))
            if len(self.train_starts) == 0 or len(self.val_starts) == 0:
                raise ValueError(f"too few rows for windows of {T + extra} rows: {n_train} training, "
                                 f"{n_val} validation")
            if len(self.val_starts) > args.max_val_windows:
                pick = np.linspace(0, len(self.val_starts) - 1, args.max_val_windows).round().astype(np.int64)
                self.val_starts = self.val_starts[np.unique(pick)]

    def window_loss(self, x32, starts, train):
        T = self.a.seq_len
        if self.kind == "prediction":
            xw = window_tensor(x32, starts, T + self.l)
            y = xw[T:, :, :][:, :, self.tg].permute(1, 0, 2)           # [B, l, d]
            head = self.m(xw[:T])[0]                                    # [B, P]
            return prediction_loss(self.m, head, y)
        xw = window_tensor(x32, starts, T)
        tf = train and self.a.teacher_forcing
        out = self.m(xw, teacher_forcing=tf)
        if self.kind == "attention":
            out = out[0]
        return torch.nn.functional.mse_loss(out, xw)

    def epoch(self, opt, rng):
        self.m.train()
        losses = []
        if self.train_starts is None:
            return self.stateful_epoch(opt)
        starts = self.train_starts
        if self.a.max_train_windows and len(starts) > self.a.max_train_windows:
            starts = rng.choice(starts, self.a.max_train_windows, replace=False)
        starts = rng.permutation(starts)
        for b in range(0, len(starts), self.a.batch_size):
            loss = self.window_loss(self.xt, starts[b:b + self.a.batch_size], True)
            opt.zero_grad()
            loss.backward()
            if self.a.clip > 0:
                torch.nn.utils.clip_grad_norm_(self.m.parameters(), self.a.clip)
            opt.step()
            losses.append(loss.item())
        return float(np.mean(losses))

    def stateful_targets(self, x32, n_rows):
        """y [N, l, d] with y[r, h] = x[r + 1 + h, targets] and mask [N, l] of existing targets."""
        N, l = n_rows, self.l
        y = torch.zeros(N, l, len(self.cfg["targets"]))
        mask = torch.zeros(N, l)
        for h in range(l):
            if N - 1 - h > 0:
                y[:N - 1 - h, h] = x32[1 + h:N][:, self.tg]
                mask[:N - 1 - h, h] = 1
        return y, mask

    def stateful_loss(self, head, y, mask):
        mean, logvar = self.m.split(head)
        if logvar is None:
            per = (mean - y) ** 2
        else:
            per = 0.5 * (logvar + (y - mean) ** 2 * torch.exp(-logvar))
        w = mask.unsqueeze(-1).expand_as(per)
        return (per * w).sum() / w.sum().clamp(min=1)

    def stateful_epoch(self, opt):
        S, L, T = self.streams, self.stream_len, self.a.seq_len
        xs = self.xt[:S * L].reshape(S, L, -1).permute(1, 0, 2)        # [L, S, F]
        y_all, mask_all = self.stateful_targets(self.xt, len(self.xt))
        ys = y_all[:S * L].reshape(S, L, *y_all.shape[1:]).permute(1, 0, 2, 3)
        ms = mask_all[:S * L].reshape(S, L, -1).permute(1, 0, 2)
        state, losses = None, []
        for c in range(0, L, T):
            head, state = self.m(xs[c:c + T], state)
            loss = self.stateful_loss(head, ys[c:c + T], ms[c:c + T])
            opt.zero_grad()
            loss.backward()
            if self.a.clip > 0:
                torch.nn.utils.clip_grad_norm_(self.m.parameters(), self.a.clip)
            opt.step()
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
            losses.append(loss.item())
        return float(np.mean(losses))

    def validation_loss(self):
        self.m.eval()
        with torch.no_grad():
            if self.train_starts is None:
                head, _ = self.m(self.xtv.unsqueeze(1))
                y, mask = self.stateful_targets(self.xtv, len(self.xtv))
                mask[:self.n_train] = 0
                return float(self.stateful_loss(head[:, 0], y, mask))
            total, count = 0.0, 0
            for b in range(0, len(self.val_starts), 512):
                s = self.val_starts[b:b + 512]
                total += float(self.window_loss(self.xtv, s, False)) * len(s)
                count += len(s)
            return total / count


def train_model(module, args, x_train, x_trainval, n_train, log=print):
    """Adam with early stopping; returns (module with the best weights, history dict)."""
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    trainer = Trainer(module, args, x_train, x_trainval, n_train)
    opt = torch.optim.Adam(module.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    best = (math.inf, -1, None)
    history = []
    start = time.monotonic()
    val0 = trainer.validation_loss()
    log(f"  epoch  0: validation {val0:.5f} (untrained)")
    for epoch in range(1, args.epochs + 1):
        tl = trainer.epoch(opt, rng)
        vl = trainer.validation_loss()
        history.append({"epoch": epoch, "train_loss": tl, "val_loss": vl,
                        "seconds": round(time.monotonic() - start, 1)})
        mark = ""
        if vl < best[0]:
            best = (vl, epoch, {k: v.detach().clone() for k, v in module.state_dict().items()})
            mark = " *"
        log(f"  epoch {epoch:2d}: train {tl:.5f}  validation {vl:.5f}  ({time.monotonic() - start:.0f} s){mark}")
        if epoch - best[1] >= args.patience:
            log(f"  early stop: no improvement for {args.patience} epochs")
            break
    if best[2] is not None:
        module.load_state_dict(best[2])
    module.eval()
    return module, {"epochs": history, "best_epoch": best[1], "best_val_loss": best[0],
                    "untrained_val_loss": val0, "train_seconds": round(time.monotonic() - start, 1)}


# ---------------------------------------------------------------------------------------------
# scoring, injection, threshold


def scoring_object(kind, model_cfg, method, pooling, stride, stats=None, ridge=None):
    s = {"method": method}
    if kind in ("reconstruction", "attention"):
        s["pooling"] = pooling
    if kind != "prediction" or model_cfg["state"] == "windowed":
        s["stride"] = stride
    if stats is not None:
        s["ridge"] = ridge
        s["log_det"] = stats["log_det"]
    return s


def segment_scores(module, x_prefix, x_seg, scoring, stats):
    """Scores [len(x_seg)] of a segment scored on its own (windowed kinds) or after the prefix
    rows from a zero state at the prefix's first row (stateful prediction)."""
    kind, cfg = module.kind, module.config()
    if kind == "prediction" and cfg["state"] == "stateful":
        x = np.concatenate([x_prefix, x_seg])
        out = rs.run_model(module, x)
        s, _ = rs.scores_from_outputs(x, kind, cfg, scoring, stats, out)
        return s[len(x_prefix):]
    out = rs.run_model(module, x_seg, scoring.get("stride", 1))
    return rs.scores_from_outputs(x_seg, kind, cfg, scoring, stats, out)[0]


def fit_statistics(module, method, x_train, x_val, ridge):
    kind, cfg = module.kind, module.config()
    if kind == "prediction" and cfg["state"] == "stateful":
        x = np.concatenate([x_train, x_val])
        origins, pred = rs.run_model(module, x)
        rows, E, _ = rs.prediction_error_vectors(x, origins, *rs.split_head(pred, cfg), cfg, method)
        U = E[rows >= len(x_train)]
    else:
        U = rs.error_vectors_for_stats(x_val, kind, cfg, method, rs.run_model(module, x_val, 1))
    return rs.fit_stats(U, ridge), len(U)


def inject(raw_val, scale, constant, kinds, seq_len, rng):
    """A copy of raw_val [n, F] with injected anomalies; (copy, labels [n] 0/1, events)."""
    out = raw_val.copy()
    n, F = out.shape
    labels = np.zeros(n, dtype=np.int64)
    usable = np.flatnonzero(~constant)
    if len(usable) == 0 or not kinds:
        return out, labels, []
    per_type = max(1, n // max(4 * seq_len, 100))
    plan = [k for k in kinds for _ in range(per_type)]
    rng.shuffle(plan)
    slot = n // (len(plan) + 1)
    events = []
    for i, k in enumerate(plan):
        if k == "spikes":
            length = 1
        elif k == "level-shifts":
            length = int(rng.integers(max(1, seq_len // 2), 2 * seq_len + 1))
        else:
            length = int(rng.integers(max(1, seq_len // 4), seq_len + 1))
        length = max(1, min(length, slot // 2))
        lo = i * slot + slot // 2
        start = int(rng.integers(lo, max(lo + 1, (i + 1) * slot + slot // 2 - length)))
        start = min(start, n - length)
        feats = rng.choice(usable, size=min(len(usable), int(rng.integers(1, 4))), replace=False)
        rows = slice(start, start + length)
        for f in feats:
            if k == "spikes":
                out[rows, f] += rng.choice([-1, 1]) * rng.uniform(4, 8) * scale[f]
            elif k == "level-shifts":
                out[rows, f] += rng.choice([-1, 1]) * rng.uniform(2, 4) * scale[f]
            else:
                out[rows, f] += rng.normal(0, rng.uniform(1.5, 3) * scale[f], size=length)
        labels[rows] = 1
        events.append({"type": k, "start": start, "length": length, "features": [int(f) for f in feats]})
    return out, labels, events


def best_f1_threshold(scores, labels):
    """(threshold, f1, flagged) maximising point-wise F1 of score > threshold; NaN never flagged.
    The threshold is the midpoint between the lowest flagged and the highest unflagged score;
    ties in F1 go to fewer flagged rows."""
    ok = ~np.isnan(scores)
    s, y = scores[ok], labels[ok]
    P = int(labels.sum())
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    tp = np.cumsum(y)
    best = (0.0, 0)
    for i in range(len(s)):
        if i + 1 < len(s) and s[i + 1] == s[i]:
            continue                     # a threshold cannot split equal scores
        f1 = 2 * tp[i] / (i + 1 + P) if P else 0.0
        if f1 > best[0] + 1e-15:
            best = (f1, i + 1)
    k = best[1]
    if k == 0:
        return float(s[0]) if len(s) else 0.0, 0.0, 0
    thr = float(s[k - 1]) if k == len(s) else 0.5 * (float(s[k - 1]) + float(s[k]))
    if k == len(s):
        thr = float(s[-1]) - 1e-12 * max(1.0, abs(float(s[-1])))
    return thr, float(best[0]), k


def mean_std_threshold(scores, k=4.0):
    s = scores[~np.isnan(scores)]
    return float(s.mean() + k * s.std())


# ---------------------------------------------------------------------------------------------
# evaluation against labels


def runs(flags):
    d = np.diff(np.r_[0, flags.astype(np.int64), 0])
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1))


def nab_sigmoid(y):
    return np.where(y > 3, -1.0, 2.0 / (1.0 + np.exp(5.0 * np.minimum(y, 3))) - 1.0)


def nab_sweep(n, ranges):
    """NAB's per-row weights (standard profile before the A_FP factor for rows outside windows;
    ../shared/docs/algorithms.md §7.3): inside a window S(pos)/S(-1), outside S(pos) after a window,
    -1 before the first window. Returns (sweep [n], inside-window index [n] or -1)."""
    sweep = np.empty(n)
    which = np.full(n, -1)
    max_tp = float(nab_sigmoid(np.array(-1.0)))
    prev = None
    i = 0
    for k, (a, b) in enumerate(sorted(ranges)):
        if i < a:
            rows = np.arange(i, a)
            sweep[rows] = -1.0 if prev is None else nab_sigmoid(np.abs(rows - prev[1]) / max(1, prev[1] - prev[0]))
        w = b - a + 1
        rows = np.arange(a, b + 1)
        sweep[rows] = nab_sigmoid(-(b - rows + 1) / w) / max_tp
        which[rows] = k
        prev, i = (a, b), b + 1
    if i < n:
        rows = np.arange(i, n)
        sweep[rows] = -1.0 if prev is None else nab_sigmoid(np.abs(rows - prev[1]) / max(1, prev[1] - prev[0]))
    return sweep, which


def nab_score(scores, ranges, threshold, fp_weight=0.11):
    """NAB standard-profile score of one file, normalised: 100 = perfect, 0 = the null detector
    (flagging nothing); detections are rows with score > threshold after the probationary period."""
    n = len(scores)
    probation = min(int(0.15 * n), 750)
    sweep, which = nab_sweep(n, ranges)
    det = np.nan_to_num(scores, nan=-np.inf) > threshold
    det[:probation] = False
    raw = 0.0
    for k, (a, b) in enumerate(sorted(ranges)):
        if b < probation:
            continue
        d = np.flatnonzero(det[a:b + 1])
        raw += sweep[a + d].max() if len(d) else -1.0
    out = det & (which < 0)
    raw += fp_weight * sweep[out].sum()
    m = sum(1 for a, b in ranges if b >= probation)
    return 100.0 * (raw + m) / (2 * m) if m else float("nan")


def pa_f1(scores, ranges, threshold):
    """Point-adjusted F1 (algorithms.md §7.1): a labelled segment with any flagged row counts as
    fully flagged."""
    flags = np.nan_to_num(scores, nan=-np.inf) > threshold
    lab = np.zeros(len(scores), bool)
    for a, b in ranges:
        lab[a:b + 1] = True
        if flags[a:b + 1].any():
            flags[a:b + 1] = True
    tp = int((flags & lab).sum())
    p, r = tp / max(1, int(flags.sum())), tp / max(1, int(lab.sum()))
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(scores, ranges, threshold, log=print, nab=False):
    """Detection of labelled ranges at `threshold`, and a threshold-free ranking view."""
    flags = np.nan_to_num(scores, nan=-np.inf) > threshold
    inside = np.zeros(len(scores), bool)
    for a, b in ranges:
        inside[a:b + 1] = True
    outside = np.where(inside, np.nan, scores)
    max_out = float(np.nanmax(outside)) if np.any(~np.isnan(outside)) else float("nan")
    hits = 0
    report = []
    for a, b in ranges:
        seg = scores[a:b + 1]
        mx = float(np.nanmax(seg)) if np.any(~np.isnan(seg)) else float("nan")
        first = np.flatnonzero(flags[a:b + 1])
        hit = len(first) > 0
        hits += hit
        report.append({"rows": [int(a), int(b)], "max_score": mx, "detected": bool(hit),
                       "first_flag_offset": int(first[0]) if hit else None,
                       "above_max_outside": bool(mx > max_out)})
        log(f"    window rows {a}-{b}: max score {mx:.4g} ({'above' if mx > max_out else 'below'} the max outside "
            f"windows), {'DETECTED, first flag at +' + str(first[0]) if hit else 'missed'}")
    fp_events = [r for r in runs(flags & ~inside)]
    tp_rows = int((flags & inside).sum())
    prec = tp_rows / max(1, int(flags.sum()))
    rec = tp_rows / max(1, int(inside.sum()))
    finite = scores[~np.isnan(scores)]
    grid = np.unique(np.r_[np.quantile(finite, np.linspace(0.5, 1.0, 201)), np.sort(finite)[-300:]]) \
        if len(finite) else np.zeros(0)
    metric = (lambda t: nab_score(scores, ranges, t)) if nab else (lambda t: pa_f1(scores, ranges, t))
    name = "NAB standard score" if nab else "point-adjusted F1"
    at_default = metric(threshold)
    best = max(((metric(t), t) for t in grid), default=(float("nan"), float("nan")))
    log(f"    threshold {threshold:.6g}: {hits}/{len(ranges)} windows detected, {len(fp_events)} false-alarm "
        f"runs outside ({int((flags & ~inside).sum())} rows); max score outside windows {max_out:.4g}; "
        f"point precision {prec:.3f} recall {rec:.3f}")
    log(f"    {name}: {at_default:.2f} at the default threshold, {best[0]:.2f} at the best of {len(grid)} "
        f"thresholds ({best[1]:.6g}, oracle)")
    return {"threshold": threshold, "windows_detected": hits, "windows": report,
            "false_alarm_runs": len(fp_events), "false_alarm_rows": int((flags & ~inside).sum()),
            "max_score_outside": max_out, "point_precision": prec, "point_recall": rec,
            name: at_default, name + " (best threshold)": best[0]}


# ---------------------------------------------------------------------------------------------


def check_before_training(kind, cfg, method, args):
    """Reject a method / pooling / stride that does not fit the model before any training."""
    stats = None
    if rs.needs_stats(method):
        k = cfg["input_size"] if method == "mahalanobis" else cfg.get("horizon", 1) * len(cfg.get("targets", [0]))
        stats = {"mean": np.zeros(k), "precision": np.eye(k)}
    if kind == "prediction" and cfg["state"] == "stateful" and args.stride != 1:
        raise SystemExit("train.py: --stride does not apply to a stateful prediction model (one prediction per row)")
    probe = scoring_object(kind, cfg, method, args.pooling, args.stride, stats and {"log_det": 0.0}, args.ridge)
    try:
        rx.check_scoring_config(kind, cfg, None, probe, None, stats)
    except ValueError as e:
        raise SystemExit(f"train.py: {e}") from None


def default_scoring(args):
    if args.scoring:
        return args.scoring
    if args.kind == "prediction":
        return "gaussian_nll" if args.output == "gaussian" else "absolute"
    return "mahalanobis"


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 2)[2])
    p.add_argument("csv", help="training data: NAB form (header, timestamp,value[,...]) or plain numbers (SMD/ASD)")
    p.add_argument("--out", required=True, help="model file to write (the reference goes next to it)")
    p.add_argument("--format", default="auto", choices=["auto", "nab", "plain"])
    g = p.add_argument_group("model")
    g.add_argument("--kind", default="reconstruction", choices=["reconstruction", "prediction", "attention"])
    g.add_argument("--cell", default="LSTM", choices=["LSTM", "GRU"])
    g.add_argument("--hidden", type=int, default=32)
    g.add_argument("--layers", type=int, default=1)
    g.add_argument("--seq-len", type=int, default=32, help="window length T (stateful: training chunk length)")
    g.add_argument("--decode", default="reverse", choices=["reverse", "forward"], help="reconstruction only")
    g.add_argument("--bidirectional-encoder", action="store_true", help="reconstruction only")
    g.add_argument("--attention-size", type=int, default=0, help="attention only (default: --hidden)")
    g.add_argument("--horizon", type=int, default=1, help="prediction only")
    g.add_argument("--targets", default="all", help="prediction only: comma-separated feature indices, or all")
    g.add_argument("--output", default="point", choices=["point", "gaussian"], help="prediction only")
    g.add_argument("--state", default="windowed", choices=["windowed", "stateful"], help="prediction only")
    g = p.add_argument_group("scoring")
    g.add_argument("--normalization", default="zscore", choices=["zscore", "minmax", "none"])
    g.add_argument("--scoring", choices=list(rs.METHODS),
                   help="default: mahalanobis (reconstruction, attention), absolute (prediction point), "
                        "gaussian_nll (prediction gaussian)")
    g.add_argument("--pooling", default="mean", choices=list(rs.POOLINGS))
    g.add_argument("--stride", type=int, default=1, help="scoring window stride (written to scoring.stride)")
    g.add_argument("--ridge", type=float, default=1e-6)
    g.add_argument("--inject", default="", help="comma list of spikes,level-shifts,noise-bursts: calibrate the "
                                                "default threshold on an injected copy of the validation rows")
    g.add_argument("--spot-q", type=float, default=1e-3)
    g.add_argument("--spot-level", type=float, default=0.98)
    g = p.add_argument_group("training")
    g.add_argument("--train-fraction", type=float, default=0.8)
    g.add_argument("--train-rows", type=int, default=0, help="use only the first N rows for training + validation")
    g.add_argument("--epochs", type=int, default=20)
    g.add_argument("--patience", type=int, default=3)
    g.add_argument("--batch-size", type=int, default=64)
    g.add_argument("--lr", type=float, default=1e-3)
    g.add_argument("--weight-decay", type=float, default=0.0)
    g.add_argument("--dropout", type=float, default=0.0)
    g.add_argument("--clip", type=float, default=1.0, help="gradient norm clip (0 = none)")
    g.add_argument("--train-stride", type=int, default=1, help="stride of the training windows")
    g.add_argument("--max-train-windows", type=int, default=0, help="windows per epoch, drawn at random (0 = all)")
    g.add_argument("--max-val-windows", type=int, default=1024, help="validation windows (evenly spaced)")
    g.add_argument("--teacher-forcing", default="on", choices=["on", "off"],
                   help="reconstruction/attention training feeds the decoder the observed values")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--threads", type=int, default=1)
    g = p.add_argument_group("reference and evaluation")
    g.add_argument("--reference-rows", type=int, default=2500)
    g.add_argument("--reference-csv", help="series for the reference file (default: the training CSV)")
    g.add_argument("--reference-first-row", type=int, default=0)
    g.add_argument("--labels", help="NAB combined_windows.json or a 0/1 label file for --eval-csv")
    g.add_argument("--labels-key", help="key in the NAB labels JSON (default: the entry for the CSV's file name)")
    g.add_argument("--eval-csv", help="series scored for --labels (default: the training CSV)")
    g.add_argument("--description", default="", help="added to the reference file's description")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    args.teacher_forcing = args.teacher_forcing == "on"
    torch.set_num_threads(max(1, args.threads))
    t0 = time.monotonic()
    method = default_scoring(args)
    kinds = [k for k in args.inject.split(",") if k]
    for k in kinds:
        if k not in INJECTIONS:
            raise SystemExit(f"train.py: --inject: unknown {k!r} (use {','.join(INJECTIONS)})")

    raw, names, stamps, fmt = read_series(args.csv, args.format)
    n_rows = args.train_rows or len(raw)
    if not 2 <= n_rows <= len(raw):
        raise SystemExit(f"train.py: --train-rows {n_rows}: the file has {len(raw)} rows")
    n_train = int(round(n_rows * args.train_fraction))
    if not 0 < n_train < n_rows:
        raise SystemExit("train.py: --train-fraction leaves no training or no validation rows")
    F = raw.shape[1]
    print(f"{args.csv}: {len(raw)} rows x {F} features ({fmt}); training rows 0-{n_train - 1}, "
          f"validation rows {n_train}-{n_rows - 1}")

    norm = rs.fit_normalization(raw[:n_train], args.normalization, names)
    const = rs.constant_features(norm, F)
    if const:
        print(f"constant features (scale guarded to 1): {[names[i] for i in const]}")
    x = rs.normalize(raw[:n_rows], norm)
    x_train, x_val = x[:n_train], x[n_train:]

    torch.manual_seed(args.seed)
    module = build_model(args, F)
    kind, cfg = module.kind, module.config()
    check_before_training(kind, cfg, method, args)
    print(f"model: {kind} {json.dumps(cfg)}; {sum(p.numel() for p in module.parameters())} parameters; "
          f"scoring {method}")

    module, hist = train_model(module, args, x_train, np.concatenate([x_train, x_val]), n_train)
    print(f"training: {hist['train_seconds']} s, best epoch {hist['best_epoch']} of {len(hist['epochs'])}, "
          f"validation loss {hist['best_val_loss']:.5f} (untrained {hist['untrained_val_loss']:.5f})")

    stats, n_vectors = (None, 0)
    if rs.needs_stats(method):
        stats, n_vectors = fit_statistics(module, method, x_train, x_val, args.ridge)
        print(f"statistics: {n_vectors} validation error vectors, k = {len(stats['mean'])}, "
              f"lambda = {stats['lambda']:.3g}, log_det = {stats['log_det']:.6g}")
    scoring = scoring_object(kind, cfg, method, args.pooling, args.stride, stats, args.ridge)

    val_scores = segment_scores(module, x_train, x_val, scoring, stats)
    _, scale, constant = rs.centre_scale(norm, F)
    if kinds:
        rng = np.random.default_rng(args.seed + 1)
        raw_inj, labels, events = inject(raw[n_train:n_rows], scale, constant, kinds, args.seq_len, rng)
        inj_scores = segment_scores(module, x_train, rs.normalize(raw_inj, norm), scoring, stats)
        thr, f1, flagged = best_f1_threshold(inj_scores, labels)
        calibration = "max_f1_injected"
        clean_flags = int(np.sum(np.nan_to_num(val_scores, nan=-np.inf) > thr))
        print(f"threshold {thr:.6g}: F1 {f1:.3f} on the injected validation copy ({len(events)} events, "
              f"{int(labels.sum())} rows, {flagged} flagged); flags {clean_flags} of {len(val_scores)} clean "
              f"validation rows")
        calib = {"injected_events": events, "f1": f1, "flagged": flagged, "clean_validation_flags": clean_flags}
    else:
        thr, calibration = mean_std_threshold(val_scores), "mean_std_4"
        calib = {}
        print(f"threshold {thr:.6g}: mean + 4 std of the validation scores")
    threshold = {"method": "static", "value": thr, "calibration": calibration,
                 "spot": {"q": args.spot_q, "level": args.spot_level}}

    # reference
    ref_csv = args.reference_csv or args.csv
    if args.reference_csv:
        ref_raw = read_series(ref_csv, args.format)[0]
    else:
        ref_raw = raw
    a = args.reference_first_row
    ref_series = ref_raw[a:a + args.reference_rows]
    ref_scores, ref_contrib = rs.score_series(module, ref_series, norm, scoring, stats)
    f32_scores, _ = rs.score_series(module, ref_series, norm, scoring, stats, dtype="float32")
    ratio = rs.score_tolerance_ratio(f32_scores, ref_scores)
    print(f"reference: {len(ref_series)} rows of {os.path.basename(ref_csv)} from row {a}; "
          f"{int(np.sum(~np.isnan(ref_scores)))} scored; PyTorch float32 vs float64: {ratio:.3f} x score tolerance")

    training = {"data": os.path.basename(args.csv), "sha256": sha256(args.csv), "format": fmt,
                "train_rows": [0, n_train], "validation_rows": [n_train, n_rows],
                "args": {k: v for k, v in vars(args).items() if k not in ("out",)},
                "best_epoch": hist["best_epoch"], "best_val_loss": hist["best_val_loss"],
                "untrained_val_loss": hist["untrained_val_loss"], "epochs": hist["epochs"],
                "train_seconds": hist["train_seconds"], "stat_vectors": n_vectors,
                "threshold": calib, "reference_fp32_ratio": ratio}
    training["args"]["csv"] = os.path.basename(args.csv)
    for key in ("reference_csv", "eval_csv", "labels"):
        if training["args"].get(key):
            training["args"][key] = os.path.basename(training["args"][key])
    config = rx.export_model(module, args.out, normalization=norm, scoring=scoring, threshold=threshold,
                             stats=stats, training=training)
    ref_path = rx.reference_path(args.out)
    desc = (f"{os.path.basename(ref_csv)} rows {a}-{a + len(ref_series) - 1}, scored as one series by "
            f"{os.path.basename(args.out)} ({kind}, {method}) in float64 from its float32 weights"
            + (f"; {args.description}" if args.description else ""))
    rx.write_score_reference(ref_path, ref_series, ref_scores, ref_contrib, desc, first_row=a)
    for path in (args.out, ref_path):
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")

    if args.labels:
        eval_csv = args.eval_csv or args.csv
        ev_raw, _, ev_stamps, _ = read_series(eval_csv, args.format) if args.eval_csv else (raw, None, stamps, fmt)
        ranges = read_labels(args.labels, len(ev_raw), ev_stamps, args.labels_key, eval_csv)
        t1 = time.monotonic()
        ev_scores, _ = rs.score_series(module, ev_raw, norm, scoring, stats, dtype="float32")
        print(f"evaluation on {os.path.basename(eval_csv)} ({len(ev_raw)} rows, scored in "
              f"{time.monotonic() - t1:.0f} s), {len(ranges)} labelled ranges:")
        evaluate(ev_scores, ranges, thr, nab=args.labels.endswith(".json"))
    print(f"done in {time.monotonic() - t0:.1f} s (training {hist['train_seconds']} s)")
    return config


if __name__ == "__main__":
    main()
