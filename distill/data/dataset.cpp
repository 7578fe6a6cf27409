#include "distill/data/dataset.h"

#include <utility>

#include "kernels/error.h"

namespace ofa {

const char* split_name(DataSplit split) { return split == DataSplit::train ? "train" : "test"; }

void check_image_index(const Dataset& dataset, std::int64_t index) {
  OFA_CHECK(index >= 0 && index < dataset.size(), dataset.name(), "image index ", index, " is outside [0, ",
            dataset.size(), ")");
}

InMemoryDataset::InMemoryDataset(std::string name, std::int64_t height, std::int64_t width, std::int64_t channels,
                                 std::int32_t num_classes, std::vector<std::uint8_t> pixels,
                                 std::vector<std::int32_t> labels)
    : name_(std::move(name)),
      height_(height),
      width_(width),
      channels_(channels),
      num_classes_(num_classes),
      pixels_(std::move(pixels)),
      labels_(std::move(labels)) {
  OFA_CHECK(height > 0 && width > 0 && channels > 0 && num_classes > 0, name_, "image shape ", height, "x", width, "x",
            channels, " and ", num_classes, " classes must all be positive");
  const auto expected = static_cast<std::size_t>(height * width * channels) * labels_.size();
  OFA_CHECK(pixels_.size() == expected, name_, "holds ", pixels_.size(), " pixel bytes, expected ", expected, " for ",
            labels_.size(), " images of ", height, "x", width, "x", channels);
  for (std::size_t i = 0; i < labels_.size(); ++i)
    OFA_CHECK(labels_[i] >= 0 && labels_[i] < num_classes, name_, "label of image ", i, " is ", labels_[i],
              ", expected a class in [0, ", num_classes, ")");
}

std::int32_t InMemoryDataset::label(std::int64_t index) const {
  check_image_index(*this, index);
  return labels_[static_cast<std::size_t>(index)];
}

ImageView InMemoryDataset::image(std::int64_t index, std::vector<std::uint8_t>& /*scratch*/) const {
  check_image_index(*this, index);
  const std::int64_t bytes = height_ * width_ * channels_;
  return {pixels_.data() + index * bytes, height_, width_, channels_};
}

SubsetDataset::SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<std::int64_t> indices, std::string name)
    : base_(std::move(base)), indices_(std::move(indices)), name_(std::move(name)) {
  for (const std::int64_t index : indices_) check_image_index(*base_, index);
}

std::int64_t SubsetDataset::base_index(std::int64_t index) const {
  check_image_index(*this, index);
  return indices_[static_cast<std::size_t>(index)];
}

}  // namespace ofa
