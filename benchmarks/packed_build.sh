#!/usr/bin/env bash
# Proves the build needs nothing but deps/ for its header-only dependencies (the situation of a
# bare GPU machine, benchmarks/gpu_check.sh): packs deps/ (benchmarks/pack_deps.sh), configures
# build/packed with -DRNNAD_DEPS_DIR=deps -DRNNAD_CUDA=OFF, builds the library, rnnad_bench and two
# test programs that between them use all four packages (Eigen, nlohmann/json, CLI11, Catch2),
# checks from the compiler's dependency files that no header came from the system's copies, and
# runs those tests. Called by tools/run_tests.sh; about 2-3 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/packed}
targets=(rnnad_bench test_rnn test_model_file)

bash benchmarks/pack_deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRNNAD_DEPS_DIR=deps -DRNNAD_CUDA=OFF >/dev/null
cmake --build "$build" -j2 --target "${targets[@]}"

# Every header the compiler read is listed in the depfiles (*.d) it wrote next to the objects.
headers() { find "$build" -name '*.d' -exec grep -hoE "$1" {} + | sort -u || true; }  # grep: 1 = none
system=$(headers '/usr/include/(eigen3|nlohmann|CLI|catch2)/[^ :\\]+')
if [ -n "$system" ]; then
  echo "packed_build: headers read from the system instead of deps/:" >&2
  echo "$system" | head -n 20 >&2
  exit 1
fi
used=$(headers "$PWD/deps/[a-z0-9_]+/" | sed "s|$PWD/||" | tr '\n' ' ')
echo "packed_build: headers came from deps/ only ($used)"
ctest --test-dir "$build" -R '^(test_rnn|test_model_file|bench_quick)$' --output-on-failure
