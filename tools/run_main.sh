#!/usr/bin/env bash
# The main job: installs packages, builds the `rnnad` CLI (release preset) and validates the
# bundled model (an LSTM trained on the bundled NAB machine-temperature series) against the
# outputs PyTorch computed for 2,500 steps of that real series.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake --preset release > /dev/null
cmake --build --preset release --target rnnad_cli
./build/release/tools/rnnad inspect --model models/nab_machine_temp_lstm.safetensors
./build/release/tools/rnnad validate --model models/nab_machine_temp_lstm.safetensors
