#!/usr/bin/env bash
# Two ranks training on the cuda device (the emulated one without a GPU: the gradients go through
# MPI staged in host memory, the path a GPU takes when NCCL is missing) end where one CPU process
# with the same two shards ends (--micro-batches 2), within the tolerance of common.sh; the
# device kernels and the CPU ops round differently, which 8 steps keep far below it.
# Usage: cuda_device.sh OFA COMPARE_WEIGHTS WORK_DIR
set -euo pipefail
ofa=$1
compare=$2
work=$3
source "$(dirname "$0")/common.sh"

mpirun -np 2 "$ofa" "${train_args[@]}" "${space[@]}" --seed 7 --device cuda --out "$work/two_ranks_cuda" \
  > "$work/two_ranks_cuda.log" 2>&1 || { cat "$work/two_ranks_cuda.log"; fail "the two-rank cuda run failed"; }
grep -q '"ranks":2' "$work/two_ranks_cuda/metrics.jsonl" || fail "the two-rank cuda run's metrics do not say ranks 2"
grep -q '"allreduce_bytes":[1-9]' "$work/two_ranks_cuda/metrics.jsonl" || fail "the two-rank cuda run all-reduced nothing"

"$ofa" "${train_args[@]}" "${space[@]}" --seed 7 --micro-batches 2 --out "$work/two_shards_cpu" \
  > "$work/two_shards_cpu.log" 2>&1 || { cat "$work/two_shards_cpu.log"; fail "the one-rank cpu run failed"; }
"$compare" "$work/two_ranks_cuda/supernet.safetensors" "$work/two_shards_cpu/supernet.safetensors" "${tolerance[@]}" running_ ||
  fail "two ranks on cuda and one cpu process with the same two shards trained different weights"
echo "data parallel on cuda: two ranks = one cpu process with two shards"
