#!/usr/bin/env bash
# Kernel sources are compiled by nvcc and by the host compiler (the CPU emulation), which
# cannot parse a triple-chevron launch or express `extern __shared__`. So: `<<<` only in the
# nvcc launcher, `extern __shared__` only in the OFA_DYNAMIC_SHARED macro. Looks at every .cu
# and .cuh file and at the C++ sources under kernels/cuda and tests/cuda; lists offending
# lines and exits non-zero if there are any.
set -euo pipefail
cd "$(dirname "$0")/../.."

sources() {
  {
    find . \( -path ./.git -o -name 'build*' \) -prune -o -type f \( -name '*.cu' -o -name '*.cuh' \) -print
    find kernels/cuda tests/cuda -type f \( -name '*.h' -o -name '*.hpp' -o -name '*.cpp' \)
  } | sed 's|^\./||' | sort -u
}

status=0
check() {
  local pattern=$1 allowed=$2 rule=$3 hits
  hits=$(sources | grep -vxF "$allowed" | xargs grep -nF -e "$pattern" /dev/null || true)
  if [[ -n $hits ]]; then
    echo "check-cuda-source: $rule" >&2
    echo "$hits" >&2
    status=1
  fi
}
check '<<<' kernels/cuda/nvcc_launcher.cuh 'launch kernels through a launcher (kernels/cuda/launch.h)'
check 'extern __shared__' kernels/cuda/device.h 'take dynamic shared memory through OFA_DYNAMIC_SHARED (kernels/cuda/device.h)'
exit $status
