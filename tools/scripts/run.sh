#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build release into build/,
# run the op benchmarks at OFA MobileNetV3 block shapes.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/scripts/install-deps.sh
bash tools/scripts/build.sh build
build/ofa bench ops --threads "$(nproc)"
