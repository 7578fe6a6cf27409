#include "supernet/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

#include "kernels/error.h"
#include "supernet/atomic_file.h"

namespace ofa {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian and is read and written without byte swapping");

using Json = nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";
constexpr std::size_t kLengthBytes = 8;
// The data section starts 8-byte aligned, as Python's safetensors writes it.
constexpr std::size_t kDataAlignment = 8;

struct DTypeName {
  DType dtype;
  const char* name;
};
constexpr std::array kDTypeNames{DTypeName{DType::f32, "F32"}};

std::string loadable_dtype_names() {
  std::string names;
  for (const DTypeName& known : kDTypeNames) {
    if (!names.empty()) names += ", ";
    names += known.name;
  }
  return names;
}

std::string in_file(const std::string& path) { return concat("file ", path); }

// Enough of a JSON value to recognise it in a message without flooding the terminal.
std::string excerpt(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  constexpr std::size_t kMax = 60;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

std::uint64_t tensor_bytes(const Tensor& tensor) {
  return static_cast<std::uint64_t>(tensor.numel()) * dtype_size(tensor.dtype());
}

std::span<const std::byte> bytes_of(const Tensor& contiguous) {
  return {static_cast<const std::byte*>(contiguous.raw()), static_cast<std::size_t>(tensor_bytes(contiguous))};
}

// ---------------------------------------------------------------------------------- writing

void check_saveable(const std::string& path, std::span<const NamedTensor> tensors) {
  const std::string where = concat("saving ", path);
  std::set<std::string_view> seen;
  for (const NamedTensor& entry : tensors) {
    OFA_CHECK(!entry.name.empty(), where, "a tensor has an empty name");
    OFA_CHECK(entry.name != kMetadataKey, where, "'", kMetadataKey, "' is reserved and cannot name a tensor");
    OFA_CHECK(seen.insert(entry.name).second, where, "two tensors are named '", entry.name, "'");
    OFA_CHECK(entry.tensor.defined(), where, "tensor '", entry.name, "' is undefined");
  }
}

// Padded with spaces (valid JSON whitespace) so the data section starts aligned.
std::string encode_header(const std::string& path, std::span<const NamedTensor> tensors,
                          const std::map<std::string, std::string>& metadata) {
  // Insertion order keeps the file readable: metadata first, then tensors as stored.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::uint64_t offset = 0;
  for (const NamedTensor& entry : tensors) {
    const Tensor& t = entry.tensor;
    std::vector<std::int64_t> dims;
    for (int axis = 0; axis < t.rank(); ++axis) dims.push_back(t.dim(axis));
    const std::uint64_t end = offset + tensor_bytes(t);
    header[entry.name] = {{"dtype", safetensors_dtype_name(t.dtype())}, {"shape", dims}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    fail(concat("saving ", path), "cannot encode the header (names and metadata must be UTF-8): ", e.what());
  }
  text.append((kDataAlignment - (kLengthBytes + text.size()) % kDataAlignment) % kDataAlignment, ' ');
  return text;
}

std::array<std::byte, kLengthBytes> little_endian(std::uint64_t value) {
  std::array<std::byte, kLengthBytes> bytes{};
  for (std::size_t i = 0; i < kLengthBytes; ++i) bytes[i] = static_cast<std::byte>((value >> (8 * i)) & 0xff);
  return bytes;
}

// ---------------------------------------------------------------------------------- reading

class InputFile {
 public:
  explicit InputFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      const int error_number = errno;
      fail(in_file(path_), "cannot open: ", std::strerror(error_number));
    }
    struct stat info {};
    if (::fstat(fd_, &info) != 0) {
      const int error_number = errno;
      fail(in_file(path_), "cannot stat: ", std::strerror(error_number));
    }
    OFA_CHECK(S_ISREG(info.st_mode), in_file(path_), "is not a regular file");
    size_ = static_cast<std::uint64_t>(info.st_size);
  }
  ~InputFile() { ::close(fd_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::uint64_t size() const { return size_; }

  void read_exact(void* into, std::size_t bytes) {
    auto* next = static_cast<char*>(into);
    while (bytes > 0) {
      const ssize_t got = ::read(fd_, next, bytes);
      if (got < 0) {
        const int error_number = errno;
        if (error_number == EINTR) continue;
        fail(in_file(path_), "read failed: ", std::strerror(error_number));
      }
      // The sizes were validated against fstat, so this is a file shrinking under us.
      OFA_CHECK(got > 0, in_file(path_), "ended early while reading (was it modified during the load?)");
      next += got;
      bytes -= static_cast<std::size_t>(got);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

struct TensorEntry {
  std::string name;
  DType dtype = DType::f32;
  std::vector<std::int64_t> dims;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

std::string offsets_text(const TensorEntry& entry) { return concat("[", entry.begin, ", ", entry.end, "]"); }

Shape make_shape(const std::vector<std::int64_t>& d) {
  switch (d.size()) {
    case 0: return Shape{};
    case 1: return Shape{d[0]};
    case 2: return Shape{d[0], d[1]};
    case 3: return Shape{d[0], d[1], d[2]};
    default: return Shape{d[0], d[1], d[2], d[3]};
  }
}

std::map<std::string, std::string> parse_metadata(const std::string& where, const Json& value) {
  OFA_CHECK(value.is_object(), where, "'", kMetadataKey, "' must be an object of strings, got ", excerpt(value));
  std::map<std::string, std::string> metadata;
  for (const auto& [key, text] : value.items()) {
    OFA_CHECK(text.is_string(), where, "'", kMetadataKey, "' field '", key, "' must be a string, got ", excerpt(text));
    metadata.emplace(key, text.get<std::string>());
  }
  return metadata;
}

std::uint64_t unsigned_field(const std::string& where, const std::string& name, const char* field, const Json& value) {
  OFA_CHECK(value.is_number_unsigned(), where, "tensor '", name, "': '", field,
            "' must hold non-negative integers, got ", excerpt(value));
  return value.get<std::uint64_t>();
}

// Checks one header entry on its own; how the entries fit together is check_packing's job.
TensorEntry parse_entry(const std::string& where, const std::string& name, const Json& value,
                        std::uint64_t data_bytes) {
  OFA_CHECK(!name.empty(), where, "a tensor has an empty name");
  OFA_CHECK(value.is_object(), where, "tensor '", name, "': expected an object with dtype, shape and data_offsets, got ",
            excerpt(value));
  for (const auto& [field, unused] : value.items())
    OFA_CHECK(field == "dtype" || field == "shape" || field == "data_offsets", where, "tensor '", name,
              "': unknown field '", field, "'");
  for (const char* field : {"dtype", "shape", "data_offsets"})
    OFA_CHECK(value.contains(field), where, "tensor '", name, "': missing field '", field, "'");

  TensorEntry entry;
  entry.name = name;

  const Json& dtype = value["dtype"];
  OFA_CHECK(dtype.is_string(), where, "tensor '", name, "': 'dtype' must be a string, got ", excerpt(dtype));
  const std::optional<DType> known = dtype_from_safetensors_name(dtype.get<std::string>());
  OFA_CHECK(known.has_value(), where, "tensor '", name, "' has dtype '", dtype.get<std::string>(),
            "'; this build loads only ", loadable_dtype_names());
  entry.dtype = *known;

  const Json& shape = value["shape"];
  OFA_CHECK(shape.is_array(), where, "tensor '", name, "': 'shape' must be an array, got ", excerpt(shape));
  OFA_CHECK(shape.size() <= static_cast<std::size_t>(Shape::kMaxRank), where, "tensor '", name, "': shape ",
            excerpt(shape), " has rank ", shape.size(), ", more than the supported ", Shape::kMaxRank);
  for (const Json& dim : shape) {
    const std::uint64_t extent = unsigned_field(where, name, "shape", dim);
    OFA_CHECK(extent <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()), where, "tensor '", name,
              "': extent ", extent, " in 'shape' is too large");
    entry.dims.push_back(static_cast<std::int64_t>(extent));
  }

  const Json& offsets = value["data_offsets"];
  OFA_CHECK(offsets.is_array() && offsets.size() == 2, where, "tensor '", name,
            "': 'data_offsets' must be [begin, end], got ", excerpt(offsets));
  entry.begin = unsigned_field(where, name, "data_offsets", offsets[0]);
  entry.end = unsigned_field(where, name, "data_offsets", offsets[1]);
  OFA_CHECK(entry.begin <= entry.end, where, "tensor '", name, "': data_offsets ", offsets_text(entry),
            " end before they begin");
  OFA_CHECK(entry.end <= data_bytes, where, "tensor '", name, "': data_offsets ", offsets_text(entry),
            " reach past the end of the data section (", data_bytes, " bytes; is the file truncated?)");

  std::uint64_t needed = dtype_size(entry.dtype);
  for (std::int64_t extent : entry.dims) {
    const bool overflow = __builtin_mul_overflow(needed, static_cast<std::uint64_t>(extent), &needed);
    OFA_CHECK(!overflow, where, "tensor '", name, "': shape ", make_shape(entry.dims).str(), " is too large");
  }
  OFA_CHECK(needed == entry.end - entry.begin, where, "tensor '", name, "': shape ", make_shape(entry.dims).str(), " of ",
            safetensors_dtype_name(entry.dtype), " needs ", needed, " bytes, but data_offsets ", offsets_text(entry), " hold ",
            entry.end - entry.begin);
  return entry;
}

// Sorts the entries by position and checks that they tile the data section exactly, as the
// format requires: no overlaps (two names sharing bytes), no gaps, no trailing bytes.
void check_packing(const std::string& where, std::vector<TensorEntry>& entries, std::uint64_t data_bytes) {
  std::sort(entries.begin(), entries.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
  });
  std::uint64_t covered = 0;
  const TensorEntry* previous = nullptr;
  for (const TensorEntry& entry : entries) {
    OFA_CHECK(entry.begin >= covered, where, "tensors '", previous->name, "' (data_offsets ", offsets_text(*previous),
              ") and '", entry.name, "' (data_offsets ", offsets_text(entry), ") overlap");
    OFA_CHECK(entry.begin == covered, where, "bytes [", covered, ", ", entry.begin,
              ") of the data section belong to no tensor (before tensor '", entry.name, "')");
    covered = entry.end;
    previous = &entry;
  }
  OFA_CHECK(covered == data_bytes, where, data_bytes - covered, " bytes of trailing data after the last tensor (the ",
            "data section is ", data_bytes, " bytes, the tensors end at ", covered, ")");
}

}  // namespace

const char* safetensors_dtype_name(DType dtype) {
  for (const DTypeName& known : kDTypeNames)
    if (known.dtype == dtype) return known.name;
  fail("safetensors", "dtype ", dtype_name(dtype), " has no safetensors name");
}

std::optional<DType> dtype_from_safetensors_name(std::string_view name) {
  for (const DTypeName& known : kDTypeNames)
    if (known.name == name) return known.dtype;
  return std::nullopt;
}

void save_safetensors(const std::string& path, std::span<const NamedTensor> tensors,
                      const std::map<std::string, std::string>& metadata) {
  check_saveable(path, tensors);
  const std::string header = encode_header(path, tensors, metadata);
  AtomicFileWriter writer(path);
  writer.write(little_endian(header.size()));
  writer.write(std::as_bytes(std::span(header)));
  for (const NamedTensor& entry : tensors) {
    // Active prefixes keep the maximum-size strides; the file stores them densely. CUDA tensors
    // come to the host one at a time, so a device model never needs a whole host copy.
    const Tensor& t = entry.tensor;
    const Tensor dense = t.device() == Device::cpu && t.is_contiguous() ? t : t.to(Device::cpu);
    writer.write(bytes_of(dense));
  }
  writer.commit();
}

SafetensorsFile load_safetensors(const std::string& path) {
  const std::string where = in_file(path);
  InputFile file(path);
  OFA_CHECK(file.size() >= kLengthBytes, where, "is ", file.size(), " bytes long, too short for the ", kLengthBytes,
            "-byte header length of a safetensors file");
  std::array<unsigned char, kLengthBytes> length_bytes{};
  file.read_exact(length_bytes.data(), length_bytes.size());
  std::uint64_t header_bytes = 0;
  for (std::size_t i = 0; i < kLengthBytes; ++i) header_bytes |= std::uint64_t{length_bytes[i]} << (8 * i);
  const std::uint64_t after_length = file.size() - kLengthBytes;
  OFA_CHECK(header_bytes <= after_length, where, "header length ", header_bytes, " exceeds the ", after_length,
            " bytes that follow it (truncated, or not a safetensors file)");
  const std::uint64_t data_bytes = after_length - header_bytes;

  std::string header_text(static_cast<std::size_t>(header_bytes), '\0');
  file.read_exact(header_text.data(), header_text.size());
  Json header;
  try {
    header = Json::parse(header_text);
  } catch (const Json::parse_error& e) {
    fail(where, "header is not valid JSON: ", e.what());
  }
  OFA_CHECK(header.is_object(), where, "header must be a JSON object, got ", excerpt(header));

  SafetensorsFile loaded;
  loaded.path = path;
  std::vector<TensorEntry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == kMetadataKey)
      loaded.metadata = parse_metadata(where, value);
    else
      entries.push_back(parse_entry(where, key, value, data_bytes));
  }
  check_packing(where, entries, data_bytes);

  // Everything is known to fit; only now allocate and read, in file order.
  for (const TensorEntry& entry : entries) {
    Tensor tensor = Tensor::empty(make_shape(entry.dims), entry.dtype);
    // A fresh tensor of our own; Tensor has no writable untyped accessor.
    file.read_exact(const_cast<void*>(tensor.raw()), static_cast<std::size_t>(entry.end - entry.begin));
    loaded.tensors.push_back({entry.name, std::move(tensor)});
  }
  return loaded;
}

bool SafetensorsFile::contains(std::string_view name) const {
  return std::any_of(tensors.begin(), tensors.end(), [&](const NamedTensor& t) { return t.name == name; });
}

const Tensor& SafetensorsFile::at(std::string_view name) const {
  for (const NamedTensor& t : tensors)
    if (t.name == name) return t.tensor;
  fail(in_file(path), "no tensor '", name, "' (the file holds ", tensors.size(), " tensors)");
}

const Tensor& SafetensorsFile::at(std::string_view name, const Shape& expected) const {
  const Tensor& tensor = at(name);
  OFA_CHECK(tensor.shape() == expected, in_file(path), "tensor '", name, "' has shape ", tensor.shape().str(),
            ", expected ", expected.str());
  return tensor;
}

const std::string& SafetensorsFile::metadata_at(std::string_view key) const {
  const auto found = metadata.find(std::string(key));
  OFA_CHECK(found != metadata.end(), in_file(path), "metadata has no key '", key, "'");
  return found->second;
}

}  // namespace ofa
