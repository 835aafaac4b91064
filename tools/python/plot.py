"""Render a PNG of an `rnnad detect` run: the series, the score with its threshold, the detected
events and the labelled windows.

    /usr/bin/python3 tools/python/plot.py OUT.csv --png OUT.png [--events OUT.events.json]
                                          [--labels L [--labels-key K]] [--features a,b] [--log-score]

Inputs
  OUT.csv       the per-row CSV of `rnnad detect --output` (docs/cli.md, "Outputs"): an optional
                `timestamp` column first, the value columns, then `score`, `threshold`, `is_anomaly`
                (empty cells: no score / not judged), and `filled` when present (not drawn).
  --events      its events JSON (default: OUT.csv with extension .events.json, as detect names it);
                the events' start_row/end_row are shaded.
  --labels      NAB combined_windows.json (.json; the key: --labels-key, else the only key, else the
                key naming the events JSON's input file; windows map onto the timestamp column), or a
                0/1 file with one line per row of OUT.csv (SMD/ASD test_label/). Shaded in another colour.
  --features    value columns to draw, names or 1-based numbers among the value columns, one panel
                each (default: a univariate series' column; for a multivariate one the three features
                with the largest contributions over all events, else the first three).

Output: PNG (matplotlib, Agg backend), written under a temporary name and renamed when complete,
so a failure leaves nothing behind. Panels share the x axis: the timestamps when OUT.csv has them,
else the row number.

Exit status: 0; 2 usage error (argparse); 3 bad input, with one line on stderr
`plot.py: error: <file>[:<line>]: <what>`; 4 matplotlib missing (apt-get install python3-matplotlib).
"""
import argparse
import csv
import io
import json
import math
import os
import sys
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

OWN_COLUMNS = ("score", "threshold", "is_anomaly")  # required
OPTIONAL_COLUMNS = ("filled",)  # written by newer detect: how many of the row's values --fill imputed
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class BadInput(Exception):
    """Bad input; the message names the file (and the line or key)."""


def number(cell, path, line, column):
    """A CSV cell as float; empty = NaN."""
    if cell == "":
        return math.nan
    try:
        return float(cell)
    except ValueError:
        raise BadInput(f"{path}:{line}: column '{column}': {cell!r} is not a number") from None


def read_rows(path):
    """{'stamps': [str] or None, 'names': value column names, 'values': [[float]] per column,
    'score', 'threshold', 'flag': [float] (NaN = empty)} of a detect per-row CSV."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        raise BadInput(f"{path}: {e.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise BadInput(f"{path}: not a CSV file ({e})") from None
    if not rows:
        raise BadInput(f"{path}: empty file")
    header = [h.strip() for h in rows[0]]
    for c in OWN_COLUMNS:
        if c not in header:
            raise BadInput(f"{path}:1: no '{c}' column (expected the per-row CSV of rnnad detect --output)")
    has_time = header[0] == "timestamp"
    value_cols = [i for i, h in enumerate(header)
                  if h not in OWN_COLUMNS + OPTIONAL_COLUMNS and not (has_time and i == 0)]
    if not value_cols:
        raise BadInput(f"{path}:1: no value column")
    if len(rows) < 2:
        raise BadInput(f"{path}: header only, no row")
    out = {"stamps": [] if has_time else None, "names": [header[i] for i in value_cols],
           "values": [[] for _ in value_cols], "score": [], "threshold": [], "flag": []}
    where = {c: header.index(c) for c in OWN_COLUMNS}
    for n, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise BadInput(f"{path}:{n}: {len(r)} fields, the header has {len(header)}")
        if has_time:
            try:
                out["stamps"].append(datetime.strptime(r[0], TIME_FORMAT))
            except ValueError:
                raise BadInput(f"{path}:{n}: column 'timestamp': {r[0]!r} is not YYYY-MM-DD HH:MM:SS") from None
        for k, i in enumerate(value_cols):
            out["values"][k].append(number(r[i], path, n, header[i]))
        out["score"].append(number(r[where["score"]], path, n, "score"))
        out["threshold"].append(number(r[where["threshold"]], path, n, "threshold"))
        out["flag"].append(number(r[where["is_anomaly"]], path, n, "is_anomaly"))
    return out


def read_events(path, n_rows):
    """The events JSON: (events [(start_row, end_row)], top-feature contributions {name: sum}, run)."""
    try:
        with open(path, encoding="utf-8") as f:
            run = json.load(f)
    except OSError as e:
        raise BadInput(f"{path}: {e.strerror} (pass --events, or write it with rnnad detect --output)") from None
    except ValueError as e:
        raise BadInput(f"{path}: not JSON ({e})") from None
    if not isinstance(run, dict) or not isinstance(run.get("events"), list):
        raise BadInput(f"{path}: no 'events' list (expected the events JSON of rnnad detect)")
    events, weight = [], {}
    for k, e in enumerate(run["events"]):
        try:
            a, b = int(e["start_row"]), int(e["end_row"])
        except (KeyError, TypeError, ValueError):
            raise BadInput(f"{path}: events[{k}]: no integer start_row/end_row") from None
        if not 0 <= a <= b < n_rows:
            raise BadInput(f"{path}: events[{k}]: rows {a}-{b} outside the {n_rows} rows of the per-row CSV")
        events.append((a, b))
        for t in e.get("top_features", []):
            weight[t.get("feature")] = weight.get(t.get("feature"), 0.0) + float(t.get("contribution", 0.0))
    return events, weight, run


def runs(flags):
    """Inclusive (first, last) runs of true values."""
    out, start = [], None
    for i, f in enumerate(list(flags) + [False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            out.append((start, i - 1))
            start = None
    return out


def read_labels(path, key, rows, run):
    """Labelled segments [(first, last)] in rows of the per-row CSV, and a description."""
    if path.endswith(".json"):
        try:
            with open(path, encoding="utf-8") as f:
                table = json.load(f)
        except OSError as e:
            raise BadInput(f"{path}: {e.strerror}") from None
        except ValueError as e:
            raise BadInput(f"{path}: not JSON ({e})") from None
        if not isinstance(table, dict):
            raise BadInput(f"{path}: expected an object of \"folder/file.csv\": [[start, end], ...]")
        if key is None:
            base = os.path.basename(str(run.get("input", "")))
            keys = list(table) if len(table) == 1 else [k for k in table if os.path.basename(k) == base]
            if len(keys) != 1:
                raise BadInput(f"{path}: no single key for {base or 'the input'}; choose one with --labels-key "
                               f"({', '.join(table)})")
            key = keys[0]
        if key not in table:
            raise BadInput(f"{path}: no key '{key}' (--labels-key)")
        if rows["stamps"] is None:
            raise BadInput(f"{path}: NAB windows need timestamps; the per-row CSV has no timestamp column")
        index = {}
        for i, t in enumerate(rows["stamps"]):
            index.setdefault(t.strftime(TIME_FORMAT), i)
        segs = []
        for k, w in enumerate(table[key]):
            try:
                a, b = index[str(w[0])[:19]], index[str(w[1])[:19]]
            except (KeyError, IndexError, TypeError):
                raise BadInput(f"{path}: {key} window {k}: {w!r}: a timestamp is not in the per-row CSV") from None
            segs.append((a, b))
        return segs, f"{len(segs)} NAB window{'s' if len(segs) != 1 else ''} ({key})"
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise BadInput(f"{path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not a 0/1 text file") from None
    while lines and lines[-1] == "":
        lines.pop()
    for n, v in enumerate(lines, start=1):
        if v.strip() not in ("0", "1"):
            raise BadInput(f"{path}:{n}: {v!r} is not 0 or 1")
    n_rows = len(rows["score"])
    if len(lines) != n_rows:
        raise BadInput(f"{path}: {len(lines)} labels for the {n_rows} rows of the per-row CSV")
    segs = runs(v.strip() == "1" for v in lines)
    return segs, f"0/1 labels, {len(segs)} segment{'s' if len(segs) != 1 else ''}"


def choose_features(spec, names, weight, path):
    """Indices of the value columns to draw."""
    if spec:
        out = []
        for item in spec.split(","):
            item = item.strip()
            if item in names:
                out.append(names.index(item))
            elif item.isdigit() and 1 <= int(item) <= len(names):
                out.append(int(item) - 1)
            else:
                raise BadInput(f"{path}:1: --features: no value column '{item}' (columns: {', '.join(names)})")
        return out
    if len(names) == 1:
        return [0]
    ranked = sorted((n for n in weight if n in names), key=lambda n: -weight[n])[:3]
    return [names.index(n) for n in ranked] or list(range(min(3, len(names))))


def render(rows, events, labels, label_text, features, run, log_score, title):
    """The figure as PNG bytes."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(rows["score"])
    x = rows["stamps"] if rows["stamps"] is not None else list(range(n))

    def span(a, b):  # x extent of rows a..b (inclusive), to the next row's position
        return x[a], x[min(b + 1, n - 1)]

    panels = len(features) + 1
    fig, axes = plt.subplots(panels, 1, sharex=True, figsize=(14, 2.2 * panels + 0.8), squeeze=False)
    axes = axes[:, 0]
    for ax, k in zip(axes, features):
        ax.plot(x, rows["values"][k], lw=0.6, color="tab:blue")
        ax.set_ylabel(rows["names"][k])
    ax = axes[-1]
    ax.plot(x, rows["score"], lw=0.6, color="black", label="score")
    ax.plot(x, rows["threshold"], lw=1.0, color="tab:orange", drawstyle="steps-post", label="threshold")
    flagged = [i for i, f in enumerate(rows["flag"]) if f == 1]  # visible even where an event is one row wide
    ax.plot([x[i] for i in flagged], [rows["score"][i] for i in flagged], "o", ms=2, color="tab:red",
            label="flagged rows")
    if log_score:
        ax.set_yscale("log")
    ax.set_ylabel("score")
    for a in axes:  # labels: full height; events: a strip along the top, so overlaps stay readable
        for i, (s, e) in enumerate(labels):
            a.axvspan(*span(s, e), color="tab:green", alpha=0.25, lw=0, label=label_text if i == 0 else None)
        for i, (s, e) in enumerate(events):
            a.axvspan(*span(s, e), ymin=0.9, color="tab:red", alpha=0.6, lw=0.5,
                      label="detected events" if i == 0 else None)
    ax.set_xlabel("time" if rows["stamps"] is not None else "row")
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=8, frameon=False)
    thr = run.get("threshold", {}).get("method", "?") if isinstance(run.get("threshold"), dict) else "?"
    name = f"{os.path.basename(str(run.get('input', '')))}: {os.path.basename(str(run.get('model', '')))}"
    fig.suptitle(title or f"{name}, threshold {thr}, {len(events)} event{'s' if len(events) != 1 else ''}", fontsize=10)
    fig.tight_layout(rect=(0, 0.35 / (2.2 * panels + 0.8), 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n", 2)[2])
    p.add_argument("rows", help="per-row CSV written by rnnad detect --output")
    p.add_argument("--png", required=True, help="PNG file to write")
    p.add_argument("--events", help="events JSON (default: ROWS with extension .events.json)")
    p.add_argument("--labels", help="NAB combined_windows.json (.json) or a 0/1 file, one line per row")
    p.add_argument("--labels-key", help="key in a NAB labels file")
    p.add_argument("--features", help="value columns to draw: names or 1-based numbers, comma-separated")
    p.add_argument("--log-score", action="store_true", help="logarithmic score axis")
    p.add_argument("--title", help="figure title (default: input, model, threshold method, events)")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("plot.py: error: matplotlib is missing (apt-get install python3-matplotlib)", file=sys.stderr)
        return 4
    import rnnad_export as rx
    try:
        rows = read_rows(args.rows)
        events_path = args.events or os.path.splitext(args.rows)[0] + ".events.json"
        events, weight, run = read_events(events_path, len(rows["score"]))
        labels, label_text = read_labels(args.labels, args.labels_key, rows, run) if args.labels else ([], "")
        features = choose_features(args.features, rows["names"], weight, args.rows)
        png = render(rows, events, labels, label_text, features, run, args.log_score, args.title)
        rx.atomic_write_bytes(args.png, png)
    except BadInput as e:
        print(f"plot.py: error: {e}", file=sys.stderr)
        return 3
    except OSError as e:
        print(f"plot.py: error: {args.png}: {e.strerror}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
