#!/usr/bin/env bash
# Measures rnnad's CPU path against its CPU peers (docs/benchmarks.md, "CPU rows"): for each
# repeat and thread count, torch_bench.py, then rnnad_bench (rnnad-cpu, onednn) merging that
# PyTorch JSON, so one table per run holds all three. Runs alternate (1 thread, 2 threads, then
# the next repeat) and the load average before each is recorded, to pick the quiet runs.
#
#   bash benchmarks/cpu_peers.sh [BUILD_DIR=build/release] [OUT_DIR=cpu_peers_out] [REPEATS=2]
#
# Writes OUT_DIR/{torch,bench}_t{1,2}_r{N}.json, bench_t{1,2}_r{N}.md and load.txt.
set -euo pipefail
build=${1:-build/release}
out=${2:-cpu_peers_out}
repeats=${3:-2}
bench="$build/benchmarks/rnnad_bench"
[ -x "$bench" ] || { echo "cpu_peers: no $bench (build the rnnad_bench target)" >&2; exit 2; }
mkdir -p "$out"
: >"$out/load.txt"
for r in $(seq 1 "$repeats"); do
  for t in 1 2; do
    echo "r$r t$t torch start: $(uptime)" | tee -a "$out/load.txt"
    /usr/bin/python3 benchmarks/torch_bench.py --threads "$t" --json "$out/torch_t${t}_r$r.json" >/dev/null
    echo "r$r t$t bench start: $(uptime)" | tee -a "$out/load.txt"
    "$bench" --suite cpu --backends rnnad-cpu,onednn --threads "$t" --merge "$out/torch_t${t}_r$r.json" \
      --json "$out/bench_t${t}_r$r.json" --markdown "$out/bench_t${t}_r$r.md" >/dev/null
  done
done
echo "r$repeats end: $(uptime)" | tee -a "$out/load.txt"
