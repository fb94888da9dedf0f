#!/usr/bin/env bash
# The README's "Regression (seed 003)" rows: RRab [Fe/H] (Smolec 2005) on at most 5,000 OGLE-III RRab,
# 5 shuffled folds, seed 42; one run per model into runs/readme. Prints the table at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
for model in trees gru_reconstruction gru; do
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} "$PY" -m pipeline regress --catalog ogle3 --target feh_smolec2005 \
    --model "$model" --cap 5000 --folds 5 --seed 42 --runs-dir runs/readme
done
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} "$PY" -m pipeline regress --catalog ogle3 --target feh_smolec2005 \
  --model gru --epochs 30 --cap 5000 --folds 5 --seed 42 --runs-dir runs/readme
"$PY" -m benchmarks.results_table runs/readme
