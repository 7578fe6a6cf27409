#include <gtest/gtest.h>

#include <cstdlib>

#include "distill/data/batch_loader.h"
#include "distill/data/image_decode.h"
#include "distill/data/image_folder.h"
#include "tests/distill/data_fixtures.h"

namespace ofa {
namespace {

using testing::expect_error;
using testing::pattern;
using testing::TempDir;
using testing::write_bytes;
using testing::write_jpeg;
using testing::write_png;

ImageView read(const Dataset& data, std::int64_t index, std::vector<std::uint8_t>& scratch) {
  return data.image(index, scratch);
}

TEST(ImageFolderTest, ClassesSortedAndImagesDecodedToRgb) {
  TempDir dir;
  const auto rgb = pattern(5, 7, 3, 1);
  write_png(dir / "zebra/b.png", 5, 7, 3, rgb);
  write_png(dir / "zebra/a.PNG", 3, 2, 1, pattern(3, 2, 1, 2));  // grey, upper-case extension
  write_jpeg(dir / "ant/x.jpg", 5, 7, rgb);
  write_bytes(dir / "ant/notes.txt", {'h', 'i'});  // not an image: ignored
  write_png(dir / ".hidden/c.png", 5, 7, 3, rgb);  // hidden: ignored

  const ImageFolderDataset data(dir.path().string());
  ASSERT_EQ(data.class_names(), (std::vector<std::string>{"ant", "zebra"}));
  ASSERT_EQ(data.size(), 3);
  EXPECT_EQ(data.num_classes(), 2);
  EXPECT_EQ(data.channels(), 3);
  EXPECT_EQ(data.label(0), 0);
  EXPECT_EQ(data.label(1), 1);
  EXPECT_EQ(data.path(1), dir / "zebra/a.PNG");

  std::vector<std::uint8_t> scratch;
  ImageView png = read(data, 2, scratch);
  ASSERT_EQ(png.height, 5);
  ASSERT_EQ(png.width, 7);
  ASSERT_EQ(png.channels, 3);
  EXPECT_TRUE(std::equal(rgb.begin(), rgb.end(), png.pixels));

  const auto grey = pattern(3, 2, 1, 2);
  png = read(data, 1, scratch);
  ASSERT_EQ(png.channels, 3);
  for (std::size_t i = 0; i < grey.size(); ++i)
    for (std::size_t c = 0; c < 3; ++c) EXPECT_EQ(png.pixels[i * 3 + c], grey[i]);

  // JPEG is lossy even at quality 100; this pattern stays within a few levels.
  const ImageView jpeg = read(data, 0, scratch);
  ASSERT_EQ(jpeg.height, 5);
  ASSERT_EQ(jpeg.width, 7);
  for (std::size_t i = 0; i < rgb.size(); ++i) EXPECT_NEAR(jpeg.pixels[i], rgb[i], 24) << i;
}

TEST(ImageFolderTest, RgbaIsCompositedOntoBlack) {
  TempDir dir;
  write_png(dir / "a/x.png", 1, 2, 4, {200, 100, 50, 255, 200, 100, 50, 0});
  const ImageFolderDataset data(dir.path().string());
  std::vector<std::uint8_t> scratch;
  const ImageView image = read(data, 0, scratch);
  EXPECT_EQ(std::vector<int>(image.pixels, image.pixels + 6), (std::vector<int>{200, 100, 50, 0, 0, 0}));
}

TEST(ImageFolderTest, RejectsMissingAndEmptyFolders) {
  TempDir dir;
  expect_error([&] { ImageFolderDataset(dir / "missing"); }, {"missing", "not a directory"});
  expect_error([&] { ImageFolderDataset(dir.path().string()); }, {"no class sub-folders"});
  write_png(dir / "full/x.png", 2, 2, 3, pattern(2, 2, 3, 0));
  std::filesystem::create_directories(dir / "empty");
  expect_error([&] { ImageFolderDataset(dir.path().string()); }, {"empty", "class folder holds no"});
}

TEST(ImageFolderTest, UndecodableFileNamesIt) {
  TempDir dir;
  write_bytes(dir / "a/bad.jpg", {0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3});
  write_bytes(dir / "a/text.png", {'n', 'o', 'p', 'e'});
  const ImageFolderDataset data(dir.path().string());
  std::vector<std::uint8_t> scratch;
  try {
    read(data, 0, scratch);
    ADD_FAILURE() << "expected ImageDecodeError";
  } catch (const ImageDecodeError& error) {
    EXPECT_NE(std::string(error.what()).find("bad.jpg"), std::string::npos) << error.what();
  }
  expect_error([&] { read(data, 1, scratch); }, {"text.png", "neither a JPEG nor a PNG"});
}

Normalization unit_normalization() { return {{0.0f, 0.0f, 0.0f}, {1.0f / 255.0f, 1.0f / 255.0f, 1.0f / 255.0f}}; }

// 200 images, two of them broken: both are skipped (1 %), each replaced by the next image.
TEST(ImageFolderTest, LoaderSkipsUpToOnePercentUndecodable) {
  TempDir dir;
  for (int i = 0; i < 200; ++i) {
    const std::string path = dir / concat("c", i % 2, "/", 1000 + i, ".png");
    if (i == 10 || i == 11) {
      write_bytes(path, {'x'});
    } else {
      write_png(path, 2, 2, 3, std::vector<std::uint8_t>(12, static_cast<std::uint8_t>(i)));
    }
  }
  const auto data = std::make_shared<ImageFolderDataset>(dir.path().string());
  LoaderOptions options;
  options.batch_size = 50;
  options.shuffle = false;
  options.normalization = unit_normalization();
  BatchLoader loader(data, options);
  ::testing::internal::CaptureStderr();  // before the workers start
  loader.start_epoch(0, 0, 2);
  Batch batch;
  std::vector<std::int64_t> samples;
  while (loader.next(batch)) samples.insert(samples.end(), batch.samples.begin(), batch.samples.end());
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(loader.skipped_images(), 2);
  EXPECT_NE(warnings.find("1010.png"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("1011.png"), std::string::npos) << warnings;
  // Sorted by class then name: index 5 is 1010.png (class 0), index 105 is 1011.png (class 1).
  EXPECT_EQ(samples[5], 6);
  EXPECT_EQ(samples[105], 106);
}

TEST(ImageFolderTest, LoaderStopsAboveOnePercentUndecodable) {
  TempDir dir;
  write_bytes(dir / "a/0.png", {'x'});
  for (int i = 1; i < 50; ++i) write_png(dir / concat("a/", i, ".png"), 2, 2, 3, pattern(2, 2, 3, i));
  LoaderOptions options;
  options.batch_size = 10;
  options.shuffle = false;
  options.normalization = unit_normalization();
  BatchLoader loader(std::make_shared<ImageFolderDataset>(dir.path().string()), options);
  ::testing::internal::CaptureStderr();  // before the workers start
  loader.start_epoch(0, 0, 2);
  Batch batch;
  expect_error([&] { loader.next(batch); }, {"1 of its 50 images cannot be decoded", "more than 1 %", "0.png"});
  ::testing::internal::GetCapturedStderr();
}

}  // namespace
}  // namespace ofa
