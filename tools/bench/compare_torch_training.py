#!/usr/bin/env python3
"""Training throughput of one progressive-shrinking expand-phase step, PyTorch against ours.

The step: a new random subnet of `mbv3-small` every step (the eight subnets
`ofa info --space mbv3-small --subnet random --seed i` prints, i = 0..7, in order), batch 64 at
28x28, forward, label-smoothed cross-entropy, backward, SGD Nesterov over the whole supernet.
The PyTorch supernet below is written for this comparison the way OFA's dynamic layers work:
max-size weights sliced per step, the depthwise kernel's centre passed through the
kernel-transformation matrices, BN on sliced statistics. Ours runs `ofa bench ops --filter
TrainingStepExpandPhase`. Rounds alternate so machine drift hits both; the table reports medians.
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


def activation(name, x):
    return {"relu": F.relu, "h_swish": F.hardswish, "none": lambda t: t}[name](x)


class DynamicBN(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x):
        c = x.shape[1]
        bn = self.bn
        return F.batch_norm(x, bn.running_mean[:c], bn.running_var[:c], bn.weight[:c], bn.bias[:c], True, 0.1, 1e-5)


class DynamicBlock(nn.Module):
    def __init__(self, space, in_ch, out_ch, stride, act, se, kernels, expands, has_expand=True):
        super().__init__()
        self.space, self.in_ch, self.out_ch, self.stride, self.act, self.use_se = space, in_ch, out_ch, stride, act, se
        self.kernels = sorted(kernels, reverse=True)
        self.has_expand = has_expand
        max_mid = make_divisible(round(in_ch * max(expands))) if has_expand else in_ch
        k = self.kernels[0]
        if has_expand:
            self.expand = nn.Parameter(torch.randn(max_mid, in_ch, 1, 1) * 0.1)
            self.expand_bn = DynamicBN(max_mid)
        self.depthwise = nn.Parameter(torch.randn(max_mid, 1, k, k) * 0.1)
        self.transforms = nn.ParameterList(
            [nn.Parameter(torch.eye(t * t)) for t in self.kernels[1:]])
        self.depthwise_bn = DynamicBN(max_mid)
        if se:
            max_se = make_divisible(max_mid // 4)
            self.se_reduce = nn.Conv2d(max_mid, max_se, 1)
            self.se_expand = nn.Conv2d(max_se, max_mid, 1)
        self.project = nn.Parameter(torch.randn(out_ch, max_mid, 1, 1) * 0.1)
        self.project_bn = DynamicBN(out_ch)

    def active_kernel(self, mid, k):
        weight = self.depthwise[:mid]
        size = self.kernels[0]
        for step, target in enumerate(self.kernels[1:]):
            if size == k:
                break
            start = (size - target) // 2
            centre = weight[:, :, start:start + target, start:start + target].reshape(mid, target * target)
            weight = F.linear(centre, self.transforms[step]).reshape(mid, 1, target, target)
            size = target
        return weight

    def forward(self, x, k, e):
        mid = make_divisible(round(self.in_ch * e)) if self.has_expand else self.in_ch
        h = x
        if self.has_expand:
            h = activation(self.act, self.expand_bn(F.conv2d(h, self.expand[:mid])))
        h = F.conv2d(h, self.active_kernel(mid, k), stride=self.stride, padding=k // 2, groups=mid)
        h = activation(self.act, self.depthwise_bn(h))
        if self.use_se:
            se = make_divisible(mid // 4)
            s = h.mean((2, 3), keepdim=True)
            s = F.relu(F.conv2d(s, self.se_reduce.weight[:se, :mid], self.se_reduce.bias[:se]))
            s = F.hardsigmoid(F.conv2d(s, self.se_expand.weight[:mid, :se], self.se_expand.bias[:mid]))
            h = h * s
        h = self.project_bn(F.conv2d(h, self.project[:, :mid]))
        return x + h if self.stride == 1 and self.in_ch == self.out_ch else h


class Supernet(nn.Module):
    def __init__(self, space):
        super().__init__()
        w = lambda base: make_divisible(base * space["width_mult"])
        el = space["elastic"]
        self.max_depth = max(el["depths"])
        stem = space["stem"]
        self.stem = nn.Conv2d(space["in_channels"], w(stem["width"]), stem["kernel"], stem["stride"],
                              stem["kernel"] // 2, bias=False)
        self.stem_bn = nn.BatchNorm2d(w(stem["width"]))
        fb = space["first_block"]
        blocks = [DynamicBlock(space, w(stem["width"]), w(fb["width"]), 1, fb["activation"], fb["squeeze_excite"],
                               [fb["kernel"]], [fb["expand"]], has_expand=fb["expand"] != 1)]
        in_ch = w(fb["width"])
        for stage in space["stages"]:
            for j in range(self.max_depth):
                blocks.append(DynamicBlock(space, in_ch, w(stage["width"]), stage["stride"] if j == 0 else 1,
                                           stage["activation"], stage["squeeze_excite"], el["kernel_sizes"],
                                           el["expand_ratios"]))
                in_ch = w(stage["width"])
        self.blocks = nn.ModuleList(blocks)
        head = space["head"]
        self.final_expand = nn.Conv2d(in_ch, w(head["final_expand_width"]), 1, bias=False)
        self.final_bn = nn.BatchNorm2d(w(head["final_expand_width"]))
        self.feature_mix = nn.Conv2d(w(head["final_expand_width"]), w(head["feature_mix_width"]), 1, bias=False)
        self.dropout = head["dropout"]
        self.classifier = nn.Linear(w(head["feature_mix_width"]), space["num_classes"])

    def forward(self, x, subnet):
        x = F.hardswish(self.stem_bn(self.stem(x)))
        x = self.blocks[0](x, self.blocks[0].kernels[0], 1)
        for s, depth in enumerate(subnet["d"]):
            for j in range(depth):
                slot = s * self.max_depth + j
                x = self.blocks[1 + slot](x, subnet["ks"][slot], subnet["e"][slot])
        x = F.hardswish(self.final_bn(self.final_expand(x)))
        x = F.hardswish(self.feature_mix(x.mean((2, 3), keepdim=True))).flatten(1)
        return self.classifier(F.dropout(x, self.dropout, True))


def time_torch(model, optimizer, subnets, images, labels, steps):
    times = []
    for step in range(steps + 1):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(images, subnets[step % len(subnets)]), labels, label_smoothing=0.1)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return images.shape[0] / statistics.median(times[1:])


def time_ours(ofa, threads):
    out = subprocess.run([ofa, "bench", "ops", "--threads", str(threads), "--filter", "TrainingStepExpandPhase",
                          "--benchmark_format=json"], check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type") == "iteration"]
    return statistics.median(b["images_per_s"] for b in runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ofa", default="build/ofa")
    parser.add_argument("--space", default="supernet/spaces/mbv3-small.json")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=16)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with open(args.space) as f:
        space = json.load(f)
    subnets = [json.loads(subprocess.run([args.ofa, "info", "--space", "mbv3-small", "--subnet", "random", "--seed",
                                          str(i)], check=True, capture_output=True, text=True).stdout)["subnet"]
               for i in range(8)]
    images = torch.randn(64, space["in_channels"], 28, 28)
    labels = torch.arange(64) % space["num_classes"]
    results = {}
    for layout in ("NCHW", "channels_last"):
        model = Supernet(space).train()
        x = images
        if layout == "channels_last":
            model = model.to(memory_format=torch.channels_last)
            x = images.contiguous(memory_format=torch.channels_last)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=3e-5)
        results[layout] = (model, optimizer, x)
    rates = {"pytorch NCHW": [], "pytorch channels_last": [], "ofa (ours, NHWC)": []}
    for _ in range(args.rounds):
        for layout, (model, optimizer, x) in results.items():
            rates[f"pytorch {layout}"].append(time_torch(model, optimizer, subnets, x, labels, args.steps))
        rates["ofa (ours, NHWC)"].append(time_ours(args.ofa, args.threads))
    ours = statistics.median(rates["ofa (ours, NHWC)"])
    print(f"ps expand-phase training step, mbv3-small, random subnet per step, batch 64, 28x28, {args.threads} "
          f"threads, torch {torch.__version__}, {args.rounds} rounds")
    print(f"{'implementation':<24}{'images/s':>10}{'ours/this':>11}")
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"{name:<24}{rate:>10.1f}{ours / rate:>11.2f}")


if __name__ == "__main__":
    main()
