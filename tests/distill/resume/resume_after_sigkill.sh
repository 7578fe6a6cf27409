#!/usr/bin/env bash
# Resume must continue exactly: a run killed with SIGKILL in the middle of a phase and resumed
# must end with the same final weights, byte for byte, as an uninterrupted run with the same seed
# (one compute thread, so every reduction has one order).
# Usage: resume_after_sigkill.sh OFA_BINARY WORK_DIR
set -euo pipefail
ofa=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
args=(train --space "$here/tiny_space.json" --recipe "$here/tiny_recipe.json" --data fashion-mnist
      --threads 1 --seed 7)

"$ofa" "${args[@]}" --out "$work/uninterrupted" > "$work/uninterrupted.log" 2>&1

# Kill the second run once it has logged step 13: the middle of the second phase (steps 9..24),
# past its checkpoint at step 12 and before the one at 15.
"$ofa" "${args[@]}" --out "$work/killed" > "$work/killed.log" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
  if grep -q '"global_step":13[,}]' "$work/killed/metrics.jsonl" 2>/dev/null; then break; fi
  sleep 0.02
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
grep -q '"global_step":13[,}]' "$work/killed/metrics.jsonl" || { echo "the run never reached step 13"; exit 1; }
[ ! -e "$work/killed/supernet.safetensors" ] || { echo "the run finished before it was killed"; exit 1; }

"$ofa" "${args[@]}" --out "$work/killed" --resume > "$work/resumed.log" 2>&1
grep -q "resuming at step" "$work/resumed.log" || { echo "the resumed run did not start mid-phase"; cat "$work/resumed.log"; exit 1; }
cmp "$work/uninterrupted/supernet.safetensors" "$work/killed/supernet.safetensors"
echo "resume after SIGKILL: final weights identical"
