#!/usr/bin/env python3
"""Reads the file the C++ test SafetensorsTest.WritesThePythonSample wrote, twice: with numpy
alone (parsing the format by hand, so our reading of the specification is checked too) and with
the `safetensors` package (what users will call). Checks every value and the metadata; exits
non-zero, with the reasons, on any difference.

    read_safetensors.py FILE
"""
import json
import struct
import sys

import numpy as np
import safetensors
from safetensors import safe_open
from safetensors.numpy import load_file

EXPECTED_METADATA = {"format": "ofa-sample", "space": '{"name": "tiny", "depths": [2, 3]}'}


def expected_tensors():
    rows, cols = np.meshgrid(np.arange(4), np.arange(7), indexing="ij")
    return {
        "ramp": np.arange(24, dtype=np.float32) * np.float32(0.5),
        "prefix": (rows * 100 + cols)[:3, :5].astype(np.float32),
        "kernel": (np.arange(72, dtype=np.float32) * np.float32(0.25) - np.float32(10)).reshape(2, 3, 3, 4),
        "scalar": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


def read_with_numpy(path):
    with open(path, "rb") as f:
        content = f.read()
    (header_length,) = struct.unpack("<Q", content[:8])
    if (8 + header_length) % 8 != 0:
        raise ValueError(f"data section starts at byte {8 + header_length}, not 8-byte aligned")
    header = json.loads(content[8 : 8 + header_length].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = content[8 + header_length :]
    tensors, covered = {}, 0
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"]):
        begin, end = info["data_offsets"]
        if info["dtype"] != "F32":
            raise ValueError(f"tensor {name!r}: dtype {info['dtype']}")
        if begin != covered:
            raise ValueError(f"tensor {name!r}: begins at {begin}, previous tensor ended at {covered}")
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(info["shape"])
        covered = end
    if covered != len(data):
        raise ValueError(f"{len(data) - covered} bytes after the last tensor")
    return metadata, tensors


def read_with_safetensors(path):
    with safe_open(path, framework="np") as f:
        metadata = f.metadata() or {}
    return metadata, load_file(path)


def differences(metadata, tensors):
    found = []
    if metadata != EXPECTED_METADATA:
        found.append(f"metadata {metadata!r}, expected {EXPECTED_METADATA!r}")
    expected = expected_tensors()
    if sorted(tensors) != sorted(expected):
        found.append(f"tensors {sorted(tensors)}, expected {sorted(expected)}")
    for name, want in expected.items():
        got = tensors.get(name)
        if got is None:
            continue
        if got.dtype != np.float32 or got.shape != want.shape:
            found.append(f"{name}: {got.dtype} {got.shape}, expected float32 {want.shape}")
        elif not np.array_equal(got, want):
            first = tuple(int(i) for i in np.argwhere(got != want)[0])
            found.append(f"{name}{list(first)} = {got[first]}, expected {want[first]}")
    return found


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    failed = False
    for reader, read in (("numpy", read_with_numpy), (f"safetensors {safetensors.__version__}", read_with_safetensors)):
        try:
            found = differences(*read(path))
        except Exception as error:  # any failure to read is the finding
            found = [f"cannot read: {type(error).__name__}: {error}"]
        for difference in found:
            print(f"read_safetensors: {path} via {reader}: {difference}", file=sys.stderr)
        failed = failed or bool(found)
        if not found:
            print(f"read_safetensors: {path} via {reader}: all tensors and metadata as written")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
