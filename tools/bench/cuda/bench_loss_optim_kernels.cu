// Softmax cross-entropy (label smoothing 0.1) beside cuDNN's softmax over the same logits, and the
// fused SGD Nesterov step over every parameter of the OFA-MobileNetV3 supernet beside the same
// kernel launched once per parameter tensor.

#include <benchmark/benchmark.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cuda/ops/cross_entropy.cuh"
#include "kernels/cuda/ops/sgd.cuh"
#include "tools/bench/cuda/bench_context.h"
#include "tools/bench/cuda/cudnn_descriptors.h"
#include "tools/bench/cuda/device_array.h"
#include "tools/bench/cuda/gpu_block_shapes.h"
#include "tools/bench/cuda/gpu_timing.h"

namespace ofa::cuda::yardstick {
namespace {

struct LogitsCase {
  const char* name;
  int rows, classes;
};
constexpr LogitsCase kLogitsCases[] = {{"b64_c1000", 64, 1000}, {"b256_c1000", 256, 1000}};
constexpr float kLabelSmoothing = 0.1f;

std::vector<std::int32_t> labels_for(const LogitsCase& c) {
  std::vector<std::int32_t> labels(std::size_t(c.rows));
  for (int r = 0; r < c.rows; ++r) labels[std::size_t(r)] = (r * 7919) % c.classes;
  return labels;
}

double logits_bytes(const LogitsCase& c) { return sizeof(float) * double(c.rows) * c.classes; }

// Forward: the loss from the logits (read once); backward: the logits' gradient (read, write).
void cross_entropy_ours(benchmark::State& state, const LogitsCase& c, bool backward) {
  const BenchContext& context = BenchContext::current();
  const NvccLauncher launcher = context.launcher();
  const LogitsShape s{c.rows, c.classes, c.classes};
  const DeviceArray<float> logits = random_floats(launcher, std::size_t(c.rows) * c.classes, 19, -5.0f, 5.0f);
  const DeviceArray<std::int32_t> labels(labels_for(c));
  DeviceArray<float> loss(1), dlogits(logits.size());
  DeviceArray<char> workspace(cross_entropy_workspace_bytes(c.rows));
  time_on_device(state, context.stream(), [&] {
    if (backward) {
      cross_entropy_backward(launcher, logits.get(), s, labels.get(), kLabelSmoothing, 1.0f, dlogits.get(), c.classes);
    } else {
      cross_entropy_forward(launcher, logits.get(), s, labels.get(), kLabelSmoothing, loss.get(), workspace.get());
    }
  });
  count_bytes(state, logits_bytes(c) * (backward ? 2 : 1));
}

// The yardstick: the log-softmax (forward) or softmax (backward: the gradient is softmax minus
// the smoothed target) of every row, which also writes the [rows, classes] result.
void softmax_cudnn(benchmark::State& state, const LogitsCase& c, bool backward) {
  const BenchContext& context = BenchContext::current();
  const DeviceArray<float> logits =
      random_floats(context.launcher(), std::size_t(c.rows) * c.classes, 19, -5.0f, 5.0f);
  DeviceArray<float> out(logits.size());
  const TensorDescriptor desc = nhwc_tensor(c.rows, 1, 1, c.classes);
  const float one = 1.0f, zero = 0.0f;
  const cudnnSoftmaxAlgorithm_t algorithm = backward ? CUDNN_SOFTMAX_ACCURATE : CUDNN_SOFTMAX_LOG;
  time_on_device(state, context.stream(), [&] {
    check_cudnn(cudnnSoftmaxForward(context.cudnn(), algorithm, CUDNN_SOFTMAX_MODE_INSTANCE, &one, desc.get(),
                                    logits.get(), &zero, desc.get(), out.get()),
                "cudnnSoftmaxForward");
  });
  count_bytes(state, logits_bytes(c) * (backward ? 2 : 1));
}

// The parameter tensors of the OFA-MobileNetV3 supernet (width 1.0, max sizes, 1000 classes), in
// the order of the network: sizes and whether weight decay applies (not to batch norm and biases).
struct ParameterSize {
  long long count;
  bool decay;
};

std::vector<ParameterSize> supernet_parameters() {
  std::vector<ParameterSize> p;
  const auto batch_norm = [&](long long channels) {
    p.push_back({channels, false});
    p.push_back({channels, false});
  };
  p.push_back({16 * 3 * 3 * 3, true});  // stem
  batch_norm(16);
  p.push_back({3 * 3 * 16, true});  // first block: depthwise 3x3, then 1x1 16 -> 16
  batch_norm(16);
  p.push_back({16 * 16, true});
  batch_norm(16);
  struct Stage {
    long long width;
    bool se;
  };
  const Stage stages[] = {{24, false}, {40, true}, {80, false}, {112, true}, {160, true}};
  long long in = 16;
  for (const Stage& stage : stages)
    for (int block = 0; block < 4; ++block) {
      const long long mid = in * 6;
      p.push_back({mid * in, true});  // expand
      batch_norm(mid);
      p.push_back({7 * 7 * mid, true});  // depthwise, max kernel
      p.push_back({25 * 25, true});      // kernel transformation 7 -> 5
      p.push_back({9 * 9, true});        // kernel transformation 5 -> 3
      batch_norm(mid);
      if (stage.se) {
        const long long squeezed = bench::se_mid_channels(mid);
        p.push_back({squeezed * mid, true});
        p.push_back({squeezed, false});
        p.push_back({mid * squeezed, true});
        p.push_back({mid, false});
      }
      p.push_back({stage.width * mid, true});  // project
      batch_norm(stage.width);
      in = stage.width;
    }
  p.push_back({960 * 160, true});  // final expand
  batch_norm(960);
  p.push_back({1280 * 960, true});  // feature mix
  p.push_back({1000 * 1280, true});  // classifier
  p.push_back({1000, false});
  return p;
}

struct SgdBuffers {
  explicit SgdBuffers(const NvccLauncher& launcher) {
    for (const ParameterSize& size : supernet_parameters()) {
      const std::size_t n = std::size_t(size.count);
      param.push_back(random_floats(launcher, n, 20 + param.size()));
      grad.push_back(random_floats(launcher, n, 1000 + grad.size(), -0.01f, 0.01f));
      momentum.push_back(zero_floats(n));
      tensors.push_back({param.back().get(), grad.back().get(), momentum.back().get(), 0, size.count, size.decay});
    }
    total = sgd_lay_out(tensors);
  }
  std::vector<DeviceArray<float>> param, grad, momentum;
  std::vector<SgdDeviceTensor> tensors;  // laid end to end
  long long total = 0;
};

constexpr SgdConfig kSgd{0.01f, 0.9f, 3e-5f, true};

// Parameter, gradient and momentum read, parameter and momentum written.
double sgd_bytes(long long total) { return 5.0 * sizeof(float) * double(total); }

void sgd_fused(benchmark::State& state) {
  const BenchContext& context = BenchContext::current();
  const NvccLauncher launcher = context.launcher();
  SgdBuffers b(launcher);
  const DeviceArray<SgdDeviceTensor> tensors(b.tensors);
  state.SetLabel(concat(b.tensors.size(), " tensors, ", b.total, " parameters"));
  time_on_device(state, context.stream(),
                 [&] { sgd_step(launcher, tensors.get(), int(b.tensors.size()), b.total, kSgd); });
  count_bytes(state, sgd_bytes(b.total));
}

void sgd_per_tensor(benchmark::State& state) {
  const BenchContext& context = BenchContext::current();
  const NvccLauncher launcher = context.launcher();
  SgdBuffers b(launcher);
  std::vector<SgdDeviceTensor> alone = b.tensors;
  for (SgdDeviceTensor& t : alone) t.offset = 0;
  const DeviceArray<SgdDeviceTensor> tensors(alone);
  state.SetLabel(concat(alone.size(), " launches"));
  time_on_device(state, context.stream(), [&] {
    for (std::size_t i = 0; i < alone.size(); ++i) sgd_step(launcher, tensors.get() + i, 1, alone[i].count, kSgd);
  });
  count_bytes(state, sgd_bytes(b.total));
}

int register_loss_optim_cases() {
  for (const LogitsCase& c : kLogitsCases)
    for (const bool backward : {false, true}) {
      const char* op = backward ? "CrossEntropy_bwd" : "CrossEntropy_fwd";
      register_case(op, c.name, kOurs, [c, backward](benchmark::State& state) { cross_entropy_ours(state, c, backward); });
      register_case(op, c.name, "cudnn", [c, backward](benchmark::State& state) { softmax_cudnn(state, c, backward); });
    }
  register_case("Sgd_step", "mbv3_w1.0_supernet", kOurs, sgd_fused);
  register_case("Sgd_step", "mbv3_w1.0_supernet", "per_tensor", sgd_per_tensor);
  return 0;
}

[[maybe_unused]] const int loss_optim_cases_registered = register_loss_optim_cases();

}  // namespace
}  // namespace ofa::cuda::yardstick
