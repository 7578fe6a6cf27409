#!/usr/bin/env bash
# Creates the Python environment the interoperability tests run in: build/python-venv with
# numpy, safetensors, onnx and onnxruntime from PyPI. Idempotent, and quick when the environment
# is already complete. Debian's /usr/bin/python3 is used on purpose: a pyenv `python3` earlier on
# PATH may lack the venv module or differ between machines.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=${OFA_PYTHON_VENV:-build/python-venv}
# Pinned so a test failure means our files changed, not the readers.
packages=(numpy==2.2.6 safetensors==0.7.0 onnx==1.18.0 onnxruntime==1.22.1)
probe='import numpy, safetensors, safetensors.numpy, onnx, onnxruntime, sys; sys.exit(0 if (numpy.__version__, safetensors.__version__, onnx.__version__, onnxruntime.__version__) == tuple(sys.argv[1:]) else 1)'
want=("${packages[@]#*==}")

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$probe" "${want[@]}" 2>/dev/null; then
  echo "python-env: $venv ready"
  exit 0
fi

echo "python-env: creating $venv with ${packages[*]}"
/usr/bin/python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${packages[@]}"
"$venv/bin/python" -c "$probe" "${want[@]}"
echo "python-env: $venv ready"
