#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "distill/data/augmentation.h"
#include "tests/distill/data_fixtures.h"

namespace ofa {
namespace {

using testing::expect_error;
using testing::pattern;

// Normalisation that leaves pixel values as they are, so outputs read as 0..255.
const Normalization kIdentity1{{0.0f}, {1.0f / 255.0f}};
const Normalization kIdentity3{{0.0f, 0.0f, 0.0f}, {1.0f / 255.0f, 1.0f / 255.0f, 1.0f / 255.0f}};

struct Picture {
  std::int64_t height, width, channels;
  std::vector<std::uint8_t> pixels;
  ImageView view() const { return {pixels.data(), height, width, channels}; }
  float at(std::int64_t y, std::int64_t x, std::int64_t c) const {
    if (y < 0 || y >= height || x < 0 || x >= width) return 0.0f;
    return pixels[static_cast<std::size_t>((y * width + x) * channels + c)];
  }
};

Picture picture(std::int64_t h, std::int64_t w, std::int64_t c) { return {h, w, c, pattern(h, w, c, 3)}; }

std::vector<float> run(const Picture& p, const CropWindow& window, std::int64_t r, const Normalization& n) {
  std::vector<float> out(static_cast<std::size_t>(r * r * p.channels));
  crop_resize_normalize(p.view(), window, r, n, out.data());
  return out;
}

TEST(AugmentationTest, UnscaledWindowIsAnExactShiftWithZeroPadding) {
  const Picture p = picture(28, 28, 1);
  const CropWindow window{-3, 2, 28, 28, false};
  const std::vector<float> out = run(p, window, 28, kIdentity1);
  for (std::int64_t y = 0; y < 28; ++y)
    for (std::int64_t x = 0; x < 28; ++x) ASSERT_EQ(out[static_cast<std::size_t>(y * 28 + x)], p.at(y - 3, x + 2, 0));
}

TEST(AugmentationTest, FlipMirrorsColumns) {
  const Picture p = picture(6, 5, 3);
  const std::vector<float> plain = run(p, {0, 0, 6, 5, false}, 5, kIdentity3);
  const std::vector<float> mirrored = run(p, {0, 0, 6, 5, true}, 5, kIdentity3);
  for (std::int64_t y = 0; y < 5; ++y)
    for (std::int64_t x = 0; x < 5; ++x)
      for (std::int64_t c = 0; c < 3; ++c)
        EXPECT_EQ(mirrored[static_cast<std::size_t>((y * 5 + x) * 3 + c)],
                  plain[static_cast<std::size_t>((y * 5 + 4 - x) * 3 + c)]);
}

TEST(AugmentationTest, NormalisesPerChannel) {
  const Picture p{1, 1, 3, {255, 0, 51}};
  const Normalization n{{0.5f, 0.25f, 0.1f}, {0.5f, 0.25f, 0.2f}};
  const std::vector<float> out = run(p, {0, 0, 1, 1, false}, 1, n);
  EXPECT_NEAR(out[0], 1.0f, 1e-6f);
  EXPECT_NEAR(out[1], -1.0f, 1e-6f);
  EXPECT_NEAR(out[2], 0.5f, 1e-6f);
}

// Enlarging is PyTorch's bilinear with half-pixel centres (align_corners=False).
TEST(AugmentationTest, EnlargingMatchesHalfPixelBilinear) {
  const Picture p = picture(7, 9, 2);
  const std::int64_t r = 16;
  const std::vector<float> out = run(p, {0, 0, 7, 9, false}, r, {{0.0f, 0.0f}, {1 / 255.0f, 1 / 255.0f}});
  auto source = [](std::int64_t o, std::int64_t in) {
    return std::max(0.0, (static_cast<double>(o) + 0.5) * static_cast<double>(in) / static_cast<double>(r) - 0.5);
  };
  for (std::int64_t oy = 0; oy < r; ++oy)
    for (std::int64_t ox = 0; ox < r; ++ox)
      for (std::int64_t c = 0; c < 2; ++c) {
        const double sy = source(oy, 7), sx = source(ox, 9);
        const auto y0 = static_cast<std::int64_t>(sy), x0 = static_cast<std::int64_t>(sx);
        const std::int64_t y1 = std::min<std::int64_t>(y0 + 1, 6), x1 = std::min<std::int64_t>(x0 + 1, 8);
        const double fy = sy - static_cast<double>(y0), fx = sx - static_cast<double>(x0);
        const double expected = (1 - fy) * ((1 - fx) * p.at(y0, x0, c) + fx * p.at(y0, x1, c)) +
                                fy * ((1 - fx) * p.at(y1, x0, c) + fx * p.at(y1, x1, c));
        EXPECT_NEAR(out[static_cast<std::size_t>((oy * r + ox) * 2 + c)], expected, 1e-3) << oy << " " << ox;
      }
}

// Halving averages 2x2 blocks' neighbourhoods (PIL's widened triangle), so a one-pixel
// checkerboard becomes flat grey instead of aliasing to black or white.
TEST(AugmentationTest, ShrinkingAveragesInsteadOfAliasing) {
  Picture p{8, 8, 1, std::vector<std::uint8_t>(64)};
  for (std::int64_t i = 0; i < 64; ++i) p.pixels[static_cast<std::size_t>(i)] = ((i / 8 + i % 8) % 2) != 0 ? 255 : 0;
  const std::vector<float> out = run(p, {0, 0, 8, 8, false}, 4, kIdentity1);
  for (const float v : out) EXPECT_NEAR(v, 127.5f, 32.0f);
  // A constant image stays constant at any scale.
  const Picture flat{9, 13, 1, std::vector<std::uint8_t>(9 * 13, 77)};
  for (const std::int64_t r : {3, 5, 20})
    for (const float v : run(flat, {1, 2, 7, 9, false}, r, kIdentity1)) EXPECT_NEAR(v, 77.0f, 1e-3f);
}

TEST(AugmentationTest, CropsArePureFunctionsOfTheKey) {
  Augmentation a;
  a.crop = CropMode::random_resized;
  a.flip = true;
  const AugmentationKey key{11, 2, 345};
  const CropWindow first = choose_crop(a, 300, 400, key);
  const CropWindow again = choose_crop(a, 300, 400, key);
  EXPECT_EQ(first.top, again.top);
  EXPECT_EQ(first.left, again.left);
  EXPECT_EQ(first.height, again.height);
  EXPECT_EQ(first.width, again.width);
  EXPECT_EQ(first.flip, again.flip);
  // Other samples, epochs and seeds draw differently.
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>> windows;
  for (const AugmentationKey other :
       {key, AugmentationKey{11, 2, 346}, AugmentationKey{11, 3, 345}, AugmentationKey{12, 2, 345}}) {
    const CropWindow w = choose_crop(a, 300, 400, other);
    windows.insert({w.top, w.left, w.height, w.width});
  }
  EXPECT_EQ(windows.size(), 4u);
}

TEST(AugmentationTest, RandomResizedWindowsStayInsideWithinTheRanges) {
  Augmentation a;
  a.crop = CropMode::random_resized;
  a.flip = true;
  int flips = 0;
  for (std::int64_t sample = 0; sample < 2000; ++sample) {
    const CropWindow w = choose_crop(a, 240, 320, {5, 0, sample});
    ASSERT_GE(w.top, 0);
    ASSERT_GE(w.left, 0);
    ASSERT_LE(w.top + w.height, 240);
    ASSERT_LE(w.left + w.width, 320);
    const double area = static_cast<double>(w.height * w.width) / (240.0 * 320.0);
    EXPECT_GE(area, 0.07);  // rounding of the sides widens the range a little
    EXPECT_LE(area, 1.0);
    flips += w.flip ? 1 : 0;
  }
  EXPECT_NEAR(flips, 1000, 120);
}

TEST(AugmentationTest, PaddedOffsetsCoverTheRangeAndCenterIsCentral) {
  Augmentation a;
  a.crop = CropMode::padded;
  a.padding = 4;
  std::set<std::int64_t> tops;
  for (std::int64_t sample = 0; sample < 500; ++sample) {
    const CropWindow w = choose_crop(a, 32, 32, {1, 0, sample});
    EXPECT_EQ(w.height, 32);
    EXPECT_EQ(w.width, 32);
    EXPECT_FALSE(w.flip);
    tops.insert(w.top);
  }
  EXPECT_EQ(tops, (std::set<std::int64_t>{-4, -3, -2, -1, 0, 1, 2, 3, 4}));

  Augmentation center;
  center.center_fraction = 0.875f;
  const CropWindow w = choose_crop(center, 256, 320, {1, 0, 0});
  EXPECT_EQ(w.height, 224);
  EXPECT_EQ(w.width, 224);
  EXPECT_EQ(w.top, 16);
  EXPECT_EQ(w.left, 48);
}

TEST(AugmentationTest, AugmentedSampleHasTheRequestedResolution) {
  Augmentation a;
  a.crop = CropMode::random_resized;
  a.flip = true;
  const Picture p = picture(50, 70, 3);
  for (const std::int64_t r : {1, 17, 64}) {
    std::vector<float> out(static_cast<std::size_t>(r * r * 3) + 1, -7.0f);
    augment_image(p.view(), a, kIdentity3, r, {3, 1, 9}, out.data());
    EXPECT_EQ(out.back(), -7.0f);  // nothing written past the end
    for (std::size_t i = 0; i + 1 < out.size(); ++i) {
      ASSERT_GE(out[i], 0.0f);
      ASSERT_LE(out[i], 255.0f + 1e-3f);
    }
  }
}

TEST(AugmentationTest, RejectsBadOptions) {
  Augmentation a;
  a.min_scale = 0.0f;
  expect_error([&] { check_augmentation(a); }, {"augmentation", "scale range"});
  a = {};
  a.min_ratio = 2.0f;
  expect_error([&] { check_augmentation(a); }, {"aspect ratio range"});
  a = {};
  a.padding = -1;
  expect_error([&] { check_augmentation(a); }, {"padding is -1"});
  a = {};
  a.center_fraction = 1.5f;
  expect_error([&] { check_augmentation(a); }, {"center_fraction"});
  expect_error([&] { check_normalization(kIdentity1, 3); }, {"normalization", "1 means", "3 channels"});
  expect_error([&] { check_normalization({{0.0f}, {0.0f}}, 1); }, {"must be positive"});
}

}  // namespace
}  // namespace ofa
