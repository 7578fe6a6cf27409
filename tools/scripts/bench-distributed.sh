#!/usr/bin/env bash
# Data-parallel throughput on this machine and the all-reduce volume of OFA-MobileNetV3:
#   1 rank x 2 threads (`ofa train --threads 2`) against 2 ranks x 1 thread (`mpirun -np 2 ofa train
#   --threads 1`), the same global batch of 64 (mbv3-small, Fashion-MNIST, progressive shrinking's
#   expand phase: 2 random subnets per step), rounds alternating so that load from other work on
#   the machine hits both alike; then `ofa bench distributed` under mpirun -np 2: the bytes per step
#   of mbv3-small and mbv3-imagenet, the MPI all-reduce time of those bytes between two ranks here
#   (no training around it), and the ring estimate for 8 and 64 GPUs.
# Usage: tools/scripts/bench-distributed.sh [ROUNDS] [STEPS]   (defaults 3 and 60; needs build/)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
steps=${2:-60}
ofa=build/ofa
[ -x "$ofa" ] || { echo "bench-distributed: build/ofa is missing; run tools/scripts/build.sh build first"; exit 1; }
command -v mpirun > /dev/null || { echo "bench-distributed: mpirun is missing (tools/scripts/install-deps.sh)"; exit 1; }
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/recipe.json" << JSON
{"name": "bench-distributed", "batch_size": 64, "train_images_per_epoch": $((64 * steps)),
 "validation_images": 64, "bn_calibration_images": 64, "checkpoint_every_steps": 100000, "log_every_steps": 10,
 "phases": [{"name": "expand", "epochs": 1, "lr": 0.01, "subnets_per_step": 2, "kd_ratio": 0.0,
             "kernel_sizes": [3, 5, 7], "expand_ratios": [3, 4, 6], "depths": [2, 3, 4], "resolutions": []}]}
JSON
args=(train --space mbv3-small --data fashion-mnist --recipe "$work/recipe.json" --seed 1)

# Medians over every round's log lines after the first (warm-up) of images/s and all-reduce ms.
summarise() {
  /usr/bin/python3 - "$@" << 'PY'
import json, statistics, sys
rates, reduce_ms, reduce_bytes = [], [], 0
for path in sys.argv[1:]:
    steps = [json.loads(l) for l in open(path) if '"type":"step"' in l][1:]
    rates += [s["images_per_second"] for s in steps]
    reduce_ms += [s["allreduce_ms"] for s in steps if "allreduce_ms" in s]
    reduce_bytes = max([reduce_bytes] + [s["allreduce_bytes"] for s in steps if "allreduce_bytes" in s])
line = f"{statistics.median(rates):8.1f} img/s"
if reduce_ms:
    line += f", all-reduce {statistics.median(reduce_ms):.2f} ms/step (median), {reduce_bytes / 1e6:.2f} MB in the last step"
print(line)
PY
}

load_before=$(cut -d' ' -f1 /proc/loadavg)
for round in $(seq 1 "$rounds"); do
  "$ofa" "${args[@]}" --threads 2 --loader-threads 2 --out "$work/one_$round" > "$work/one_$round.log" 2>&1
  mpirun -np 2 --bind-to core "$ofa" "${args[@]}" --threads 1 --loader-threads 1 --out "$work/two_$round" \
    > "$work/two_$round.log" 2>&1
  echo "round $round/$rounds done"
done
echo "mbv3-small, global batch 64, 2 subnets per step, $steps steps x $rounds rounds on $(nproc) cores" \
  "(load average before: $load_before, after: $(cut -d' ' -f1 /proc/loadavg)):"
echo "  1 rank  x 2 threads: $(summarise "$work"/one_*/metrics.jsonl)"
echo "  2 ranks x 1 thread:  $(summarise "$work"/two_*/metrics.jsonl)"
mpirun -np 2 "$ofa" bench distributed --space mbv3-small --samples 50
mpirun -np 2 "$ofa" bench distributed --space mbv3-imagenet
