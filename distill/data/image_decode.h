#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "distill/data/dataset.h"
#include "kernels/error.h"

namespace ofa {

// A file that is not a decodable JPEG or PNG. The loader skips such images with a warning (the
// format is a property of the file, so the skip is the same on every run) instead of stopping.
class ImageDecodeError : public Error {
 public:
  using Error::Error;
};

// Decodes JPEG (libturbojpeg) or PNG (libpng), recognised by their signature bytes, into 8-bit
// RGB HWC pixels in `scratch`. Grey, palette, 16-bit and alpha images are converted (alpha is
// composited onto black). Throws ImageDecodeError naming `path` when the bytes are neither
// format or are damaged beyond decoding; libjpeg's recoverable warnings (extraneous bytes, a
// premature end) keep the decoded image, as PIL does for the same files.
ImageView decode_image(std::span<const std::uint8_t> bytes, const std::string& path,
                       std::vector<std::uint8_t>& scratch);

}  // namespace ofa
