#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

// The one interface every image source implements, plus the two generic datasets built on it:
// equal-sized images held in memory (Fashion-MNIST, CIFAR) and a subset by index (the split).
namespace ofa {

enum class DataSplit : std::uint8_t { train, test };
const char* split_name(DataSplit split);

// 8-bit pixels, row-major HWC, owned by the dataset or by the caller's scratch buffer.
struct ImageView {
  const std::uint8_t* pixels = nullptr;
  std::int64_t height = 0;
  std::int64_t width = 0;
  std::int64_t channels = 0;
};

// A labelled image collection. Every method is const and safe to call from several threads at
// once: the loader's workers read concurrently.
class Dataset {
 public:
  virtual ~Dataset() = default;

  virtual std::int64_t size() const = 0;
  virtual std::int32_t num_classes() const = 0;
  // Every image has this many channels (folders convert to RGB while decoding).
  virtual std::int64_t channels() const = 0;
  virtual std::int32_t label(std::int64_t index) const = 0;
  // The pixels of image `index`, valid while `scratch` is untouched: decoding datasets write
  // into it, in-memory ones return a pointer into their storage without copying. A file that
  // cannot be decoded throws ImageDecodeError (distill/data/image_decode.h).
  virtual ImageView image(std::int64_t index, std::vector<std::uint8_t>& scratch) const = 0;
  // Where the images come from, for messages: "fashion-mnist train", "folder /data/train".
  virtual const std::string& name() const = 0;
};

// Equal-sized images as one [N, H, W, C] uint8 array (60000 Fashion-MNIST images are 47 MB,
// CIFAR's 50000 are 154 MB), so reading an image costs nothing.
class InMemoryDataset final : public Dataset {
 public:
  InMemoryDataset(std::string name, std::int64_t height, std::int64_t width, std::int64_t channels,
                  std::int32_t num_classes, std::vector<std::uint8_t> pixels, std::vector<std::int32_t> labels);

  std::int64_t size() const override { return static_cast<std::int64_t>(labels_.size()); }
  std::int32_t num_classes() const override { return num_classes_; }
  std::int64_t channels() const override { return channels_; }
  std::int32_t label(std::int64_t index) const override;
  ImageView image(std::int64_t index, std::vector<std::uint8_t>& scratch) const override;
  const std::string& name() const override { return name_; }

  std::int64_t height() const { return height_; }
  std::int64_t width() const { return width_; }

 private:
  std::string name_;
  std::int64_t height_, width_, channels_;
  std::int32_t num_classes_;
  std::vector<std::uint8_t> pixels_;
  std::vector<std::int32_t> labels_;
};

// The images of `base` at `indices`, in that order (a validation split, a training remainder).
class SubsetDataset final : public Dataset {
 public:
  SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<std::int64_t> indices, std::string name);

  std::int64_t size() const override { return static_cast<std::int64_t>(indices_.size()); }
  std::int32_t num_classes() const override { return base_->num_classes(); }
  std::int64_t channels() const override { return base_->channels(); }
  std::int32_t label(std::int64_t index) const override { return base_->label(base_index(index)); }
  ImageView image(std::int64_t index, std::vector<std::uint8_t>& scratch) const override {
    return base_->image(base_index(index), scratch);
  }
  const std::string& name() const override { return name_; }

  // The index in the base dataset of this subset's image `index`.
  std::int64_t base_index(std::int64_t index) const;
  const std::vector<std::int64_t>& indices() const { return indices_; }

 private:
  std::shared_ptr<const Dataset> base_;
  std::vector<std::int64_t> indices_;
  std::string name_;
};

// Throws ofa::Error naming the dataset unless 0 <= index < dataset.size().
void check_image_index(const Dataset& dataset, std::int64_t index);

}  // namespace ofa
