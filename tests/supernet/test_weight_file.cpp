#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "kernels/error.h"
#include "supernet/weight_file.h"
#include "tests/support/test_tensors.h"
#include "tests/supernet/tiny_space.h"

namespace ofa {
namespace {

std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "ofa_weight_file_test";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

void train_a_little(Supernet& supernet) {
  for (std::uint64_t i = 0; i < 3; ++i) {
    const Subnet subnet = sample_subnet(supernet.space(), {}, 2, i);
    supernet.set_active(subnet);
    const Tensor x = testing::random_tensor({2, subnet.resolution, subnet.resolution, 3});
    supernet.network().forward(x, true);
  }
  for (Parameter& p : supernet.network().parameters().parameters) p.value.copy_from(testing::random_tensor(p.value.shape()));
}

Tensor logits(Network& network, const Tensor& x) { return network.forward(x, false).clone(); }

TEST(WeightFile, SupernetRoundTripKeepsEveryOutput) {
  Supernet supernet(testing::tiny_space(), 1);
  train_a_little(supernet);
  const std::string path = temp_path("supernet.safetensors");
  save_supernet(path, supernet);
  std::unique_ptr<Supernet> loaded = load_supernet(path);
  EXPECT_EQ(loaded->space().to_json(), supernet.space().to_json());
  for (std::uint64_t i = 0; i < 4; ++i) {
    const Subnet subnet = sample_subnet(supernet.space(), {}, 3, i);
    supernet.set_active(subnet);
    loaded->set_active(subnet);
    const Tensor x = testing::random_tensor({2, subnet.resolution, subnet.resolution, 3});
    testing::expect_close(logits(loaded->network(), x), logits(supernet.network(), x), 0, 0, "subnet " + std::to_string(i));
  }
}

TEST(WeightFile, ExtractedRoundTripKeepsLogits) {
  Supernet supernet(testing::tiny_space(), 2);
  train_a_little(supernet);
  const Subnet subnet = sample_subnet(supernet.space(), {}, 4, 0);
  ExtractedNetwork extracted = extract_subnet(supernet, subnet);
  const std::string path = temp_path("subnet.safetensors");
  save_extracted(path, extracted);
  ExtractedNetwork loaded = load_extracted(path);
  EXPECT_EQ(loaded.subnet, subnet);
  const Tensor x = testing::random_tensor({2, subnet.resolution, subnet.resolution, 3});
  testing::expect_close(logits(*loaded.network, x), logits(*extracted.network, x), 0, 0, "extracted");
}

TEST(WeightFile, RejectsAFileOfAnotherKindOrSpaceWithoutTouchingWeights) {
  Supernet supernet(testing::tiny_space(), 3);
  const std::string subnet_path = temp_path("a_subnet.safetensors");
  save_extracted(subnet_path, extract_subnet(supernet, largest_subnet(supernet.space())));
  try {
    load_supernet(subnet_path);
    FAIL() << "loaded a subnet file as a supernet";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("format"), std::string::npos) << e.what();
  }

  Supernet other(testing::tiny_space(0.2f), 4);
  const std::string other_path = temp_path("other.safetensors");
  save_supernet(other_path, other);
  const Tensor before = supernet.network().parameters().parameters[0].value.clone();
  EXPECT_THROW(load_supernet_weights(other_path, supernet), Error);
  testing::expect_close(supernet.network().parameters().parameters[0].value, before, 0, 0, "untouched");
}

TEST(WeightFile, TruncatedFileIsRejected) {
  Supernet supernet(testing::tiny_space(), 5);
  const std::string path = temp_path("truncated.safetensors");
  save_supernet(path, supernet);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 16);
  EXPECT_THROW(load_supernet(path), Error);
}

}  // namespace
}  // namespace ofa
