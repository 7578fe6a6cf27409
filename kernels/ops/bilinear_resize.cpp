#include "kernels/ops/bilinear_resize.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/checks.h"

namespace ofa {
namespace {

struct ResizeSizes {
  std::int64_t batch, channels;
  std::int64_t in_h, in_w, out_h, out_w;
};

// `source` is the full-resolution side (x or dx), `resized` the Ho x Wo side (y or dy).
ResizeSizes check_resize(const char* op, const char* source_name, const Tensor& source, const char* resized_name,
                         const Tensor& resized) {
  checks::contiguous(op, source_name, source);
  checks::contiguous(op, resized_name, resized);
  checks::rank(op, source_name, source, 4);
  checks::rank(op, resized_name, resized, 4);
  OFA_CHECK(source.dim(0) == resized.dim(0) && source.dim(3) == resized.dim(3), op, resized_name,
            " must have the batch and channels of ", source_name, " ", source.shape().str(), ", got ",
            resized.shape().str());
  OFA_CHECK(source.dim(1) >= 1 && source.dim(2) >= 1 && resized.dim(1) >= 1 && resized.dim(2) >= 1, op,
            "spatial sizes must be >= 1, got ", source_name, " ", source.shape().str(), " and ", resized_name, " ",
            resized.shape().str());
  return {source.dim(0), source.dim(3), source.dim(1), source.dim(2), resized.dim(1), resized.dim(2)};
}

// The two source indices one output index blends along an axis, and their weights.
struct Tap {
  std::int64_t lo, hi;
  float w_lo, w_hi;
};

// PyTorch's source index and weights with its exact precisions (checked bit for bit against
// torch 1.13.1's weights on 86 size pairs): the scale in float, the source coordinate and
// fraction in double, the fraction rounded to float and its complement taken in float.
std::vector<Tap> axis_taps(std::int64_t in, std::int64_t out) {
  const double scale = static_cast<double>(static_cast<float>(in) / static_cast<float>(out));
  std::vector<Tap> taps(static_cast<std::size_t>(out));
  for (std::int64_t o = 0; o < out; ++o) {
    const double source = std::max(0.0, scale * (static_cast<double>(o) + 0.5) - 0.5);
    const std::int64_t lo = std::min(static_cast<std::int64_t>(source), in - 1);
    const float frac = static_cast<float>(std::clamp(source - static_cast<double>(lo), 0.0, 1.0));
    taps[static_cast<std::size_t>(o)] = {lo, lo < in - 1 ? lo + 1 : lo, 1.0f - frac, frac};
  }
  return taps;
}

// The column taps expanded to every element (ox * C + c) of an output row, so the horizontal
// pass is one flat loop over the row whatever C is (images have C = 3, too few to vectorise
// over alone).
struct RowTaps {
  std::vector<std::int64_t> lo, hi;  // element offsets into a full-width row
  std::vector<float> w_lo, w_hi;
};

RowTaps row_taps(const std::vector<Tap>& cols, std::int64_t channels) {
  RowTaps taps;
  for (const Tap& col : cols)
    for (std::int64_t c = 0; c < channels; ++c) {
      taps.lo.push_back(col.lo * channels + c);
      taps.hi.push_back(col.hi * channels + c);
      taps.w_lo.push_back(col.w_lo);
      taps.w_hi.push_back(col.w_hi);
    }
  return taps;
}

// One output row that reads a given input row, and with what weight.
struct RowReader {
  std::int64_t out;
  float weight;
};

// The transpose of the row taps: for every input row, the output rows that read it. This
// turns the backward's scatter across rows into a gather, so each dx row has one writer.
std::vector<std::vector<RowReader>> readers_per_input_row(const std::vector<Tap>& rows, std::int64_t in) {
  std::vector<std::vector<RowReader>> readers(static_cast<std::size_t>(in));
  for (std::size_t o = 0; o < rows.size(); ++o) {
    const Tap& tap = rows[o];
    readers[static_cast<std::size_t>(tap.lo)].push_back({static_cast<std::int64_t>(o), tap.w_lo});
    readers[static_cast<std::size_t>(tap.hi)].push_back({static_cast<std::int64_t>(o), tap.w_hi});
  }
  return readers;
}

// out = w_lo * top + w_hi * bottom over a row: the vertical pass.
void blend_rows(const float* top, const float* bottom, const Tap& row, std::int64_t count, float* out) {
#pragma omp simd
  for (std::int64_t i = 0; i < count; ++i) out[i] = row.w_lo * top[i] + row.w_hi * bottom[i];
}

// The horizontal pass: each output element blends two elements of a source row.
void interpolate_row(const float* source, const RowTaps& taps, float* out) {
  const std::size_t count = taps.lo.size();
#pragma omp simd
  for (std::size_t j = 0; j < count; ++j)
    out[j] = taps.w_lo[j] * source[taps.lo[j]] + taps.w_hi[j] * source[taps.hi[j]];
}

// The adjoint of interpolate_row, added into dx_row; safe because one thread owns the row.
void scatter_row(const float* grad, const RowTaps& taps, float* dx_row) {
  const std::size_t count = taps.lo.size();
  for (std::size_t j = 0; j < count; ++j) {
    dx_row[taps.lo[j]] += taps.w_lo[j] * grad[j];
    dx_row[taps.hi[j]] += taps.w_hi[j] * grad[j];
  }
}

void add_scaled(const float* source, float weight, std::int64_t count, float* out) {
#pragma omp simd
  for (std::int64_t i = 0; i < count; ++i) out[i] += weight * source[i];
}

}  // namespace

void bilinear_resize_forward(const Tensor& x, Tensor& y) {
  const Device device = checks::common_device("bilinear_resize_forward", {{"x", &x}, {"y", &y}});
  const ResizeSizes s = check_resize("bilinear_resize_forward", "x", x, "y", y);
  if (device == Device::cuda) return on_cuda::bilinear_resize_forward(x, y);
  const std::vector<Tap> rows = axis_taps(s.in_h, s.out_h);
  const RowTaps cols = row_taps(axis_taps(s.in_w, s.out_w), s.channels);
  const float* src = x.f32();
  float* dst = y.f32();
  const std::int64_t in_row = s.in_w * s.channels;
  const std::int64_t out_row = s.out_w * s.channels;

  // Horizontal pass first, then vertical: PyTorch's (NCHW) order of operations, so the output
  // is bit-identical to F.interpolate's, not just equal to rounding.
#pragma omp parallel
  {
    std::vector<float> top(static_cast<std::size_t>(out_row)), bottom(static_cast<std::size_t>(out_row));
#pragma omp for collapse(2) schedule(static)
    for (std::int64_t n = 0; n < s.batch; ++n)
      for (std::int64_t oy = 0; oy < s.out_h; ++oy) {
        const Tap& row = rows[static_cast<std::size_t>(oy)];
        interpolate_row(src + (n * s.in_h + row.lo) * in_row, cols, top.data());
        interpolate_row(src + (n * s.in_h + row.hi) * in_row, cols, bottom.data());
        blend_rows(top.data(), bottom.data(), row, out_row, dst + (n * s.out_h + oy) * out_row);
      }
  }
}

void bilinear_resize_backward(const Tensor& dy, Tensor& dx) {
  const Device device = checks::common_device("bilinear_resize_backward", {{"dy", &dy}, {"dx", &dx}});
  const ResizeSizes s = check_resize("bilinear_resize_backward", "dx", dx, "dy", dy);
  if (device == Device::cuda) return on_cuda::bilinear_resize_backward(dy, dx);
  const auto row_readers = readers_per_input_row(axis_taps(s.in_h, s.out_h), s.in_h);
  const RowTaps cols = row_taps(axis_taps(s.in_w, s.out_w), s.channels);
  const float* grad = dy.f32();
  float* dst = dx.f32();
  const std::int64_t in_row = s.in_w * s.channels;
  const std::int64_t out_row = s.out_w * s.channels;

#pragma omp parallel
  {
    std::vector<float> combined(static_cast<std::size_t>(out_row));
#pragma omp for collapse(2) schedule(static)
    for (std::int64_t n = 0; n < s.batch; ++n)
      for (std::int64_t iy = 0; iy < s.in_h; ++iy) {
        // Sum the dy rows that read this input row first, so the horizontal adjoint runs once per row.
        std::fill(combined.begin(), combined.end(), 0.0f);
        for (const RowReader& reader : row_readers[static_cast<std::size_t>(iy)])
          add_scaled(grad + (n * s.out_h + reader.out) * out_row, reader.weight, out_row, combined.data());
        float* dx_row = dst + (n * s.in_h + iy) * in_row;
        std::fill(dx_row, dx_row + in_row, 0.0f);
        scatter_row(combined.data(), cols, dx_row);
      }
  }
}

}  // namespace ofa
