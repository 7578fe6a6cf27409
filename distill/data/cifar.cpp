#include "distill/data/cifar.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "kernels/error.h"

namespace ofa {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kSide = 32;
constexpr std::int64_t kPlane = kSide * kSide;
constexpr std::int64_t kImageBytes = 3 * kPlane;

struct CifarFormat {
  const char* name;
  const char* folder;  // as the archive unpacks
  std::int32_t classes;
  std::int64_t label_bytes;  // the used label is the last of them
};

constexpr CifarFormat kCifar10{"cifar10", "cifar-10-batches-bin", 10, 1};
constexpr CifarFormat kCifar100{"cifar100", "cifar-100-binary", 100, 2};

std::vector<std::uint8_t> read_file(const std::string& path, const CifarFormat& format) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    fail(path, "cannot open (", format.name, ":DIR expects the binary version's files, e.g. from ", format.folder, ")");
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size())))
    fail(path, "read error");
  return bytes;
}

std::shared_ptr<InMemoryDataset> load(const std::string& directory, DataSplit split, const CifarFormat& format,
                                      const std::vector<std::string>& files) {
  fs::path root(directory);
  if (!fs::exists(root / files.front()) && fs::exists(root / format.folder / files.front())) root /= format.folder;

  const std::int64_t record = format.label_bytes + kImageBytes;
  std::vector<std::uint8_t> pixels;
  std::vector<std::int32_t> labels;
  for (const std::string& file : files) {
    const std::string path = (root / file).string();
    const std::vector<std::uint8_t> bytes = read_file(path, format);
    const auto size = static_cast<std::int64_t>(bytes.size());
    if (size == 0 || size % record != 0)
      fail(path, size, " bytes is not a whole number of ", record, "-byte records (", format.label_bytes,
           " label byte(s) + 32x32x3 pixels): truncated or not a ", format.name, " binary file");
    const std::int64_t count = size / record;
    const std::size_t first = labels.size();
    labels.resize(first + static_cast<std::size_t>(count));
    pixels.resize(labels.size() * static_cast<std::size_t>(kImageBytes));
    for (std::int64_t i = 0; i < count; ++i) {
      const std::uint8_t* in = bytes.data() + i * record;
      const std::int32_t label = in[format.label_bytes - 1];
      if (label >= format.classes)
        fail(path, "record ", i, " has label ", label, ", expected a class in [0, ", format.classes - 1, "]");
      labels[first + static_cast<std::size_t>(i)] = label;
      const std::uint8_t* planes = in + format.label_bytes;
      std::uint8_t* out = pixels.data() + (first + static_cast<std::size_t>(i)) * kImageBytes;
      for (std::int64_t p = 0; p < kPlane; ++p)
        for (std::int64_t c = 0; c < 3; ++c) out[p * 3 + c] = planes[c * kPlane + p];
    }
  }
  return std::make_shared<InMemoryDataset>(concat(format.name, " ", split_name(split)), kSide, kSide, 3, format.classes,
                                           std::move(pixels), std::move(labels));
}

}  // namespace

std::shared_ptr<InMemoryDataset> load_cifar10(const std::string& directory, DataSplit split) {
  if (split == DataSplit::test) return load(directory, split, kCifar10, {"test_batch.bin"});
  return load(directory, split, kCifar10,
              {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"});
}

std::shared_ptr<InMemoryDataset> load_cifar100(const std::string& directory, DataSplit split) {
  return load(directory, split, kCifar100, {split == DataSplit::train ? "train.bin" : "test.bin"});
}

}  // namespace ofa
