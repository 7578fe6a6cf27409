#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <numeric>

#include "distill/data/fashion_mnist.h"
#include "tests/distill/data_fixtures.h"

namespace ofa {
namespace {

using testing::expect_error;
using testing::idx_bytes;
using testing::TempDir;
using testing::write_bytes;
using testing::write_gzip;

std::int64_t pixel_sum(const Dataset& dataset, std::int64_t index) {
  std::vector<std::uint8_t> scratch;
  const ImageView image = dataset.image(index, scratch);
  return std::accumulate(image.pixels, image.pixels + image.height * image.width * image.channels, std::int64_t{0});
}

// The Debian package's files, with values checked against an independent Python read.
TEST(FashionMnistTest, LoadsTheInstalledTrainingSet) {
  const auto train = load_fashion_mnist(kFashionMnistDirectory, DataSplit::train);
  ASSERT_EQ(train->size(), 60000);
  EXPECT_EQ(train->num_classes(), 10);
  EXPECT_EQ(train->height(), 28);
  EXPECT_EQ(train->width(), 28);
  EXPECT_EQ(train->channels(), 1);
  EXPECT_EQ(train->name(), "fashion-mnist train");
  const std::array<std::int32_t, 10> first = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
  for (std::int64_t i = 0; i < 10; ++i) EXPECT_EQ(train->label(i), first[static_cast<std::size_t>(i)]) << i;
  std::array<std::int64_t, 10> histogram{};
  for (std::int64_t i = 0; i < train->size(); ++i) ++histogram[static_cast<std::size_t>(train->label(i))];
  for (const std::int64_t count : histogram) EXPECT_EQ(count, 6000);
  EXPECT_EQ(pixel_sum(*train, 0), 76247);

  std::vector<std::uint8_t> scratch;
  std::uint8_t lo = 255, hi = 0;
  for (std::int64_t i = 0; i < train->size(); ++i) {
    const ImageView image = train->image(i, scratch);
    const auto [mn, mx] = std::minmax_element(image.pixels, image.pixels + 784);
    lo = std::min(lo, *mn);
    hi = std::max(hi, *mx);
  }
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 255);
}

TEST(FashionMnistTest, LoadsTheInstalledTestSet) {
  const auto test = load_fashion_mnist(kFashionMnistDirectory, DataSplit::test);
  ASSERT_EQ(test->size(), 10000);
  const std::array<std::int32_t, 10> first = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
  for (std::int64_t i = 0; i < 10; ++i) EXPECT_EQ(test->label(i), first[static_cast<std::size_t>(i)]) << i;
  EXPECT_EQ(pixel_sum(*test, 0), 33456);
}

// Three images whose pixels are their index, labels 7 6 5; files written uncompressed or gzipped.
class IdxFilesTest : public ::testing::Test {
 protected:
  static std::vector<std::uint8_t> pixels(std::uint8_t count) {
    std::vector<std::uint8_t> data;
    for (std::uint8_t i = 0; i < count; ++i) data.insert(data.end(), 784, i);
    return data;
  }
  void write_gz(const std::string& name, const std::vector<std::uint8_t>& bytes) { write_gzip(dir / name, bytes); }
  void write_valid_pair() {
    write_gz("train-images-idx3-ubyte.gz", idx_bytes({3, 28, 28}, pixels(3)));
    write_gz("train-labels-idx1-ubyte.gz", idx_bytes({3}, {7, 6, 5}));
  }
  std::shared_ptr<InMemoryDataset> load() { return load_fashion_mnist(dir.path().string(), DataSplit::train); }

  TempDir dir;
};

TEST_F(IdxFilesTest, ReadsGzippedAndPlainFiles) {
  write_valid_pair();
  auto data = load();
  ASSERT_EQ(data->size(), 3);
  EXPECT_EQ(data->label(2), 5);
  EXPECT_EQ(pixel_sum(*data, 2), 2 * 784);

  write_bytes(dir / "t10k-images-idx3-ubyte", idx_bytes({1, 28, 28}, pixels(1)));
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_bytes({1}, {4}));
  data = load_fashion_mnist(dir.path().string(), DataSplit::test);
  ASSERT_EQ(data->size(), 1);
  EXPECT_EQ(data->label(0), 4);
}

TEST_F(IdxFilesTest, MissingFileNamesItAndThePackage) {
  expect_error([&] { load(); }, {"train-images-idx3-ubyte.gz", "cannot open", "dataset-fashion-mnist"});
}

TEST_F(IdxFilesTest, BadMagicNumber) {
  write_valid_pair();
  std::vector<std::uint8_t> bytes = idx_bytes({3, 28, 28}, pixels(3));
  bytes[2] = 0x0D;  // float data
  write_gz("train-images-idx3-ubyte.gz", bytes);
  expect_error([&] { load(); }, {"train-images-idx3-ubyte.gz", "bad magic number 0xd03", "expected 0x803"});
  write_gz("train-images-idx3-ubyte.gz", idx_bytes({3}, {1, 2, 3}));  // a label file as images
  expect_error([&] { load(); }, {"train-images-idx3-ubyte.gz", "bad magic number 0x801"});
}

TEST_F(IdxFilesTest, TruncatedData) {
  write_valid_pair();
  std::vector<std::uint8_t> bytes = idx_bytes({3, 28, 28}, pixels(3));
  bytes.resize(bytes.size() - 100);
  write_gz("train-images-idx3-ubyte.gz", bytes);
  expect_error([&] { load(); }, {"train-images-idx3-ubyte.gz", "truncated", "3x28x28", "2252"});
  write_gz("train-images-idx3-ubyte.gz", {0, 0, 8});
  expect_error([&] { load(); }, {"train-images-idx3-ubyte.gz", "truncated", "header"});
  // Absurd extents must not overflow into a small payload.
  write_gz("train-images-idx3-ubyte.gz", idx_bytes({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, pixels(1)));
  expect_error([&] { load(); }, {"train-images-idx3-ubyte.gz", "truncated"});
}

TEST_F(IdxFilesTest, TrailingBytes) {
  write_valid_pair();
  write_gz("train-labels-idx1-ubyte.gz", idx_bytes({3}, {7, 6, 5, 4}));
  expect_error([&] { load(); }, {"train-labels-idx1-ubyte.gz", "1 unexpected bytes"});
}

TEST_F(IdxFilesTest, TruncatedGzipStream) {
  write_valid_pair();
  std::vector<std::uint8_t> gz = testing::read_bytes(dir / "train-images-idx3-ubyte.gz");
  gz.resize(gz.size() / 2);
  write_bytes(dir / "train-images-idx3-ubyte.gz", gz);
  expect_error([&] { load(); }, {"train-images-idx3-ubyte.gz", "gzip"});
}

TEST_F(IdxFilesTest, LabelCountMismatch) {
  write_valid_pair();
  write_gz("train-labels-idx1-ubyte.gz", idx_bytes({2}, {7, 6}));
  expect_error([&] { load(); }, {"train-labels-idx1-ubyte.gz", "2 labels", "3 images"});
}

TEST_F(IdxFilesTest, LabelOutOfRange) {
  write_valid_pair();
  write_gz("train-labels-idx1-ubyte.gz", idx_bytes({3}, {7, 10, 5}));
  expect_error([&] { load(); }, {"train-labels-idx1-ubyte.gz", "label 1 is 10"});
}

TEST_F(IdxFilesTest, WrongImageSize) {
  write_valid_pair();
  write_gz("train-images-idx3-ubyte.gz", idx_bytes({3, 32, 32}, std::vector<std::uint8_t>(3 * 1024)));
  expect_error([&] { load(); }, {"train-images-idx3-ubyte.gz", "32x32", "expected 28x28"});
}

}  // namespace
}  // namespace ofa
