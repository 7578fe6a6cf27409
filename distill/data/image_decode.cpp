#include "distill/data/image_decode.h"

#include <png.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace ofa {
namespace {

constexpr std::int64_t kChannels = 3;

bool starts_with(std::span<const std::uint8_t> bytes, std::initializer_list<std::uint8_t> signature) {
  return bytes.size() >= signature.size() && std::equal(signature.begin(), signature.end(), bytes.begin());
}

// One decompressor per thread: creating one costs more than decoding a small image.
tjhandle thread_decompressor() {
  struct Deleter {
    void operator()(void* handle) const { tjDestroy(handle); }
  };
  thread_local const std::unique_ptr<void, Deleter> handle(tjInitDecompress());
  if (!handle) throw Error(concat("libturbojpeg: cannot create a decompressor: ", tjGetErrorStr2(nullptr)));
  return handle.get();
}

ImageView decode_jpeg(std::span<const std::uint8_t> bytes, const std::string& path,
                      std::vector<std::uint8_t>& scratch) {
  tjhandle handle = thread_decompressor();
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(handle, bytes.data(), static_cast<unsigned long>(bytes.size()), &width, &height, &subsampling,
                          &colorspace) != 0)
    throw ImageDecodeError(concat(path, ": not a readable JPEG: ", tjGetErrorStr2(handle)));
  scratch.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * kChannels);
  if (tjDecompress2(handle, bytes.data(), static_cast<unsigned long>(bytes.size()), scratch.data(), width, 0, height,
                    TJPF_RGB, 0) != 0 &&
      tjGetErrorCode(handle) != TJERR_WARNING)
    throw ImageDecodeError(concat(path, ": damaged JPEG: ", tjGetErrorStr2(handle)));
  return {scratch.data(), height, width, kChannels};
}

ImageView decode_png(std::span<const std::uint8_t> bytes, const std::string& path, std::vector<std::uint8_t>& scratch) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()) == 0)
    throw ImageDecodeError(concat(path, ": not a readable PNG: ", image.message));
  image.format = PNG_FORMAT_RGB;
  // Zeroed, because without a background colour libpng composites alpha onto the buffer.
  scratch.assign(PNG_IMAGE_SIZE(image), 0);
  if (png_image_finish_read(&image, nullptr, scratch.data(), 0, nullptr) == 0) {
    const std::string why = image.message;
    png_image_free(&image);
    throw ImageDecodeError(concat(path, ": damaged PNG: ", why));
  }
  return {scratch.data(), image.height, image.width, kChannels};
}

}  // namespace

ImageView decode_image(std::span<const std::uint8_t> bytes, const std::string& path,
                       std::vector<std::uint8_t>& scratch) {
  if (starts_with(bytes, {0xFF, 0xD8, 0xFF})) return decode_jpeg(bytes, path, scratch);
  if (starts_with(bytes, {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'})) return decode_png(bytes, path, scratch);
  throw ImageDecodeError(concat(path, ": neither a JPEG nor a PNG file (", bytes.size(), " bytes)"));
}

}  // namespace ofa
