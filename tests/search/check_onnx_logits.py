#!/usr/bin/env python3
"""Runs the ONNX models `ofa extract --onnx` wrote with onnxruntime on the images our network saw,
and compares the logits with ours. Reads, from the sample folder that the C++ test
ExtractOnnxTest.WritesTheOnnxRuntimeSample wrote, for each of max and min: NAME.onnx and
NAME_sample.safetensors (`images` NHWC as our network takes them, `logits` ours in eval mode).
Exits non-zero, with the reasons, when a model fails ONNX's checker, its input or output is not
as documented, or a logit differs from ours by more than 1e-4.

    check_onnx_logits.py DIR
"""
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from safetensors.numpy import load_file

TOLERANCE = 1e-4


def check(model_path, sample_path):
    """Returns (problems, max |difference|, max |logit|)."""
    model = onnx.load(str(model_path))
    onnx.checker.check_model(model, full_check=True)
    sample = load_file(str(sample_path))
    images_nhwc, ours = sample["images"], sample["logits"]
    images = np.ascontiguousarray(images_nhwc.transpose(0, 3, 1, 2))  # the model takes NCHW

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # ctest runs suites side by side
    session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    problems = []
    (model_input,) = session.get_inputs()
    (model_output,) = session.get_outputs()
    if model_input.name != "images" or model_input.shape != ["batch", *images.shape[1:]]:
        problems.append(f"input {model_input.name} {model_input.shape}, expected images ['batch', {list(images.shape[1:])}]")
    if model_output.name != "logits" or model_output.shape != ["batch", ours.shape[1]]:
        problems.append(f"output {model_output.name} {model_output.shape}, expected logits ['batch', {ours.shape[1]}]")
    metadata = {p.key: p.value for p in model.metadata_props}
    if metadata.get("input_layout") != "NCHW":
        problems.append(f"metadata input_layout {metadata.get('input_layout')!r}, expected 'NCHW'")

    (theirs,) = session.run(["logits"], {"images": images})
    difference = float(np.max(np.abs(theirs - ours)))
    if not difference <= TOLERANCE:  # also catches NaN
        worst = np.unravel_index(np.argmax(np.abs(theirs - ours)), ours.shape)
        problems.append(f"max |logit difference| {difference:.3g} > {TOLERANCE} at image {worst[0]}, class {worst[1]}: "
                        f"onnxruntime {theirs[worst]}, ofa {ours[worst]}")
    if not np.array_equal(np.argmax(theirs, axis=1), np.argmax(ours, axis=1)):
        problems.append("the predicted classes differ")
    return problems, difference, float(np.max(np.abs(ours))), json.loads(metadata.get("subnet", "null"))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    folder = Path(sys.argv[1])
    failed = False
    for name in ("max", "min"):
        model_path, sample_path = folder / f"{name}.onnx", folder / f"{name}_sample.safetensors"
        try:
            problems, difference, scale, subnet = check(model_path, sample_path)
        except Exception as error:  # any failure to load or run is the finding
            problems, difference, scale, subnet = [f"{type(error).__name__}: {error}"], float("nan"), float("nan"), None
        for problem in problems:
            print(f"check_onnx_logits: {model_path}: {problem}", file=sys.stderr)
        failed = failed or bool(problems)
        print(f"check_onnx_logits: {name} (r={subnet and subnet.get('r')}): onnxruntime {onnxruntime.__version__}, "
              f"max |logit difference| {difference:.3g} (max |logit| {scale:.3g}), "
              f"{'ok' if not problems else 'FAILED'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
