#!/usr/bin/env bash
# --sync-bn: two ranks, each with half of every batch, train what one process trains on whole
# batches: batch statistics of the global batch in the forward and the matching sums in the
# backward, so weights AND running statistics agree. The space has no dropout, whose masks are
# drawn per shard. Without --sync-bn the two ranks normalise by half-batch statistics and end
# measurably elsewhere, which the last comparison checks (so this test can fail).
# Tolerance (common.sh): 1e-5 + 1e-4 |w| per entry, running statistics included.
# Usage: sync_batch_norm.sh OFA COMPARE_WEIGHTS WORK_DIR
set -euo pipefail
ofa=$1
compare=$2
work=$3
source "$(dirname "$0")/common.sh"
sed 's/"dropout": 0.1/"dropout": 0.0/' "$tiny/tiny_space.json" > "$work/space.json"
grep -q '"dropout": 0.0' "$work/space.json" || fail "could not make the dropout-free space"
args=("${train_args[@]}" --space "$work/space.json" --seed 3)

mpirun -np 2 "$ofa" "${args[@]}" --sync-bn --out "$work/synced" > "$work/synced.log" 2>&1 ||
  { cat "$work/synced.log"; fail "the two-rank --sync-bn run failed"; }
"$ofa" "${args[@]}" --out "$work/single" > "$work/single.log" 2>&1 ||
  { cat "$work/single.log"; fail "the single-process run failed"; }
"$compare" "$work/synced/supernet.safetensors" "$work/single/supernet.safetensors" "${tolerance[@]}" ||
  fail "two ranks with --sync-bn trained other weights or statistics than one process on whole batches"

mpirun -np 2 "$ofa" "${args[@]}" --out "$work/per_rank" > "$work/per_rank.log" 2>&1 ||
  { cat "$work/per_rank.log"; fail "the two-rank run without --sync-bn failed"; }
if "$compare" "$work/per_rank/supernet.safetensors" "$work/single/supernet.safetensors" "${tolerance[@]}" running_; then
  fail "per-rank batch norm matched whole-batch batch norm: the comparison cannot tell them apart"
fi
echo "data parallel: two ranks with --sync-bn = one process on whole batches"
