#!/usr/bin/env bash
# Packs rnnad's header-only dependencies from this machine's Debian install into deps/ at the repo
# root, for a build on a machine without those packages (benchmarks/gpu_check.sh on a bare GPU host):
#
#   bash benchmarks/pack_deps.sh            # then: cmake -DRNNAD_DEPS_DIR=deps ...
#
# deps/<dir>/ holds one include root per package and deps/MANIFEST one line per package:
#   <cmake package> <imported target> <version> <include dir under deps/> <source> <Debian package>
# CMake reads MANIFEST (cmake/PackedDeps.cmake) and defines the imported targets from deps/ only.
# The packages' copyright files go to deps/licenses/. Re-running replaces deps/ (about 9 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=deps

die() { echo "pack_deps: $*" >&2; exit 1; }

# header_version FILE MACRO...: the values of the #define MACROs in FILE joined with dots.
header_version() {
  local file=$1; shift
  local parts=() m v
  for m in "$@"; do
    v=$(sed -n "s/^[[:space:]]*#[[:space:]]*define[[:space:]]\+$m[[:space:]]\+\([0-9]\+\).*/\1/p" "$file" | head -n1)
    [ -n "$v" ] || die "no '#define $m' in $file"
    parts+=("$v")
  done
  (IFS=.; echo "${parts[*]}")
}

deb_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }

eigen_v=$(header_version /usr/include/eigen3/Eigen/src/Core/util/Macros.h \
          EIGEN_WORLD_VERSION EIGEN_MAJOR_VERSION EIGEN_MINOR_VERSION)
json_h=/usr/include/nlohmann/detail/abi_macros.hpp  # 3.11+; older releases define it in json.hpp
[ -f "$json_h" ] || json_h=/usr/include/nlohmann/json.hpp
json_v=$(header_version "$json_h" \
         NLOHMANN_JSON_VERSION_MAJOR NLOHMANN_JSON_VERSION_MINOR NLOHMANN_JSON_VERSION_PATCH)
cli11_v=$(header_version /usr/include/CLI/Version.hpp CLI11_VERSION_MAJOR CLI11_VERSION_MINOR CLI11_VERSION_PATCH)
catch2_v=$(header_version /usr/include/catch2/catch.hpp CATCH_VERSION_MAJOR CATCH_VERSION_MINOR CATCH_VERSION_PATCH)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/licenses"
{
  echo "# rnnad packed header-only dependencies, written by benchmarks/pack_deps.sh on $(date -u +%Y-%m-%d)"
  echo "# package target version include-dir source debian-package"
} > "$tmp/MANIFEST"

# pack PACKAGE TARGET VERSION DIR SOURCE-ROOT DEBIAN-PACKAGE SUBDIR...: copies SOURCE-ROOT/SUBDIR
# into deps/DIR/SUBDIR and records the package.
pack() {
  local pkg=$1 target=$2 version=$3 dir=$4 root=$5 deb=$6; shift 6
  mkdir -p "$tmp/$dir"
  local sub
  for sub in "$@"; do
    [ -e "$root/$sub" ] || die "$root/$sub not found (is the Debian package $deb installed? run tools/setup.sh)"
    cp -a "$root/$sub" "$tmp/$dir/"
  done
  [ -f "/usr/share/doc/$deb/copyright" ] && cp "/usr/share/doc/$deb/copyright" "$tmp/licenses/$deb.copyright"
  echo "$pkg $target $version $dir $root $deb=$(deb_version "$deb")" >> "$tmp/MANIFEST"
}

pack Eigen3 Eigen3::Eigen "$eigen_v" eigen3 /usr/include/eigen3 libeigen3-dev Eigen
pack nlohmann_json nlohmann_json::nlohmann_json "$json_v" nlohmann_json /usr/include nlohmann-json3-dev nlohmann
pack CLI11 CLI11::CLI11 "$cli11_v" cli11 /usr/include libcli11-dev CLI
pack Catch2 Catch2::Catch2 "$catch2_v" catch2 /usr/include catch2 catch2

rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "pack_deps: $(grep -vc '^#' "$dest/MANIFEST") packages in $dest/ ($(du -sh "$dest" | cut -f1)):"
grep -v '^#' "$dest/MANIFEST" | awk '{printf "  %-14s %-8s from %s (%s)\n", $1, $3, $5, $6}'
