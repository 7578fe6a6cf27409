#pragma once

#include <cstddef>
#include <random>
#include <vector>

#include "kernels/cuda/demo/depthwise_conv.cuh"
#include "tests/cuda/device_buffer.h"

// The demonstration kernels' inputs, device round trips and plain CPU loops, shared by the
// emulated tests and the GPU tests, so both compilers run the same cases.

namespace ofa::cuda::testing {

inline std::vector<float> random_floats(std::size_t count, unsigned seed, float low = -1.0f, float high = 1.0f) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(low, high);
  std::vector<float> values(count);
  for (float& v : values) v = uniform(generator);
  return values;
}

struct GemmShape {
  int m, n, k;
};

// Runs `gemm(a, b, c)` (a host wrapper bound to a launcher and the shape) on device copies.
template <class Gemm>
std::vector<float> run_gemm(const GemmShape& s, const std::vector<float>& a, const std::vector<float>& b, Gemm gemm) {
  const DeviceBuffer<float> da(a), db(b), dc(std::size_t(s.m) * std::size_t(s.n));
  gemm(da.get(), db.get(), dc.get());
  return dc.to_host();
}

inline std::vector<double> reference_gemm(const GemmShape& s, const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<double> c(std::size_t(s.m) * std::size_t(s.n), 0.0);
  for (int i = 0; i < s.m; ++i)
    for (int j = 0; j < s.n; ++j)
      for (int p = 0; p < s.k; ++p)
        c[std::size_t(i * s.n + j)] += double(a[std::size_t(i * s.k + p)]) * double(b[std::size_t(p * s.n + j)]);
  return c;
}

// Runs `sum(x, total)`, which adds x's sum to the zeroed *total.
template <class Sum>
float run_sum(const std::vector<float>& x, Sum sum) {
  const DeviceBuffer<float> dx(x), total(1);
  check_cuda(cudaMemset(total.get(), 0, sizeof(float)), "cudaMemset");
  sum(dx.get(), total.get());
  return total.to_host()[0];
}

inline double reference_sum(const std::vector<float>& x) {
  double total = 0;
  for (float v : x) total += double(v);
  return total;
}

inline std::size_t input_size(const demo::DepthwiseShape& s) {
  return std::size_t(s.batch) * std::size_t(s.height) * std::size_t(s.width) * std::size_t(s.channels);
}

inline std::size_t output_size(const demo::DepthwiseShape& s) {
  return std::size_t(s.batch) * std::size_t(s.out_height()) * std::size_t(s.out_width()) * std::size_t(s.channels);
}

// Runs `conv(x, w, y)` with weights [kernel, kernel, channels].
template <class Conv>
std::vector<float> run_depthwise(const demo::DepthwiseShape& s, const std::vector<float>& x,
                                 const std::vector<float>& w, Conv conv) {
  const DeviceBuffer<float> dx(x), dw(w), dy(output_size(s));
  conv(dx.get(), dw.get(), dy.get());
  return dy.to_host();
}

inline std::vector<double> reference_depthwise(const demo::DepthwiseShape& s, const std::vector<float>& x,
                                               const std::vector<float>& w) {
  std::vector<double> y;
  y.reserve(output_size(s));
  const int pad = s.kernel / 2;
  for (int n = 0; n < s.batch; ++n)
    for (int i = 0; i < s.out_height(); ++i)
      for (int j = 0; j < s.out_width(); ++j)
        for (int c = 0; c < s.channels; ++c) {
          double sum = 0;
          for (int u = 0; u < s.kernel; ++u)
            for (int v = 0; v < s.kernel; ++v) {
              const int ih = i * s.stride + u - pad, iw = j * s.stride + v - pad;
              if (ih < 0 || ih >= s.height || iw < 0 || iw >= s.width) continue;
              sum += double(x[std::size_t(((n * s.height + ih) * s.width + iw) * s.channels + c)]) *
                     double(w[std::size_t((u * s.kernel + v) * s.channels + c)]);
            }
          y.push_back(sum);
        }
  return y;
}

}  // namespace ofa::cuda::testing
