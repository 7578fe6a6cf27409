#!/usr/bin/env bash
# A rank that dies or hangs stops the others with a clear error within --collective-timeout (5 s
# here), never a silent hang, and the last checkpoint stays usable.
#  1. SIGKILL rank 1 under `mpirun --enable-recovery`, which, like srun without --kill-on-bad-exit,
#     leaves the other ranks running: rank 0 must report the timeout and exit non-zero. (A plain
#     mpirun would itself kill rank 0 at once.) Each rank runs in a shell that records its exit code.
#  2. SIGSTOP rank 1 (a hang the launcher cannot see) under a plain mpirun: rank 0 must report the
#     timeout and the job must end non-zero.
#  3. The run of 2 resumes from its checkpoint (on one rank) and completes.
# Usage: rank_failure.sh OFA COMPARE_WEIGHTS WORK_DIR
set -euo pipefail
ofa=$1
work=$3
source "$(dirname "$0")/common.sh"
args=("${train_args[@]}" "${space[@]}" --seed 5 --collective-timeout 5)
message="did not complete within 5 s (--collective-timeout): another rank died, hangs or fell behind"
margin=60  # seconds beyond the timeout for the launcher to notice and tear down, on a loaded CI machine

# 1. A rank dies.
mpirun --enable-recovery -np 2 bash -c '"$0" "$@"; echo $? > "'"$work"'/exit.$OMPI_COMM_WORLD_RANK"' "$ofa" "${args[@]}" \
  --out "$work/killed" > "$work/killed.log" 2>&1 &
launcher=$!
wait_for_step "$work/killed" 3
kill -KILL "$(ofa_pid_of_rank "$launcher" 1)"
start=$(date +%s)
wait "$launcher" || true
elapsed=$(( $(date +%s) - start ))
grep -q "rank 0 of 2): .* $message" "$work/killed.log" ||
  { cat "$work/killed.log"; fail "after rank 1 died, rank 0 did not report the timeout"; }
[ -s "$work/exit.0" ] && [ "$(cat "$work/exit.0")" != 0 ] || fail "rank 0 did not exit non-zero after rank 1 died"
[ "$elapsed" -le $((5 + margin)) ] || fail "the job took $elapsed s to stop after rank 1 died"
echo "rank 1 killed: rank 0 stopped after $elapsed s with exit code $(cat "$work/exit.0")"

# 2. A rank hangs.
mpirun -np 2 "$ofa" "${args[@]}" --out "$work/hung" > "$work/hung.log" 2>&1 &
launcher=$!
wait_for_step "$work/hung" 3
hung=$(ofa_pid_of_rank "$launcher" 1)
kill -STOP "$hung"
start=$(date +%s)
status=0
wait "$launcher" || status=$?
elapsed=$(( $(date +%s) - start ))
kill -KILL "$hung" 2>/dev/null || true
[ "$status" -ne 0 ] || fail "the job whose rank 1 hung ended with status 0"
grep -q "rank 0 of 2): .* $message" "$work/hung.log" ||
  { cat "$work/hung.log"; fail "with rank 1 hung, rank 0 did not report the timeout"; }
[ "$elapsed" -le $((5 + margin)) ] || fail "the job took $elapsed s to stop after rank 1 hung"
echo "rank 1 hung: the job stopped after $elapsed s with status $status"

# 3. The checkpoint the failed job left is intact.
"$ofa" "${args[@]}" --micro-batches 2 --out "$work/hung" --resume > "$work/resumed.log" 2>&1 ||
  { cat "$work/resumed.log"; fail "the run whose rank hung does not resume from its checkpoint"; }
[ -s "$work/hung/supernet.safetensors" ] || fail "the resumed run wrote no final weights"
echo "data parallel: dead and hung ranks stop the job with a clear error; its checkpoint resumes"
