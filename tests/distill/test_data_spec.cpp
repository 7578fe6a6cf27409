#include <gtest/gtest.h>

#include "distill/data/data_spec.h"
#include "distill/data/fashion_mnist.h"
#include "tests/distill/data_fixtures.h"

namespace ofa {
namespace {

using testing::expect_error;
using testing::pattern;
using testing::TempDir;
using testing::write_png;

TEST(DataSpecTest, ParsesEveryForm) {
  DataSpec spec = parse_data_spec("fashion-mnist");
  EXPECT_EQ(spec.kind, DataSpec::Kind::fashion_mnist);
  EXPECT_EQ(spec.directory, kFashionMnistDirectory);
  spec = parse_data_spec("fashion-mnist:/data/fm");
  EXPECT_EQ(spec.directory, "/data/fm");
  spec = parse_data_spec("cifar10:/data/c10");
  EXPECT_EQ(spec.kind, DataSpec::Kind::cifar10);
  EXPECT_EQ(spec.directory, "/data/c10");
  EXPECT_EQ(parse_data_spec("cifar100:x").kind, DataSpec::Kind::cifar100);
  spec = parse_data_spec("folder:/imagenet:v2");
  EXPECT_EQ(spec.kind, DataSpec::Kind::folder);
  EXPECT_EQ(spec.directory, "/imagenet:v2");
  EXPECT_EQ(spec.text, "folder:/imagenet:v2");
}

TEST(DataSpecTest, RejectsBadSpecs) {
  expect_error([] { parse_data_spec("mnist"); }, {"--data mnist", "unknown dataset 'mnist'", "cifar10:DIR"});
  expect_error([] { parse_data_spec("cifar10"); }, {"--data cifar10", "needs a directory"});
  expect_error([] { parse_data_spec("folder:"); }, {"--data folder:", "directory after ':' is empty"});
  expect_error([] { parse_data_spec(""); }, {"unknown dataset ''"});
}

TEST(DataSpecTest, ProfilesMatchTheDatasets) {
  const DataProfile fashion = data_profile(parse_data_spec("fashion-mnist"));
  EXPECT_EQ(fashion.resolution, 28);
  EXPECT_EQ(fashion.normalization.mean.size(), 1u);
  EXPECT_EQ(fashion.train_augmentation.crop, CropMode::padded);
  EXPECT_TRUE(fashion.train_augmentation.flip);
  EXPECT_EQ(fashion.eval_augmentation.crop, CropMode::center);
  EXPECT_FALSE(fashion.eval_augmentation.flip);
  const DataProfile cifar = data_profile(parse_data_spec("cifar100:x"));
  EXPECT_EQ(cifar.resolution, 32);
  EXPECT_EQ(cifar.train_augmentation.padding, 4);
  EXPECT_EQ(cifar.normalization.stddev.size(), 3u);
  const DataProfile folder = data_profile(parse_data_spec("folder:x"));
  EXPECT_EQ(folder.train_augmentation.crop, CropMode::random_resized);
  EXPECT_FLOAT_EQ(folder.eval_augmentation.center_fraction, 0.875f);

  EXPECT_EQ(default_validation_size(parse_data_spec("fashion-mnist"), 60000), 10000);
  EXPECT_EQ(default_validation_size(parse_data_spec("cifar10:x"), 50000), 5000);
  EXPECT_EQ(default_validation_size(parse_data_spec("folder:x"), 1281167), 10000);
  EXPECT_EQ(default_validation_size(parse_data_spec("folder:x"), 500), 50);
}

TEST(DataSpecTest, ARecipesCropPaddingReplacesTheDatasets) {
  const DataSpec fashion = parse_data_spec("fashion-mnist");
  EXPECT_EQ(data_profile(fashion, std::nullopt, "r.json").train_augmentation.padding, 2);
  const DataProfile no_crop = data_profile(fashion, 0, "r.json");
  EXPECT_EQ(no_crop.train_augmentation.crop, CropMode::padded);
  EXPECT_EQ(no_crop.train_augmentation.padding, 0);
  EXPECT_TRUE(no_crop.train_augmentation.flip);
  EXPECT_EQ(no_crop.eval_augmentation.crop, CropMode::center);
  EXPECT_EQ(data_profile(parse_data_spec("cifar10:x"), 6, "r.json").train_augmentation.padding, 6);
  expect_error([] { data_profile(parse_data_spec("folder:x"), 2, "r.json"); },
               {"r.json: crop_padding: applies to data cropped with padding", "--data folder:x uses random-resized crops"});
  expect_error([&] { data_profile(fashion, -2, "r.json"); }, {"r.json: crop_padding: expected an integer >= 0, got -2"});
  EXPECT_EQ(data_profile(parse_data_spec("folder:x"), std::nullopt, "r.json").train_augmentation.crop,
            CropMode::random_resized);
}

TEST(DataSpecTest, OpensFashionMnistSplits) {
  const DataSpec spec = parse_data_spec("fashion-mnist");
  EXPECT_EQ(open_dataset(spec, DataSplit::test)->size(), 10000);
}

TEST(DataSpecTest, FolderSpecUsesTrainAndValFolders) {
  TempDir dir;
  const DataSpec spec = parse_data_spec(concat("folder:", dir.path().string()));
  expect_error([&] { open_dataset(spec, DataSplit::train); }, {spec.text, "DIR/train/<class>/<image>"});
  for (const char* name : {"train/a/1.png", "train/a/2.png", "train/b/1.png"})
    write_png(dir / name, 4, 4, 3, pattern(4, 4, 3, 0));
  EXPECT_EQ(open_dataset(spec, DataSplit::train)->size(), 3);
  expect_error([&] { open_dataset(spec, DataSplit::test); }, {"no val/ or test/ folder"});

  write_png(dir / "test/a/1.png", 4, 4, 3, pattern(4, 4, 3, 0));
  expect_error([&] { open_dataset(spec, DataSplit::test); }, {"test", "class folders are not those of"});
  write_png(dir / "test/b/1.png", 4, 4, 3, pattern(4, 4, 3, 0));
  const auto test = open_dataset(spec, DataSplit::test);
  EXPECT_EQ(test->size(), 2);
  EXPECT_EQ(test->label(1), 1);
}

}  // namespace
}  // namespace ofa
