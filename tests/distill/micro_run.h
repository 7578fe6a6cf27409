#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "distill/data/fashion_mnist.h"
#include "distill/trainer.h"
#include "supernet/safetensors.h"
#include "tests/distill/data_fixtures.h"

// A training run small enough for a test: a micro space, a three-phase recipe of 18 steps and
// 48 + 16 Fashion-MNIST images, so that even the emulated cuda kernels finish in seconds.
namespace ofa {

// Two blocks that are elastic in kernel, expand and depth, SE, h-swish and dropout.
constexpr const char* kMicroSpace = R"({
  "name": "device-test", "in_channels": 1, "num_classes": 10, "width_mult": 0.25, "channel_divisor": 8,
  "stem": {"width": 16, "kernel": 3, "stride": 2, "activation": "h_swish"},
  "first_block": {"width": 16, "kernel": 3, "expand": 1, "activation": "relu", "squeeze_excite": false},
  "stages": [{"width": 24, "stride": 2, "activation": "h_swish", "squeeze_excite": true}],
  "elastic": {"kernel_sizes": [3, 5], "expand_ratios": [3, 6], "depths": [1, 2], "resolutions": [12, 16]},
  "se_reduction": 4,
  "head": {"final_expand_width": 32, "feature_mix_width": 32, "activation": "h_swish", "dropout": 0.1}
})";

// A teacher phase, one distilling from the frozen teacher, one sandwich phase with in-place
// distillation and channel re-organisation: 6 steps each, a log line and a checkpoint every step.
constexpr const char* kMicroRecipe = R"({
  "name": "device-test", "batch_size": 8, "train_images_per_epoch": 16, "validation_images": 8,
  "bn_calibration_images": 8, "checkpoint_every_steps": 1, "log_every_steps": 1,
  "phases": [
    {"name": "teacher", "epochs": 3, "lr": 0.05, "warmup_epochs": 0.5,
     "kernel_sizes": [5], "expand_ratios": [6], "depths": [2], "resolutions": []},
    {"name": "kernel-depth", "epochs": 3, "lr": 0.02, "subnets_per_step": 2, "kd_ratio": 1.0,
     "kernel_sizes": [3, 5], "expand_ratios": [6], "depths": [1, 2], "resolutions": []},
    {"name": "expand", "epochs": 3, "lr": 0.01, "subnets_per_step": 3, "sampling": "sandwich", "kd_ratio": 1.0,
     "reorganize_channels": true, "kernel_sizes": [3, 5], "expand_ratios": [3, 6], "depths": [1, 2], "resolutions": []}
  ]
})";
constexpr std::int64_t kMicroSteps = 18;

inline void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// The first `count` images of a split of Debian's Fashion-MNIST as IDX files in `directory`.
inline void write_fashion_mnist_subset(const std::string& directory, DataSplit split, std::int64_t count) {
  const auto full = load_fashion_mnist(kFashionMnistDirectory, split);
  std::vector<std::uint8_t> pixels, labels;
  std::vector<std::uint8_t> scratch;
  for (std::int64_t i = 0; i < count; ++i) {
    const ImageView image = full->image(i, scratch);
    pixels.insert(pixels.end(), image.pixels, image.pixels + image.height * image.width);
    labels.push_back(static_cast<std::uint8_t>(full->label(i)));
  }
  const std::string prefix = directory + (split == DataSplit::train ? "/train" : "/t10k");
  testing::write_bytes(prefix + "-images-idx3-ubyte", testing::idx_bytes({std::uint32_t(count), 28, 28}, pixels));
  testing::write_bytes(prefix + "-labels-idx1-ubyte", testing::idx_bytes({std::uint32_t(count)}, labels));
}

// The space, recipe and data of a micro run in a fresh directory.
class MicroRun : public ::testing::Test {
 protected:
  void SetUp() override {
    write_text(dir / "space.json", kMicroSpace);
    write_text(dir / "recipe.json", kMicroRecipe);
    write_fashion_mnist_subset(dir / "data", DataSplit::train, 48);
    write_fashion_mnist_subset(dir / "data", DataSplit::test, 16);
  }

  TrainOptions options(const std::string& out, Device device) const {
    TrainOptions o;
    o.space = dir / "space.json";
    o.recipe = dir / "recipe.json";
    o.data = data();
    o.out = dir / out;
    o.threads = 1;
    o.loader_workers = 1;
    o.seed = 3;
    o.device = device;
    return o;
  }
  std::string data() const { return "fashion-mnist:" + (dir / "data"); }

  testing::TempDir dir;
};

inline std::vector<nlohmann::json> records(const std::string& metrics, const std::string& type) {
  std::ifstream in(metrics);
  std::vector<nlohmann::json> found;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json record = nlohmann::json::parse(line);
    if (record.at("type") == type) found.push_back(record);
  }
  return found;
}

// The largest |a - b| over every tensor of two safetensors files with the same names and shapes,
// relative to max(1, the tensor's largest |b|).
inline double max_relative_difference(const std::string& a_path, const std::string& b_path) {
  const SafetensorsFile a = load_safetensors(a_path), b = load_safetensors(b_path);
  EXPECT_EQ(a.tensors.size(), b.tensors.size());
  double worst = 0;
  for (const NamedTensor& t : b.tensors) {
    const Tensor& other = a.at(t.name, t.tensor.shape());
    const float* x = other.f32();
    const float* y = t.tensor.f32();
    double scale = 1.0, difference = 0.0;
    for (std::int64_t i = 0; i < t.tensor.numel(); ++i) {
      scale = std::max(scale, std::abs(double(y[i])));
      difference = std::isfinite(x[i]) ? std::max(difference, std::abs(double(x[i]) - double(y[i]))) : INFINITY;
    }
    worst = std::max(worst, difference / scale);
  }
  return worst;
}

}  // namespace ofa
