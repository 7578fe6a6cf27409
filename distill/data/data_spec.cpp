#include "distill/data/data_spec.h"

#include <algorithm>
#include <filesystem>

#include "distill/data/cifar.h"
#include "distill/data/fashion_mnist.h"
#include "distill/data/image_folder.h"
#include "kernels/error.h"

namespace ofa {
namespace {

namespace fs = std::filesystem;

constexpr const char* kAccepted = "expected fashion-mnist, fashion-mnist:DIR, cifar10:DIR, cifar100:DIR or folder:DIR";

Augmentation padded_crop(std::int64_t padding) {
  Augmentation a;
  a.crop = CropMode::padded;
  a.padding = padding;
  a.flip = true;
  return a;
}

std::string folder_part(const DataSpec& spec, DataSplit split) {
  const fs::path root(spec.directory);
  if (split == DataSplit::train) return (root / "train").string();
  for (const char* name : {"val", "test"})
    if (fs::is_directory(root / name)) return (root / name).string();
  fail(spec.text, "has no val/ or test/ folder beside train/ for the test split");
}

}  // namespace

DataSpec parse_data_spec(std::string_view text) {
  DataSpec spec;
  spec.text = std::string(text);
  const std::size_t colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  if (colon != std::string_view::npos) spec.directory = std::string(text.substr(colon + 1));
  const bool has_directory = colon != std::string_view::npos;
  OFA_CHECK(!has_directory || !spec.directory.empty(), concat("--data ", text), "the directory after ':' is empty; ",
            kAccepted);
  if (kind == "fashion-mnist") {
    spec.kind = DataSpec::Kind::fashion_mnist;
    if (!has_directory) spec.directory = kFashionMnistDirectory;
  } else if (kind == "cifar10" || kind == "cifar100" || kind == "folder") {
    OFA_CHECK(has_directory, concat("--data ", text), kind, " needs a directory; ", kAccepted);
    spec.kind = kind == "cifar10"    ? DataSpec::Kind::cifar10
                : kind == "cifar100" ? DataSpec::Kind::cifar100
                                     : DataSpec::Kind::folder;
  } else {
    fail(concat("--data ", text), "unknown dataset '", kind, "'; ", kAccepted);
  }
  return spec;
}

DataProfile data_profile(const DataSpec& spec) {
  DataProfile profile;
  switch (spec.kind) {
    case DataSpec::Kind::fashion_mnist:
      // Lighter than CIFAR's padding 4: the short schedules this project runs favour it.
      profile = {28, {{0.2860f}, {0.3530f}}, padded_crop(2), {}};
      break;
    case DataSpec::Kind::cifar10:
      profile = {32, {{0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}}, padded_crop(4), {}};
      break;
    case DataSpec::Kind::cifar100:
      profile = {32, {{0.5071f, 0.4865f, 0.4409f}, {0.2673f, 0.2564f, 0.2762f}}, padded_crop(4), {}};
      break;
    case DataSpec::Kind::folder:
      profile = {224, {{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}}, {}, {}};
      profile.train_augmentation.crop = CropMode::random_resized;
      profile.train_augmentation.flip = true;
      profile.eval_augmentation.center_fraction = 0.875f;
      break;
  }
  return profile;
}

DataProfile data_profile(const DataSpec& spec, std::optional<std::int64_t> crop_padding, const std::string& origin) {
  DataProfile profile = data_profile(spec);
  if (!crop_padding) return profile;
  OFA_CHECK(*crop_padding >= 0, origin, "crop_padding: expected an integer >= 0, got ", *crop_padding);
  OFA_CHECK(profile.train_augmentation.crop == CropMode::padded, origin, "crop_padding: applies to data cropped with ",
            "padding (fashion-mnist, cifar10, cifar100); --data ", spec.text, " uses random-resized crops");
  profile.train_augmentation.padding = *crop_padding;
  return profile;
}

std::int64_t default_validation_size(const DataSpec& spec, std::int64_t train_size) {
  switch (spec.kind) {
    case DataSpec::Kind::fashion_mnist:
      return 10000;
    case DataSpec::Kind::cifar10:
    case DataSpec::Kind::cifar100:
      return 5000;
    case DataSpec::Kind::folder:
      break;
  }
  return std::min<std::int64_t>(10000, train_size / 10);
}

std::shared_ptr<const Dataset> open_dataset(const DataSpec& spec, DataSplit split) {
  switch (spec.kind) {
    case DataSpec::Kind::fashion_mnist:
      return load_fashion_mnist(spec.directory, split);
    case DataSpec::Kind::cifar10:
      return load_cifar10(spec.directory, split);
    case DataSpec::Kind::cifar100:
      return load_cifar100(spec.directory, split);
    case DataSpec::Kind::folder:
      break;
  }
  const std::string train_dir = (fs::path(spec.directory) / "train").string();
  OFA_CHECK(fs::is_directory(train_dir), spec.text,
            "expected DIR/train/<class>/<image> (and DIR/val/ for the test split), ", train_dir, " is not a directory");
  const std::string directory = folder_part(spec, split);
  if (split == DataSplit::test && list_class_folders(directory) != list_class_folders(train_dir))
    fail(directory, "its class folders are not those of ", train_dir,
         " (each class needs the same folder name in both)");
  return std::make_shared<ImageFolderDataset>(directory);
}

}  // namespace ofa
