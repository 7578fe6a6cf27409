#include "kernels/ops/elastic_kernel.h"

#include <algorithm>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/checks.h"

namespace ofa {
namespace {

std::size_t to_size(std::int64_t n) { return static_cast<std::size_t>(n); }

std::string list_str(std::span<const std::int64_t> sizes) {
  std::ostringstream s;
  s << '{';
  for (std::size_t i = 0; i < sizes.size(); ++i) s << (i > 0 ? "," : "") << sizes[i];
  s << '}';
  return s.str();
}

std::string step_name(const char* what, std::span<const std::int64_t> sizes, std::size_t step) {
  return concat(what, " ", sizes[step], "->", sizes[step + 1]);
}

// A square kernel of `size` x `size` taps, tap (u, v) a run of channels at data + (u*size + v) * tap_stride.
template <class Float>
struct KernelView {
  Float* data;
  std::int64_t size, tap_stride;

  Float* tap(std::int64_t u, std::int64_t v) const { return data + (u * size + v) * tap_stride; }
};

// A contiguous [size*size, channels] kernel, the form every step produces.
struct Kernel {
  std::int64_t size, channels;
  std::vector<float> values;

  Kernel(std::int64_t kernel_size, std::int64_t channel_count)
      : size(kernel_size), channels(channel_count), values(to_size(kernel_size * kernel_size * channel_count), 0.0f) {}
  KernelView<const float> view() const { return {values.data(), size, channels}; }
  KernelView<float> mutable_view() { return {values.data(), size, channels}; }
  const float* tap(std::int64_t t) const { return values.data() + t * channels; }
  float* tap(std::int64_t t) { return values.data() + t * channels; }
};

// The centre size x size window of `from`, first `channels` channels.
Kernel centre(KernelView<const float> from, std::int64_t size, std::int64_t channels) {
  Kernel window(size, channels);
  const std::int64_t offset = (from.size - size) / 2;
  for (std::int64_t u = 0; u < size; ++u)
    for (std::int64_t v = 0; v < size; ++v)
      std::copy_n(from.tap(offset + u, offset + v), channels, window.tap(u * size + v));
  return window;
}

// Adds a size x size kernel into the centre window of `into`.
void add_to_centre(const Kernel& window, KernelView<float> into) {
  const std::int64_t offset = (into.size - window.size) / 2;
  for (std::int64_t u = 0; u < window.size; ++u)
    for (std::int64_t v = 0; v < window.size; ++v) {
      const float* source = window.tap(u * window.size + v);
      float* target = into.tap(offset + u, offset + v);
#pragma omp simd
      for (std::int64_t c = 0; c < window.channels; ++c) target[c] += source[c];
    }
}

// out[a] = sum_b M[a, b] * in[b], per channel.
Kernel transform(const Tensor& matrix, const Kernel& in) {
  Kernel out(in.size, in.channels);
  const std::int64_t taps = in.size * in.size;
  const float* m = matrix.f32();
  for (std::int64_t a = 0; a < taps; ++a) {
    float* target = out.tap(a);
    for (std::int64_t b = 0; b < taps; ++b) {
      const float weight = m[a * taps + b];
      const float* source = in.tap(b);
#pragma omp simd
      for (std::int64_t c = 0; c < in.channels; ++c) target[c] += weight * source[c];
    }
  }
  return out;
}

// Backward of out = M in: dM[a, b] += sum_c d_out[a, c] * in[b, c]; returns d_in[b] = sum_a M[a, b] * d_out[a].
Kernel transform_backward(const Tensor& matrix, const Kernel& in, const Kernel& d_out, Tensor& d_matrix) {
  Kernel d_in(in.size, in.channels);
  const std::int64_t taps = in.size * in.size;
  const float* m = matrix.f32();
  float* dm = d_matrix.f32();
  for (std::int64_t a = 0; a < taps; ++a) {
    const float* grad = d_out.tap(a);
    for (std::int64_t b = 0; b < taps; ++b) {
      const float* source = in.tap(b);
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (std::int64_t c = 0; c < in.channels; ++c) dot += grad[c] * source[c];
      dm[a * taps + b] += dot;
      const float weight = m[a * taps + b];
      float* target = d_in.tap(b);
#pragma omp simd
      for (std::int64_t c = 0; c < in.channels; ++c) target[c] += weight * grad[c];
    }
  }
  return d_in;
}

// How many steps lead from K_max down to kernel_size (its index in kernel_sizes).
std::size_t steps_to(std::span<const std::int64_t> kernel_sizes, std::int64_t kernel_size) {
  return to_size(std::find(kernel_sizes.begin(), kernel_sizes.end(), kernel_size) - kernel_sizes.begin());
}

KernelView<const float> weight_view(const Tensor& weight) { return {weight.f32(), weight.dim(0), weight.dim(2)}; }

// The input of every step taken (the centre window it transforms), recomputed from the weight.
std::vector<Kernel> step_inputs(const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                                std::span<const Tensor> transforms, std::size_t steps, std::int64_t channels) {
  std::vector<Kernel> inputs;
  KernelView<const float> current = weight_view(weight);
  Kernel output(0, channels);
  for (std::size_t step = 0; step < steps; ++step) {
    inputs.push_back(centre(current, kernel_sizes[step + 1], channels));
    if (step + 1 == steps) break;
    output = transform(transforms[step], inputs.back());
    current = output.view();
  }
  return inputs;
}

void check_effective(const char* op, const char* name, const Tensor& t, std::int64_t kernel_size,
                     std::int64_t channels) {
  checks::contiguous(op, name, t);
  checks::shape(op, name, t, Shape{kernel_size, kernel_size, channels});
}

}  // namespace

void check_elastic_kernel(const char* op, const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                          std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t channels) {
  checks::contiguous(op, "weight", weight);
  checks::rank(op, "weight", weight, 3);
  OFA_CHECK(weight.dim(0) == weight.dim(1), op, "weight must be [K_max,K_max,C_max], got ", weight.describe());
  OFA_CHECK(!kernel_sizes.empty() && kernel_sizes[0] == weight.dim(0), op, "kernel sizes ", list_str(kernel_sizes),
            " must start at the weight's K_max ", weight.dim(0));
  for (std::size_t i = 0; i < kernel_sizes.size(); ++i) {
    OFA_CHECK(kernel_sizes[i] >= 1 && kernel_sizes[i] % 2 == 1, op, "kernel sizes ", list_str(kernel_sizes),
              " must be odd and positive");
    OFA_CHECK(i == 0 || kernel_sizes[i] < kernel_sizes[i - 1], op, "kernel sizes ", list_str(kernel_sizes),
              " must be strictly descending");
  }
  OFA_CHECK(transforms.size() + 1 == kernel_sizes.size(), op, "kernel sizes ", list_str(kernel_sizes), " need ",
            kernel_sizes.size() - 1, " transform matrices, got ", transforms.size());
  for (std::size_t step = 0; step < transforms.size(); ++step) {
    const std::int64_t taps = kernel_sizes[step + 1] * kernel_sizes[step + 1];
    const std::string name = step_name("transform", kernel_sizes, step);
    checks::contiguous(op, name.c_str(), transforms[step]);
    checks::shape(op, name.c_str(), transforms[step], Shape{taps, taps});
  }
  OFA_CHECK(steps_to(kernel_sizes, kernel_size) < kernel_sizes.size(), op, "kernel size ", kernel_size,
            " is not one of the elastic kernel sizes ", list_str(kernel_sizes));
  checks::active_size(op, "channels", channels, weight.dim(2));
}

void elastic_kernel_forward(const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                            std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t channels,
                            Tensor& effective) {
  const char* op = "elastic_kernel_forward";
  const Device device = checks::common_device(op, {{"weight", &weight}, {"effective", &effective}});
  check_elastic_kernel(op, weight, kernel_sizes, transforms, kernel_size, channels);
  check_effective(op, "effective", effective, kernel_size, channels);
  if (device == Device::cuda)
    return on_cuda::elastic_kernel_forward(weight, kernel_sizes, transforms, kernel_size, channels, effective);
  const std::size_t steps = steps_to(kernel_sizes, kernel_size);
  std::vector<Kernel> inputs = step_inputs(weight, kernel_sizes, transforms, steps, channels);
  const Kernel result = steps == 0 ? centre(weight_view(weight), kernel_size, channels)
                                   : transform(transforms[steps - 1], inputs.back());
  std::copy(result.values.begin(), result.values.end(), effective.f32());
}

void elastic_kernel_backward(const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                             std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t channels,
                             const Tensor& d_effective, Tensor& dweight, std::span<Tensor> dtransforms) {
  const char* op = "elastic_kernel_backward";
  const Device device =
      checks::common_device(op, {{"weight", &weight}, {"d_effective", &d_effective}, {"dweight", &dweight}});
  check_elastic_kernel(op, weight, kernel_sizes, transforms, kernel_size, channels);
  check_effective(op, "d_effective", d_effective, kernel_size, channels);
  checks::contiguous(op, "dweight", dweight);
  checks::shape(op, "dweight", dweight, weight.shape());
  OFA_CHECK(dtransforms.size() == transforms.size(), op, "expected ", transforms.size(),
            " transform gradients (one per transform), got ", dtransforms.size());
  const std::size_t steps = steps_to(kernel_sizes, kernel_size);
  for (std::size_t step = 0; step < steps; ++step) {
    const std::string name = step_name("dtransform", kernel_sizes, step);
    checks::contiguous(op, name.c_str(), dtransforms[step]);
    checks::shape(op, name.c_str(), dtransforms[step], transforms[step].shape());
  }

  if (device == Device::cuda)
    return on_cuda::elastic_kernel_backward(weight, kernel_sizes, transforms, kernel_size, channels, d_effective,
                                            dweight, dtransforms);
  const std::vector<Kernel> inputs = step_inputs(weight, kernel_sizes, transforms, steps, channels);
  Kernel grad(kernel_size, channels);
  std::copy_n(d_effective.f32(), grad.values.size(), grad.values.begin());
  for (std::size_t step = steps; step-- > 0;) {
    Kernel d_input = transform_backward(transforms[step], inputs[step], grad, dtransforms[step]);
    if (step == 0) {
      grad = std::move(d_input);
      break;
    }
    // The step read only the centre window of the previous step's output; the rest of it gets no gradient.
    grad = Kernel(kernel_sizes[step], channels);
    add_to_centre(d_input, grad.mutable_view());
  }
  // grad is the gradient of the weight's centre window the chain read (the whole kernel at K_max).
  add_to_centre(grad, KernelView<float>{dweight.f32(), dweight.dim(0), dweight.dim(2)});
}

}  // namespace ofa
