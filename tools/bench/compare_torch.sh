#!/usr/bin/env bash
# PyTorch comparison of one MBConv block: installs Debian's python3-torch if missing,
# builds build/ if needed, prints the table. Arguments pass to compare_torch.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/scripts/install-deps.sh python3-torch
[ -x build/ofa ] || bash tools/scripts/build.sh build
/usr/bin/python3 tools/bench/compare_torch.py "$@"
