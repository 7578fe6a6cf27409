#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the default data need.
# Idempotent: packages already present are skipped, and apt is not touched when
# nothing is missing. Extra package names may be passed as arguments.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libopenblas-openmp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
  libturbojpeg0-dev libpng-dev zlib1g-dev
  libonnx-dev libprotobuf-dev  # supernet/onnx_export.cpp: ONNX's protobuf classes
  openmpi-bin libopenmpi-dev  # data parallelism: mpirun and the MPI plugin (kernels/collectives/)
  dataset-fashion-mnist
  python3-venv  # tools/scripts/python-env.sh: the Python interoperability tests
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
echo "install-deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
