#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU: gpu-check.sh [OUT_DIR]
#   1. installs what is missing (install-deps.sh) and builds the CUDA configuration into build-gpu/
#      for this GPU's architecture (OFA_CUDA_ARCHITECTURES overrides, e.g. "80;90");
#   2. runs the `gpu` tests (CUDA kernels against the CPU ops and against cuDNN); a skipped test
#      fails the check, since here it means no device, no cuDNN or a broken setup;
#   3. runs `ofa bench kernels` (OFA_BENCH_REPETITIONS, default 3) into OUT_DIR/bench_kernels.json;
#   4. runs the gpu tests under compute-sanitizer memcheck, and the small-shape ones under
#      racecheck (each at most OFA_SANITIZER_TIMEOUT seconds, default 180);
#   5. prints the ratios of our kernels to cuDNN / cuBLAS and what failed.
# OUT_DIR defaults to $OUT, else gpu-check-out/. Exits non-zero if any step failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "${1:-${OUT:-gpu-check-out}}")
mkdir -p "$out"
start=$(date +%s)
failures=()
fail() {
  echo "gpu-check: FAILED: $*" >&2
  failures+=("$*")
}

if command -v nvidia-smi >/dev/null; then
  nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || true
  if ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
    echo "gpu-check: nvidia-smi lists no GPU; this check needs one (see $out/nvidia-smi.txt)" >&2
    exit 1
  fi
fi

bash tools/scripts/install-deps.sh
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DOFA_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="${OFA_CUDA_ARCHITECTURES:-native}" >"$out/configure.log" 2>&1 || {
  cat "$out/configure.log"
  exit 1
}
if ! grep -q "CUDA backend enabled" "$out/configure.log"; then
  echo "gpu-check: CMake found no nvcc, so this would be a CPU-only build (see $out/configure.log)" >&2
  exit 1
fi
if ! cmake --build build-gpu -j "$(nproc)" >"$out/build.log" 2>&1; then
  grep -E 'error|FAILED' "$out/build.log" | head -n 20 >&2
  echo "gpu-check: the build failed (see $out/build.log)" >&2
  exit 1
fi
echo "gpu-check: built in $(($(date +%s) - start)) s"

if (cd build-gpu && ctest -L gpu --no-tests=error --output-on-failure) >"$out/gpu-tests.log" 2>&1; then
  echo "gpu-check: gpu tests passed"
else
  fail "gpu tests (see $out/gpu-tests.log)"
fi
if grep -qE '\*\*\*Skipped|\(Skipped\)' "$out/gpu-tests.log"; then
  grep -E '\*\*\*Skipped|SKIPPED \]' "$out/gpu-tests.log" | head -n 5 >&2 || true
  fail "gpu tests were skipped: no usable CUDA device or no cuDNN"
fi
tail -n 4 "$out/gpu-tests.log"

if build-gpu/ofa bench kernels --benchmark_repetitions="${OFA_BENCH_REPETITIONS:-3}" \
  --benchmark_report_aggregates_only=true --benchmark_min_time=0.02 \
  --benchmark_out="$out/bench_kernels.json" --benchmark_out_format=json >"$out/bench_kernels.txt" 2>&1; then
  echo "gpu-check: kernel benchmarks written to $out/bench_kernels.json"
else
  fail "ofa bench kernels (see $out/bench_kernels.txt)"
fi
# A configuration cuDNN declines (NOT_SUPPORTED) is noted; any other failed case fails the check.
declined=$(grep "ERROR OCCURRED" "$out/bench_kernels.txt" | grep -c "NOT_SUPPORTED" || true)
if ((declined)); then echo "gpu-check: cuDNN declined $declined benchmark configurations (NOT_SUPPORTED)"; fi
if grep "ERROR OCCURRED" "$out/bench_kernels.txt" | grep -qv "NOT_SUPPORTED"; then
  fail "benchmark cases failed (ERROR OCCURRED in $out/bench_kernels.txt)"
fi

sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
gpu_tests=build-gpu/tests/cuda/ofa_cuda_gpu_tests
limit=${OFA_SANITIZER_TIMEOUT:-180}
run_sanitizer() {
  local tool=$1 filter=$2 status=0
  timeout "$limit" "$sanitizer" --tool "$tool" --error-exitcode 1 "$gpu_tests" --gtest_filter="$filter" \
    >"$out/$tool.log" 2>&1 || status=$?
  case $status in
    0) echo "gpu-check: compute-sanitizer $tool clean" ;;
    124) fail "compute-sanitizer $tool timed out after $limit s (OFA_SANITIZER_TIMEOUT; see $out/$tool.log)" ;;
    *) fail "compute-sanitizer $tool (see $out/$tool.log)" ;;
  esac
}
if [[ -x $sanitizer ]]; then
  run_sanitizer memcheck '*'
  # racecheck is slow: the tests with small shapes (every op kernel against cuDNN, the demo kernels).
  run_sanitizer racecheck 'CudnnReference.*:DemoKernelsOnGpu.*'
else
  fail "compute-sanitizer not found (install the CUDA toolkit's cuda-sanitizer package)"
fi

{
  echo "gpu-check on $(nvidia-smi -L 2>/dev/null | head -n 1 || echo 'an unnamed GPU'), $(($(date +%s) - start)) s"
  sed -n '/^Speed of ours against the yardstick/,$p' "$out/bench_kernels.txt" 2>/dev/null || true
  if ((${#failures[@]})); then
    printf 'FAILED: %s\n' "${failures[@]}"
  else
    echo "all steps passed"
  fi
} | tee "$out/summary.txt"
((${#failures[@]} == 0))
