"""Regenerate docs/results.md: every series of ../shared/data, every threshold method, the LSTM
models beside two baselines (random scores, PCA reconstruction error), all through one metric code.

    /usr/bin/python3 tools/python/results.py --rnnad build/release/tools/rnnad [--shared ../shared]
                                             [--retrain] [--work DIR] [--out docs/results.md]

Steps (docs/results.md, "How the numbers were made", says the same for the reader):
  1. Models: the shipped ones where they exist (models/nab_machine_temp, models/smd_machine-1-7);
     for the other series one is trained with train.py by the recipe of the shipped model of the
     same kind (make_scoring_models.py: NAB forecaster on the first 15% of the file's rows, EncDec-AD
     on the train file), seeded, one torch thread, written to models/results/ (skipped when the file
     exists, unless --retrain), and models/results/README.md is rewritten.
  2. LSTM scores: `rnnad detect --device cpu --output` on the whole test series with its labels; its
     summary gives the row "static (model file)" (the model file's calibrated threshold).
  3. Baseline scores, on the rows the LSTM scored (NaN elsewhere), written as per-row CSVs
     (`[timestamp,]score`): uniform random scores, seeds 1-5 (numpy default_rng); and PCA
     (scikit-learn, fitted on the training rows only): z-scored with the training statistics
     (rnnad_scoring, constant-feature guard), windows of the model's window length T flattened to
     T x F vectors, as many components as explain 90% of the training variance; a row's score is
     the mean squared reconstruction error of the window ending at it.
  4. Every detector's scores (the LSTM's from the per-row CSV) through
     `rnnad eval --threshold static|ndt|spot|dspot` with rnnad's default settings: the same
     threshold code and the same metric code for all three.
  5. docs/results.md written atomically: the tables, the commands, the times. The section between
     the markers <!-- reading --> and <!-- /reading --> (the hand-written reading of the numbers)
     is kept from the existing file.

Exit status 0, or 1 with one line `results.py: error: ...` naming the file or the command that failed.
"""
import argparse
import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import rnnad_export as rx  # noqa: E402
import rnnad_scoring as rs  # noqa: E402

METHODS = ("static", "ndt", "spot", "dspot")
RANDOM_SEEDS = (1, 2, 3, 4, 5)
PCA_VARIANCE = 0.9
READING = ("<!-- reading -->", "<!-- /reading -->")


class Failure(Exception):
    """A step failed; the message names the file or command."""


# ---------------------------------------------------------------------------------------------
# the series


def series_table(shared):
    """[dict]: name, input, labels, model, shipped, detect (extra detect options), train (how the
    model was / is trained: 'rows N' of the input, or a train file), train_args (train.py's)."""
    data = os.path.join(shared, "data")
    windows = os.path.join(data, "nab", "labels", "combined_windows.json")
    out = []
    nab = [("realKnownCause/machine_temperature_system_failure.csv", "models/nab_machine_temp.safetensors",
            ["--order", "ignore"]),
           ("realKnownCause/nyc_taxi.csv", None, []),
           ("realKnownCause/ambient_temperature_system_failure.csv", None, []),
           ("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv", None, []),
           ("artificialWithAnomaly/art_daily_jumpsup.csv", None, []),
           ("artificialNoAnomaly/art_daily_small_noise.csv", None, [])]
    for key, model, extra in nab:
        stem = os.path.splitext(os.path.basename(key))[0]
        out.append({"name": "NAB " + key, "key": key, "input": os.path.join(data, "nab", key), "labels": windows,
                    "model": os.path.join(REPO, model or f"models/results/nab_{stem}.safetensors"),
                    "shipped": model is not None, "detect": extra, "kind": "nab", "train_file": None})
    for ds, entity, model in (("smd", "machine-1-7", "models/smd_machine-1-7.safetensors"), ("asd", "omi-1", None)):
        out.append({"name": f"{ds.upper()} {entity}", "key": entity,
                    "input": os.path.join(data, ds, "test", entity + ".txt"),
                    "labels": os.path.join(data, ds, "test_label", entity + ".txt"),
                    "model": os.path.join(REPO, model or f"models/results/{ds}_{entity}.safetensors"),
                    "shipped": model is not None, "detect": [], "kind": ds,
                    "train_file": os.path.join(data, ds, "train", entity + ".txt")})
    return out


def with_options(args, replace=None, drop=()):
    """train.py arguments `args` with option values replaced ({'--out': v}) and options dropped."""
    out, i = [], 0
    replace = dict(replace or {})
    while i < len(args):
        a = args[i]
        if a in drop:
            i += 2
            continue
        if a in replace:
            out += [a, str(replace.pop(a))]
            i += 2
            continue
        out.append(a)
        i += 1
    for k, v in replace.items():
        out += [k, str(v)]
    return out


def train_args(s, shared):
    """train.py arguments for series `s`: the shipped model's recipe of the same kind
    (make_scoring_models.py) with this series' data and output."""
    import make_scoring_models as msm
    if s["kind"] == "nab":
        rows = count_data_rows(s["input"]) - 1
        base = msm.nab_args(shared)
        desc = "NAB " + s["key"] + " (numenta/NAB @ ea702d75cc22)"
        return [s["input"]] + with_options(base[1:], {"--out": s["model"], "--train-rows": int(0.15 * rows),
                                                      "--description": desc}, drop=("--labels",))
    base = msm.smd_args(shared)
    desc = f"{s['name']} test rows 0-499 (InterFusion, MIT)"
    return [s["train_file"]] + with_options(base[1:], {"--out": s["model"], "--reference-csv": s["input"],
                                                       "--reference-rows": 500, "--description": desc},
                                            drop=("--labels", "--eval-csv"))


def count_data_rows(path):
    with open(path, newline="") as f:
        return sum(1 for line in f if line.strip())


def model_metadata(path):
    """(rnnad.config, rnnad.training) of a model file."""
    _, meta = rx.read_safetensors(path)
    return json.loads(meta["rnnad.config"]), json.loads(meta.get("rnnad.training", "{}"))


def window_length(config):
    """The model's window T (every model used here is windowed)."""
    return int(config["model"]["seq_len"])


# ---------------------------------------------------------------------------------------------
# data and scores


def read_values(s):
    """(values [N, F] float64, timestamps or None) of the series' input file, as detect reads it."""
    if s["kind"] == "nab":
        with open(s["input"], newline="") as f:
            rows = list(csv.reader(f))[1:]
        return np.array([[float(r[1])] for r in rows]), [r[0][:19] for r in rows]
    return np.loadtxt(s["input"], delimiter=",", ndmin=2), None


def read_training_values(s, training):
    """The rows the model was trained and validated on: the first rows of a NAB file, or the train file."""
    if s["kind"] == "nab":
        values, _ = read_values(s)
        return values[:int(training["validation_rows"][1])]
    return np.loadtxt(s["train_file"], delimiter=",", ndmin=2)


def read_rows_csv(path):
    """(timestamps or None, scores [N] with NaN for empty) of a detect per-row CSV."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    if "score" not in header:
        raise Failure(f"{path}:1: no 'score' column in {header}")
    c = header.index("score")
    stamps = [r[0] for r in rows[1:]] if header[0] == "timestamp" else None
    scores = np.array([float(r[c]) if r[c] else math.nan for r in rows[1:]])
    return stamps, scores


def write_scores_csv(path, stamps, scores):
    """A per-row CSV eval reads: `[timestamp,]score`, empty = no score."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow((["timestamp"] if stamps else []) + ["score"])
        for i, v in enumerate(scores):
            w.writerow(([stamps[i]] if stamps else []) + ["" if math.isnan(v) else repr(float(v))])


def lag_windows(x, T):
    """[N - T + 1, T * F]: row i is x[i:i+T] flattened (time-major)."""
    v = np.lib.stride_tricks.sliding_window_view(x, T, axis=0)  # [N-T+1, F, T]
    return np.ascontiguousarray(v.transpose(0, 2, 1)).reshape(v.shape[0], -1)


def pca_scores(train_raw, test_raw, T):
    """PCA reconstruction error per row (NaN for the first T - 1 rows) and the component count."""
    from sklearn.decomposition import PCA
    norm = rs.fit_normalization(train_raw, "zscore")
    pca = PCA(n_components=PCA_VARIANCE, svd_solver="full").fit(lag_windows(rs.normalize(train_raw, norm), T))
    w = lag_windows(rs.normalize(test_raw, norm), T)
    err = ((w - pca.inverse_transform(pca.transform(w))) ** 2).mean(axis=1)
    out = np.full(len(test_raw), math.nan)
    out[T - 1:] = err
    return out, int(pca.n_components_)


# ---------------------------------------------------------------------------------------------
# the CLI


def run(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise Failure(f"{' '.join(cmd)}: exit {p.returncode}: {last}")
    return p.stdout, time.monotonic() - t0


NUM = r"(-?[0-9.]+|n/a|inf|-inf|nan)"
PATTERNS = {
    "point": re.compile(r"^point:\s+precision ([0-9.]+), recall ([0-9.]+), F1 ([0-9.]+) .*; random scores flagging as "
                        r"many rows: F1 ([0-9.]+)", re.M),
    "adjusted": re.compile(r"^adjusted:\s+point-adjusted precision [0-9.]+, recall [0-9.]+, F1 ([0-9.]+)", re.M),
    "events": re.compile(r"^events:\s+event-wise precision [0-9.]+, recall [0-9.]+, F1 ([0-9.]+) "
                         r"\((\d+) of (\d+) segments detected, (\d+) false-alarm events? of (\d+)\)", re.M),
    "nab": re.compile(r"^NAB score:\s+" + NUM + " standard", re.M),
    "oracle": re.compile(r"^oracle:\s+best F1 ([0-9.]+) at threshold (\S+)", re.M),
    "threshold": re.compile(r"^threshold:\s+(.*)$", re.M),
    "flagged": re.compile(r"^(?:scores:.*, |flagged:\s+)(\d+) (?:flagged )?rows?", re.M),
}


def parse_metrics(text, what):
    """The metric lines of a detect or eval summary -> dict of numbers."""
    got = {k: p.search(text) for k, p in PATTERNS.items()}
    for k in ("point", "adjusted", "events", "oracle", "flagged"):
        if got[k] is None:
            raise Failure(f"{what}: no '{k}' line in its output")
    p, e = got["point"].groups(), got["events"].groups()
    nab = got["nab"].group(1) if got["nab"] else None
    return {"flagged": int(got["flagged"].group(1)), "precision": float(p[0]), "recall": float(p[1]),
            "f1": float(p[2]), "same_count_random_f1": float(p[3]), "pa_f1": float(got["adjusted"].group(1)),
            "event_f1": float(e[0]),
            "found": int(e[1]), "segments": int(e[2]), "false_events": int(e[3]), "events": int(e[4]),
            "nab": None if nab in (None, "n/a") else float(nab), "oracle": float(got["oracle"].group(1)),
            "threshold": got["threshold"].group(1) if got["threshold"] else ""}


def mean_metrics(runs):
    """The mean of every number over runs (random seeds); 'threshold' from the first."""
    out = dict(runs[0])
    for k, v in runs[0].items():
        if isinstance(v, (int, float)) and v is not None:
            out[k] = float(np.mean([r[k] for r in runs]))
    return out


# ---------------------------------------------------------------------------------------------
# the document


def rel(path):
    """A path as the reader types it: relative to the repository (../shared/... for the data)."""
    return os.path.relpath(path, REPO)


def fmt(v, digits=3):
    if v is None:
        return "n/a"
    return f"{v:.{digits}f}"


def series_section(s, res):
    r = res["rows"]
    nab = s["kind"] == "nab"
    head = ("| threshold | detector | flagged rows | events | P | R | F1 | F1 of as many random flags | PA-F1 | "
            "event-wise F1 (found / false events) |" + (" NAB standard |" if nab else ""))
    lines = [f"### {s['name']}", "", res["about"], "", head,
             "|" + "---|" * (head.count("|") - 1)]

    def row(label, det, m):
        cells = [label, det, f"{m['flagged']:.0f}", f"{m['events']:.0f}", fmt(m["precision"]), fmt(m["recall"]),
                 fmt(m["f1"]), fmt(m["same_count_random_f1"]), fmt(m["pa_f1"]),
                 f"{fmt(m['event_f1'])} ({m['found']:.3g} / {m['false_events']:.3g})"]
        if nab:
            cells.append(fmt(m["nab"], 1))
        lines.append("| " + " | ".join(cells) + " |")

    row(f"static, model file ({res['model_threshold']})", "LSTM", res["detect"])
    for m in METHODS:
        label = {"static": "static, mean + 4 std of calibration rows"}.get(m, m)
        for det in ("LSTM", "PCA", "random"):
            row(label if det == "LSTM" else "", det, r[(det, m)])
    lines += ["", "best F1 (**oracle**: the threshold chosen by looking at the test labels; an upper bound, "
                  f"not a result): LSTM {fmt(r[('LSTM', 'static')]['oracle'])}, PCA "
                  f"{fmt(r[('PCA', 'static')]['oracle'])}, random {fmt(r[('random', 'static')]['oracle'])}", ""]
    return lines


def summary_tables(series, results):
    lines = ["| series | " + " | ".join(METHODS) + " |", "|---|" + "---|" * len(METHODS)]
    for s in series:
        r = results[s["name"]]["rows"]
        cells = [" / ".join(fmt(r[(d, m)]["f1"], 2) for d in ("LSTM", "PCA", "random")) for m in METHODS]
        lines.append(f"| {s['name']} | " + " | ".join(cells) + " |")
    lines += ["", "NAB standard score (this file alone: 0 = flag nothing, 100 = perfect), LSTM / PCA / random:", "",
              "| series | " + " | ".join(METHODS) + " |", "|---|" + "---|" * len(METHODS)]
    for s in series:
        if s["kind"] != "nab":
            continue
        r = results[s["name"]]["rows"]
        cells = [" / ".join(fmt(r[(d, m)]["nab"], 1) for d in ("LSTM", "PCA", "random")) for m in METHODS]
        lines.append(f"| {s['name']} | " + " | ".join(cells) + " |")
    return lines


def tallies(series, results):
    """How often the LSTM's point F1 / event-wise F1 beats each baseline over series x methods."""
    out = []
    for metric, name in (("f1", "point F1"), ("event_f1", "event-wise F1"), ("nab", "NAB standard score")):
        for base in ("PCA", "random"):
            win = tie = n = 0
            for s in series:
                for m in METHODS:
                    rows = results[s["name"]]["rows"]
                    a, b = rows[("LSTM", m)][metric], rows[(base, m)][metric]
                    if a is None or b is None or (metric != "nab" and s["key"].endswith("small_noise.csv")):
                        continue
                    n += 1
                    win += a > b + 1e-9
                    tie += abs(a - b) <= 1e-9
            out.append(f"- {name}: LSTM above {base} in {win} of {n} series x method cells, equal in {tie}")
    for det in ("LSTM", "PCA"):
        cells = [results[s["name"]]["rows"][(det, m)] for s in series for m in METHODS
                 if not s["key"].endswith("small_noise.csv") and results[s["name"]]["rows"][(det, m)]["flagged"] > 0]
        win = sum(c["f1"] > c["same_count_random_f1"] + 1e-9 for c in cells)
        out.append(f"- point F1: {det} above random flags of the same count in {win} of the {len(cells)} cells "
                   "where it flagged rows")
    return out


def wrap(text):
    """A paragraph (or a '- ' bullet) wrapped at 100 columns."""
    return textwrap.fill(text, 100, subsequent_indent="  " if text.startswith("- ") else "",
                         break_on_hyphens=False, break_long_words=False)


def flow(lines):
    """Markdown from lines: prose lines wrapped at 100 columns; tables, headings, code blocks and
    multi-line blocks (the kept reading) as they are."""
    out, fence = [], False
    for line in lines:
        if line.startswith("```"):
            fence = not fence
        keep = fence or "\n" in line or line.startswith(("|", "#", "```", "<!--"))
        out.append(line if keep else wrap(line))
    return "\n".join(out)


def document(series, results, times, reading):
    cmd = "/usr/bin/python3 tools/python/results.py --rnnad build/release/tools/rnnad"
    L = ["# Results on the development data", "",
         "Regenerate (trains the missing models, about a minute each, then scores and evaluates everything):", "",
         "```", cmd, "```", "",
         f"Last run: {times['total']:.0f} s in all on the shared 2-core development machine "
         f"(training {times['train']:.0f} s, `rnnad detect` {times['detect']:.0f} s, "
         f"baselines {times['baselines']:.0f} s, "
         f"`rnnad eval` {times['eval']:.0f} s for {times['evals']} runs). Training the {len(results) - 2} models of "
         f"`models/results/` took {times['trained']:.0f} s of optimisation (train.py's own count; 0 s above when "
         "they already existed).", "",
         "## How the numbers were made", "",
         "- **Thresholds and hyper-parameters were fixed without the test labels.** Model recipes are the shipped "
         "models' (`tools/python/make_scoring_models.py`), PCA's rules (window = the model's window, 90% of the "
         "training variance) and the threshold methods' settings (rnnad's defaults, `docs/cli.md`) were set before "
         "any metric was computed and are the same for every series. The labels are read only to compute the metrics.",
         "- **One code path.** Every detector's per-row scores go through `rnnad eval --threshold METHOD` "
         "(`docs/cli.md`): the threshold code of `rnnad detect` and the metric code of `docs/evaluation.md`. "
         "`eval` reads scores as float32 (the LSTM's, written by `detect` in float64, too), so a score within "
         "float rounding of a threshold can land on the other side; `detect --threshold spot` and `eval --threshold "
         "spot` print the same metrics on the NAB series.",
         "- **Thresholds** (defaults of `rnnad detect`): *static* = mean + 4 std of the calibration rows, *ndt* = "
         "Telemanom's nonparametric dynamic threshold, *spot* / *dspot* = SPOT / DSPOT with q 1e-3, level 0.98 "
         "(DSPOT depth 10). Calibration rows: the first 15% of the scored rows (NAB's probationary share), never "
         "flagged. For the LSTM the row *static, model file* adds the threshold stored in the model file, which "
         "`train.py` calibrated on injected anomalies in its validation rows (`models/README.md`).",
         "- **Detectors.** *LSTM*: the model of the series (`models/`, `models/results/README.md`), scored by "
         "`rnnad detect --device cpu`. *PCA*: scikit-learn PCA fitted on the model's training rows only (NAB: the "
         "first 15% of the file, as the model; SMD, ASD: the train file), z-scored with the training statistics, "
         f"windows of the model's window length flattened, {int(PCA_VARIANCE * 100)}% of the training variance kept; a "
         "row's score is the mean squared reconstruction error of the window ending at it. *random*: uniform scores, "
         f"the mean over seeds {RANDOM_SEEDS[0]}-{RANDOM_SEEDS[-1]}. Both baselines score exactly the rows the LSTM "
         "scored (its warm-up rows and rows after gaps have no score for all three).",
         "- **Metrics** (`docs/evaluation.md`): point-wise precision P, recall R, F1; *F1 of as many random flags*: "
         "the point F1 of random scores flagging exactly as many rows as the detector did (mean of 5 seeds, printed "
         "by `eval`), which separates how well a detector ranks rows from how many its threshold flags; "
         "point-adjusted F1 (PA-F1, which inflates on long segments: see random's); event-wise F1 (Telemanom's: "
         "labelled segments found, false-alarm events); the NAB standard profile for the NAB files (this file "
         "alone); *events* = runs of flagged rows. Random's counts are means over the seeds.",
         "- **NAB training split.** The NAB models were trained on the first 15% of each file's rows (0.8 / 0.2 train "
         "/ validation), the split of the shipped NAB model. NAB's own probation is min(15%, 750 rows), so on the "
         "three files over 5000 rows the training rows reach past NAB's probation into scored rows "
         "(machine temperature: 3404 rows, NAB window 1 among them; nyc_taxi 1548; ambient temperature 1090).",
         "- **Test series.** NAB: the whole file. SMD machine-1-7 and ASD omi-1: the whole test file with its 0/1 "
         "labels (not the 2,500-row head in `models/data/`).", "",
         "## Summary", "",
         "Point F1 at each method's own threshold, LSTM / PCA / random:", ""]
    L += summary_tables(series, results)
    L += ["", "Counts over the 7 labelled series x 4 methods (art_daily_small_noise has no anomaly and is left out "
              "of the F1 counts):", ""]
    L += tallies(series, results)
    L += ["", "## Reading", "", READING[0], reading.strip("\n"), READING[1], "", "## Per series", ""]
    for s in series:
        L += series_section(s, results[s["name"]])
    L += ["## Commands", "", "What `results.py` runs for one series (NAB nyc_taxi; the others alike):", "", "```",
          "rnnad detect --model models/results/nab_nyc_taxi.safetensors \\",
          "    --input ../shared/data/nab/realKnownCause/nyc_taxi.csv \\",
          "    --labels ../shared/data/nab/labels/combined_windows.json \\",
          "    --device cpu --max-events 0 --output WORK/lstm.csv",
          "for m in static ndt spot dspot; do",
          "  for d in lstm pca random1 random2 random3 random4 random5; do",
          "    rnnad eval --scores WORK/$d.csv --labels ../shared/data/nab/labels/combined_windows.json \\",
          "        --series-name ../shared/data/nab/realKnownCause/nyc_taxi.csv --threshold $m",
          "  done",
          "done", "```", "",
          "`WORK/pca.csv` and `WORK/random*.csv` are `timestamp,score` files written by `results.py` (`score` empty "
          "where the LSTM has no score). `--work DIR` keeps them.", ""]
    return flow(L)


def models_readme(series, metas):
    L = ["# models/results/", "",
         "Models trained by `tools/python/results.py` for `docs/results.md`, for the series of `../shared/data` that "
         "have no shipped model (`models/README.md`). Each is trained with `tools/python/train.py` by the recipe of "
         "the shipped model of its kind (`tools/python/make_scoring_models.py`), seed 0, one torch thread; the "
         "threshold stored in the file is calibrated on injected anomalies in the validation rows (never on test "
         "labels). Each "
         "`.reference.safetensors` holds PyTorch's scores of the first rows of the series "
         "(`rnnad validate --model FILE` checks the engine against it).", "",
         "| file | data | split | model | training | size |", "|---|---|---|---|---|---|"]
    for s in series:
        if s["shipped"]:
            continue
        cfg, tr = metas[s["name"]]
        m = cfg["model"]
        a, b = tr["train_rows"], tr["validation_rows"]
        if s["kind"] == "nab":
            data = f"NAB `{s['key']}`"
            split = f"first 15% of the file: rows {a[0]}-{a[1] - 1} train, {b[0]}-{b[1] - 1} validate"
            model = (f"prediction, {m['cell']} {m['num_layers']} x {m['hidden_size']}, window {m['seq_len']}, "
                     f"horizon {m['horizon']}; absolute error")
        else:
            data = f"{s['kind'].upper()} `train/{s['key']}.txt`"
            split = f"rows {a[0]}-{a[1] - 1} train, {b[0]}-{b[1] - 1} validate"
            model = (f"reconstruction (EncDec-AD), {m['cell']} {m['hidden_size']}, window {m['seq_len']}, "
                     f"{m.get('decode', 'reverse')} decoding; mahalanobis, mean pooling")
        training = (f"{len(tr['epochs'])} epochs (best {tr['best_epoch']}), {tr['train_seconds']} s; validation loss "
                    f"{tr['best_val_loss']:.4g} (untrained {tr['untrained_val_loss']:.4g})")
        size = f"{os.path.getsize(s['model']) // 1024} KB"
        lines = f"| `{os.path.basename(s['model'])}` | {data} | {split} | {model} | {training} | {size} |"
        L.append(lines)
    L += ["", "Regenerate: `/usr/bin/python3 tools/python/results.py --retrain --rnnad build/release/tools/rnnad`.", ""]
    return flow(L)


def existing_reading(path):
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return "(not written yet)"
    a, b = text.find(READING[0]), text.find(READING[1])
    if a < 0 or b < a:
        return "(not written yet)"
    return text[a + len(READING[0]):b]


def write_text(path, text):
    rx.atomic_write_bytes(path, text.encode("utf-8"))


# ---------------------------------------------------------------------------------------------


def evaluate_series(s, rnnad, work, metas, times):
    cfg, training = metas[s["name"]]
    T = window_length(cfg)
    d = os.path.join(work, re.sub(r"[^A-Za-z0-9_.-]", "_", s["name"]))
    os.makedirs(d, exist_ok=True)
    lstm_csv = os.path.join(d, "lstm.csv")
    out, sec = run([rnnad, "detect", "--model", s["model"], "--input", s["input"], "--labels", s["labels"],
                    "--device", "cpu", "--max-events", "0", "--output", lstm_csv] + s["detect"])
    times["detect"] += sec
    res = {"detect": parse_metrics(out, f"detect {s['input']}")}
    value = cfg.get("threshold", {}).get("value")
    res["model_threshold"] = f"{value:.4g}" if value is not None else "none"

    t0 = time.monotonic()
    stamps, lstm = read_rows_csv(lstm_csv)
    values, file_stamps = read_values(s)
    if len(values) != len(lstm) or (stamps is not None and stamps != file_stamps):
        raise Failure(f"{lstm_csv}: {len(lstm)} rows do not match the {len(values)} rows of {s['input']}")
    no_score = np.isnan(lstm)
    train_raw = read_training_values(s, training)
    pca, k = pca_scores(train_raw, values, T)
    pca[no_score] = math.nan
    csvs = {"LSTM": [lstm_csv], "PCA": [os.path.join(d, "pca.csv")], "random": []}
    write_scores_csv(csvs["PCA"][0], stamps, pca)
    for seed in RANDOM_SEEDS:
        r = np.random.default_rng(seed).random(len(lstm))
        r[no_score] = math.nan
        csvs["random"].append(os.path.join(d, f"random{seed}.csv"))
        write_scores_csv(csvs["random"][-1], stamps, r)
    times["baselines"] += time.monotonic() - t0

    rows = {}
    for det, files in csvs.items():
        for m in METHODS:
            runs = []
            for f in files:
                text, sec = run([rnnad, "eval", "--scores", f, "--labels", s["labels"], "--series-name", s["input"],
                                 "--threshold", m])
                times["eval"] += sec
                times["evals"] += 1
                runs.append(parse_metrics(text, f"eval {f} --threshold {m}"))
            rows[(det, m)] = mean_metrics(runs)
    res["rows"] = rows
    scored = int((~no_score).sum())
    train_text = (f"the first {len(train_raw)} rows of the file" if s["kind"] == "nab"
                  else f"`{rel(s['train_file'])}` ({len(train_raw)} rows)")
    m = cfg["model"]
    res["about"] = (f"`{rel(s['input'])}`: {len(values)} rows x {values.shape[1]} feature"
                    f"{'s' if values.shape[1] > 1 else ''}, {scored} scored by the LSTM; labels `{rel(s['labels'])}` "
                    f"({res['detect']['segments']} labelled segment{'s' if res['detect']['segments'] != 1 else ''}). "
                    f"LSTM: `{rel(s['model'])}` ({cfg['kind']}, {m['cell']} {m['hidden_size']}, window {T}"
                    f"{', shipped' if s['shipped'] else ''}). PCA: {k} component{'s' if k != 1 else ''} of "
                    f"{T * values.shape[1]} on "
                    f"{train_text}." + (" Input policy `--order ignore` (the file steps back 55 minutes; README.md)."
                                       if s["detect"] else ""))
    return res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 2)[2])
    p.add_argument("--rnnad", default=os.path.join(REPO, "build", "release", "tools", "rnnad"), help="the rnnad CLI")
    p.add_argument("--shared", default=os.path.join(os.path.dirname(REPO), "shared"),
                   help="the shared folder holding data/ (default ../shared)")
    p.add_argument("--retrain", action="store_true", help="train the models/results/ models even when they exist")
    p.add_argument("--work", help="keep the per-row CSVs here (default: a temporary directory, removed)")
    p.add_argument("--out", default=os.path.join(REPO, "docs", "results.md"))
    args = p.parse_args(argv)
    try:
        return run_all(args)
    except (Failure, OSError, ValueError) as e:
        print(f"results.py: error: {e}", file=sys.stderr)
        return 1


def run_all(args):
    t_all = time.monotonic()
    if not os.access(args.rnnad, os.X_OK):
        raise Failure(f"{args.rnnad}: not an executable (build the CLI, or pass --rnnad)")
    series = series_table(args.shared)
    for s in series:
        for key in ("input", "labels"):
            if not os.path.exists(s[key]):
                raise Failure(f"{s[key]}: missing (--shared {args.shared})")
    times = {"train": 0.0, "detect": 0.0, "baselines": 0.0, "eval": 0.0, "evals": 0}
    for s in series:
        if s["shipped"] or (os.path.exists(s["model"]) and not args.retrain):
            continue
        import torch
        import train as tr
        torch.set_num_threads(1)
        os.makedirs(os.path.dirname(s["model"]), exist_ok=True)
        print(f"== training {rel(s['model'])}", flush=True)
        t0 = time.monotonic()
        tr.main(train_args(s, args.shared))
        times["train"] += time.monotonic() - t0
    metas = {s["name"]: model_metadata(s["model"]) for s in series}
    write_text(os.path.join(REPO, "models", "results", "README.md"), models_readme(series, metas))

    work = args.work or tempfile.mkdtemp(prefix="rnnad_results_")
    try:
        results = {}
        for s in series:
            print(f"== {s['name']}", flush=True)
            results[s["name"]] = evaluate_series(s, args.rnnad, work, metas, times)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    times["total"] = time.monotonic() - t_all
    times["trained"] = sum(metas[s["name"]][1].get("train_seconds", 0) for s in series if not s["shipped"])
    write_text(args.out, document(series, results, times, existing_reading(args.out)))
    print(f"wrote {rel(args.out)} ({times['total']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
