#!/usr/bin/env bash
# Builds and runs every test: installs packages, then the `release` preset (CUDA code compiled
# when nvcc exists; all tests including the live PyTorch grid, the Python end-to-end tests and the
# install/find_package consumer), a CPU build from the packed header-only dependencies alone
# (benchmarks/packed_build.sh: what a bare GPU machine builds with), the `asan` preset
# (AddressSanitizer + UBSan: every C++ test and the CLI end to end; not the live grid, the
# Python-driven CLI tests and the install test, which exercise the same code as release through
# slower paths), and the `tsan` preset (ThreadSanitizer: only the multi-threaded tests, label tsan).
# Prints the time of each stage at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
times=()
stage() {
  local name=$1; shift
  local t0=$SECONDS
  echo "==> $name: $*"
  "$@"
  times+=("$(printf '%-22s %4ds' "$name" $((SECONDS - t0)))")
}
stage setup bash tools/setup.sh
stage configure-release cmake --preset release
stage build-release cmake --build --preset release
stage test-release ctest --preset release -j2
stage packed-build bash benchmarks/packed_build.sh build/packed
stage configure-asan cmake --preset asan
stage build-asan cmake --build --preset asan
stage test-asan ctest --preset asan -j2 -E '^(golden_full|python_(byo_export|plot|cli_eval)|install_consumer)'
stage configure-tsan cmake --preset tsan
stage build-tsan cmake --build --preset tsan --target rnnad_tsan_tests
stage test-tsan ctest --preset tsan -L tsan
echo "==> stage times"
printf '  %s\n' "${times[@]}"
