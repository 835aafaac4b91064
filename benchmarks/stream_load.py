#!/usr/bin/python3
"""Load for `rnnad stream` (docs/streaming.md, "Measured"): many streams fed round-robin from one
bundled series, as lines `stream_id,timestamp,v1,...,vF`.

Tick t holds one line per stream, streams in order host-00000, host-00001, ...; stream s at tick
t carries row (t + s * OFFSET) mod N of the series (the series' values cycled, each stream at its
own phase), timestamp START + STEP * t (an integer clock, seconds). The series is a CSV: a header
is skipped when a field of the first line is not a number, a column named `timestamp` is dropped
(NAB files); every other column is a value, copied as written (SMD files: 38 numbers, no header).

    /usr/bin/python3 benchmarks/stream_load.py --series models/data/machine_temperature_system_failure.csv \\
        --streams 10000 --ticks 100 --out nab_10k.lines
    build/release/tools/rnnad stream -m models/nab_machine_temp.safetensors -i nab_10k.lines > alarms.jsonl

Steady-state runs skip the models' warm-up (no window runs before seq_len samples) with a
checkpoint: write ticks [0, W) and run them with --no-flush --checkpoint, then time ticks
[W, W + N) (--first-tick W) with --restore.

--tick-seconds S paces the output (a live feed: one tick every S seconds, flushed per tick) for
latency runs through a pipe: `stream_load.py ... --tick-seconds 1 | rnnad stream -m ...`.
"""
import argparse
import csv
import os
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--series", required=True, help="CSV series whose rows are cycled")
    p.add_argument("--streams", type=int, default=10000, help="number of streams (default 10000)")
    p.add_argument("--ticks", type=int, default=100, help="samples per stream (default 100)")
    p.add_argument("--first-tick", type=int, default=0,
                   help="first tick written (default 0); a run restored from a checkpoint of ticks [0, N) continues with N")
    p.add_argument("--offset", type=int, default=37, help="rows between neighbouring streams' phases (default 37)")
    p.add_argument("--start", type=int, default=1388534400, help="timestamp of tick 0 (default 2014-01-01 00:00:00)")
    p.add_argument("--step", type=int, default=300, help="timestamp step per tick (default 300)")
    p.add_argument("--tick-seconds", type=float, default=0.0, help="pace: one tick every S seconds (default: no pacing)")
    p.add_argument("--out", default="-", help="output file (default: stdout)")
    a = p.parse_args()
    for name in ("streams", "ticks"):
        if getattr(a, name) < 1:
            p.error(f"--{name} must be >= 1")
    if a.first_tick < 0:
        p.error("--first-tick must be >= 0")
    return a


def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_rows(path):
    """The value fields of every data row, each row joined back with commas."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        sys.exit(f"{path}: empty")
    keep, first_line = list(range(len(rows[0]))), 1
    if not all(is_number(x) for x in rows[0]):
        header, rows, first_line = rows[0], rows[1:], 2
        keep = [i for i, name in enumerate(header) if name.strip().lower() != "timestamp"]
    if not rows or not keep:
        sys.exit(f"{path}: no data rows or no value columns")
    for n, row in enumerate(rows, start=first_line):
        if len(row) <= max(keep):
            sys.exit(f"{path}:{n}: {len(row)} fields, expected at least {max(keep) + 1}")
    return [",".join(row[i] for i in keep) for row in rows]


def main():
    a = parse_args()
    rows = read_rows(a.series)
    names = [f"host-{s:05d}" for s in range(a.streams)]
    # A file is written under a temporary name and renamed when complete (no partial output).
    temp = f"{a.out}.tmp.{os.getpid()}"
    out = sys.stdout if a.out == "-" else open(temp, "w")
    began = time.monotonic()
    try:
        for k, t in enumerate(range(a.first_tick, a.first_tick + a.ticks)):
            ts = str(a.start + a.step * t)
            out.write("".join(f"{names[s]},{ts},{rows[(t + s * a.offset) % len(rows)]}\n" for s in range(a.streams)))
            if a.tick_seconds > 0:
                out.flush()
                time.sleep(max(0.0, began + (k + 1) * a.tick_seconds - time.monotonic()))
        if out is not sys.stdout:
            out.close()
            os.replace(temp, a.out)
    except BrokenPipeError:
        sys.exit(1)
    finally:
        if out is not sys.stdout and os.path.exists(temp):
            out.close()
            os.remove(temp)


if __name__ == "__main__":
    main()
