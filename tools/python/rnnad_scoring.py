"""Scoring as docs/scoring.md specifies it: model outputs -> one anomaly score per input row.

Everything here is numpy float64 and needs no torch, except run_model() and score_series(), which
import torch when called. Used by train.py (fitting, reference files), make_scoring_golden.py and
test_scoring.py.

    import rnnad_scoring as rs
    norm = rs.fit_normalization(train_raw, "zscore", ["value"])     # config object `normalization`
    x = rs.normalize(raw, norm)                                      # float64 [N, F], guard applied
    scores, contrib = rs.score_series(module, raw, norm, scoring, stats)   # float64 [N], [N, F']

Conventions (each one is a choice where docs/scoring.md leaves room; listed in train.py's docstring
and in the report that introduced this module):

* NaN = "no score". A row gets a score only from windows / predictions that lie inside the series.
* Windows (reconstruction, attention, windowed prediction) start at rows 0, s, 2s, ... (s = stride)
  and must lie completely inside the series: W = floor((N - T) / s) + 1 windows. A series shorter
  than the window is an error (F10: N < T for reconstruction / attention, N < T + 1 for a windowed
  forecaster, whose last window's prediction lies past the series). With s > 1, rows after the last window (reconstruction, attention) and rows that no
  window's one-step prediction reaches (windowed prediction) have no score.
* Model input is float32(x) (what the fp32 engine feeds the network); errors are taken against the
  float64 normalised x.
* Pooling `max` takes the score AND the contributions of the covering window with the largest score
  (the earliest such window on ties); `last` those of the covering window that starts latest; `mean`
  averages scores and contributions over the covering windows (window order).
* lstm_ad contributions: target i gets 1/2 * sum_h q[i*l + h] (q = (u - mu) * (Lambda (u - mu)),
  element-wise) plus (k ln 2pi + log_det) / (2 d); they sum to the score.
* Statistics: mean and the maximum-likelihood covariance (divided by M) of the M validation error
  vectors; lambda = ridge * max(trace/k, 1e-12); precision = inverse of (Sigma + lambda I),
  symmetrised; log_det = slogdet(Sigma + lambda I).
"""
import math

import numpy as np

GUARD = 1e-12
METHODS = ("absolute", "squared", "gaussian_nll", "mahalanobis", "lstm_ad")
POOLINGS = ("mean", "max", "last")
NORMALIZATIONS = ("zscore", "minmax", "none")
LN_2PI = math.log(2.0 * math.pi)


# ---------------------------------------------------------------------------------------------
# normalisation (docs/scoring.md §1)


def guarded_scale(centre, scale):
    """(scale used, constant mask): a scale s < 1e-12 * max(1, |centre|) is replaced by 1 (F13)."""
    centre = np.asarray(centre, dtype=np.float64)
    scale = np.asarray(scale, dtype=np.float64)
    constant = scale < GUARD * np.maximum(1.0, np.abs(centre))
    return np.where(constant, 1.0, scale), constant


def centre_scale(normalization, n_features=None):
    """(centre, scale used, constant mask) of a `normalization` config object."""
    method = normalization["method"]
    if method == "zscore":
        centre, scale = np.asarray(normalization["mean"], float), np.asarray(normalization["std"], float)
    elif method == "minmax":
        centre = np.asarray(normalization["min"], float)
        scale = np.asarray(normalization["max"], float) - centre
    elif method == "none":
        if n_features is None:
            raise ValueError("normalization 'none' needs n_features")
        return np.zeros(n_features), np.ones(n_features), np.zeros(n_features, bool)
    else:
        raise ValueError(f"normalization.method must be one of {NORMALIZATIONS}, got {method!r}")
    scale, constant = guarded_scale(centre, scale)
    return centre, scale, constant


def normalize(raw, normalization):
    """x = (raw - centre) / scale in float64 with the stored statistics (never refitted, never
    clipped: F14), after the constant-feature guard (F13). raw: [N, F]."""
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim != 2:
        raise ValueError(f"raw series must be [N, F], got shape {raw.shape}")
    centre, scale, _ = centre_scale(normalization, raw.shape[1])
    if centre.shape != (raw.shape[1],):
        raise ValueError(f"normalization has {centre.shape[0]} features, series has {raw.shape[1]}")
    return (raw - centre) / scale


def fit_normalization(train_raw, method="zscore", features=None):
    """The `normalization` config object fitted on the training rows (population std, ddof = 0).
    The statistics are written as fitted (a constant feature keeps std 0 or max - min 0; the guard
    is applied by whoever loads them, the engine and normalize() alike)."""
    train_raw = np.asarray(train_raw, dtype=np.float64)
    if method not in NORMALIZATIONS:
        raise ValueError(f"normalization method must be one of {NORMALIZATIONS}, got {method!r}")
    cfg = {"method": method}
    if method == "zscore":
        cfg["mean"] = [float(v) for v in train_raw.mean(axis=0)]
        cfg["std"] = [float(v) for v in train_raw.std(axis=0)]
    elif method == "minmax":
        cfg["min"] = [float(v) for v in train_raw.min(axis=0)]
        cfg["max"] = [float(v) for v in train_raw.max(axis=0)]
    if features is not None:
        if len(features) != train_raw.shape[1]:
            raise ValueError(f"{len(features)} feature names for {train_raw.shape[1]} features")
        cfg["features"] = [str(f) for f in features]
    return cfg


def constant_features(normalization, n_features):
    return [int(i) for i in np.flatnonzero(centre_scale(normalization, n_features)[2])]


# ---------------------------------------------------------------------------------------------
# statistics (docs/scoring.md §3)


def fit_stats(U, ridge=1e-6):
    """mean [k], precision [k, k] = (Sigma + lambda I)^-1, log_det = ln|Sigma + lambda I| and lambda,
    from M error vectors U [M, k] (Sigma: maximum-likelihood covariance, divided by M)."""
    U = np.asarray(U, dtype=np.float64)
    if U.ndim != 2 or U.shape[0] < 1:
        raise ValueError(f"need at least one error vector [M, k], got shape {U.shape}")
    if not np.all(np.isfinite(U)):
        raise ValueError("error vectors must be finite")
    k = U.shape[1]
    mu = U.mean(axis=0)
    D = U - mu
    sigma = D.T @ D / U.shape[0]
    lam = ridge * max(float(np.trace(sigma)) / k, 1e-12)
    A = sigma + lam * np.eye(k)
    precision = np.linalg.inv(A)
    precision = 0.5 * (precision + precision.T)
    sign, log_det = np.linalg.slogdet(A)
    if sign <= 0:
        raise ValueError("Sigma + lambda I is not positive definite")
    return {"mean": mu, "precision": precision, "log_det": float(log_det), "lambda": lam, "ridge": ridge}


# ---------------------------------------------------------------------------------------------
# per-vector scores (docs/scoring.md §3)


def vector_scores(E, method, stats=None, logvar=None, n_targets=None):
    """Scores [M] and contributions [M, F'] of M error vectors.

    E: absolute, squared, mahalanobis: signed errors [M, F'] (mahalanobis uses u = |E|);
       gaussian_nll: signed errors [M, d] with logvar [M, d];
       lstm_ad: signed errors [M, k], k = d * l, dimension-major (index i*l + h), n_targets = d.
    stats: fit_stats() result (mahalanobis, lstm_ad)."""
    E = np.asarray(E, dtype=np.float64)
    M, k = E.shape
    if method == "absolute":
        c = np.abs(E) / k
        return c.sum(axis=1), c
    if method == "squared":
        c = E * E / k
        return c.sum(axis=1), c
    if method == "gaussian_nll":
        v = np.asarray(logvar, dtype=np.float64)
        c = 0.5 * (LN_2PI + v + E * E * np.exp(-v))
        return c.sum(axis=1), c
    if method in ("mahalanobis", "lstm_ad"):
        mu, P = np.asarray(stats["mean"], float), np.asarray(stats["precision"], float)
        if mu.shape != (k,) or P.shape != (k, k):
            raise ValueError(f"statistics have k = {mu.shape}, {P.shape}; error vectors have k = {k}")
        D = (np.abs(E) if method == "mahalanobis" else E) - mu
        q = D * (D @ P.T)               # (u - mu)_f * (Lambda (u - mu))_f
        if method == "mahalanobis":
            return q.sum(axis=1), q
        d = int(n_targets)
        if k % d:
            raise ValueError(f"k = {k} is not a multiple of d = {d}")
        const = 0.5 * (k * LN_2PI + float(stats["log_det"]))
        c = 0.5 * q.reshape(M, d, k // d).sum(axis=2) + const / d
        return const + 0.5 * q.sum(axis=1), c
    raise ValueError(f"scoring.method must be one of {METHODS}, got {method!r}")


# ---------------------------------------------------------------------------------------------
# windows, pooling (docs/scoring.md §2, §4)


def window_starts(n_rows, seq_len, stride=1):
    """Start rows of the windows that lie completely inside a series of n_rows rows."""
    if seq_len < 1 or stride < 1:
        raise ValueError("seq_len and stride must be >= 1")
    if n_rows < seq_len:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, n_rows - seq_len + 1, stride, dtype=np.int64)


def pool(n_rows, starts, step_scores, step_contrib, pooling="mean"):
    """Row scores [N] and contributions [N, F] from per-window per-step scores [W, T] and
    contributions [W, T, F] of windows starting at `starts` (ascending)."""
    if pooling not in POOLINGS:
        raise ValueError(f"scoring.pooling must be one of {POOLINGS}, got {pooling!r}")
    starts = np.asarray(starts, dtype=np.int64)
    step_scores = np.asarray(step_scores, dtype=np.float64)
    step_contrib = np.asarray(step_contrib, dtype=np.float64)
    W, T = step_scores.shape
    F = step_contrib.shape[2]
    scores = np.full(n_rows, np.nan)
    contrib = np.full((n_rows, F), np.nan)
    if pooling == "mean":
        s_sum = np.zeros(n_rows)
        c_sum = np.zeros((n_rows, F))
        count = np.zeros(n_rows, dtype=np.int64)
        for w in range(W):                       # window order, as a stream would add them
            rows = slice(starts[w], starts[w] + T)
            s_sum[rows] += step_scores[w]
            c_sum[rows] += step_contrib[w]
            count[rows] += 1
        has = count > 0
        scores[has] = s_sum[has] / count[has]
        contrib[has] = c_sum[has] / count[has, None]
        return scores, contrib
    for w in range(W):
        for t in range(T):
            r = starts[w] + t
            s = step_scores[w, t]
            if pooling == "last" or np.isnan(scores[r]) or s > scores[r]:
                scores[r] = s
                contrib[r] = step_contrib[w, t]
    return scores, contrib


def reconstruction_step_scores(x, recon, starts, method, stats=None):
    """Per-window per-step scores [W, T] and contributions [W, T, F] of reconstruction/attention
    outputs recon [W, T, F] (time order) for windows starting at `starts`."""
    x = np.asarray(x, dtype=np.float64)
    recon = np.asarray(recon, dtype=np.float64)
    W, T, F = recon.shape
    if method not in ("absolute", "squared", "mahalanobis"):
        raise ValueError(f"method {method!r} does not apply to reconstruction/attention "
                         "(absolute, squared, mahalanobis)")
    E = reconstruction_errors(x, recon, starts)
    s, c = vector_scores(E.reshape(W * T, F), method, stats)
    return s.reshape(W, T), c.reshape(W, T, F)


def reconstruction_errors(x, recon, starts):
    """e = x[r] - x'[t], r = start + t: [W, T, F]."""
    W, T, _ = recon.shape
    idx = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(T)[None, :]
    return x[idx] - recon


# ---------------------------------------------------------------------------------------------
# prediction (docs/scoring.md §2, §3)


def prediction_origins(n_rows, model_cfg, stride=1):
    """Rows after which each prediction is made: windowed r0 = w*stride + T - 1 for every window
    inside the series, stateful every row 0 .. N-1."""
    if model_cfg["state"] == "stateful":
        return np.arange(n_rows, dtype=np.int64)
    T = model_cfg["seq_len"]
    return window_starts(n_rows, T, stride) + T - 1


def split_head(pred, model_cfg):
    """Head outputs [O, P] -> mean [O, horizon, d], logvar [O, horizon, d] or None."""
    l, d = model_cfg["horizon"], len(model_cfg["targets"])
    K = 2 if model_cfg.get("output", "point") == "gaussian" else 1
    y = np.asarray(pred, dtype=np.float64).reshape(-1, l, K, d)
    return y[:, :, 0, :], (y[:, :, 1, :] if K == 2 else None)


def prediction_error_vectors(x, origins, mean, logvar, model_cfg, method):
    """(rows [M], error vectors [M, F'], logvar [M, d] or None) for the rows that get a score.

    absolute, squared, gaussian_nll: the one-step-ahead prediction (h = 0) made after row r - 1;
    lstm_ad: u[i*l + h] = x[r, targets[i]] - mean of the prediction made after row r - 1 - h at
    h, for h = 0 .. l-1; a row is scored only if all l predictions exist."""
    x = np.asarray(x, dtype=np.float64)
    N = x.shape[0]
    targets = list(model_cfg["targets"])
    l, d = model_cfg["horizon"], len(targets)
    origins = np.asarray(origins, dtype=np.int64)
    where = np.full(N, -1, dtype=np.int64)       # origin row -> index of its prediction
    where[origins] = np.arange(len(origins))
    if method in ("absolute", "squared", "gaussian_nll"):
        if method == "gaussian_nll" and logvar is None:
            raise ValueError("gaussian_nll needs a model with output 'gaussian'")
        ok = (origins + 1 < N)
        o = np.flatnonzero(ok)
        rows = origins[o] + 1
        E = x[rows][:, targets] - mean[o, 0, :]
        return rows, E, (logvar[o, 0, :] if method == "gaussian_nll" else None)
    if method != "lstm_ad":
        raise ValueError(f"method {method!r} does not apply to prediction "
                         "(absolute, squared, gaussian_nll, lstm_ad)")
    rows = []
    for r in range(N):
        src = [r - 1 - h for h in range(l)]
        if src[-1] >= 0 and all(where[s] >= 0 for s in src):
            rows.append(r)
    rows = np.asarray(rows, dtype=np.int64)
    E = np.zeros((len(rows), d * l))
    for h in range(l):
        idx = where[rows - 1 - h]
        # dimension-major: column i*l + h
        E[:, np.arange(d) * l + h] = x[rows][:, targets] - mean[idx, h, :]
    return rows, E, None


def prediction_scores(x, origins, pred, model_cfg, method, stats=None):
    """Row scores [N] and contributions [N, d] of a prediction model's head outputs pred [O, P]."""
    N = np.asarray(x).shape[0]
    mean, logvar = split_head(pred, model_cfg)
    rows, E, v = prediction_error_vectors(x, origins, mean, logvar, model_cfg, method)
    d = len(model_cfg["targets"])
    scores, contrib = np.full(N, np.nan), np.full((N, d), np.nan)
    if len(rows):
        s, c = vector_scores(E, method, stats, v, d)
        scores[rows], contrib[rows] = s, c
    return scores, contrib


# ---------------------------------------------------------------------------------------------
# running a model (torch) and the whole pipeline


def run_model(module, x, stride=1, dtype="float64", batch=4096):
    """Outputs of an rnnad_models module for the normalised series x [N, F] (float64):
    reconstruction/attention: (starts [W], recon [W, T, F]);
    prediction: (origins [O], head outputs [O, P]).
    The network input is float32(x); with dtype="float64" the module runs as a float64 copy of its
    float32 weights (reference), with "float32" as it is (what an fp32 engine computes)."""
    import copy
    import torch
    kind = module.kind
    cfg = module.config()
    m = copy.deepcopy(module).cpu().float().eval()
    if dtype == "float64":
        m = m.double()
    tdt = torch.float64 if dtype == "float64" else torch.float32
    x32 = torch.from_numpy(np.ascontiguousarray(np.asarray(x, dtype=np.float64).astype(np.float32)))
    N = x32.shape[0]
    with torch.no_grad():
        if kind == "prediction" and cfg["state"] == "stateful":
            y, _ = m(x32.to(tdt).unsqueeze(1))
            return np.arange(N, dtype=np.int64), y[:, 0, :].double().numpy()
        T = cfg["seq_len"]
        starts = window_starts(N, T, stride)
        outs = []
        for b in range(0, len(starts), batch):
            s = starts[b:b + batch]
            idx = torch.from_numpy(s[None, :] + np.arange(T)[:, None])           # [T, B]
            xw = x32[idx].to(tdt)                                                 # [T, B, F]
            if kind == "reconstruction":
                outs.append(m(xw).permute(1, 0, 2).double().numpy())
            elif kind == "attention":
                outs.append(m(xw)[0].permute(1, 0, 2).double().numpy())
            else:
                outs.append(m(xw)[0].double().numpy())
        F = x32.shape[1]
        if kind == "prediction":
            P = module.P
            out = np.concatenate(outs) if outs else np.zeros((0, P))
            return starts + T - 1, out
        out = np.concatenate(outs) if outs else np.zeros((0, T, F))
        return starts, out


def scores_from_outputs(x, kind, model_cfg, scoring, stats, outputs):
    """Row scores [N] and contributions [N, F'] from run_model()'s outputs."""
    method = scoring["method"]
    N = np.asarray(x).shape[0]
    if kind in ("reconstruction", "attention"):
        starts, recon = outputs
        F = np.asarray(x).shape[1]
        if len(starts) == 0:
            return np.full(N, np.nan), np.full((N, F), np.nan)
        s, c = reconstruction_step_scores(x, recon, starts, method, stats)
        return pool(N, starts, s, c, scoring.get("pooling", "mean"))
    origins, pred = outputs
    return prediction_scores(x, origins, pred, model_cfg, method, stats)


def check_series_length(n_rows, kind, model_cfg):
    """Field case F10: a series shorter than the model's window is an error naming both lengths
    (reconstruction / attention need N >= T, a windowed forecaster N >= T + 1)."""
    if kind == "prediction" and model_cfg["state"] == "stateful":
        if n_rows < 1:
            raise ValueError("series has no rows")
        return
    need = model_cfg["seq_len"] + (1 if kind == "prediction" else 0)
    if n_rows < need:
        raise ValueError(f"series has {n_rows} rows; the model's window requires at least {need}")


def score_series(module, raw, normalization, scoring, stats=None, dtype="float64"):
    """Scores [N] and contributions [N, F'] of the raw series [N, F] (docs/scoring.md). Raises
    ValueError for a series shorter than the window (F10)."""
    check_series_length(np.asarray(raw).shape[0], module.kind, module.config())
    x = normalize(raw, normalization)
    outputs = run_model(module, x, scoring.get("stride", 1), dtype)
    return scores_from_outputs(x, module.kind, module.config(), scoring, stats, outputs)


def error_vectors_for_stats(x, kind, model_cfg, method, outputs):
    """The validation error vectors the statistics of `method` are fitted on: |e| of every step of
    every window (mahalanobis) or the lstm_ad vectors of every scored row; [M, k]."""
    if method == "mahalanobis":
        starts, recon = outputs
        return np.abs(reconstruction_errors(x, recon, starts)).reshape(-1, recon.shape[2])
    if method == "lstm_ad":
        origins, pred = outputs
        mean, logvar = split_head(pred, model_cfg)
        return prediction_error_vectors(x, origins, mean, logvar, model_cfg, method)[1]
    raise ValueError(f"{method} has no statistics")


def needs_stats(method):
    return method in ("mahalanobis", "lstm_ad")


def score_tolerance_ratio(got, ref):
    """Worst |a - b| / (1e-4 * max(|b|, median |ref|)) over the rows with a reference score (the
    engine's score tolerance, engine/include/rnnad/tolerance.h); NaN positions must agree."""
    got, ref = np.asarray(got, float), np.asarray(ref, float)
    if not np.array_equal(np.isnan(got), np.isnan(ref)):
        return float("inf")
    ok = ~np.isnan(ref)
    if not ok.any():
        return 0.0
    med = float(np.median(np.abs(ref[ok])))
    bound = 1e-4 * np.maximum(np.abs(ref[ok]), med)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.abs(got[ok] - ref[ok]) / bound
    r[np.isnan(r)] = 0.0
    return float(np.max(r))
