#include "distill/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "distill/data/image_decode.h"
#include "kernels/error.h"

namespace ofa {
namespace {

namespace fs = std::filesystem;

bool is_hidden(const fs::path& path) { return path.filename().string().starts_with('.'); }

bool has_image_extension(const fs::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".jpg" || extension == ".jpeg" || extension == ".png";
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw ImageDecodeError(concat(path, ": cannot open"));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size())))
    throw ImageDecodeError(concat(path, ": read error"));
  return bytes;
}

}  // namespace

std::vector<std::string> list_class_folders(const std::string& directory) {
  std::error_code error;
  if (!fs::is_directory(directory, error))
    fail(directory, "not a directory (expected <class>/<image>.jpg|.jpeg|.png under it)");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory))
    if (entry.is_directory() && !is_hidden(entry.path())) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  if (names.empty()) fail(directory, "has no class sub-folders (expected <class>/<image>.jpg|.jpeg|.png under it)");
  return names;
}

ImageFolderDataset::ImageFolderDataset(const std::string& directory)
    : name_(concat("folder ", directory)), class_names_(list_class_folders(directory)) {
  for (std::size_t label = 0; label < class_names_.size(); ++label) {
    const fs::path class_dir = fs::path(directory) / class_names_[label];
    std::vector<std::string> paths;
    for (const auto& entry : fs::directory_iterator(class_dir))
      if (entry.is_regular_file() && !is_hidden(entry.path()) && has_image_extension(entry.path()))
        paths.push_back(entry.path().string());
    if (paths.empty()) fail(class_dir.string(), "class folder holds no .jpg, .jpeg or .png images");
    std::sort(paths.begin(), paths.end());
    for (std::string& path : paths) files_.push_back({std::move(path), static_cast<std::int32_t>(label)});
  }
}

std::int32_t ImageFolderDataset::label(std::int64_t index) const {
  check_image_index(*this, index);
  return files_[static_cast<std::size_t>(index)].label;
}

const std::string& ImageFolderDataset::path(std::int64_t index) const {
  check_image_index(*this, index);
  return files_[static_cast<std::size_t>(index)].path;
}

ImageView ImageFolderDataset::image(std::int64_t index, std::vector<std::uint8_t>& scratch) const {
  const std::string& file = path(index);
  return decode_image(read_bytes(file), file, scratch);
}

}  // namespace ofa
