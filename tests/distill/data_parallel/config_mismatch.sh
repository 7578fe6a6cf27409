#!/usr/bin/env bash
# Ranks started with different configurations (seed, search space) stop at start-up, every rank
# with the same clear error, before anything is written.
# Usage: config_mismatch.sh OFA COMPARE_WEIGHTS WORK_DIR
set -euo pipefail
ofa=$1
work=$3
source "$(dirname "$0")/common.sh"
sed 's/"width": 40/"width": 48/' "$tiny/tiny_space.json" > "$work/wider_space.json"

expect_disagreement() {  # name, then the mpirun arguments
  local name=$1
  shift
  if mpirun --tag-output "$@" > "$work/$name.log" 2>&1; then
    cat "$work/$name.log"
    fail "$name: the job ran although its ranks were configured differently"
  fi
  for rank in 0 1; do
    grep -q "rank $rank of 2): the ranks disagree on the training configuration" "$work/$name.log" ||
      { cat "$work/$name.log"; fail "$name: rank $rank did not report the disagreement"; }
  done
  grep -q "rank(s) 1 differ from rank 0" "$work/$name.log" || fail "$name: the message does not name rank 1"
  [ ! -e "$work/$name/run.json" ] || fail "$name: the run directory was written"
}

expect_disagreement seed -np 1 "$ofa" "${train_args[@]}" "${space[@]}" --seed 1 --out "$work/seed" \
  : -np 1 "$ofa" "${train_args[@]}" "${space[@]}" --seed 2 --out "$work/seed"
expect_disagreement space -np 1 "$ofa" "${train_args[@]}" "${space[@]}" --seed 1 --out "$work/space" \
  : -np 1 "$ofa" "${train_args[@]}" --space "$work/wider_space.json" --seed 1 --out "$work/space"
echo "data parallel: mismatched configurations are reported by every rank"
