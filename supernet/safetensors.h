#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/tensor.h"

// Weight files in the safetensors format, so Python (safetensors, numpy, PyTorch) reads what
// we write: an 8-byte little-endian header length N, N bytes of JSON
//   {"__metadata__": {"key": "value", ...},
//    "name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}
// padded with spaces so the data starts 8-byte aligned, then every tensor's raw little-endian
// bytes packed back to back (offsets count from the first byte after the header).
namespace ofa {

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

// The format's dtype names ("F32"; "BF16" and "F16" join the table in safetensors.cpp when
// DType gains them). dtype_from_safetensors_name gives nullopt for names this build cannot load.
const char* safetensors_dtype_name(DType dtype);
std::optional<DType> dtype_from_safetensors_name(std::string_view name);

// Writes atomically (see atomic_file.h): a failure leaves any previous file at `path` intact.
// Tensors are stored in the given order; strided views (active prefixes of maximum-size
// weights) are written densely at their view's shape, and CUDA tensors through host copies (the
// file is the same whichever device holds the tensors). Names must be unique, non-empty and not
// "__metadata__"; tensors must be defined.
void save_safetensors(const std::string& path, std::span<const NamedTensor> tensors,
                      const std::map<std::string, std::string>& metadata = {});

// A fully validated file: load_safetensors either returns all of it or throws.
struct SafetensorsFile {
  std::string path;
  std::map<std::string, std::string> metadata;
  std::vector<NamedTensor> tensors;  // in the order of their data in the file

  bool contains(std::string_view name) const;
  // Throws "file X: no tensor 'name' ..." when absent.
  const Tensor& at(std::string_view name) const;
  // As at(), and throws "file X: tensor 'name' has shape [..], expected [..]" on a mismatch:
  // what a model calls for each parameter it restores.
  const Tensor& at(std::string_view name, const Shape& expected) const;
  // Throws "file X: metadata has no key 'key'" when absent.
  const std::string& metadata_at(std::string_view key) const;
};

// Validates everything (sizes, JSON, dtypes, shapes against offsets, offsets packed without
// gaps, overlaps or trailing bytes) before allocating a tensor; every error is an ofa::Error
// that names the file and the offending field.
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace ofa
