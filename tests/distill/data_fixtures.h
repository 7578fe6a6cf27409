#pragma once

#include <gtest/gtest.h>
#include <png.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "distill/data/dataset.h"
#include "kernels/error.h"

// Files the data tests write for themselves: a fresh directory per test, IDX/gzip bytes, and
// PNG/JPEG images encoded with the same libraries the readers decode with.
namespace ofa::testing {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ =
        fs::temp_directory_path() / concat("ofa-data-", ::getpid(), "-", info->test_suite_name(), "-", info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void write_gzip(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(file);
}

inline std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// An IDX file of unsigned bytes: magic 0x0000 08 <rank>, big-endian extents, data.
inline std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& dims,
                                           const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> bytes = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (const std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(d >> shift));
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

// Pixels whose value encodes position and channel, so any misplaced byte shows.
inline std::vector<std::uint8_t> pattern(std::int64_t height, std::int64_t width, std::int64_t channels, int salt) {
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(height * width * channels));
  for (std::size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<std::uint8_t>((i * 7 + static_cast<std::size_t>(salt) * 31) % 251);
  return pixels;
}

inline void write_png(const std::string& path, std::int64_t height, std::int64_t width, std::int64_t channels,
                      const std::vector<std::uint8_t>& pixels) {
  fs::create_directories(fs::path(path).parent_path());
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = channels == 1 ? PNG_FORMAT_GRAY : channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  ASSERT_NE(png_image_write_to_file(&image, path.c_str(), 0, pixels.data(), 0, nullptr), 0) << image.message;
}

inline void write_jpeg(const std::string& path, std::int64_t height, std::int64_t width,
                       const std::vector<std::uint8_t>& rgb, int quality = 100) {
  fs::create_directories(fs::path(path).parent_path());
  tjhandle handle = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  ASSERT_EQ(tjCompress2(handle, rgb.data(), static_cast<int>(width), 0, static_cast<int>(height), TJPF_RGB, &jpeg,
                        &size, TJSAMP_444, quality, TJFLAG_ACCURATEDCT),
            0)
      << tjGetErrorStr2(handle);
  write_bytes(path, std::vector<std::uint8_t>(jpeg, jpeg + size));
  tjFree(jpeg);
  tjDestroy(handle);
}

// `count` images of `height` x `width` x `channels` whose pixels and labels encode their index.
inline std::shared_ptr<InMemoryDataset> synthetic_dataset(std::int64_t count, std::int64_t height, std::int64_t width,
                                                          std::int64_t channels, std::int32_t classes) {
  std::vector<std::uint8_t> pixels;
  std::vector<std::int32_t> labels;
  for (std::int64_t i = 0; i < count; ++i) {
    const std::vector<std::uint8_t> image = pattern(height, width, channels, static_cast<int>(i));
    pixels.insert(pixels.end(), image.begin(), image.end());
    labels.push_back(static_cast<std::int32_t>(i % classes));
  }
  return std::make_shared<InMemoryDataset>("synthetic", height, width, channels, classes, std::move(pixels),
                                           std::move(labels));
}

// Asserts that `run` throws ofa::Error whose message contains every one of `parts`.
template <class Run>
void expect_error(Run run, std::initializer_list<std::string> parts) {
  try {
    run();
    ADD_FAILURE() << "expected ofa::Error";
  } catch (const Error& error) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(error.what()).find(part), std::string::npos)
          << "message: " << error.what() << "\nmissing: " << part;
  }
}

}  // namespace ofa::testing
