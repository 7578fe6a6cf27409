# Shared by the data-parallel test scripts: sourced after `set -euo pipefail` with $ofa set.
# ctest sets the Open MPI variables these runs need (tests/distill/CMakeLists.txt).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tiny=$(cd "$here/../resume" && pwd)

if ! command -v mpirun > /dev/null; then
  echo "SKIP: mpirun not found; install Open MPI (openmpi-bin, tools/scripts/install-deps.sh) to run this test"
  exit 77
fi
if [ ! -e "$(dirname "$ofa")/libofa_mpi.so" ]; then
  echo "SKIP: $(dirname "$ofa")/libofa_mpi.so was not built (CMake found no MPI: install libopenmpi-dev)"
  exit 77
fi

# A fresh $work holding the tiny recipe of the resume test cut to 64 images per epoch: 8 steps over
# its three phases (teacher; kernel and depth with two subnets per step and distillation; expand
# after channel reorganisation), checkpoints every 3 steps and at each epoch end (every 2).
# Over 8 steps two runs that add the same gradients in different orders stay within ~1e-8; the
# full 32 steps let such last-bit differences grow chaotically to ~1e-3, which would leave the
# comparisons room to miss a real error. One compute and one loader thread per rank; the scripts
# add --space and --seed.
rm -rf "$work" && mkdir -p "$work"
sed 's/"train_images_per_epoch": 256/"train_images_per_epoch": 64/' "$tiny/tiny_recipe.json" > "$work/recipe.json"
grep -q '"train_images_per_epoch": 64' "$work/recipe.json" || { echo "FAIL: could not shorten the recipe"; exit 1; }
train_args=(train --recipe "$work/recipe.json" --data fashion-mnist --threads 1 --loader-threads 1)
space=(--space "$tiny/tiny_space.json")
# |w_a - w_b| <= 1e-5 + 1e-4 |w_b| per entry: ~1000 times the rounding differences of 8 steps; a
# shard lost, counted twice or normalised by the wrong statistics moves weights by 1e-2 or more.
tolerance=(1e-5 1e-4)

fail() {
  echo "FAIL: $*"
  exit 1
}

# Waits (up to 5 minutes) until the run in directory $1 has logged global step $2.
wait_for_step() {
  for _ in $(seq 1 15000); do
    if grep -q "\"global_step\":$2[,}]" "$1/metrics.jsonl" 2>/dev/null; then return 0; fi
    sleep 0.02
  done
  fail "the run in $1 never logged step $2"
}

# The pid of the ofa process of rank $2 among the children and grandchildren of mpirun $1.
ofa_pid_of_rank() {
  for pid in $(pgrep -P "$1") $(for child in $(pgrep -P "$1"); do pgrep -P "$child"; done); do
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = ofa ] &&
       tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
      echo "$pid"
      return 0
    fi
  done
  fail "no ofa process of rank $2 under mpirun $1"
}
