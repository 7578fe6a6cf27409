#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "supernet/safetensors.h"
#include "tests/support/test_tensors.h"

namespace ofa {
namespace {

namespace fs = std::filesystem;
using testing::to_doubles;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string length_prefix(std::uint64_t length) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xff);
  return bytes;
}

// A hand-made file: the header text as given, then `data_bytes` bytes of data.
std::string raw_file(const std::string& header, std::size_t data_bytes) {
  return length_prefix(header.size()) + header + std::string(data_bytes, '\0');
}

// value[i] = start + step * i over the row-major order of the shape.
Tensor ramp(const Shape& shape, float step, float start = 0.0f) {
  Tensor t = Tensor::empty(shape);
  float* p = t.f32();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = start + step * static_cast<float>(i);
  return t;
}

void expect_same(const Tensor& actual, const Tensor& expected, const std::string& name) {
  EXPECT_EQ(actual.shape(), expected.shape()) << name << ": " << actual.shape().str() << " vs " << expected.shape().str();
  EXPECT_EQ(to_doubles(actual), to_doubles(expected)) << name;
}

void expect_contains(const std::string& message, std::initializer_list<std::string> fragments) {
  for (const std::string& fragment : fragments)
    EXPECT_NE(message.find(fragment), std::string::npos) << "missing '" << fragment << "' in: " << message;
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / concat("ofa-safetensors-", ::getpid(), "-", info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
    return names;
  }

  // Loads a file that must be rejected and returns the message; it must name the file.
  std::string load_error(const std::string& file) {
    try {
      load_safetensors(file);
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("file " + file), std::string::npos) << message;
      return message;
    }
    ADD_FAILURE() << file << " loaded although it is corrupt";
    return "";
  }

  std::string load_error_of_raw(const std::string& header, std::size_t data_bytes) {
    write_bytes(path("raw.safetensors"), raw_file(header, data_bytes));
    return load_error(path("raw.safetensors"));
  }

  // A valid two-tensor file for the corruption tests to damage.
  std::string valid_file() {
    const std::vector<NamedTensor> tensors{{"a", ramp({2, 3}, 1.0f)}, {"b", ramp({4}, 2.0f)}};
    save_safetensors(path("valid.safetensors"), tensors, {{"space", "tiny"}});
    return path("valid.safetensors");
  }

  fs::path dir_;
};

TEST_F(SafetensorsTest, RoundTripsRanks0To4AndMetadata) {
  const std::vector<NamedTensor> tensors{
      {"stem.weight", ramp({2, 3, 3, 5}, 0.25f, -3.0f)},
      {"blocks.0.dw", ramp({3, 3, 7}, -0.5f)},
      {"classifier.weight", ramp({5, 4}, 1.5f, 2.0f)},
      {"bn.gamma", ramp({9}, 0.125f)},
      {"step", Tensor::full({}, 42.0f)},
      {"no_elements", Tensor::zeros({0, 3})},
  };
  const std::map<std::string, std::string> metadata{{"space", R"({"name": "tiny", "depths": [2, 3]})"},
                                                    {"kind", "supernet"}};
  save_safetensors(path("w.safetensors"), tensors, metadata);

  const SafetensorsFile loaded = load_safetensors(path("w.safetensors"));
  EXPECT_EQ(loaded.path, path("w.safetensors"));
  EXPECT_EQ(loaded.metadata, metadata);
  ASSERT_EQ(loaded.tensors.size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(loaded.tensors[i].name, tensors[i].name) << "file order is save order";
    EXPECT_TRUE(loaded.tensors[i].tensor.is_contiguous());
    expect_same(loaded.tensors[i].tensor, tensors[i].tensor, tensors[i].name);
  }
  EXPECT_EQ(loaded.metadata_at("kind"), "supernet");
  EXPECT_EQ(entries(), std::vector<std::string>{"w.safetensors"});
}

TEST_F(SafetensorsTest, StridedPrefixViewsAreWrittenDensely) {
  const Tensor pointwise = ramp({6, 8}, 1.0f);
  const Tensor depthwise = ramp({7, 7, 10}, 0.5f);
  const std::vector<NamedTensor> tensors{{"pw", pointwise.prefix({4, 5})}, {"dw", depthwise.prefix({7, 7, 3})}};
  ASSERT_FALSE(tensors[0].tensor.is_contiguous());
  save_safetensors(path("w.safetensors"), tensors);

  const SafetensorsFile loaded = load_safetensors(path("w.safetensors"));
  expect_same(loaded.at("pw"), tensors[0].tensor, "pw");
  expect_same(loaded.at("dw"), tensors[1].tensor, "dw");
  EXPECT_FLOAT_EQ(loaded.at("pw").at({3, 4}), pointwise.at({3, 4}));

  const std::string file = read_bytes(path("w.safetensors"));
  std::uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = header_bytes << 8 | static_cast<unsigned char>(file[static_cast<std::size_t>(i)]);
  EXPECT_EQ(file.size(), 8 + header_bytes + (4 * 5 + 7 * 7 * 3) * sizeof(float)) << "dense, no gaps";
}

TEST_F(SafetensorsTest, HeaderIsAlignedJsonInTheSafetensorsLayout) {
  save_safetensors(path("w.safetensors"), std::vector<NamedTensor>{{"w", ramp({2, 3}, 1.0f)}, {"b", ramp({3}, 1.0f)}},
                   {{"k", "v"}});
  const std::string file = read_bytes(path("w.safetensors"));
  std::uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = header_bytes << 8 | static_cast<unsigned char>(file[static_cast<std::size_t>(i)]);
  EXPECT_EQ((8 + header_bytes) % 8, 0u) << "data must start 8-byte aligned";
  const auto header = nlohmann::json::parse(file.substr(8, header_bytes));
  EXPECT_EQ(header["__metadata__"], (nlohmann::json{{"k", "v"}}));
  EXPECT_EQ(header["w"], (nlohmann::json{{"dtype", "F32"}, {"shape", {2, 3}}, {"data_offsets", {0, 24}}}));
  EXPECT_EQ(header["b"], (nlohmann::json{{"dtype", "F32"}, {"shape", {3}}, {"data_offsets", {24, 36}}}));
}

TEST_F(SafetensorsTest, EmptyMetadataAndNoTensorsRoundTrip) {
  save_safetensors(path("empty.safetensors"), std::vector<NamedTensor>{});
  const std::string file = read_bytes(path("empty.safetensors"));
  EXPECT_EQ(file.find("__metadata__"), std::string::npos) << "empty metadata is left out, as Python does";
  const SafetensorsFile loaded = load_safetensors(path("empty.safetensors"));
  EXPECT_TRUE(loaded.metadata.empty());
  EXPECT_TRUE(loaded.tensors.empty());
}

TEST_F(SafetensorsTest, SavingReplacesThePreviousFileWhole) {
  save_safetensors(path("w.safetensors"), std::vector<NamedTensor>{{"old", ramp({100}, 1.0f)}});
  save_safetensors(path("w.safetensors"), std::vector<NamedTensor>{{"new", ramp({3}, 2.0f)}});
  const SafetensorsFile loaded = load_safetensors(path("w.safetensors"));
  EXPECT_FALSE(loaded.contains("old"));
  expect_same(loaded.at("new"), ramp({3}, 2.0f), "new");
  EXPECT_EQ(entries(), std::vector<std::string>{"w.safetensors"});
}

TEST_F(SafetensorsTest, RejectedSaveLeavesThePreviousFileAlone) {
  const std::string file = valid_file();
  const std::string before = read_bytes(file);
  const auto save_error = [&](const std::vector<NamedTensor>& tensors) -> std::string {
    try {
      save_safetensors(file, tensors);
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "saved";
    return "";
  };
  expect_contains(save_error({{"w", ramp({2}, 1.0f)}, {"w", ramp({3}, 1.0f)}}), {"saving " + file, "two tensors are named 'w'"});
  expect_contains(save_error({{"__metadata__", ramp({2}, 1.0f)}}), {"'__metadata__' is reserved"});
  expect_contains(save_error({{"", ramp({2}, 1.0f)}}), {"empty name"});
  expect_contains(save_error({{"w", Tensor()}}), {"tensor 'w' is undefined"});
  expect_contains(save_error({{"bad\xff", ramp({2}, 1.0f)}}), {"UTF-8"});
  EXPECT_EQ(read_bytes(file), before);
  EXPECT_EQ(entries(), std::vector<std::string>{"valid.safetensors"});
}

TEST_F(SafetensorsTest, LookupsNameTheFileAndTheTensor) {
  const SafetensorsFile loaded = load_safetensors(valid_file());
  expect_same(loaded.at("a", Shape{2, 3}), ramp({2, 3}, 1.0f), "a");
  expect_contains(loaded.at("b").describe(), {"[4]"});

  const auto error_of = [](auto&& lookup) -> std::string {
    try {
      lookup();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  expect_contains(error_of([&] { loaded.at("blocks.3.expand.weight"); }),
                  {"file " + loaded.path, "no tensor 'blocks.3.expand.weight'"});
  expect_contains(error_of([&] { loaded.at("a", Shape{3, 2}); }),
                  {"file " + loaded.path + ": tensor 'a' has shape [2,3], expected [3,2]"});
  expect_contains(error_of([&] { loaded.metadata_at("subnet"); }), {"file " + loaded.path, "metadata has no key 'subnet'"});
}

// ------------------------------------------------------------------ damaged and foreign files

TEST_F(SafetensorsTest, RejectsAMissingFile) { expect_contains(load_error(path("absent")), {"cannot open", "No such file"}); }

TEST_F(SafetensorsTest, RejectsAFileShorterThanTheLengthField) {
  write_bytes(path("short"), "12345");
  expect_contains(load_error(path("short")), {"5 bytes long, too short"});
}

TEST_F(SafetensorsTest, RejectsAHeaderLengthBeyondTheFile) {
  const std::string file = valid_file();
  std::string content = read_bytes(file);
  content[6] = '\x01';  // a bit flip in the length field: now about 2^48 bytes
  write_bytes(file, content);
  expect_contains(load_error(file), {"header length 281474976710", "exceeds the"});
}

TEST_F(SafetensorsTest, RejectsAHeaderThatIsNotJson) {
  const std::string file = valid_file();
  std::string content = read_bytes(file);
  content[8] = 'x';  // the opening brace
  write_bytes(file, content);
  expect_contains(load_error(file), {"header is not valid JSON"});
  expect_contains(load_error_of_raw("[1, 2]", 0), {"header must be a JSON object"});
}

TEST_F(SafetensorsTest, RejectsAnotherDtypeNamingTheTensor) {
  const std::string message =
      load_error_of_raw(R"({"blocks.0.w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}})", 4);
  expect_contains(message, {"tensor 'blocks.0.w' has dtype 'F16'", "only F32"});
}

TEST_F(SafetensorsTest, RejectsAShapeThatDisagreesWithTheOffsets) {
  expect_contains(load_error_of_raw(R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})", 20),
                  {"tensor 'w': shape [2,3] of F32 needs 24 bytes, but data_offsets [0, 20] hold 20"});
}

TEST_F(SafetensorsTest, RejectsOverlappingTensors) {
  expect_contains(load_error_of_raw(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                        "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})",
                                    24),
                  {"tensors 'a' (data_offsets [0, 16]) and 'b' (data_offsets [8, 24]) overlap"});
}

TEST_F(SafetensorsTest, RejectsGapsBetweenTensors) {
  expect_contains(load_error_of_raw(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                        "b": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]}})",
                                    24),
                  {"bytes [8, 16) of the data section belong to no tensor (before tensor 'b')"});
}

TEST_F(SafetensorsTest, RejectsOffsetsOutOfRange) {
  expect_contains(load_error_of_raw(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8),
                  {"tensor 'a': data_offsets [0, 16] reach past the end of the data section (8 bytes"});
  expect_contains(load_error_of_raw(R"({"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}})", 8),
                  {"tensor 'a': data_offsets [8, 0] end before they begin"});
}

TEST_F(SafetensorsTest, RejectsTrailingGarbage) {
  const std::string file = valid_file();
  write_bytes(file, read_bytes(file) + "junk");
  expect_contains(load_error(file), {"4 bytes of trailing data after the last tensor"});
}

TEST_F(SafetensorsTest, RejectsTruncatedData) {
  const std::string file = valid_file();
  const std::string content = read_bytes(file);
  write_bytes(file, content.substr(0, content.size() - 4));
  expect_contains(load_error(file), {"tensor 'b'", "reach past the end of the data section", "truncated"});
}

TEST_F(SafetensorsTest, RejectsMalformedEntriesNamingTheField) {
  expect_contains(load_error_of_raw(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", 4),
                  {"tensor 'w': missing field 'shape'"});
  expect_contains(load_error_of_raw(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1}})", 4),
                  {"tensor 'w': unknown field 'x'"});
  expect_contains(load_error_of_raw(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4),
                  {"tensor 'w': 'shape' must hold non-negative integers, got -1"});
  expect_contains(load_error_of_raw(R"({"w": {"dtype": "F32", "shape": [1, 1, 1, 1, 1], "data_offsets": [0, 4]}})", 4),
                  {"tensor 'w': shape [1,1,1,1,1] has rank 5"});
  expect_contains(load_error_of_raw(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", 4),
                  {"tensor 'w': 'data_offsets' must be [begin, end]"});
  expect_contains(load_error_of_raw(R"({"w": {"dtype": 32, "shape": [1], "data_offsets": [0, 4]}})", 4),
                  {"tensor 'w': 'dtype' must be a string"});
  expect_contains(load_error_of_raw(R"({"w": [1, 2]})", 0), {"tensor 'w': expected an object"});
  expect_contains(load_error_of_raw(R"({"__metadata__": {"space": 3}})", 0),
                  {"'__metadata__' field 'space' must be a string, got 3"});
  expect_contains(load_error_of_raw(R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}})", 0),
                  {"tensor 'w': shape", "is too large"});
}

TEST_F(SafetensorsTest, ReadsFilesLaidOutByOtherWriters) {
  // Python's writer orders data by dtype alignment and name, not header order; and no padding
  // is required of the header.
  std::string data(12, '\0');
  const float values[3] = {1.5f, -2.0f, 8.25f};
  std::memcpy(data.data(), values, sizeof(values));
  const std::string header = R"({"z": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                             R"("a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})";
  write_bytes(path("other.safetensors"), length_prefix(header.size()) + header + data);
  const SafetensorsFile loaded = load_safetensors(path("other.safetensors"));
  ASSERT_EQ(loaded.tensors.size(), 2u);
  EXPECT_EQ(loaded.tensors[0].name, "z");
  EXPECT_EQ(loaded.at("z").at({0}), 1.5f);
  EXPECT_EQ(loaded.at("a").at({0}), -2.0f);
  EXPECT_EQ(loaded.at("a").at({1}), 8.25f);
}

// The file tests/supernet/read_safetensors.py reads back with numpy and Python's safetensors;
// the values here and there must agree. ctest's python test sets OFA_SAFETENSORS_SAMPLE.
TEST_F(SafetensorsTest, WritesThePythonSample) {
  const char* requested = std::getenv("OFA_SAFETENSORS_SAMPLE");
  const std::string file = requested != nullptr ? std::string(requested) : path("python_sample.safetensors");
  Tensor full_pointwise = Tensor::empty({4, 7});
  for (std::int64_t r = 0; r < 4; ++r)
    for (std::int64_t c = 0; c < 7; ++c) full_pointwise.at({r, c}) = static_cast<float>(r * 100 + c);
  const std::vector<NamedTensor> tensors{
      {"ramp", ramp({24}, 0.5f)},
      {"prefix", full_pointwise.prefix({3, 5})},
      {"kernel", ramp({2, 3, 3, 4}, 0.25f, -10.0f)},
      {"scalar", Tensor::full({}, 3.5f)},
      {"empty", Tensor::zeros({0, 3})},
  };
  const std::map<std::string, std::string> metadata{{"format", "ofa-sample"},
                                                    {"space", R"({"name": "tiny", "depths": [2, 3]})"}};
  save_safetensors(file, tensors, metadata);

  const SafetensorsFile loaded = load_safetensors(file);
  EXPECT_EQ(loaded.metadata, metadata);
  for (const NamedTensor& t : tensors) expect_same(loaded.at(t.name), t.tensor, t.name);
}

}  // namespace
}  // namespace ofa
