#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "distill/data/augmentation.h"
#include "distill/data/dataset.h"

// What `--data` names, and each dataset's defaults: normalisation, augmentation, resolution,
// validation size.
namespace ofa {

struct DataSpec {
  enum class Kind : std::uint8_t { fashion_mnist, cifar10, cifar100, folder };
  Kind kind = Kind::fashion_mnist;
  std::string directory;
  std::string text;  // as the user wrote it, for messages
};

// "fashion-mnist" (Debian's files) or "fashion-mnist:DIR", "cifar10:DIR", "cifar100:DIR",
// "folder:DIR" (DIR/train/<class>/... and DIR/val/<class>/..., or DIR/test/). Throws ofa::Error
// naming the spec and listing the accepted forms.
DataSpec parse_data_spec(std::string_view text);

struct DataProfile {
  std::int64_t resolution = 0;  // the images' own size (28, 32); 224 for folders
  Normalization normalization;
  Augmentation train_augmentation;
  Augmentation eval_augmentation;
};

// Fashion-MNIST: padded crop (2) + flip; CIFAR: padded crop (4) + flip; folders: random-resized
// crop + flip, evaluation on the central 87.5 %, ImageNet's mean and std.
DataProfile data_profile(const DataSpec& spec);
// The same with a recipe's crop padding (`origin`: the recipe, for the message) in place of the
// dataset's; 0 leaves only the flip. Throws ofa::Error for data that is not cropped with padding
// (folders use random-resized crops).
DataProfile data_profile(const DataSpec& spec, std::optional<std::int64_t> crop_padding, const std::string& origin);

// 10000 for Fashion-MNIST, 5000 for CIFAR, min(10000, a tenth) for folders.
std::int64_t default_validation_size(const DataSpec& spec, std::int64_t train_size);

// The split's images. For folders the test split is DIR/val (or DIR/test), whose class folders
// must be those of DIR/train.
std::shared_ptr<const Dataset> open_dataset(const DataSpec& spec, DataSplit split);

}  // namespace ofa
