#include "distill/data/augmentation.h"

#include <algorithm>
#include <cmath>

#include "distill/data/random_streams.h"
#include "kernels/error.h"
#include "kernels/random.h"

namespace ofa {
namespace {

// Draw slots of one sample: the flip, the padded offsets, and four per random-resized attempt.
constexpr std::uint64_t kFlipSlot = 0;
constexpr std::uint64_t kPaddedSlot = 1;
constexpr std::uint64_t kResizedSlot = 3;
constexpr int kResizedAttempts = 10;  // torchvision's RandomResizedCrop
constexpr std::uint64_t kSlotsPerSample = 64;
static_assert(kResizedSlot + 4 * kResizedAttempts <= kSlotsPerSample);

class Draws {
 public:
  explicit Draws(const AugmentationKey& key)
      : seed_(key.seed),
        stream_(data_streams::augmentation(key.epoch)),
        base_(static_cast<std::uint64_t>(key.sample) * kSlotsPerSample) {}

  double uniform(std::uint64_t slot) const { return uniform01(seed_, stream_, base_ + slot); }
  double uniform(std::uint64_t slot, double lo, double hi) const { return lo + uniform(slot) * (hi - lo); }
  // An integer in [lo, hi], both included.
  std::int64_t integer(std::uint64_t slot, std::int64_t lo, std::int64_t hi) const {
    const auto offset = static_cast<std::int64_t>(uniform(slot) * static_cast<double>(hi - lo + 1));
    return lo + std::min(offset, hi - lo);
  }

 private:
  std::uint64_t seed_, stream_, base_;
};

// torchvision's RandomResizedCrop.get_params: ten tries at a window of random area and aspect
// ratio that fits; else the whole image clamped to the ratio range, centred.
CropWindow random_resized_window(const Augmentation& a, std::int64_t height, std::int64_t width, const Draws& draws) {
  const double area = static_cast<double>(height * width);
  const double log_min_ratio = std::log(a.min_ratio), log_max_ratio = std::log(a.max_ratio);
  for (int attempt = 0; attempt < kResizedAttempts; ++attempt) {
    const std::uint64_t slot = kResizedSlot + 4 * static_cast<std::uint64_t>(attempt);
    const double target = area * draws.uniform(slot, a.min_scale, a.max_scale);
    const double ratio = std::exp(draws.uniform(slot + 1, log_min_ratio, log_max_ratio));
    const auto w = static_cast<std::int64_t>(std::lround(std::sqrt(target * ratio)));
    const auto h = static_cast<std::int64_t>(std::lround(std::sqrt(target / ratio)));
    if (w > 0 && w <= width && h > 0 && h <= height)
      return {draws.integer(slot + 2, 0, height - h), draws.integer(slot + 3, 0, width - w), h, w, false};
  }
  const double ratio = static_cast<double>(width) / static_cast<double>(height);
  std::int64_t w = width, h = height;
  if (ratio < a.min_ratio) h = std::max<std::int64_t>(1, std::lround(static_cast<double>(w) / a.min_ratio));
  if (ratio > a.max_ratio) w = std::max<std::int64_t>(1, std::lround(static_cast<double>(h) * a.max_ratio));
  return {(height - h) / 2, (width - w) / 2, h, w, false};
}

// Source taps of each output pixel along one axis, weights normalised over the window and
// the padding around it, taps in the padding then dropped (they read zero).
struct AxisTaps {
  std::vector<std::int64_t> first;  // first source index of output o
  std::vector<std::int64_t> count;
  std::vector<float> weights;  // [out, stride]
  std::int64_t stride = 0;
};

AxisTaps axis_taps(std::int64_t start, std::int64_t length, std::int64_t source, std::int64_t out) {
  const double scale = static_cast<double>(length) / static_cast<double>(out);
  const double support = std::max(scale, 1.0);  // the triangle's radius, widened when shrinking
  const std::int64_t lo = std::min<std::int64_t>(0, start), hi = std::max(source, start + length);
  AxisTaps taps;
  taps.stride = 2 * static_cast<std::int64_t>(std::ceil(support)) + 1;
  taps.first.resize(static_cast<std::size_t>(out));
  taps.count.resize(static_cast<std::size_t>(out));
  taps.weights.assign(static_cast<std::size_t>(out * taps.stride), 0.0f);
  std::vector<double> w(static_cast<std::size_t>(taps.stride));
  for (std::int64_t o = 0; o < out; ++o) {
    const double center = static_cast<double>(start) + (static_cast<double>(o) + 0.5) * scale;
    const std::int64_t begin = std::max(lo, static_cast<std::int64_t>(std::floor(center - support + 0.5)));
    const std::int64_t end = std::min(hi, static_cast<std::int64_t>(std::floor(center + support + 0.5)));
    double total = 0.0;
    for (std::int64_t x = begin; x < end; ++x) {
      const double distance = std::abs((static_cast<double>(x) - center + 0.5) / support);
      w[static_cast<std::size_t>(x - begin)] = std::max(0.0, 1.0 - distance);
      total += w[static_cast<std::size_t>(x - begin)];
    }
    const std::int64_t first = std::max<std::int64_t>(begin, 0), last = std::min(end, source);
    taps.first[static_cast<std::size_t>(o)] = first;
    taps.count[static_cast<std::size_t>(o)] = std::max<std::int64_t>(0, last - first);
    for (std::int64_t x = first; x < last; ++x)
      taps.weights[static_cast<std::size_t>(o * taps.stride + x - first)] =
          static_cast<float>(w[static_cast<std::size_t>(x - begin)] / total);
  }
  return taps;
}

}  // namespace

void check_augmentation(const Augmentation& a) {
  OFA_CHECK(a.padding >= 0, "augmentation", "padding is ", a.padding, ", expected >= 0");
  OFA_CHECK(a.min_scale > 0.0f && a.min_scale <= a.max_scale && a.max_scale <= 1.0f, "augmentation", "scale range [",
            a.min_scale, ", ", a.max_scale, "] must satisfy 0 < min <= max <= 1");
  OFA_CHECK(a.min_ratio > 0.0f && a.min_ratio <= a.max_ratio, "augmentation", "aspect ratio range [", a.min_ratio, ", ",
            a.max_ratio, "] must satisfy 0 < min <= max");
  OFA_CHECK(a.center_fraction > 0.0f && a.center_fraction <= 1.0f, "augmentation", "center_fraction is ",
            a.center_fraction, ", expected a value in (0, 1]");
}

void check_normalization(const Normalization& n, std::int64_t channels) {
  OFA_CHECK(
      static_cast<std::int64_t>(n.mean.size()) == channels && static_cast<std::int64_t>(n.stddev.size()) == channels,
      "normalization", "has ", n.mean.size(), " means and ", n.stddev.size(), " standard deviations for ", channels,
      " channels, expected one of each per channel");
  for (const float s : n.stddev) OFA_CHECK(s > 0.0f, "normalization", "standard deviation ", s, " must be positive");
}

CropWindow choose_crop(const Augmentation& a, std::int64_t height, std::int64_t width, const AugmentationKey& key) {
  const Draws draws(key);
  CropWindow window;
  switch (a.crop) {
    case CropMode::padded:
      window = {draws.integer(kPaddedSlot, -a.padding, a.padding),
                draws.integer(kPaddedSlot + 1, -a.padding, a.padding), height, width, false};
      break;
    case CropMode::random_resized:
      window = random_resized_window(a, height, width, draws);
      break;
    case CropMode::center: {
      const std::int64_t side = std::max<std::int64_t>(
          1, std::lround(static_cast<double>(a.center_fraction) * static_cast<double>(std::min(height, width))));
      window = {(height - side) / 2, (width - side) / 2, side, side, false};
      break;
    }
  }
  window.flip = a.flip && draws.uniform(kFlipSlot) < 0.5;
  return window;
}

void crop_resize_normalize(const ImageView& image, const CropWindow& window, std::int64_t resolution,
                           const Normalization& normalization, float* out) {
  OFA_CHECK(resolution > 0, "crop_resize_normalize", "resolution is ", resolution, ", expected > 0");
  OFA_CHECK(window.height > 0 && window.width > 0, "crop_resize_normalize", "empty crop window ", window.height, "x",
            window.width);
  const std::int64_t channels = image.channels;
  const AxisTaps rows = axis_taps(window.top, window.height, image.height, resolution);
  const AxisTaps cols = axis_taps(window.left, window.width, image.width, resolution);

  // Horizontal pass over the source rows the vertical taps touch, then the vertical pass.
  std::int64_t row_begin = image.height, row_end = 0;
  for (std::int64_t o = 0; o < resolution; ++o) {
    const auto i = static_cast<std::size_t>(o);
    if (rows.count[i] == 0) continue;
    row_begin = std::min(row_begin, rows.first[i]);
    row_end = std::max(row_end, rows.first[i] + rows.count[i]);
  }
  const std::int64_t line = resolution * channels;
  thread_local std::vector<float> horizontal;
  horizontal.assign(static_cast<std::size_t>(std::max<std::int64_t>(0, row_end - row_begin) * line), 0.0f);
  for (std::int64_t y = row_begin; y < row_end; ++y) {
    const std::uint8_t* src = image.pixels + y * image.width * channels;
    float* dst = horizontal.data() + (y - row_begin) * line;
    for (std::int64_t o = 0; o < resolution; ++o) {
      const auto i = static_cast<std::size_t>(o);
      const float* w = cols.weights.data() + o * cols.stride;
      const std::uint8_t* s = src + cols.first[i] * channels;
      for (std::int64_t k = 0; k < cols.count[i]; ++k)
        for (std::int64_t c = 0; c < channels; ++c)
          dst[o * channels + c] += w[k] * static_cast<float>(s[k * channels + c]);
    }
  }

  std::vector<float> scale(static_cast<std::size_t>(channels)), shift(static_cast<std::size_t>(channels));
  for (std::size_t c = 0; c < scale.size(); ++c) {
    scale[c] = 1.0f / (255.0f * normalization.stddev[c]);
    shift[c] = -normalization.mean[c] / normalization.stddev[c];
  }
  std::vector<float> row(static_cast<std::size_t>(line));
  for (std::int64_t o = 0; o < resolution; ++o) {
    const auto i = static_cast<std::size_t>(o);
    std::fill(row.begin(), row.end(), 0.0f);
    const float* w = rows.weights.data() + o * rows.stride;
    for (std::int64_t k = 0; k < rows.count[i]; ++k) {
      const float* src = horizontal.data() + (rows.first[i] + k - row_begin) * line;
      for (std::int64_t j = 0; j < line; ++j) row[static_cast<std::size_t>(j)] += w[k] * src[j];
    }
    float* dst = out + o * line;
    for (std::int64_t x = 0; x < resolution; ++x) {
      const std::int64_t to = window.flip ? resolution - 1 - x : x;
      for (std::int64_t c = 0; c < channels; ++c)
        dst[to * channels + c] = row[static_cast<std::size_t>(x * channels + c)] * scale[static_cast<std::size_t>(c)] +
                                 shift[static_cast<std::size_t>(c)];
    }
  }
}

void augment_image(const ImageView& image, const Augmentation& augmentation, const Normalization& normalization,
                   std::int64_t resolution, const AugmentationKey& key, float* out) {
  crop_resize_normalize(image, choose_crop(augmentation, image.height, image.width, key), resolution, normalization,
                        out);
}

}  // namespace ofa
