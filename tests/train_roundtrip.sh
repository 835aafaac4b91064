#!/usr/bin/env bash
# Trains a small model of one kind with tools/python/train.py on a bundled real series, then
# checks with `rnnad validate` that the engine reproduces PyTorch's scores on 2,000 rows.
# Usage: train_roundtrip.sh PYTHON RNNAD_CLI SOURCE_DIR OUT_DIR NAME [train.py options...]
set -euo pipefail
python=$1 cli=$2 src=$3 out=$4 name=$5
shift 5
mkdir -p "$out"
"$python" "$src/tools/python/train.py" --out "$out/$name.safetensors" --train-rows 1500 --epochs 2 \
  --max-train-windows 200 --max-val-windows 100 --reference-rows 2000 --threads 1 "$@" > "$out/$name.log"
"$cli" validate --model "$out/$name.safetensors"
