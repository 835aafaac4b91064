#!/usr/bin/env bash
# GPU check on a bare CUDA machine (the H200 host: x86-64, 16 cores, CUDA 13 at /usr/local/cuda,
# CMake and a pip PyTorch; no network, no Debian packages). Needs deps/ packed beforehand on a
# Debian machine (bash benchmarks/pack_deps.sh); deps/ travels with the tree.
#
#   bash benchmarks/gpu_check.sh        # results in ${RNNAD_GPU_OUT:-${OUT:-gpu_check_out}}
#
# Stages, each under its own timeout (seconds; 365 in all, so the script ends within 6.5 minutes;
# measured on the H200 host: configure 4, build 17, build-tests 22, tests 5, quick 5, bench 69):
#   configure    15   cmake -DRNNAD_DEPS_DIR=deps -DRNNAD_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90-real
#   build        50   rnnad_bench and rnnad_score_bench (and with them the library and the CUDA kernels), -j16
#   build-tests  30   the executables of the tests labelled gpu or sim
#   tests        20   ctest -L 'gpu|sim' (the CUDA tests on the device, the CPU harness of the kernels)
#   quick        10   rnnad_bench --quick: every mode and cell on tiny shapes, checked on every backend
#   bench        90   rnnad_bench --suite gpu: rnnad-cuda and cudnn side by side (no row starts
#                     after 75 s; rows most important first, the rest reported as not run; 7
#                     rounds, ~0.1 s of timed calls per backend and row)
#   strategies   60   the anomaly-detection rows and DB1 with each recurrence strategy forced
#                     (rnnad-cuda-step, -persistent, -gemm; cudnn is in the bench stage), to place
#                     the strategy table's boundaries (no row starts after 50 s; 5 rounds, ~0.05 s
#                     per backend)
#   pipeline-off 30   AD1, AD5-b1, AD9 on rnnad-cuda-persistent with RNNAD_CUDA_PIPELINE=0 (layers
#                     one after another; the strategies stage runs them overlapped), into serial.md
#   scoring      30   rnnad_score_bench: Scorer::score() of 20,000 rows with the SMD model on the CPU
#                     (16 threads), the GPU scoring on the host and the GPU scoring on the device
#                     (docs/scoring.md §8), 5 interleaved rounds, into scoring.md
#   scoring-pred 15   the same with the bundled NAB forecaster (windowed, 20,000 rows), appended
#   smi           5   nvidia-smi clocks after the run
# The benchmarks run even when the tests do not build or fail.
# Writes 12 files: build.log, tests.log, bench.log, bench.json, bench.md, strategies.json,
# strategies.md, serial.json, serial.md, scoring.md, nvidia-smi.txt, summary.txt.
# Prints nvidia-smi's clocks and the tables last; exits 1 if any stage failed (0 otherwise), and
# the tables show what ran either way.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${RNNAD_GPU_OUT:-${OUT:-gpu_check_out}}
build=${RNNAD_GPU_BUILD:-build/gpu-check}
jobs=${RNNAD_GPU_JOBS:-16}
mkdir -p "$out"
start=$SECONDS
failed=0
table=()

# stage NAME BUDGET LOG CMD...: runs CMD under `timeout BUDGET`, appending its output to LOG.
stage() {
  local name=$1 budget=$2 log=$3; shift 3
  local t0=$SECONDS rc=0 status=ok
  echo "==> $name (budget ${budget} s): $*" | tee -a "$log"
  timeout --kill-after=5 "$budget" "$@" >>"$log" 2>&1 || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then status="TIMEOUT"; elif [ "$rc" -ne 0 ]; then status="FAILED (exit $rc)"; fi
  echo "    $name: $status after $((SECONDS - t0)) s" | tee -a "$log"
  [ "$rc" -eq 0 ] || tail -n 25 "$log"
  table+=("$(printf '| %-11s | %-18s | %4d s | %4d s |' "$name" "$status" $((SECONDS - t0)) "$budget")")
  [ "$rc" -eq 0 ] || failed=1
  return "$rc"
}
skip() { table+=("$(printf '| %-11s | %-18s | %6s | %4d s |' "$1" "skipped ($2)" "—" "$3")"); }

{
  echo "gpu_check: $(date -u +%FT%TZ) on $(hostname), $(nproc) CPUs; out=$out build=$build"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem --format=csv 2>&1
  echo "nvcc: $(/usr/local/cuda/bin/nvcc --version 2>&1 | tail -n1); cmake: $(cmake --version | head -n1); c++: $(c++ --version | head -n1)"
  echo "python3: $(command -v python3 || echo none); ctest: $(command -v ctest || echo none)"
} | tee "$out/summary.txt"

if [ ! -f deps/MANIFEST ]; then
  echo "gpu_check: deps/MANIFEST missing: run 'bash benchmarks/pack_deps.sh' on a machine with the Debian packages first" |
    tee -a "$out/summary.txt"
  exit 1
fi

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
built=0
if stage configure 15 "$out/build.log" cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
     -DRNNAD_DEPS_DIR=deps -DRNNAD_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90-real \
     -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc; then
  # The executables of the tests labelled gpu or sim: the programs their add_test() commands run
  # from the build tree (named like their targets); a name whose command is not found is taken as
  # the target's name.
  mapfile -t names < <(ctest --test-dir "$build" -N -L '^(gpu|sim)$' 2>/dev/null | sed -n 's/^ *Test *#[0-9]*: *//p')
  [ "${#names[@]}" -gt 0 ] || ctest --test-dir "$build" -N >>"$out/build.log" 2>&1  # for the diagnosis
  abs=$(cd "$build" && pwd)
  targets=()
  for name in "${names[@]}"; do
    exe=$(find "$build" -name CTestTestfile.cmake -exec grep -h "^add_test(.*$name" {} + |
            sed -n "s|^add_test(\[*=*\[*$name\]*=*\]* \"\([^\"]*\)\".*|\1|p" | head -n1)
    case "$exe" in "$abs/"*) targets+=("$(basename "$exe")") ;; "") targets+=("$name") ;; esac
  done
  echo "    tests labelled gpu or sim: ${names[*]:-none}; their programs: ${targets[*]:-none}" | tee -a "$out/build.log"
  stage build 50 "$out/build.log" cmake --build "$build" -j "$jobs" --target rnnad_bench rnnad_score_bench && built=1
  if [ "$built" = 1 ] && [ "${#targets[@]}" -eq 0 ]; then
    table+=("$(printf '| %-11s | %-18s | %6s | %4d s |' tests "FAILED (none found)" "—" 20)")
    failed=1
  elif [ "$built" = 1 ] && stage build-tests 30 "$out/build.log" cmake --build "$build" -j "$jobs" --target "${targets[@]}"; then
    stage tests 20 "$out/tests.log" ctest --test-dir "$build" -L '^(gpu|sim)$' -j "$jobs" --output-on-failure
  else
    skip tests "no build" 20
  fi
else
  skip build "no configure" 50
  skip tests "no build" 20
fi

if [ "$built" = 1 ]; then
  stage quick 10 "$out/bench.log" "$build/benchmarks/rnnad_bench" --quick
  stage bench 90 "$out/bench.log" "$build/benchmarks/rnnad_bench" --suite gpu --rounds 7 --time-per-row 0.1 \
    --warmup-ms 30 --check-gflop 0.5 --deadline-s 75 --json "$out/bench.json" --markdown "$out/bench.md"
  stage strategies 60 "$out/bench.log" "$build/benchmarks/rnnad_bench" --suite gpu \
    --backends rnnad-cuda-step,rnnad-cuda-persistent,rnnad-cuda-gemm --rows AD1,AD2,AD3,AD4,AD6,AD8,AD9,AD10,DB1 \
    --rounds 5 --time-per-row 0.05 --warmup-ms 20 --check-gflop 0.5 --deadline-s 50 --json "$out/strategies.json" \
    --markdown "$out/strategies.md"
  stage pipeline-off 30 "$out/bench.log" env RNNAD_CUDA_PIPELINE=0 "$build/benchmarks/rnnad_bench" --suite gpu \
    --backends rnnad-cuda-persistent --rows AD1,AD5-b1,AD9 --rounds 5 --time-per-row 0.05 --warmup-ms 20 \
    --check-gflop 0.5 --deadline-s 25 --json "$out/serial.json" --markdown "$out/serial.md"
  stage scoring 30 "$out/scoring.md" "$build/benchmarks/rnnad_score_bench" --model models/smd_machine-1-7.safetensors \
    --rows 20000 --rounds 5 --threads "$jobs"
  stage scoring-pred 15 "$out/scoring.md" "$build/benchmarks/rnnad_score_bench" \
    --model models/nab_machine_temp.safetensors --rows 20000 --rounds 5 --threads "$jobs"
else
  skip quick "no build" 10
  skip bench "no build" 90
  skip strategies "no build" 60
  skip pipeline-off "no build" 30
  skip scoring "no build" 30
  skip scoring-pred "no build" 15
fi
stage smi 5 "$out/nvidia-smi.txt" nvidia-smi --query-gpu=clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw \
  --format=csv

{
  echo
  echo "nvidia-smi after the run:"
  grep -v '^ *smi:\|^==>' "$out/nvidia-smi.txt"
  for md in "$out/bench.md" "$out/strategies.md" "$out/serial.md"; do
    if [ -f "$md" ]; then
      echo
      echo "$(basename "$md"):"
      sed -n '/^## Summary/,/^## Details/p' "$md" | sed '$d'
    fi
  done
  if [ -f "$out/scoring.md" ]; then
    echo
    echo "scoring.md:"
    grep -v '^==>' "$out/scoring.md"
  fi
  echo "| stage       | status             | time   | budget |"
  echo "|-------------|--------------------|--------|--------|"
  printf '%s\n' "${table[@]}"
  echo "gpu_check: $([ "$failed" = 0 ] && echo passed || echo FAILED) in $((SECONDS - start)) s; files in $out"
} | tee -a "$out/summary.txt"
exit "$failed"
