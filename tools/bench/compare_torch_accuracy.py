#!/usr/bin/env python3
"""Test accuracy of the `demo` recipe's teacher phase trained in PyTorch, to judge ours by.

Our trainer's teacher (the largest `mbv3-small` subnet, 210000 Fashion-MNIST images) ends at 88 %
test accuracy. Whether that is what this network and recipe give, or a defect in our training,
is what this script tells: it trains the same network with the same recipe in PyTorch and prints
the test accuracy as one JSON line, to set beside `ofa train`'s largest-subnet test_top1.

"The same" is as exact as the code allows. Every random choice of ours is a pure function of
(seed, stream, index) (kernels/random.h), so this script draws the same numbers: the validation
split, each epoch's data order, each step's resolution, each image's crop offsets and flip, the
dropout masks and the initial weights are ours (the weights up to libm's last-bit rounding).
Images are resampled with our filter (distill/data/augmentation.cpp's crop_resize_normalize),
written as one small matrix per axis, crop offset and resolution. The network is
compare_torch_training.py's PyTorch supernet set to its largest subnet, with its elastic batch
norms swapped for their plain BatchNorm2d (every channel is active) so that evaluation and BN
recalibration use running statistics, and its classifier behind our dropout. Optimiser,
learning-rate schedule, loss, BN recalibration and evaluation follow distill/trainer.cpp. What
stays different is float arithmetic, so the runs drift apart within steps, as two seeds would.
"""
import argparse
import copy
import functools
import gzip
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_torch_training import DynamicBN, Supernet  # noqa: E402

# Streams of distill/data/random_streams.h and distill/trainer.cpp; loader epoch e of phase p is
# p * 100000 + e, and a step's dropout stream is global step * 64 + subnet.
VALIDATION_SPLIT_STREAM = 0xDA00000000000001
SHUFFLE_STREAM = 0xDB00000000000000
AUGMENTATION_STREAM = 0xDC00000000000000
RESOLUTION_STREAM = 0x7265736F
PHASE_EPOCHS = 100000
SUBNETS_PER_STEP_LIMIT = 64
# augmentation.cpp: 64 draw slots per sample, the flip in slot 0, the padded offsets in 1 and 2.
SLOTS_PER_SAMPLE = 64
# supernet/network.cpp: initialisation streams 0..3 for the head, 16 (b + 1) + 0..4 for block b.
STREAMS_PER_LAYER = 16

RECIPE = "distill/recipes/demo.json"
PHASE = "teacher"

# distill/data/data_spec.cpp's Fashion-MNIST profile: padded crop 2 + flip, evaluation on the
# whole image; (pixel / 255 - mean) / stddev computed as pixel * scale + shift in float32.
SIDE = 28
PADDING = 2
MEAN, STDDEV = np.float32(0.2860), np.float32(0.3530)
SCALE = float(np.float32(1.0) / (np.float32(255.0) * STDDEV))
SHIFT = float(-MEAN / STDDEV)
EVAL_BATCH = 200  # distill/evaluation.h
CALIBRATION_BATCH = 100


def mix64(x):
    """kernels/random.h's mix64 on uint64 arrays (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def stream_key(seed, stream):
    return mix64(np.uint64(seed) ^ mix64(stream))


def uniform01(seed, stream, index):
    """kernels/random.h's uniform01 for an array of indices: float32 in [0, 1), 24 random bits."""
    with np.errstate(over="ignore"):
        bits = mix64(stream_key(seed, stream) + np.asarray(index, dtype=np.uint64))
    return (bits >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)


def permutation(n, seed, stream):
    """random_streams.cpp's permutation: Fisher-Yates, draw i = mix64(key + i) mod (i + 1)."""
    i = np.arange(n - 1, 0, -1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        j = mix64(stream_key(seed, stream) + i) % (i + np.uint64(1))
    order = list(range(n))
    for a, b in zip(i.tolist(), j.tolist()):
        order[a], order[b] = order[b], order[a]
    return np.array(order)


def llround(x):
    return int(math.floor(x + 0.5))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = struct.unpack(f">{rank}I", data[4:4 + 4 * rank])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_fashion_mnist(directory, prefix):
    images = read_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"))
    return images, torch.from_numpy(labels.astype(np.int64))


def training_part(images, labels, validation_images, seed):
    """validation_split.cpp: the first `validation_images` of a seeded permutation are held out;
    the rest, in index order, is what the optimiser sees."""
    rest = np.sort(permutation(len(images), seed, VALIDATION_SPLIT_STREAM)[validation_images:])
    return images[rest], labels[rest]


@functools.lru_cache(maxsize=None)
def axis_matrix(start, out):
    """One axis of crop_resize_normalize as an [out, 28] matrix (augmentation.cpp's axis_taps): a
    28-pixel window from `start` (negative: into the zero padding), PIL's bilinear triangle
    widened by the shrink factor, weights normalised over the window and the padding around it,
    the taps in the padding then dropped."""
    scale = SIDE / out
    support = max(scale, 1.0)
    lo, hi = min(0, start), max(SIDE, start + SIDE)
    matrix = np.zeros((out, SIDE), np.float32)
    for o in range(out):
        center = start + (o + 0.5) * scale
        x = np.arange(max(lo, math.floor(center - support + 0.5)), min(hi, math.floor(center + support + 0.5)))
        w = np.maximum(0.0, 1.0 - np.abs((x - center + 0.5) / support))
        inside = (x >= 0) & (x < SIDE)
        matrix[o, x[inside]] = w[inside] / w.sum()
    return torch.from_numpy(matrix)


def resample(images, tops, lefts, flips, resolution):
    """28x28 uint8 images to normalised [N, 1, R, R] floats through their crop windows."""
    rows = torch.stack([axis_matrix(int(t), resolution) for t in tops])
    cols = torch.stack([axis_matrix(int(left), resolution) for left in lefts])
    x = rows @ torch.from_numpy(images.astype(np.float32)) @ cols.transpose(1, 2)
    x = torch.where(torch.from_numpy(flips)[:, None, None], x.flip(2), x)
    return (x * SCALE + SHIFT).unsqueeze(1)


def augment(images, samples, seed, loader_epoch, resolution):
    """The training augmentation of `samples` (indices into the training part) in loader epoch
    `loader_epoch`: choose_crop's padded offsets in [-2, 2] and flip, drawn per sample."""
    base = np.asarray(samples, dtype=np.uint64) * np.uint64(SLOTS_PER_SAMPLE)
    stream = AUGMENTATION_STREAM + loader_epoch

    def draw(slot):
        return uniform01(seed, stream, base + np.uint64(slot)).astype(np.float64)

    def offset(slot):
        return -PADDING + np.minimum((draw(slot) * (2 * PADDING + 1)).astype(np.int64), 2 * PADDING)

    return resample(images[samples], offset(1), offset(2), draw(0) < 0.5, resolution)


def learning_rate(step, total, warmup, peak, warmup_start):
    """distill/lr_schedule.cpp: linear warm-up reaching the peak at its last step, then cosine."""
    if step < warmup:
        return warmup_start + (peak - warmup_start) * (step + 1) / warmup
    return 0.5 * peak * (1.0 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def he_fout(shape, kernel, out_channels, seed, stream):
    """initialization.cpp's init_normal with he_fout's stddev, in our layout: Box-Muller on
    draws 2i and 2i + 1 of (seed, stream)."""
    stddev = np.sqrt(np.float32(2.0) / np.float32(kernel * kernel * out_channels))
    u = uniform01(seed, stream, np.arange(2 * math.prod(shape))).astype(np.float64)
    normal = np.sqrt(-2.0 * np.log(1.0 - u[0::2])) * np.cos(2.0 * np.pi * u[1::2])
    return torch.from_numpy((normal * np.float64(stddev)).astype(np.float32).reshape(shape))


def init_pointwise(weight, seed, stream):
    """A 1x1 convolution's weight ([out, in, 1, 1]) from our [out, in] he_fout draws."""
    out, fan_in = weight.shape[:2]
    weight.copy_(he_fout((out, fan_in), 1, out, seed, stream).view_as(weight))


def initialize_as_ours(model, seed):
    """supernet/network.cpp's and mbconv_block.cpp's initial weights, from our [out, k, k, in],
    [out, in] and [k, k, channels] layouts; linear ~ U(-1/sqrt(in), 1/sqrt(in)); biases 0; BN
    keeps PyTorch's gamma 1, beta 0."""
    with torch.no_grad():
        out, in_channels, k, _ = model.stem.weight.shape
        model.stem.weight.copy_(he_fout((out, k, k, in_channels), k, out, seed, 0).permute(0, 3, 1, 2))
        init_pointwise(model.final_expand.weight, seed, 1)
        init_pointwise(model.feature_mix.weight, seed, 2)
        classes, features = model.classifier.weight.shape
        bound = np.float32(1.0) / np.sqrt(np.float32(features))
        u = uniform01(seed, 3, np.arange(classes * features)).reshape(classes, features)
        model.classifier.weight.copy_(torch.from_numpy((np.float32(2.0) * u - np.float32(1.0)) * bound))
        model.classifier.bias.zero_()
        for b, block in enumerate(model.blocks):
            stream = STREAMS_PER_LAYER * (b + 1)
            mid, _, k, _ = block.depthwise.shape
            if block.has_expand:
                init_pointwise(block.expand, seed, stream)
            block.depthwise.copy_(he_fout((k, k, mid), k, mid, seed, stream + 1).permute(2, 0, 1).unsqueeze(1))
            if block.use_se:
                init_pointwise(block.se_reduce.weight, seed, stream + 2)
                init_pointwise(block.se_expand.weight, seed, stream + 3)
                block.se_reduce.bias.zero_()
                block.se_expand.bias.zero_()
            init_pointwise(block.project, seed, stream + 4)


class OursDropoutClassifier(nn.Module):
    """The classifier behind our dropout (kernels/ops/dropout.h): in training, element i of the
    [N, features] input is kept, times 1 / (1 - p), where uniform01(seed, stream, i) >= p; the
    trainer sets `stream` to the step's before each forward."""

    def __init__(self, linear, p, seed):
        super().__init__()
        self.linear, self.p, self.seed, self.stream = linear, p, seed, 0

    def forward(self, x):
        if self.training:
            keep = uniform01(self.seed, self.stream, np.arange(x.numel())) >= np.float32(self.p)
            scale = np.float32(1.0) / (np.float32(1.0) - np.float32(self.p))
            x = x * torch.from_numpy(keep.reshape(tuple(x.shape)) * scale)
        return self.linear(x)


def largest_network(space, seed):
    """compare_torch_training.Supernet, initialised as ours, its DynamicBNs replaced by their
    BatchNorm2d (the largest subnet's are whole, and the plain module honours train/eval and
    momentum None) and its dropout by ours (its own F.dropout then runs with p = 0)."""
    model = Supernet(space)
    initialize_as_ours(model, seed)
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, DynamicBN):
                setattr(module, name, child.bn)
    model.classifier = OursDropoutClassifier(model.classifier, model.dropout, seed)
    model.dropout = 0.0
    return model


def largest_subnet(space):
    el = space["elastic"]
    slots = len(space["stages"]) * max(el["depths"])
    return {"ks": [max(el["kernel_sizes"])] * slots, "e": [max(el["expand_ratios"])] * slots,
            "d": [max(el["depths"])] * len(space["stages"])}


def recalibrate_batch_norm(model, subnet, images, seed, count, resolution):
    """distill/evaluation.cpp's recalibrate_batch_norm: the running statistics become the exact
    average over the first `count` images of loader epoch 0's order, augmented as for training,
    in batches of 100 (PyTorch's momentum None after a reset)."""
    order = permutation(len(images), seed, SHUFFLE_STREAM)
    batch = min(CALIBRATION_BATCH, count)
    batches = min(len(images) // batch, max(1, count // batch))
    model.eval()
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    with torch.no_grad():
        for k in range(batches):
            model(augment(images, order[k * batch:(k + 1) * batch], seed, 0, resolution), subnet)
    model.eval()


def test_accuracy(model, subnet, train_images, test_images, test_labels, seed, calibration_images, resolution):
    """The final evaluation's top-1 (trainer.cpp): BN recalibration of a copy, then every test
    image in order, the whole 28x28 image resized to `resolution`, eval mode."""
    scored = copy.deepcopy(model)
    recalibrate_batch_norm(scored, subnet, train_images, seed, calibration_images, resolution)
    correct = 0
    with torch.no_grad():
        for begin in range(0, len(test_images), EVAL_BATCH):
            images = test_images[begin:begin + EVAL_BATCH]
            zeros, no_flip = np.zeros(len(images), np.int64), np.zeros(len(images), bool)
            logits = scored(resample(images, zeros, zeros, no_flip, resolution), subnet)
            correct += (logits.argmax(1) == test_labels[begin:begin + EVAL_BATCH]).sum().item()
    return correct / len(test_images)


def sgd(model, recipe):
    """Nesterov SGD, weight decay on weights only (BN gamma/beta and biases, the 1-D parameters,
    are OFA's no_decay_keys, supernet/parameter.h)."""
    params = list(model.parameters())
    return torch.optim.SGD([{"params": [p for p in params if p.ndim > 1], "weight_decay": recipe["weight_decay"]},
                            {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0}],
                           lr=0.0, momentum=recipe["momentum"], nesterov=recipe["nesterov"])


def batch_at(step, steps_per_epoch, p, images, seed, resolutions, batch):
    """Step `step`'s samples and images (trainer.cpp's run_phase): each of the recipe's epochs
    starts a new loader epoch, p * 100000 + epoch, whose seeded order it takes from the start;
    the step's resolution is drawn uniformly from the phase's (resolution_at)."""
    epoch, in_epoch = divmod(step, steps_per_epoch)
    loader_epoch = p * PHASE_EPOCHS + epoch
    order = epoch_order(len(images), seed, loader_epoch)
    samples = order[in_epoch * batch:(in_epoch + 1) * batch]
    u = float(uniform01(seed, RESOLUTION_STREAM + p, step))
    resolution = resolutions[min(int(u * len(resolutions)), len(resolutions) - 1)]
    return samples, augment(images, samples, seed, loader_epoch, resolution)


@functools.lru_cache(maxsize=1)
def epoch_order(n, seed, loader_epoch):
    return permutation(n, seed, SHUFFLE_STREAM + loader_epoch)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--space", default="supernet/spaces/mbv3-small.json")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--images", type=int, help="training images (default: the phase's 14 epochs x 15000)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every-images", type=int, default=0, help="also print test top-1 every N images")
    parser.add_argument("--test-images", type=int, default=10000, help="the first N test images (quick checks)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    with open(args.space) as f:
        space = json.load(f)
    with open(RECIPE) as f:
        recipe = json.load(f)
    p = next(i for i, phase in enumerate(recipe["phases"]) if phase["name"] == PHASE)
    phase = recipe["phases"][p]
    resolutions = sorted(phase["resolutions"] or space["elastic"]["resolutions"])
    train_images, train_labels = training_part(*load_fashion_mnist(args.data, "train"),
                                               recipe["validation_images"], args.seed)
    test_images, test_labels = load_fashion_mnist(args.data, "t10k")
    test_images, test_labels = test_images[:args.test_images], test_labels[:args.test_images]

    # trainer.cpp: an epoch is train_images_per_epoch // batch steps, the phase llround(epochs x that).
    batch = recipe["batch_size"]
    steps_per_epoch = min(max(1, recipe["train_images_per_epoch"] // batch), len(train_images) // batch)
    epochs = args.images / recipe["train_images_per_epoch"] if args.images else phase["epochs"]
    total = max(1, llround(epochs * steps_per_epoch))
    warmup = min(total, llround(phase["warmup_epochs"] * steps_per_epoch))
    model = largest_network(space, args.seed)
    subnet = largest_subnet(space)
    optimizer = sgd(model, recipe)

    def evaluate():
        return test_accuracy(model, subnet, train_images, test_images, test_labels, args.seed,
                             recipe["bn_calibration_images"], max(space["elastic"]["resolutions"]))

    train_seconds = 0.0
    for step in range(total):
        start = time.perf_counter()
        samples, images = batch_at(step, steps_per_epoch, p, train_images, args.seed, resolutions, batch)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, total, warmup, phase["lr"], recipe["lr_warmup_start"])
        model.train()
        model.classifier.stream = step * SUBNETS_PER_STEP_LIMIT  # global step = step: the run's first phase
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images, subnet), train_labels[samples],
                               label_smoothing=recipe["label_smoothing"])
        loss.backward()
        optimizer.step()
        train_seconds += time.perf_counter() - start
        seen = (step + 1) * batch
        if args.eval_every_images and seen // args.eval_every_images > (seen - batch) // args.eval_every_images:
            print(json.dumps({"images": seen, "test_top1": evaluate(), "seconds": round(train_seconds, 1)}),
                  flush=True)
    print(json.dumps({"images": total * batch, "test_top1": evaluate(), "train_seconds": round(train_seconds, 1),
                      "threads": args.threads}))


if __name__ == "__main__":
    main()
