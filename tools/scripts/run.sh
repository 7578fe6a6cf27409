#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build release into build/, then
# train a supernet with the `demo` recipe (a short progressive shrinking) on Fashion-MNIST into
# runs/demo and print the test accuracy of its largest and smallest subnets. Running it again
# resumes (or, when finished, re-evaluates) the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/scripts/install-deps.sh
bash tools/scripts/build.sh build
resume=()
if [ -e runs/demo/run.json ]; then resume=(--resume); fi
build/ofa train --space mbv3-small --data fashion-mnist --recipe demo --out runs/demo \
  --threads "$(nproc)" "${resume[@]}"
