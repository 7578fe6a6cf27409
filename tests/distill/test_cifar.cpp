#include <gtest/gtest.h>

#include "distill/data/cifar.h"
#include "tests/distill/data_fixtures.h"

namespace ofa {
namespace {

using testing::expect_error;
using testing::TempDir;
using testing::write_bytes;

// A record whose planes say which image and channel they are: R = 10 * image, G = +1, B = +2,
// except pixel (y, x) of each plane adds y + x so the CHW -> HWC transpose is visible.
std::vector<std::uint8_t> record(std::vector<std::uint8_t> labels, int image) {
  std::vector<std::uint8_t> bytes = std::move(labels);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) bytes.push_back(static_cast<std::uint8_t>(10 * image + c + y + x));
  return bytes;
}

void append(std::vector<std::uint8_t>& to, const std::vector<std::uint8_t>& bytes) {
  to.insert(to.end(), bytes.begin(), bytes.end());
}

void expect_image(const Dataset& data, std::int64_t index, int image) {
  std::vector<std::uint8_t> scratch;
  const ImageView view = data.image(index, scratch);
  ASSERT_EQ(view.height, 32);
  ASSERT_EQ(view.width, 32);
  ASSERT_EQ(view.channels, 3);
  for (int y : {0, 5, 31})
    for (int x : {0, 17, 31})
      for (int c = 0; c < 3; ++c)
        EXPECT_EQ(view.pixels[(y * 32 + x) * 3 + c], 10 * image + c + y + x)
            << index << " " << y << " " << x << " " << c;
}

TEST(CifarTest, ReadsTenClassBatchesInOrder) {
  TempDir dir;
  for (int batch = 1; batch <= 5; ++batch) {
    std::vector<std::uint8_t> bytes;
    append(bytes, record({static_cast<std::uint8_t>(batch)}, 2 * batch));
    append(bytes, record({9}, 2 * batch + 1));
    write_bytes(dir / concat("cifar-10-batches-bin/data_batch_", batch, ".bin"), bytes);
  }
  write_bytes(dir / "cifar-10-batches-bin/test_batch.bin", record({3}, 0));

  // The parent of the unpacked folder works as well as the folder itself.
  const auto train = load_cifar10(dir.path().string(), DataSplit::train);
  ASSERT_EQ(train->size(), 10);
  EXPECT_EQ(train->num_classes(), 10);
  EXPECT_EQ(train->name(), "cifar10 train");
  EXPECT_EQ(train->label(0), 1);
  EXPECT_EQ(train->label(1), 9);
  EXPECT_EQ(train->label(8), 5);
  expect_image(*train, 0, 2);
  expect_image(*train, 9, 11);

  const auto test = load_cifar10(dir / "cifar-10-batches-bin", DataSplit::test);
  ASSERT_EQ(test->size(), 1);
  EXPECT_EQ(test->label(0), 3);
  expect_image(*test, 0, 0);
}

TEST(CifarTest, HundredClassesUseTheFineLabel) {
  TempDir dir;
  std::vector<std::uint8_t> bytes;
  append(bytes, record({3, 42}, 1));
  append(bytes, record({19, 99}, 2));
  write_bytes(dir / "train.bin", bytes);
  const auto train = load_cifar100(dir.path().string(), DataSplit::train);
  ASSERT_EQ(train->size(), 2);
  EXPECT_EQ(train->num_classes(), 100);
  EXPECT_EQ(train->label(0), 42);
  EXPECT_EQ(train->label(1), 99);
  expect_image(*train, 1, 2);
}

TEST(CifarTest, RejectsBadFiles) {
  TempDir dir;
  expect_error([&] { load_cifar10(dir.path().string(), DataSplit::test); },
               {"test_batch.bin", "cannot open", "cifar-10-batches-bin"});

  std::vector<std::uint8_t> bytes = record({1}, 0);
  bytes.pop_back();
  write_bytes(dir / "test_batch.bin", bytes);
  expect_error([&] { load_cifar10(dir.path().string(), DataSplit::test); },
               {"test_batch.bin", "3072 bytes", "3073-byte records", "truncated"});

  write_bytes(dir / "test_batch.bin", record({10}, 0));
  expect_error([&] { load_cifar10(dir.path().string(), DataSplit::test); },
               {"test_batch.bin", "record 0 has label 10", "[0, 9]"});

  write_bytes(dir / "test.bin", record({1, 100}, 0));
  expect_error([&] { load_cifar100(dir.path().string(), DataSplit::test); }, {"test.bin", "label 100"});
  // A CIFAR-10 file read as CIFAR-100 is one byte per record short.
  write_bytes(dir / "test.bin", record({1}, 0));
  expect_error([&] { load_cifar100(dir.path().string(), DataSplit::test); }, {"test.bin", "3074-byte records"});
}

}  // namespace
}  // namespace ofa
