#!/usr/bin/env bash
# Two ranks compute what one process computes when it splits every batch into the same two shards
# (--micro-batches 2: both shards' gradients, weighted by their share of the batch, summed before
# the step), and a two-rank run stopped mid-phase resumes on one rank to the same end.
#
# Tolerance (common.sh): 1e-5 + 1e-4 |w| on every parameter; BN running statistics are left out,
# as with micro-batches they are updated once per shard and on each rank once per step. The runs
# add the same float gradients in different orders (MPI sums the two shards' gradients; the
# micro-batch run accumulates the second shard into the first inside the kernels).
# Usage: equivalence_and_resume.sh OFA COMPARE_WEIGHTS WORK_DIR
set -euo pipefail
ofa=$1
compare=$2
work=$3
source "$(dirname "$0")/common.sh"

mpirun -np 2 "$ofa" "${train_args[@]}" "${space[@]}" --seed 7 --out "$work/two_ranks" > "$work/two_ranks.log" 2>&1 ||
  { cat "$work/two_ranks.log"; fail "the two-rank run failed"; }
grep -q '"ranks":2' "$work/two_ranks/metrics.jsonl" || fail "the two-rank run's metrics do not say ranks 2"
grep -q '"allreduce_bytes":[1-9]' "$work/two_ranks/metrics.jsonl" || fail "the two-rank run all-reduced nothing"

"$ofa" "${train_args[@]}" "${space[@]}" --seed 7 --micro-batches 2 --out "$work/two_shards" > "$work/two_shards.log" 2>&1 ||
  { cat "$work/two_shards.log"; fail "the one-rank run with two micro-batches failed"; }
"$compare" "$work/two_ranks/supernet.safetensors" "$work/two_shards/supernet.safetensors" "${tolerance[@]}" running_ ||
  fail "two ranks and one process with the same two shards trained different weights"

# Kill a two-rank run once it has logged step 4 and resume it on one rank. The second phase runs
# steps 3..6 with checkpoints after 3 and 4. Rank 0 logs a step before it writes that step's
# checkpoint, so only from the line of step 4 on is the checkpoint of step 3 surely on disk; a
# kill right after the line of step 3 could leave the phase-boundary checkpoint of step 2.
mpirun -np 2 "$ofa" "${train_args[@]}" "${space[@]}" --seed 7 --out "$work/resumed" > "$work/stopped.log" 2>&1 &
launcher=$!
wait_for_step "$work/resumed" 4
kill -KILL "$(ofa_pid_of_rank "$launcher" 0)" "$(ofa_pid_of_rank "$launcher" 1)"
wait "$launcher" 2>/dev/null || true
[ ! -e "$work/resumed/supernet.safetensors" ] || fail "the run finished before it was stopped"
"$ofa" "${train_args[@]}" "${space[@]}" --seed 7 --micro-batches 2 --out "$work/resumed" --resume > "$work/resumed.log" 2>&1 ||
  { cat "$work/resumed.log"; fail "resuming the two-rank run on one rank failed"; }
grep -q "resuming at step" "$work/resumed.log" || { cat "$work/resumed.log"; fail "the resumed run did not start mid-phase"; }
"$compare" "$work/two_ranks/supernet.safetensors" "$work/resumed/supernet.safetensors" "${tolerance[@]}" running_ ||
  fail "the two-rank run resumed on one rank ended with other weights than the uninterrupted one"
echo "data parallel: two ranks = one process with two shards; a two-rank run resumes on one rank"
