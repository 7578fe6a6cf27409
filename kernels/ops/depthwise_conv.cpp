#include "kernels/ops/depthwise_conv.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/checks.h"
#include "kernels/ops/elastic_kernel.h"

namespace ofa {
namespace {

// The inner loops keep a tile of accumulators live across every tap, which the compiler only
// holds in registers when each accumulator is one named vector; hence the GCC/Clang vector
// extension over the contiguous channel axis rather than an `omp simd` loop over channels.
// The width follows the widest vector registers the build targets, so a portable (non-native)
// build gets SSE-sized vectors instead of AVX ones it would have to split.
#if defined(__AVX512F__)
constexpr std::int64_t kLanes = 16;
#elif defined(__AVX__)
constexpr std::int64_t kLanes = 8;
#else
constexpr std::int64_t kLanes = 4;
#endif
using Vec = float __attribute__((vector_size(kLanes * sizeof(float))));

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof(Vec));
  return v;
}

inline void store(float* p, const Vec& v) { std::memcpy(p, &v, sizeof(Vec)); }

constexpr std::int64_t round_up(std::int64_t value, std::int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

std::size_t to_size(std::int64_t n) { return static_cast<std::size_t>(n); }

// Zeroed scratch, 64-byte aligned like every Tensor, so whole-vector loads of the staged rows and
// packed taps below never straddle two cache lines.
Tensor scratch(std::int64_t floats) { return Tensor::zeros(Shape{floats}); }

// One depthwise correlation over an NHWC input with zeros outside it:
//   out[n, i, j, c] = sum_{u < taps_h, v < taps_w} in[n, i*stride + u - pad_top, j*stride + v - pad_left, c] * w[u, v, c]
// The forward pass is one, and so is each stride phase of the input gradient; the kernel gradient
// walks the forward one.
struct Correlation {
  std::int64_t batch, in_h, in_w, channels;
  std::int64_t out_h, out_w;
  std::int64_t taps_h, taps_w;
  std::int64_t stride, pad_top, pad_left;

  // Channels rounded up to whole vectors: the pixel stride of every staged buffer below.
  std::int64_t lanes() const { return round_up(channels, kLanes); }
  // Tap rows [first, first + count) of output row i read rows inside the input.
  std::int64_t first_tap_row(std::int64_t i) const { return std::clamp(pad_top - i * stride, std::int64_t{0}, taps_h); }
  std::int64_t tap_row_count(std::int64_t i) const {
    return std::max(std::int64_t{0}, std::min(taps_h, in_h + pad_top - i * stride) - first_tap_row(i));
  }
  std::int64_t input_row(std::int64_t i, std::int64_t tap_row) const { return i * stride + tap_row - pad_top; }
};

// Input rows are staged with `left` zero pixels before the image's and zeros after up to `width`,
// and with zero channels up to whole vectors, so the inner loops never test a bound: output column
// j, tap v of correlation g reads staged pixel j*stride + v + shift(g).
struct PaddedLayout {
  std::int64_t left, width;

  std::int64_t shift(const Correlation& g) const { return left - g.pad_left; }
};

// One layout that serves every correlation in `readers` (all over the same input).
PaddedLayout padded_layout(std::span<const Correlation> readers) {
  PaddedLayout layout{0, 0};
  for (const Correlation& g : readers) layout.left = std::max(layout.left, g.pad_left);
  layout.width = layout.left + readers.front().in_w;
  for (const Correlation& g : readers)
    layout.width = std::max(layout.width, layout.shift(g) + (g.out_w - 1) * g.stride + g.taps_w);
  return layout;
}

// The padded rows one thread has staged most recently, `capacity` of them in a ring. Consecutive
// output rows share all but `stride` input rows, so each input row is copied about once per thread.
class PaddedRowRing {
 public:
  PaddedRowRing(const float* source, std::int64_t rows_per_image, std::int64_t width, std::int64_t channels,
                const PaddedLayout& layout, std::int64_t capacity)
      : source_(source),
        rows_per_image_(rows_per_image),
        width_(width),
        channels_(channels),
        left_(layout.left),
        lanes_(round_up(channels, kLanes)),
        row_floats_(layout.width * lanes_),
        data_(scratch(capacity * row_floats_)),
        held_(to_size(capacity), -1) {}

  // Row r (inside the image) of image n, padded. Rows asked for together must lie within
  // `capacity` consecutive rows, so that they occupy distinct slots.
  const float* row(std::int64_t n, std::int64_t r) {
    const std::int64_t key = n * rows_per_image_ + r;
    const std::size_t slot = to_size(key % static_cast<std::int64_t>(held_.size()));
    float* staged = data_.f32() + static_cast<std::int64_t>(slot) * row_floats_;
    if (held_[slot] != key) {
      stage(source_ + key * width_ * channels_, staged + left_ * lanes_);
      held_[slot] = key;
    }
    return staged;
  }

 private:
  // Only the image's pixels and channels are written, so the padding stays zero.
  void stage(const float* src, float* dst) const {
    if (lanes_ == channels_) {
      std::memcpy(dst, src, to_size(width_ * channels_) * sizeof(float));
      return;
    }
    for (std::int64_t q = 0; q < width_; ++q)
      std::memcpy(dst + q * lanes_, src + q * channels_, to_size(channels_) * sizeof(float));
  }

  const float* source_;
  std::int64_t rows_per_image_, width_, channels_, left_, lanes_, row_floats_;
  Tensor data_;
  std::vector<std::int64_t> held_;
};

// Kernel index of tap t along one axis: first + step * t. The input gradient reads the kernel
// flipped (negative step) and subsampled by the stride.
struct TapAxis {
  std::int64_t first, step;
};

// The taps of a correlation, contiguous [taps_h, taps_w, lanes] with zero lanes past the channels.
Tensor pack_taps(const Tensor& kernel, const Correlation& g, TapAxis rows, TapAxis cols) {
  const std::int64_t lanes = g.lanes();
  Tensor packed = scratch(g.taps_h * g.taps_w * lanes);
  const float* k = kernel.f32();
  for (std::int64_t u = 0; u < g.taps_h; ++u)
    for (std::int64_t v = 0; v < g.taps_w; ++v) {
      const float* tap = k + (rows.first + rows.step * u) * kernel.stride(0) + (cols.first + cols.step * v) * kernel.stride(1);
      std::memcpy(packed.f32() + (u * g.taps_w + v) * lanes, tap, to_size(g.channels) * sizeof(float));
    }
  return packed;
}

// Hands each thread one contiguous range of [0, total) (so its row rings are reused across
// consecutive rows) together with its thread index; the split depends only on the thread count.
template <class Body>
void parallel_ranges(std::int64_t total, Body body) {
#pragma omp parallel
  {
    const std::int64_t threads = omp_get_num_threads();
    const std::int64_t thread = omp_get_thread_num();
    body(thread, total * thread / threads, total * (thread + 1) / threads);
  }
}

// Runs tile.operator()<T>(j) over columns [0, count): tiles of 16, then at most one each of 8, 4,
// 2, 1. Sixteen accumulators plus a tap vector fill half the AVX-512 register file.
template <class Tile>
void for_each_tile(std::int64_t count, Tile tile) {
  std::int64_t j = 0;
  for (; j + 16 <= count; j += 16) tile.template operator()<16>(j);
  if (j + 8 <= count) {
    tile.template operator()<8>(j);
    j += 8;
  }
  if (j + 4 <= count) {
    tile.template operator()<4>(j);
    j += 4;
  }
  if (j + 2 <= count) {
    tile.template operator()<2>(j);
    j += 2;
  }
  if (j < count) tile.template operator()<1>(j);
}

// Stores the first `count` lanes: the last lane block of a pixel whose channels are not whole
// vectors must not spill into the next pixel.
inline void store_lanes(float* p, const Vec& v, std::int64_t count) {
  if (count == kLanes)
    store(p, v);
  else
    std::memcpy(p, &v, to_size(count) * sizeof(float));
}

// T consecutive output pixels of one lane block: out[t] = sum over tap rows r and taps v of
// taps[r, v] * rows[r][offset + v*lanes + t*in_step]. A tap vector is loaded once per tile and
// every input load feeds one FMA straight from L1.
template <int T>
void correlate_tile(const float* const* rows, std::int64_t row_count, std::int64_t offset, const float* taps,
                    std::int64_t taps_w, std::int64_t lanes, std::int64_t in_step, float* out, std::int64_t out_step,
                    std::int64_t out_lanes) {
  Vec acc[T] = {};
  for (std::int64_t r = 0; r < row_count; ++r) {
    const float* in = rows[r] + offset;
    const float* w = taps + r * taps_w * lanes;
    for (std::int64_t v = 0; v < taps_w; ++v) {
      const Vec tap = load(w + v * lanes);
      const float* column = in + v * lanes;
      for (int t = 0; t < T; ++t) acc[t] += tap * load(column + t * in_step);
    }
  }
  for (int t = 0; t < T; ++t) store_lanes(out + t * out_step, acc[t], out_lanes);
}

// Output row i of correlation g, lane block by lane block so a block's slice of the staged rows
// stays in L1. rows[r] is the staged input row of tap row first_tap_row(i) + r; output pixel j
// goes to out + j * out_step.
void correlate_row(const Correlation& g, const PaddedLayout& layout, const float* const* rows, std::int64_t i,
                   const Tensor& taps, float* out, std::int64_t out_step) {
  const std::int64_t lanes = g.lanes(), shift = layout.shift(g), count = g.tap_row_count(i);
  const float* row_taps = taps.f32() + g.first_tap_row(i) * g.taps_w * lanes;
  for (std::int64_t block = 0; block < lanes; block += kLanes) {
    const std::int64_t out_lanes = std::min(kLanes, g.channels - block);
    for_each_tile(g.out_w, [&]<int T>(std::int64_t j) {
      correlate_tile<T>(rows, count, (j * g.stride + shift) * lanes + block, row_taps + block, g.taps_w, lanes,
                        g.stride * lanes, out + j * out_step + block, out_step, out_lanes);
    });
  }
}

// Points rows[r] at the staged input row of tap row first_tap_row(i) + r of output row i.
void gather_rows(const Correlation& g, PaddedRowRing& ring, std::int64_t n, std::int64_t i,
                 std::vector<const float*>& rows) {
  const std::int64_t first = g.first_tap_row(i), count = g.tap_row_count(i);
  for (std::int64_t r = 0; r < count; ++r) rows[to_size(r)] = ring.row(n, g.input_row(i, first + r));
}

// y = the correlation g of x (contiguous NHWC) with packed taps, y contiguous [batch, out_h, out_w,
// channels]. Each output is computed by one thread in a fixed order, so the result does not
// depend on the thread count.
void correlate(const Correlation& g, const float* x, const Tensor& taps, float* y) {
  const PaddedLayout layout = padded_layout({&g, 1});
  parallel_ranges(g.batch * g.out_h, [&](std::int64_t, std::int64_t begin, std::int64_t end) {
    PaddedRowRing ring(x, g.in_h, g.in_w, g.channels, layout, g.taps_h);
    std::vector<const float*> rows(to_size(g.taps_h));
    for (std::int64_t index = begin; index < end; ++index) {
      const std::int64_t n = index / g.out_h, i = index % g.out_h;
      gather_rows(g, ring, n, i, rows);
      correlate_row(g, layout, rows.data(), i, taps, y + index * g.out_w * g.channels, g.channels);
    }
  });
}

// dw[r, v] += sum over T consecutive output pixels t of dy[t] * rows[r][offset + v*lanes + t*in_step]
// for one lane block. The output gradients stay in registers across every tap; two partial sums
// halve the FMA dependency chain.
template <int T>
void weight_gradient_tile(const float* dy, const float* const* rows, std::int64_t row_count, std::int64_t offset,
                          std::int64_t taps_w, std::int64_t lanes, std::int64_t in_step, float* dw) {
  Vec grad[T];
  for (int t = 0; t < T; ++t) grad[t] = load(dy + t * lanes);
  for (std::int64_t r = 0; r < row_count; ++r) {
    const float* in = rows[r] + offset;
    float* w = dw + r * taps_w * lanes;
    for (std::int64_t v = 0; v < taps_w; ++v) {
      Vec sum[2] = {};
      const float* column = in + v * lanes;
      for (int t = 0; t < T; ++t) sum[t % 2] += grad[t] * load(column + t * in_step);
      store(w + v * lanes, load(w + v * lanes) + sum[0] + sum[1]);
    }
  }
}

// Adds output row i's share of the kernel gradient into the packed dw: rows as for correlate_row,
// dy the staged output-gradient row (pixel j at dy + j * lanes).
void weight_gradient_row(const Correlation& g, const PaddedLayout& layout, const float* const* rows, std::int64_t i,
                         const float* dy, float* dw) {
  const std::int64_t lanes = g.lanes(), shift = layout.shift(g), count = g.tap_row_count(i);
  float* row_dw = dw + g.first_tap_row(i) * g.taps_w * lanes;
  for (std::int64_t block = 0; block < lanes; block += kLanes)
    for_each_tile(g.out_w, [&]<int T>(std::int64_t j) {
      weight_gradient_tile<T>(dy + j * lanes + block, rows, count, (j * g.stride + shift) * lanes + block, g.taps_w,
                              lanes, g.stride * lanes, row_dw + block);
    });
}

// dx rows a, a + s, a + 2s, ... (a < s) meet only the kernel rows congruent to a + pad mod s, read
// against consecutive dy rows: a stride-1 correlation of dy with `count` taps, the kernel flipped
// from row `first` down in steps of s, padded by `pad`. The same holds for columns.
struct StridePhase {
  std::int64_t phase, count, first, pad;
};

StridePhase stride_phase(std::int64_t k, std::int64_t stride, std::int64_t phase) {
  const std::int64_t pad = k / 2;
  const std::int64_t lowest = (phase + pad) % stride;
  const std::int64_t count = lowest < k ? (k - lowest + stride - 1) / stride : 0;
  const std::int64_t offset = (phase + pad - lowest) / stride;
  return {phase, count, lowest + stride * (count - 1), count - 1 - offset};
}

// The dx pixels of one (row phase, column phase) pair, as a correlation of dy.
struct InputGradientPhase {
  StridePhase rows, cols;
  Correlation g;
  Tensor taps;
};

std::vector<InputGradientPhase> input_gradient_phases(const Correlation& forward, const Tensor& kernel) {
  const std::int64_t s = forward.stride, k = forward.taps_h;
  std::vector<InputGradientPhase> phases;
  for (std::int64_t a = 0; a < std::min(s, forward.in_h); ++a)
    for (std::int64_t b = 0; b < std::min(s, forward.in_w); ++b) {
      const StridePhase rows = stride_phase(k, s, a), cols = stride_phase(k, s, b);
      const Correlation g{forward.batch, forward.out_h, forward.out_w, forward.channels,
                          (forward.in_h - a + s - 1) / s, (forward.in_w - b + s - 1) / s,
                          rows.count, cols.count, 1, rows.pad, cols.pad};
      phases.push_back({rows, cols, g, pack_taps(kernel, g, {rows.first, -s}, {cols.first, -s})});
    }
  return phases;
}

// The backward walks dy rows: iteration (n, i) adds dy row i's share of the kernel gradient and
// writes dx rows i*s .. i*s + s - 1 in gather form, so x and dy stream from memory once, each dx
// row is written once by one thread, and nothing races.
struct BackwardPlan {
  Correlation forward;
  PaddedLayout x_layout, dy_layout;
  std::vector<InputGradientPhase> phases;
  // dy rows i + lowest .. i + lowest + dy_span - 1 are read in iteration i.
  std::int64_t lowest, dy_span;
};

BackwardPlan backward_plan(const Correlation& forward, const Tensor& kernel, bool with_dx) {
  BackwardPlan plan{forward, padded_layout({&forward, 1}), {}, {}, 0, 1};
  if (with_dx) plan.phases = input_gradient_phases(forward, kernel);
  // The kernel gradient reads dy pixel (i, j) itself: a 1x1 correlation without padding.
  std::vector<Correlation> dy_readers = {
      {forward.batch, forward.out_h, forward.out_w, forward.channels, forward.out_h, forward.out_w, 1, 1, 1, 0, 0}};
  std::int64_t highest = 0;
  for (const InputGradientPhase& phase : plan.phases) {
    dy_readers.push_back(phase.g);
    plan.lowest = std::min(plan.lowest, -phase.g.pad_top);
    highest = std::max(highest, phase.g.taps_h - 1 - phase.g.pad_top);
  }
  plan.dy_layout = padded_layout(dy_readers);
  plan.dy_span = highest - plan.lowest + 1;
  return plan;
}

// Adds every thread's packed kernel gradient into dkernel, in thread order.
void add_partials(const Correlation& g, const std::vector<Tensor>& partials, Tensor& dkernel) {
  const std::int64_t lanes = g.lanes();
  float* dk = dkernel.f32();
  for (const Tensor& partial : partials) {
    if (!partial.defined()) continue;
    for (std::int64_t u = 0; u < g.taps_h; ++u)
      for (std::int64_t v = 0; v < g.taps_w; ++v) {
        float* target = dk + u * dkernel.stride(0) + v * dkernel.stride(1);
        const float* source = partial.f32() + (u * g.taps_w + v) * lanes;
#pragma omp simd
        for (std::int64_t c = 0; c < g.channels; ++c) target[c] += source[c];
      }
  }
}

// Each thread sums its contiguous range of dy rows into its own packed kernel gradient; the
// partial sums are added in thread order, so dkernel is deterministic for a fixed thread count.
void backward(const BackwardPlan& plan, const float* x, const float* dy, float* dx, Tensor& dkernel) {
  const Correlation& g = plan.forward;
  const std::int64_t lanes = g.lanes(), s = g.stride;
  std::vector<Tensor> partials(to_size(omp_get_max_threads()));
  parallel_ranges(g.batch * g.out_h, [&](std::int64_t thread, std::int64_t begin, std::int64_t end) {
    Tensor& dw = partials[to_size(thread)];
    dw = scratch(g.taps_h * g.taps_w * lanes);
    PaddedRowRing x_ring(x, g.in_h, g.in_w, g.channels, plan.x_layout, g.taps_h);
    PaddedRowRing dy_ring(dy, g.out_h, g.out_w, g.channels, plan.dy_layout, plan.dy_span);
    std::vector<const float*> rows(to_size(std::max(g.taps_h, plan.dy_span)));
    for (std::int64_t index = begin; index < end; ++index) {
      const std::int64_t n = index / g.out_h, i = index % g.out_h;
      gather_rows(g, x_ring, n, i, rows);
      weight_gradient_row(g, plan.x_layout, rows.data(), i, dy_ring.row(n, i) + plan.dy_layout.left * lanes, dw.f32());
      for (const InputGradientPhase& phase : plan.phases) {
        if (i >= phase.g.out_h) continue;
        gather_rows(phase.g, dy_ring, n, i, rows);
        float* dx_row = dx + ((n * g.in_h + i * s + phase.rows.phase) * g.in_w + phase.cols.phase) * g.channels;
        correlate_row(phase.g, plan.dy_layout, rows.data(), i, phase.taps, dx_row, s * g.channels);
      }
    }
  });
  add_partials(g, partials, dkernel);
}

Correlation forward_correlation(const Tensor& x, std::int64_t k, std::int64_t stride) {
  const std::int64_t pad = k / 2;
  return {x.dim(0), x.dim(1), x.dim(2), x.dim(3), (x.dim(1) - 1) / stride + 1, (x.dim(2) - 1) / stride + 1,
          k,        k,        stride,   pad,      pad};
}

Shape output_shape(const Correlation& g) { return Shape{g.batch, g.out_h, g.out_w, g.channels}; }

void check_kernel_view(const char* op, const char* name, const Tensor& kernel) {
  checks::f32(op, name, kernel);
  checks::rank(op, name, kernel, 3);
  OFA_CHECK(kernel.dim(0) % 2 == 1 && kernel.dim(1) == kernel.dim(0), op, name,
            " must be [k,k,c] with an odd k, got ", kernel.describe());
  OFA_CHECK(kernel.dim(2) <= 1 || kernel.stride(2) == 1, op, name, " channels must be contiguous, got channel stride ",
            kernel.stride(2));
}

// Validates x, kernel and stride and returns the forward geometry.
Correlation check_depthwise(const char* op, const Tensor& x, const Tensor& kernel, std::int64_t stride) {
  checks::contiguous(op, "x", x);
  checks::rank(op, "x", x, 4);
  OFA_CHECK(x.numel() > 0, op, "x must not be empty, got ", x.describe());
  check_kernel_view(op, "kernel", kernel);
  OFA_CHECK(kernel.dim(2) == x.dim(3), op, "kernel channels ", kernel.dim(2), " must equal x channels ", x.dim(3));
  OFA_CHECK(stride >= 1, op, "stride must be >= 1, got ", stride);
  return forward_correlation(x, kernel.dim(0), stride);
}

// The kernel to convolve with: the weight prefix in place at K_max, else the effective kernel.
Tensor active_kernel(const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                     std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t channels) {
  if (kernel_size == weight.dim(0)) return weight.prefix(Shape{kernel_size, kernel_size, channels});
  Tensor effective = Tensor::empty(Shape{kernel_size, kernel_size, channels});
  elastic_kernel_forward(weight, kernel_sizes, transforms, kernel_size, channels, effective);
  return effective;
}

}  // namespace

void depthwise_conv_forward(const Tensor& x, const Tensor& kernel, std::int64_t stride, Tensor& y) {
  const char* op = "depthwise_conv_forward";
  const Device device = checks::common_device(op, {{"x", &x}, {"kernel", &kernel}, {"y", &y}});
  const Correlation g = check_depthwise(op, x, kernel, stride);
  checks::contiguous(op, "y", y);
  checks::shape(op, "y", y, output_shape(g));
  if (device == Device::cuda) return on_cuda::depthwise_conv_forward(x, kernel, stride, y);
  correlate(g, x.f32(), pack_taps(kernel, g, {0, 1}, {0, 1}), y.f32());
}

void depthwise_conv_backward(const Tensor& x, const Tensor& kernel, std::int64_t stride, const Tensor& dy, Tensor* dx,
                             Tensor& dkernel) {
  const char* op = "depthwise_conv_backward";
  const Device device =
      checks::common_device(op, {{"x", &x}, {"kernel", &kernel}, {"dy", &dy}, {"dx", dx}, {"dkernel", &dkernel}});
  const Correlation g = check_depthwise(op, x, kernel, stride);
  checks::contiguous(op, "dy", dy);
  checks::shape(op, "dy", dy, output_shape(g));
  check_kernel_view(op, "dkernel", dkernel);
  checks::shape(op, "dkernel", dkernel, kernel.shape());
  if (dx != nullptr) {
    checks::contiguous(op, "dx", *dx);
    checks::shape(op, "dx", *dx, x.shape());
  }
  if (device == Device::cuda) return on_cuda::depthwise_conv_backward(x, kernel, stride, dy, dx, dkernel);
  backward(backward_plan(g, kernel, dx != nullptr), x.f32(), dy.f32(), dx != nullptr ? dx->f32() : nullptr, dkernel);
}

void elastic_depthwise_conv_forward(const Tensor& x, const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                                    std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t stride,
                                    Tensor& y) {
  const char* op = "elastic_depthwise_conv_forward";
  const Device device = checks::common_device(op, {{"x", &x}, {"weight", &weight}, {"y", &y}});
  checks::rank(op, "x", x, 4);
  check_elastic_kernel(op, weight, kernel_sizes, transforms, kernel_size, x.dim(3));
  if (device == Device::cuda)
    return on_cuda::elastic_depthwise_conv_forward(x, weight, kernel_sizes, transforms, kernel_size, stride, y);
  depthwise_conv_forward(x, active_kernel(weight, kernel_sizes, transforms, kernel_size, x.dim(3)), stride, y);
}

void elastic_depthwise_conv_backward(const Tensor& x, const Tensor& weight, std::span<const std::int64_t> kernel_sizes,
                                     std::span<const Tensor> transforms, std::int64_t kernel_size, std::int64_t stride,
                                     const Tensor& dy, Tensor* dx, Tensor& dweight, std::span<Tensor> dtransforms) {
  const char* op = "elastic_depthwise_conv_backward";
  const Device device =
      checks::common_device(op, {{"x", &x}, {"weight", &weight}, {"dy", &dy}, {"dx", dx}, {"dweight", &dweight}});
  checks::rank(op, "x", x, 4);
  const std::int64_t channels = x.dim(3);
  check_elastic_kernel(op, weight, kernel_sizes, transforms, kernel_size, channels);
  checks::contiguous(op, "dweight", dweight);
  checks::shape(op, "dweight", dweight, weight.shape());
  if (device == Device::cuda)
    return on_cuda::elastic_depthwise_conv_backward(x, weight, kernel_sizes, transforms, kernel_size, stride, dy, dx,
                                                    dweight, dtransforms);
  const Tensor kernel = active_kernel(weight, kernel_sizes, transforms, kernel_size, channels);
  if (kernel_size == weight.dim(0)) {
    Tensor dkernel = dweight.prefix(kernel.shape());
    depthwise_conv_backward(x, kernel, stride, dy, dx, dkernel);
    return;
  }
  Tensor d_effective = Tensor::zeros(kernel.shape());
  depthwise_conv_backward(x, kernel, stride, dy, dx, d_effective);
  elastic_kernel_backward(weight, kernel_sizes, transforms, kernel_size, channels, d_effective, dweight, dtransforms);
}

}  // namespace ofa
