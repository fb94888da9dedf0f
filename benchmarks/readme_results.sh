#!/usr/bin/env bash
# Reproduces the README's results table: OGLE-III, 1000 stars per class, 5 stratified folds (seed 42),
# the `quick` training preset. One line per row, required rows first; then
# `python -m benchmarks.results_table runs/readme` prints the table from the saved runs.
# About 7 to 13 minutes per network run on 2 CPU cores (see the README table's minutes column).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/readme}
train() { $PY -m pipeline train --catalog ogle3 --per-class 1000 --folds 5 --runs-dir "$RUNS" "$@"; }
rows=(
  "--classes ogle-5 --model tree_baseline"
  "--classes ogle-10 --model tree_baseline"
  "--classes ogle-5 --model cnn_lstm --preset quick"
  "--classes ogle-5 --model cnn_lstm_features --preset quick"
  "--classes ogle-5 --model cnn2d_features --preset quick"
  "--classes ogle-10 --model cnn_lstm --preset quick"
  "--classes ogle-10 --model cnn_lstm_features --preset quick"
  "--classes ogle-10 --model cnn2d_features --preset quick"
  "--classes ogle-5 --model cnn2d --preset quick"
  "--classes ogle-5 --model cnn2d --dmdt-mode thesis --preset quick"
  "--classes ogle-10 --model cnn2d --preset quick"
  "--classes ogle-10 --model cnn2d --dmdt-mode thesis --preset quick"
  "--classes ogle-10 --model se_resnet --preset quick"
)
skip=${SKIP:-0}  # rows already done (to resume)
for row in "${rows[@]:$skip}"; do
  # shellcheck disable=SC2086
  train $row
done
