#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "distill/data/dataset.h"

namespace ofa {

// The non-hidden sub-folders of `directory`, sorted by name: a folder dataset's classes.
// Throws ofa::Error naming the directory when it is missing or has none.
std::vector<std::string> list_class_folders(const std::string& directory);

// ImageNet's layout: `directory/<class>/<image>.{jpg,jpeg,png}` (extension case-insensitive,
// hidden entries ignored). Classes are the sub-folders sorted by name, so class i is the same
// class in train/ and val/; images are sorted by path. Images are decoded on demand, to RGB.
// A missing directory, one without class sub-folders, or a class folder without images throws
// ofa::Error naming the folder.
class ImageFolderDataset final : public Dataset {
 public:
  explicit ImageFolderDataset(const std::string& directory);

  std::int64_t size() const override { return static_cast<std::int64_t>(files_.size()); }
  std::int32_t num_classes() const override { return static_cast<std::int32_t>(class_names_.size()); }
  std::int64_t channels() const override { return 3; }
  std::int32_t label(std::int64_t index) const override;
  // Reads and decodes the file; an undecodable one throws ImageDecodeError naming it.
  ImageView image(std::int64_t index, std::vector<std::uint8_t>& scratch) const override;
  const std::string& name() const override { return name_; }

  const std::vector<std::string>& class_names() const { return class_names_; }
  const std::string& path(std::int64_t index) const;

 private:
  struct File {
    std::string path;
    std::int32_t label;
  };

  std::string name_;
  std::vector<std::string> class_names_;
  std::vector<File> files_;
};

}  // namespace ofa
