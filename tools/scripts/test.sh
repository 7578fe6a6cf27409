#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what is missing, build release into
# build/ and run ctest, then build the tests again under AddressSanitizer and
# UndefinedBehaviorSanitizer into build-sanitize/ and run them there too.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
bash tools/scripts/install-deps.sh
# Without it the python-labelled tests fail (not skip); the rest of the suite still runs.
bash tools/scripts/python-env.sh || echo "test.sh: python-env.sh failed, the python tests will fail" >&2

bash tools/scripts/build.sh build
(cd build && ctest --output-on-failure -j "$(nproc)")

bash tools/scripts/build.sh build-sanitize -DOFA_SANITIZE=ON -DOFA_CUDA=OFF -DOFA_BUILD_BENCH=OFF \
  -DOFA_NATIVE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd build-sanitize && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j "$(nproc)")

echo "test.sh: all suites passed in $(( $(date +%s) - start )) s"
