#!/usr/bin/env python3
"""Times one OFA MBConv block forward+backward in PyTorch (CPU) and through our ops.

The block is the issue's reference: 40 -> 240 (expand 6) -> 40 channels, depthwise 7x7,
stride 1, squeeze-and-excitation, h-swish, batch 64 at 32x32, training mode. PyTorch runs
in NCHW and in channels_last (its best CPU layout for oneDNN), ours in NHWC through
`ofa bench ops`. Rounds alternate between the two so machine drift hits both; the table
reports the median of the per-round medians and the ratio torch/ours (> 1: ours faster).
"""
import argparse
import json
import statistics
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class MBConvBlock(nn.Module):
    """OFA's MBConvLayer + SE + residual, as in once-for-all's ResidualBlock."""

    def __init__(self, channels=40, expand=6, kernel=7):
        super().__init__()
        mid = channels * expand
        se_mid = make_divisible(mid // 4)
        self.expand = nn.Sequential(nn.Conv2d(channels, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.Hardswish())
        self.depthwise = nn.Sequential(
            nn.Conv2d(mid, mid, kernel, padding=kernel // 2, groups=mid, bias=False), nn.BatchNorm2d(mid), nn.Hardswish())
        self.se_reduce = nn.Conv2d(mid, se_mid, 1)
        self.se_expand = nn.Conv2d(se_mid, mid, 1)
        self.project = nn.Sequential(nn.Conv2d(mid, channels, 1, bias=False), nn.BatchNorm2d(channels))

    def forward(self, x):
        h = self.depthwise(self.expand(x))
        gate = F.hardsigmoid(self.se_expand(F.relu(self.se_reduce(h.mean((2, 3), keepdim=True)))))
        return x + self.project(h * gate)


def time_torch(block, x, grad, iterations):
    times = []
    for _ in range(iterations + 1):
        start = time.perf_counter()
        block.zero_grad(set_to_none=False)
        y = block(x)
        y.backward(grad)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:]) * 1e3


def time_ours(ofa, threads, repetitions):
    out = subprocess.run(
        [ofa, "bench", "ops", "--threads", str(threads), "--filter", "MBConvBlock/b64_32x32_c40_e6_k7",
         f"--benchmark_repetitions={repetitions}", "--benchmark_format=json"],
        check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type") == "iteration"]
    return statistics.median(b["real_time"] for b in runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ofa", default="build/ofa")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=5)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    block = MBConvBlock().train()
    x_nchw = torch.randn(64, 40, 32, 32, requires_grad=True)
    grad = torch.randn(64, 40, 32, 32)
    block_cl = MBConvBlock().train().to(memory_format=torch.channels_last)
    x_cl = x_nchw.detach().to(memory_format=torch.channels_last).requires_grad_()
    grad_cl = grad.to(memory_format=torch.channels_last)

    nchw, channels_last, ours = [], [], []
    for _ in range(args.rounds):
        nchw.append(time_torch(block, x_nchw, grad, args.iterations))
        channels_last.append(time_torch(block_cl, x_cl, grad_cl, args.iterations))
        ours.append(time_ours(args.ofa, args.threads, args.iterations))

    rows = [("pytorch NCHW", statistics.median(nchw)), ("pytorch channels_last", statistics.median(channels_last))]
    ours_ms = statistics.median(ours)
    print(f"MBConv block forward+backward, batch 64, 32x32, 40->240->40, k7, SE, h-swish, {args.threads} threads, "
          f"torch {torch.__version__}, {args.rounds} rounds")
    print(f"{'implementation':<24}{'median ms':>10}{'torch/ours':>12}")
    for name, ms in rows:
        print(f"{name:<24}{ms:>10.1f}{ms / ours_ms:>12.2f}")
    print(f"{'ofa (ours, NHWC)':<24}{ours_ms:>10.1f}{1.0:>12.2f}")


if __name__ == "__main__":
    main()
