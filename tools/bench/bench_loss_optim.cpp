#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/ops/accuracy.h"
#include "kernels/ops/bilinear_resize.h"
#include "kernels/ops/cross_entropy.h"
#include "kernels/ops/distillation.h"
#include "kernels/ops/sgd.h"
#include "tools/bench/block_shapes.h"

namespace ofa::bench {
namespace {

// Elastic resolution: the small-image batch shrunk to 28x28, and an ImageNet batch at 224
// shrunk to OFA's smallest common training resolution of 160.
struct ResizeShape {
  const char* name;
  std::int64_t batch, in_size, out_size, channels;
};
constexpr ResizeShape kResizeShapes[] = {
    {"b64_32x32x3_to_28x28", 64, 32, 28, 3},
    {"b8_224x224x3_to_160x160", 8, 224, 160, 3},
};

void BM_BilinearResizeForward(benchmark::State& state, const ResizeShape& s) {
  const Tensor x = random_activation({s.batch, s.in_size, s.in_size, s.channels});
  Tensor y = Tensor::empty({s.batch, s.out_size, s.out_size, s.channels});
  for (auto _ : state) {
    bilinear_resize_forward(x, y);
    benchmark::DoNotOptimize(y.f32());
  }
}

void BM_BilinearResizeBackward(benchmark::State& state, const ResizeShape& s) {
  const Tensor dy = random_activation({s.batch, s.out_size, s.out_size, s.channels});
  Tensor dx = Tensor::empty({s.batch, s.in_size, s.in_size, s.channels});
  for (auto _ : state) {
    bilinear_resize_backward(dy, dx);
    benchmark::DoNotOptimize(dx.f32());
  }
}

// The classifier heads: 10 classes (CIFAR / Fashion-MNIST) and 1000 (ImageNet), batch 64.
struct LogitShape {
  const char* name;
  std::int64_t batch, classes;
};
constexpr LogitShape kLogitShapes[] = {{"b64_k10", 64, 10}, {"b64_k1000", 64, 1000}};

std::vector<std::int32_t> cyclic_labels(const LogitShape& s) {
  std::vector<std::int32_t> labels;
  for (std::int64_t n = 0; n < s.batch; ++n) labels.push_back(static_cast<std::int32_t>((n * 7) % s.classes));
  return labels;
}

void BM_CrossEntropyForwardBackward(benchmark::State& state, const LogitShape& s) {
  const Tensor logits = random_activation({s.batch, s.classes});
  const std::vector<std::int32_t> labels = cyclic_labels(s);
  Tensor dlogits = Tensor::empty(logits.shape());
  for (auto _ : state) {
    benchmark::DoNotOptimize(cross_entropy_forward(logits, labels, 0.1f));
    cross_entropy_backward(logits, labels, 0.1f, 1.0f, dlogits);
    benchmark::DoNotOptimize(dlogits.f32());
  }
}

void BM_DistillationForwardBackward(benchmark::State& state, const LogitShape& s) {
  const Tensor student = random_activation({s.batch, s.classes});
  const Tensor teacher = random_activation({s.batch, s.classes});
  Tensor dstudent = Tensor::empty(student.shape());
  for (auto _ : state) {
    benchmark::DoNotOptimize(distillation_forward(student, teacher, 1.0f));
    distillation_backward(student, teacher, 1.0f, 1.0f, dstudent);
    benchmark::DoNotOptimize(dstudent.f32());
  }
}

void BM_AccuracyTop1Top5(benchmark::State& state, const LogitShape& s) {
  const Tensor logits = random_activation({s.batch, s.classes});
  const std::vector<std::int32_t> labels = cyclic_labels(s);
  for (auto _ : state) benchmark::DoNotOptimize(accuracy_counts(logits, labels, 5));
}

// The trainable tensors of OFA-MobileNetV3 at its largest (width 1.0, kernel 7, expand 6,
// depth 4, 1000 classes): 283 tensors, 7.68M floats, weight decay off on BN and biases.
struct ParameterSpec {
  std::int64_t numel;
  bool decay;
};

std::int64_t make_divisible(std::int64_t value) { return std::max<std::int64_t>(8, (value + 4) / 8 * 8); }

std::vector<ParameterSpec> mobilenet_v3_parameters() {
  std::vector<ParameterSpec> specs;
  auto weight = [&](std::int64_t numel) { specs.push_back({numel, true}); };
  auto no_decay = [&](std::int64_t numel) { specs.push_back({numel, false}); };
  auto batch_norm = [&](std::int64_t channels) {
    no_decay(channels);
    no_decay(channels);
  };
  weight(3 * 3 * 3 * 16);  // stem
  batch_norm(16);
  weight(3 * 3 * 16);  // first block: depthwise, then pointwise
  batch_norm(16);
  weight(16 * 16);
  batch_norm(16);
  const std::int64_t widths[] = {24, 40, 80, 112, 160};
  const bool squeeze_excite[] = {false, true, false, true, true};
  std::int64_t in = 16;
  for (int stage = 0; stage < 5; ++stage)
    for (int block = 0; block < 4; ++block) {
      const std::int64_t mid = make_divisible(in * 6), out = widths[stage];
      weight(mid * in);
      batch_norm(mid);
      weight(7 * 7 * mid);
      batch_norm(mid);
      weight(25 * 25);  // kernel transforms 7->5 and 5->3
      weight(9 * 9);
      if (squeeze_excite[stage]) {
        const std::int64_t reduced = make_divisible(mid / 4);
        weight(reduced * mid);
        no_decay(reduced);
        weight(mid * reduced);
        no_decay(mid);
      }
      weight(out * mid);
      batch_norm(out);
      in = out;
    }
  weight(960 * 160);  // final expand
  batch_norm(960);
  weight(1280 * 960);  // feature mix
  weight(1000 * 1280);  // classifier
  no_decay(1000);
  return specs;
}

void BM_SgdStep(benchmark::State& state) {
  std::vector<SgdParameter> parameters;
  std::int64_t floats = 0;
  for (const ParameterSpec& spec : mobilenet_v3_parameters()) {
    parameters.push_back({random_activation({spec.numel}), random_activation({spec.numel}),
                          Tensor::zeros({spec.numel}), spec.decay});
    floats += spec.numel;
  }
  const SgdConfig config{.lr = 0.01f};
  for (auto _ : state) {
    sgd_step(parameters, config);
    benchmark::DoNotOptimize(parameters.front().param.f32());
  }
  state.counters["tensors"] = static_cast<double>(parameters.size());
  state.counters["Mfloats"] = static_cast<double>(floats) / 1e6;
  // param and buffer read and written, gradient read: 5 floats of traffic per element.
  state.SetBytesProcessed(state.iterations() * floats * 5 * static_cast<std::int64_t>(sizeof(float)));
}

template <class Shapes, class Run>
void register_cases(const char* op, const Shapes& shapes, Run run) {
  for (const auto& shape : shapes)
    benchmark::RegisterBenchmark((std::string(op) + "/" + shape.name).c_str(), run, shape)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
}

int register_all() {
  register_cases("BilinearResizeForward", kResizeShapes, BM_BilinearResizeForward);
  register_cases("BilinearResizeBackward", kResizeShapes, BM_BilinearResizeBackward);
  register_cases("CrossEntropyForwardBackward", kLogitShapes, BM_CrossEntropyForwardBackward);
  register_cases("DistillationForwardBackward", kLogitShapes, BM_DistillationForwardBackward);
  register_cases("AccuracyTop1Top5", kLogitShapes, BM_AccuracyTop1Top5);
  benchmark::RegisterBenchmark("SgdStep/ofa_mbv3_largest_7.7M", BM_SgdStep)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  return 0;
}

[[maybe_unused]] const int registered = register_all();

}  // namespace
}  // namespace ofa::bench
