#!/usr/bin/env bash
# Register and spill report of every CUDA kernel (docs/kernels.md §10): compiles each
# kernels/*.cu for one real architecture with `-Xptxas -v`, using the include paths and defines of
# a configured build tree, and prints one Markdown row per kernel instantiation. Needs nvcc only
# (no GPU). Exits 1 when any kernel spills or uses a stack frame, 2 on a usage or compile error.
#
#   bash tools/ptxas_report.sh BUILD_DIR [ARCH]     (ARCH: default 90, i.e. sm_90)
set -euo pipefail

build=${1:?usage: ptxas_report.sh BUILD_DIR [ARCH]}
arch=${2:-90}
root=$(cd "$(dirname "$0")/.." && pwd)
rsp="$build/kernels/CMakeFiles/rnnad_kernels.dir/includes_CUDA.rsp"
nvcc=$(sed -n 's/^set(CMAKE_CUDA_COMPILER "\(.*\)")$/\1/p' "$build"/CMakeFiles/*/CMakeCUDACompiler.cmake 2>/dev/null | head -1)
if [[ ! -f "$rsp" || -z "$nvcc" ]]; then
  echo "ptxas_report: $build is not a build tree with the CUDA kernels (no $rsp or CMAKE_CUDA_COMPILER)" >&2
  exit 2
fi
rsp=$(cd "$(dirname "$rsp")" && pwd)/$(basename "$rsp")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "| kernel (sm_$arch) | registers | stack frame (bytes) | spill stores / loads (bytes) | static shared (bytes) |"
echo "|---|---|---|---|---|"
bad=0
for cu in "$root"/kernels/*.cu; do
  # The options file's paths are relative to the kernels build directory.
  if ! (cd "$build/kernels" && "$nvcc" --options-file "$rsp" -O3 -DNDEBUG -std=c++17 \
          "--generate-code=arch=compute_$arch,code=[sm_$arch]" -Xptxas -v -c "$cu" -o "$work/k.o") \
        >"$work/log" 2>&1; then
    cat "$work/log" >&2
    echo "ptxas_report: nvcc failed on $cu" >&2
    exit 2
  fi
  # ptxas prints per entry: "Compiling entry function 'NAME' for 'sm_90'", "Function properties",
  # "N bytes stack frame, S bytes spill stores, L bytes spill loads", "Used R registers, ... S bytes smem".
  out=$(awk -v file="$(basename "$cu")" '
    /Compiling entry function/ { match($0, /'\''[^'\'']+'\''/); name = substr($0, RSTART + 1, RLENGTH - 2) }
    /bytes stack frame/ { split($0, f, /[ ,]+/); for (i = 1; i <= length(f); ++i) {
        if (f[i] == "stack") stack = f[i - 2]; if (f[i] == "stores") st = f[i - 3]; if (f[i] == "loads") ld = f[i - 3] } }
    /Used [0-9]+ registers/ { match($0, /Used [0-9]+ registers/); regs = substr($0, RSTART + 5, RLENGTH - 15);
        smem = 0; if (match($0, /[0-9]+ bytes smem/)) smem = substr($0, RSTART, RLENGTH - 11);
        print name "\t" regs "\t" stack "\t" st "\t" ld "\t" smem }' "$work/log")
  while IFS=$'\t' read -r name regs stack st ld smem; do
    [[ -z "$name" ]] && continue
    # The parameter list goes (the last parenthesised group); enum template arguments read as names.
    pretty=$(echo "$name" | c++filt | sed -E 's/rnnad::cuda:://g; s/\([^()]*\)$//;
      s/\(PersistentWeights\)0/F32/; s/\(PersistentWeights\)1/F16/; s/\(PersistentWeights\)2/BF16/')
    echo "| \`$pretty\` | $regs | $stack | $st / $ld | $smem |"
    if [[ "$stack" != 0 || "$st" != 0 || "$ld" != 0 ]]; then bad=1; fi
  done <<<"$out"
done
if [[ $bad != 0 ]]; then
  echo "ptxas_report: a kernel spills or uses a stack frame (target: zero; docs/kernels.md §10)" >&2
  exit 1
fi
