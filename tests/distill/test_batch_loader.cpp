#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "distill/data/batch_loader.h"
#include "distill/data/data_spec.h"
#include "distill/data/validation_split.h"
#include "tests/distill/data_fixtures.h"

namespace ofa {
namespace {

using testing::expect_error;
using testing::synthetic_dataset;

LoaderOptions training_options(int workers) {
  LoaderOptions options;
  options.batch_size = 16;
  options.workers = workers;
  options.prefetch = 3;
  options.seed = 42;
  options.augmentation.crop = CropMode::padded;
  options.augmentation.padding = 3;
  options.augmentation.flip = true;
  options.normalization = {{0.3f, 0.4f, 0.5f}, {0.2f, 0.3f, 0.4f}};
  return options;
}

// Elastic resolution: a different size for most batches.
std::int64_t resolution_of(std::int64_t batch) { return 12 + 4 * (batch % 3); }

std::vector<Batch> whole_epoch(BatchLoader& loader, std::int64_t epoch, std::int64_t first = 0) {
  loader.start_epoch(epoch, first, resolution_of);
  std::vector<Batch> batches;
  Batch batch;
  while (loader.next(batch)) batches.push_back(std::move(batch));
  return batches;
}

void expect_identical(const Batch& a, const Batch& b) {
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.resolution, b.resolution);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.samples, b.samples);
  ASSERT_EQ(a.images.shape(), b.images.shape());
  EXPECT_EQ(std::memcmp(a.images.f32(), b.images.f32(), static_cast<std::size_t>(a.images.numel()) * sizeof(float)), 0)
      << "batch " << a.index;
}

TEST(BatchLoaderTest, BatchesHaveTheRequestedShapeAndLabels) {
  const auto data = synthetic_dataset(100, 10, 14, 3, 7);
  BatchLoader loader(data, training_options(2));
  EXPECT_EQ(loader.batches_per_epoch(), 6);  // 100 / 16, the remainder dropped
  const std::vector<Batch> batches = whole_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 6u);
  for (std::size_t i = 0; i < batches.size(); ++i) {
    const Batch& b = batches[i];
    const std::int64_t r = resolution_of(static_cast<std::int64_t>(i));
    EXPECT_EQ(b.index, static_cast<std::int64_t>(i));
    EXPECT_EQ(b.resolution, r);
    EXPECT_EQ(b.images.shape(), (Shape{16, r, r, 3}));
    ASSERT_EQ(b.labels.size(), 16u);
    for (std::size_t j = 0; j < b.labels.size(); ++j) EXPECT_EQ(b.labels[j], data->label(b.samples[j]));
  }
}

TEST(BatchLoaderTest, EachEpochIsASeededPermutation) {
  const auto data = synthetic_dataset(100, 4, 4, 3, 7);
  LoaderOptions options = training_options(2);
  options.drop_last = false;
  BatchLoader loader(data, options);
  EXPECT_EQ(loader.batches_per_epoch(), 7);
  auto order = [&](std::int64_t epoch) {
    std::vector<std::int64_t> samples;
    for (const Batch& b : whole_epoch(loader, epoch)) samples.insert(samples.end(), b.samples.begin(), b.samples.end());
    return samples;
  };
  const std::vector<std::int64_t> epoch0 = order(0);
  ASSERT_EQ(epoch0.size(), 100u);
  EXPECT_EQ(std::set<std::int64_t>(epoch0.begin(), epoch0.end()).size(), 100u);
  EXPECT_FALSE(std::is_sorted(epoch0.begin(), epoch0.end()));
  EXPECT_NE(order(1), epoch0);
  EXPECT_EQ(order(0), epoch0);

  options.seed = 43;
  BatchLoader other(data, options);
  std::vector<std::int64_t> reseeded;
  for (const Batch& b : whole_epoch(other, 0)) reseeded.insert(reseeded.end(), b.samples.begin(), b.samples.end());
  EXPECT_NE(reseeded, epoch0);
}

// The guarantee resume and multi-threading rest on: content depends on (seed, epoch, batch,
// resolution) only.
TEST(BatchLoaderTest, OneWorkerAndThreeWorkersGiveIdenticalBatches) {
  const auto data = synthetic_dataset(200, 9, 11, 3, 5);
  BatchLoader one(data, training_options(1));
  BatchLoader three(data, training_options(3));
  for (const std::int64_t epoch : {0, 1}) {
    const std::vector<Batch> a = whole_epoch(one, epoch), b = whole_epoch(three, epoch);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) expect_identical(a[i], b[i]);
  }
}

TEST(BatchLoaderTest, ResumingAtABatchReproducesTheRestOfTheEpoch) {
  const auto data = synthetic_dataset(200, 9, 11, 3, 5);
  BatchLoader loader(data, training_options(2));
  const std::vector<Batch> full = whole_epoch(loader, 3);

  BatchLoader resumed(data, training_options(3));
  const std::vector<Batch> tail = whole_epoch(resumed, 3, 5);
  ASSERT_EQ(tail.size(), full.size() - 5);
  for (std::size_t i = 0; i < tail.size(); ++i) expect_identical(full[i + 5], tail[i]);

  // Re-aiming a loader whose workers are mid-epoch discards what they made for the old position.
  loader.start_epoch(0, 0, resolution_of);
  Batch batch;
  ASSERT_TRUE(loader.next(batch));
  const std::vector<Batch> again = whole_epoch(loader, 3, 5);
  for (std::size_t i = 0; i < again.size(); ++i) expect_identical(full[i + 5], again[i]);
  EXPECT_EQ(whole_epoch(loader, 3, loader.batches_per_epoch()).size(), 0u);
}

TEST(BatchLoaderTest, EvaluationKeepsDatasetOrderAndEveryImage) {
  const auto data = synthetic_dataset(37, 8, 8, 1, 4);
  LoaderOptions options;
  options.batch_size = 10;
  options.shuffle = false;
  options.drop_last = false;
  options.normalization = {{0.0f}, {1.0f / 255.0f}};
  BatchLoader loader(data, options);
  loader.start_epoch(0, 0, 8);
  Batch batch;
  std::int64_t next_sample = 0;
  std::vector<std::uint8_t> scratch;
  while (loader.next(batch)) {
    for (std::size_t j = 0; j < batch.samples.size(); ++j) {
      ASSERT_EQ(batch.samples[j], next_sample);
      // Centre crop of the whole image at its own size: the pixels themselves.
      const ImageView image = data->image(next_sample++, scratch);
      for (std::int64_t k = 0; k < 64; ++k)
        ASSERT_EQ(batch.images.f32()[static_cast<std::int64_t>(j) * 64 + k], static_cast<float>(image.pixels[k]));
    }
  }
  EXPECT_EQ(next_sample, 37);
  EXPECT_EQ(batch.images.dim(0), 7);  // the last, partial batch
}

TEST(BatchLoaderTest, RejectsBadUse) {
  const auto data = synthetic_dataset(10, 4, 4, 3, 2);
  LoaderOptions options = training_options(1);
  options.batch_size = 11;
  expect_error([&] { BatchLoader(data, options); }, {"synthetic", "holds 10 images, fewer than one batch of 11"});
  options.batch_size = 5;
  options.normalization = {{0.0f}, {1.0f}};
  expect_error([&] { BatchLoader(data, options); }, {"normalization", "3 channels"});
  options = training_options(1);
  options.batch_size = 5;
  BatchLoader loader(data, options);
  Batch batch;
  expect_error([&] { loader.next(batch); }, {"next() called before start_epoch()"});
  expect_error([&] { loader.start_epoch(0, 3, 8); }, {"batch 3 is outside the epoch's 2 batches"});
  expect_error([&] { loader.start_epoch(0, 0, 0); }, {"batch 0 of epoch 0 asks for resolution 0"});
}

// The real thing: the Fashion-MNIST training part with the shipped augmentation.
TEST(BatchLoaderTest, FashionMnistTrainingBatches) {
  const DataSpec spec = parse_data_spec("fashion-mnist");
  const DataProfile profile = data_profile(spec);
  const auto train = open_dataset(spec, DataSplit::train);
  const TrainValidSplit split = split_validation(train, default_validation_size(spec, train->size()), 1);
  ASSERT_EQ(split.train->size(), 50000);
  LoaderOptions options;
  options.batch_size = 64;
  options.seed = 1;
  options.augmentation = profile.train_augmentation;
  options.normalization = profile.normalization;
  BatchLoader loader(split.train, options);
  EXPECT_EQ(loader.batches_per_epoch(), 781);
  loader.start_epoch(0, 0, 28);
  Batch batch;
  ASSERT_TRUE(loader.next(batch));
  EXPECT_EQ(batch.images.shape(), (Shape{64, 28, 28, 1}));
  const float lo = (0.0f - 0.2860f) / 0.3530f, hi = (1.0f - 0.2860f) / 0.3530f;
  double sum = 0.0;
  for (std::int64_t i = 0; i < batch.images.numel(); ++i) {
    const float v = batch.images.f32()[i];
    ASSERT_GE(v, lo - 1e-4f);
    ASSERT_LE(v, hi + 1e-4f);
    sum += v;
  }
  // Normalised with the dataset's own statistics (and some zero padding): mean near 0.
  EXPECT_NEAR(sum / static_cast<double>(batch.images.numel()), 0.0, 0.25);
}

}  // namespace
}  // namespace ofa
