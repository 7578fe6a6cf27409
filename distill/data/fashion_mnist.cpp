#include "distill/data/fashion_mnist.h"

#include <zlib.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "kernels/error.h"

namespace ofa {
namespace {

constexpr std::int32_t kClasses = 10;
constexpr std::int64_t kSide = 28;

// The whole file, decompressed. zlib's gz* functions read plain files unchanged, so
// uncompressed IDX files work too; a damaged or cut-off gzip stream is an error.
std::vector<std::uint8_t> read_gzip_file(const std::string& path) {
  errno = 0;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr)
    fail(path, "cannot open: ", errno != 0 ? std::strerror(errno) : "out of memory",
         " (install Debian's dataset-fashion-mnist, or pass fashion-mnist:DIR with the IDX files)");
  gzbuffer(file, 1 << 20);
  std::vector<std::uint8_t> data;
  constexpr std::size_t kChunk = 1 << 22;
  for (;;) {
    const std::size_t used = data.size();
    data.resize(used + kChunk);
    const int got = gzread(file, data.data() + used, static_cast<unsigned>(kChunk));
    if (got < 0) {
      int code = 0;
      const std::string why = gzerror(file, &code);
      gzclose(file);
      fail(path, "damaged gzip data: ", why);
    }
    data.resize(used + static_cast<std::size_t>(got));
    if (got == 0) break;
  }
  int code = 0;
  const std::string why = gzerror(file, &code);
  gzclose(file);
  // zlib returns what it has for a stream cut off mid-way and records Z_BUF_ERROR.
  if (code != Z_OK) fail(path, "damaged or truncated gzip data: ", why);
  return data;
}

std::uint32_t big_endian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

// An IDX file of unsigned bytes: magic 0x0000 08 <rank>, then `rank` big-endian extents, then
// the data. Returns the extents and leaves only the data in `bytes`.
std::vector<std::int64_t> strip_idx_header(const std::string& path, std::vector<std::uint8_t>& bytes, int rank) {
  const std::uint32_t expected_magic = 0x00000800u | static_cast<std::uint32_t>(rank);
  const auto header = static_cast<std::size_t>(4 + 4 * rank);
  if (bytes.size() >= 4 && big_endian32(bytes.data()) != expected_magic)
    fail(path, "bad magic number 0x", std::hex, big_endian32(bytes.data()), ", expected 0x", expected_magic, std::dec,
         " (an IDX file of unsigned bytes with ", rank, " dimensions)");
  if (bytes.size() < header)
    fail(path, "truncated: ", bytes.size(), " bytes, shorter than the ", header, "-byte IDX header");
  const std::size_t have = bytes.size() - header;
  std::vector<std::int64_t> dims;
  std::string extents;
  // Saturates at have + 1 so absurd extents read as "truncated" instead of overflowing.
  std::size_t payload = 1;
  for (int axis = 0; axis < rank; ++axis) {
    dims.push_back(big_endian32(bytes.data() + 4 + 4 * axis));
    extents += concat(axis == 0 ? "" : "x", dims.back());
    const auto dim = static_cast<std::size_t>(dims.back());
    payload = dim != 0 && payload > (have + 1) / dim ? have + 1 : payload * dim;
  }
  if (have < payload) fail(path, "truncated: the header promises ", extents, " bytes, the file has ", have);
  if (have > payload)
    fail(path, have - payload, " unexpected bytes after the ", payload, " data bytes the header declares");
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header));
  return dims;
}

std::string idx_path(const std::string& directory, const char* prefix, const char* kind, int rank) {
  const auto base = std::filesystem::path(directory) / concat(prefix, "-", kind, "-idx", rank, "-ubyte");
  const std::string compressed = base.string() + ".gz";
  return std::filesystem::exists(compressed) || !std::filesystem::exists(base) ? compressed : base.string();
}

}  // namespace

std::shared_ptr<InMemoryDataset> load_fashion_mnist(const std::string& directory, DataSplit split) {
  const char* prefix = split == DataSplit::train ? "train" : "t10k";
  const std::string images_path = idx_path(directory, prefix, "images", 3);
  const std::string labels_path = idx_path(directory, prefix, "labels", 1);

  std::vector<std::uint8_t> pixels = read_gzip_file(images_path);
  const std::vector<std::int64_t> image_dims = strip_idx_header(images_path, pixels, 3);
  if (image_dims[1] != kSide || image_dims[2] != kSide)
    fail(images_path, "images are ", image_dims[1], "x", image_dims[2], ", expected 28x28");

  std::vector<std::uint8_t> label_bytes = read_gzip_file(labels_path);
  const std::vector<std::int64_t> label_dims = strip_idx_header(labels_path, label_bytes, 1);
  if (label_dims[0] != image_dims[0])
    fail(labels_path, "holds ", label_dims[0], " labels but ", images_path, " holds ", image_dims[0], " images");

  std::vector<std::int32_t> labels(label_bytes.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    labels[i] = label_bytes[i];
    if (labels[i] >= kClasses) fail(labels_path, "label ", i, " is ", labels[i], ", expected a class in [0, 9]");
  }
  return std::make_shared<InMemoryDataset>(concat("fashion-mnist ", split_name(split)), kSide, kSide, 1, kClasses,
                                           std::move(pixels), std::move(labels));
}

}  // namespace ofa
