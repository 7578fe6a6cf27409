#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build release into build/, then
# train a supernet with the `demo` recipe (a short progressive shrinking) on Fashion-MNIST into
# runs/demo, measure a latency table of this CPU, and extract subnets for three targets (two
# latency budgets on this CPU, one MACs budget) into runs/demo/search, printing a table of them.
# Running it again resumes (or, when finished, re-evaluates) the same run and reuses the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/scripts/install-deps.sh
bash tools/scripts/build.sh build
resume=()
if [ -e runs/demo/run.json ]; then resume=(--resume); fi
build/ofa train --space mbv3-small --data fashion-mnist --recipe demo --out runs/demo \
  --threads "$(nproc)" "${resume[@]}"

# Budgets a third and two thirds of the way from the smallest to the largest subnet's predicted
# latency, so that both are feasible and distinct on whatever CPU this runs on.
table=runs/demo/latency-cpu.json
summary=runs/demo/latency-summary.json
if [ ! -s "$summary" ]; then
  build/ofa latency --space mbv3-small --device cpu --threads "$(nproc)" --out "$table" > "$summary.tmp"
  mv "$summary.tmp" "$summary"
fi
read -r fast balanced < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["predicted_ms"]
lo, hi = r["smallest_subnet"], r["largest_subnet"]
print(f"{lo + (hi - lo) / 3:.3f} {lo + 2 * (hi - lo) / 3:.3f}")' "$summary")
build/ofa search --run runs/demo --out runs/demo/search --predictor-samples 150 --threads "$(nproc)" \
  --target "cpu-fast:latency@$table<=$fast" --target "cpu-balanced:latency@$table<=$balanced" \
  --target "small:macs<=6"
