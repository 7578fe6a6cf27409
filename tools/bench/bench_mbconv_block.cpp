#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "kernels/ops/batch_norm.h"
#include "kernels/ops/depthwise_conv.h"
#include "kernels/ops/pointwise_conv.h"
#include "kernels/ops/residual_add.h"
#include "kernels/ops/squeeze_excite.h"
#include "tools/bench/block_shapes.h"

// One whole OFA MBConv block (1x1 expand + BN + h-swish, elastic depthwise + BN + h-swish,
// SE, 1x1 project + BN, residual add), forward and backward in training mode, composed of
// the op library exactly as the supernet will call it. tools/bench/compare_torch.py times
// the same block in PyTorch against this case.
namespace ofa::bench {
namespace {

BatchNormParams batch_norm_params(std::int64_t channels_max) {
  return {Tensor::full({channels_max}, 1.0f), Tensor::zeros({channels_max}), Tensor::zeros({channels_max}),
          Tensor::full({channels_max}, 1.0f)};
}

BatchNormGrads batch_norm_grads(std::int64_t channels_max) {
  return {Tensor::zeros({channels_max}), Tensor::zeros({channels_max})};
}

SqueezeExciteWeights squeeze_excite_weights(std::int64_t channels_max) {
  const std::int64_t mid_max = se_mid_channels(channels_max);
  return {random_activation({mid_max, channels_max}), random_activation({mid_max}),
          random_activation({channels_max, mid_max}), random_activation({channels_max})};
}

SqueezeExciteGrads zero_grads(const SqueezeExciteWeights& w) {
  return {Tensor::zeros(w.reduce_weight.shape()), Tensor::zeros(w.reduce_bias.shape()),
          Tensor::zeros(w.expand_weight.shape()), Tensor::zeros(w.expand_bias.shape())};
}

struct MBConvWeights {
  explicit MBConvWeights(const BlockShape& s)
      : shape(s),
        kernel_sizes(elastic_kernel_sizes(s)),
        expand_weight(random_activation({s.max_mid(), s.max_channels})),
        depthwise_weight(random_activation({s.max_kernel, s.max_kernel, s.max_mid()})),
        transforms(random_transforms(kernel_sizes)),
        project_weight(random_activation({s.max_channels, s.max_mid()})),
        expand_bn(batch_norm_params(s.max_mid())),
        depthwise_bn(batch_norm_params(s.max_mid())),
        project_bn(batch_norm_params(s.max_channels)),
        se(squeeze_excite_weights(s.max_mid())) {}

  BlockShape shape;
  std::vector<std::int64_t> kernel_sizes;
  Tensor expand_weight, depthwise_weight;
  std::vector<Tensor> transforms;
  Tensor project_weight;
  BatchNormParams expand_bn, depthwise_bn, project_bn;
  SqueezeExciteWeights se;
};

struct MBConvGrads {
  explicit MBConvGrads(const MBConvWeights& b)
      : expand_weight(Tensor::zeros(b.expand_weight.shape())),
        depthwise_weight(Tensor::zeros(b.depthwise_weight.shape())),
        transforms(zeros_like(b.transforms)),
        project_weight(Tensor::zeros(b.project_weight.shape())),
        expand_bn(batch_norm_grads(b.shape.max_mid())),
        depthwise_bn(batch_norm_grads(b.shape.max_mid())),
        project_bn(batch_norm_grads(b.shape.max_channels)),
        se(zero_grads(b.se)) {}

  void zero() {
    for (Tensor* t : {&expand_weight, &depthwise_weight, &project_weight, &expand_bn.gamma, &expand_bn.beta,
                      &depthwise_bn.gamma, &depthwise_bn.beta, &project_bn.gamma, &project_bn.beta,
                      &se.reduce_weight, &se.reduce_bias, &se.expand_weight, &se.expand_bias})
      t->fill(0.0f);
    for (Tensor& t : transforms) t.fill(0.0f);
  }

  Tensor expand_weight, depthwise_weight;
  std::vector<Tensor> transforms;
  Tensor project_weight;
  BatchNormGrads expand_bn, depthwise_bn, project_bn;
  SqueezeExciteGrads se;
};

// Every activation the backward reads, plus the gradient buffers, allocated once.
struct MBConvActivations {
  explicit MBConvActivations(const BlockShape& s)
      : expanded(Tensor::empty(mid_shape(s))),
        expanded_act(Tensor::empty(mid_shape(s))),
        depthwise(Tensor::empty(mid_shape(s))),
        depthwise_act(Tensor::empty(mid_shape(s))),
        excited(Tensor::empty(mid_shape(s))),
        projected(Tensor::empty(io_shape(s))),
        projected_bn(Tensor::empty(io_shape(s))),
        y(Tensor::empty(io_shape(s))),
        d_mid_a(Tensor::empty(mid_shape(s))),
        d_mid_b(Tensor::empty(mid_shape(s))),
        d_io(Tensor::empty(io_shape(s))),
        dx(Tensor::empty(io_shape(s))),
        expand_saved(BatchNormSaved::for_channels(s.mid())),
        depthwise_saved(BatchNormSaved::for_channels(s.mid())),
        project_saved(BatchNormSaved::for_channels(s.channels)),
        se_saved(SqueezeExciteSaved::allocate(s.batch, s.mid(), se_mid_channels(s.mid()))) {}

  static Shape mid_shape(const BlockShape& s) { return {s.batch, s.size, s.size, s.mid()}; }
  static Shape io_shape(const BlockShape& s) { return {s.batch, s.size, s.size, s.channels}; }

  Tensor expanded, expanded_act, depthwise, depthwise_act, excited, projected, projected_bn, y;
  Tensor d_mid_a, d_mid_b, d_io, dx;
  BatchNormSaved expand_saved, depthwise_saved, project_saved;
  SqueezeExciteSaved se_saved;
};

void forward(MBConvWeights& b, const Tensor& x, MBConvActivations& a) {
  const BlockShape& s = b.shape;
  pointwise_conv_forward(x, b.expand_weight, s.mid(), a.expanded);
  batch_norm_train_forward(a.expanded, b.expand_bn, Activation::hswish, a.expanded_act, a.expand_saved);
  elastic_depthwise_conv_forward(a.expanded_act, b.depthwise_weight, b.kernel_sizes, b.transforms, s.kernel, s.stride,
                                 a.depthwise);
  batch_norm_train_forward(a.depthwise, b.depthwise_bn, Activation::hswish, a.depthwise_act, a.depthwise_saved);
  squeeze_excite_forward(a.depthwise_act, b.se, se_mid_channels(s.mid()), a.excited, a.se_saved);
  pointwise_conv_forward(a.excited, b.project_weight, s.channels, a.projected);
  batch_norm_train_forward(a.projected, b.project_bn, Activation::none, a.projected_bn, a.project_saved);
  residual_add_forward(x, a.projected_bn, a.y);
}

void backward(const MBConvWeights& b, const Tensor& x, const Tensor& dy, MBConvActivations& a, MBConvGrads& g) {
  const BlockShape& s = b.shape;
  batch_norm_backward(a.projected, b.project_bn, a.project_saved, Activation::none, dy, &a.d_io, g.project_bn);
  pointwise_conv_backward(a.excited, b.project_weight, a.d_io, &a.d_mid_a, g.project_weight);
  squeeze_excite_backward(a.depthwise_act, b.se, a.se_saved, a.d_mid_a, &a.d_mid_a, g.se);
  batch_norm_backward(a.depthwise, b.depthwise_bn, a.depthwise_saved, Activation::hswish, a.d_mid_a, &a.d_mid_a,
                      g.depthwise_bn);
  elastic_depthwise_conv_backward(a.expanded_act, b.depthwise_weight, b.kernel_sizes, b.transforms, s.kernel, s.stride,
                                  a.d_mid_a, &a.d_mid_b, g.depthwise_weight, g.transforms);
  batch_norm_backward(a.expanded, b.expand_bn, a.expand_saved, Activation::hswish, a.d_mid_b, &a.d_mid_b, g.expand_bn);
  pointwise_conv_backward(x, b.expand_weight, a.d_mid_b, &a.dx, g.expand_weight);
  residual_add_forward(a.dx, dy, a.dx);
}

// Forward and backward of one training step; the parameter gradients are zeroed first, as
// the PyTorch side's zero_grad does.
void MBConvBlock(benchmark::State& state, const BlockShape& s) {
  MBConvWeights block(s);
  MBConvGrads grads(block);
  MBConvActivations activations(s);
  const Tensor x = random_activation(MBConvActivations::io_shape(s));
  const Tensor dy = random_activation(MBConvActivations::io_shape(s));
  for (auto _ : state) {
    grads.zero();
    forward(block, x, activations);
    backward(block, x, dy, activations, grads);
    benchmark::DoNotOptimize(activations.dx.f32());
  }
}
OFA_SHAPE_BENCHMARK(MBConvBlock);

}  // namespace
}  // namespace ofa::bench
