#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "distill/checkpoint.h"
#include "distill/data/fashion_mnist.h"
#include "distill/run_evaluation.h"
#include "distill/trainer.h"
#include "supernet/safetensors.h"
#include "tests/distill/data_fixtures.h"

extern char** environ;

// ofa train and ofa eval on cuda tensors (the emulated backend in CI, a GPU where there is one)
// against the same runs on the cpu, on a micro space and 48 + 16 Fashion-MNIST images so that the
// emulated kernels finish in seconds.
namespace ofa {
namespace {

using testing::TempDir;

// Two blocks that are elastic in kernel, expand and depth, SE, h-swish and dropout.
constexpr const char* kSpace = R"({
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
constexpr const char* kRecipe = R"({
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
constexpr std::int64_t kSteps = 18;

// Weights after 18 steps on cuda against the cpu's, relative to each tensor's scale: measured
// 2.5e-7 for the supernet and 1.3e-6 for the checkpoint (momentum included); the kernels sum in
// other orders, and the difference grows with the steps.
constexpr double kWeightTolerance = 1e-5;

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// The first `count` images of a split of Debian's Fashion-MNIST as IDX files in `directory`.
void write_fashion_mnist_subset(const std::string& directory, DataSplit split, std::int64_t count) {
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
    write_text(dir / "space.json", kSpace);
    write_text(dir / "recipe.json", kRecipe);
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

  TempDir dir;
};

std::vector<nlohmann::json> records(const std::string& metrics, const std::string& type) {
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
double max_relative_difference(const std::string& a_path, const std::string& b_path) {
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

TEST_F(MicroRun, TrainsOnCudaAsOnTheCpu) {
  const nlohmann::json on_cpu = train(options("cpu", Device::cpu));
  const nlohmann::json on_cuda = train(options("cuda", Device::cuda));

  const double weights = max_relative_difference(dir / "cuda/supernet.safetensors", dir / "cpu/supernet.safetensors");
  // The checkpoint adds the momentum buffers and the teacher.
  const double state = max_relative_difference(dir / "cuda/checkpoint.safetensors", dir / "cpu/checkpoint.safetensors");
  RecordProperty("max_relative_weight_difference", concat(weights));
  RecordProperty("max_relative_checkpoint_difference", concat(state));
  EXPECT_LE(weights, kWeightTolerance);
  EXPECT_LE(state, kWeightTolerance);
  EXPECT_EQ(load_safetensors(dir / "cuda/checkpoint.safetensors").metadata,
            load_safetensors(dir / "cpu/checkpoint.safetensors").metadata);

  const std::vector<nlohmann::json> cpu_steps = records(dir / "cpu/metrics.jsonl", "step");
  const std::vector<nlohmann::json> cuda_steps = records(dir / "cuda/metrics.jsonl", "step");
  ASSERT_EQ(cuda_steps.size(), std::size_t{kSteps});
  ASSERT_EQ(cpu_steps.size(), cuda_steps.size());
  double losses = 0;
  for (std::size_t i = 0; i < cpu_steps.size(); ++i) {
    const double want = cpu_steps[i].at("loss");
    losses = std::max(losses, std::abs(cuda_steps[i].at("loss").get<double>() - want) / want);
    EXPECT_FALSE(cpu_steps[i].contains("device_allocations"));
  }
  RecordProperty("max_relative_loss_difference", concat(losses));
  EXPECT_LE(losses, 1e-5);
  for (const char* subnet : {"largest", "smallest"})
    EXPECT_NEAR(on_cuda.at(subnet).at("test_top1").get<double>(), on_cpu.at(subnet).at("test_top1").get<double>(),
                1.0 / 16)
        << subnet << " (16 test images: at most one may flip on a near tie)";
}

// The caching allocator serves every step once it has seen the phase's shapes: after the first
// two steps of each phase (a new resolution, the teacher's or the sandwich's extra tensors), no
// step calls cudaMalloc.
TEST_F(MicroRun, StepsAfterWarmUpAllocateNoDeviceMemory) {
  train(options("cuda", Device::cuda));
  std::string phase;
  int in_phase = 0;
  for (const nlohmann::json& step : records(dir / "cuda/metrics.jsonl", "step")) {
    in_phase = step.at("phase") == phase ? in_phase + 1 : 1;
    phase = step.at("phase");
    ASSERT_TRUE(step.contains("device_allocations"));
    EXPECT_GT(step.at("device_reserved_mb").get<double>(), 0.0);
    if (in_phase > 2) {
      EXPECT_EQ(step.at("device_allocations").get<std::int64_t>(), 0)
          << "phase " << phase << ", global step " << step.at("global_step");
    }
  }
}

// ofa eval of a run (BN recalibration, then accuracy on the test images) on cuda and on the cpu.
TEST_F(MicroRun, EvaluatesOnCudaAsOnTheCpu) {
  train(options("run", Device::cpu));
  for (const char* subnet : {"max", "min"}) {
    EvalOptions options;
    options.run = dir / "run";
    options.subnet = subnet;
    options.calibration_images = 16;
    options.threads = 1;
    const nlohmann::json on_cpu = evaluate_run(options);
    options.device = Device::cuda;
    const nlohmann::json on_cuda = evaluate_run(options);
    EXPECT_EQ(on_cuda.at("device"), "cuda");
    EXPECT_EQ(on_cpu.at("device"), "cpu");
    EXPECT_EQ(on_cuda.at("images"), 16);
    EXPECT_EQ(on_cuda.at("subnet"), on_cpu.at("subnet"));
    EXPECT_EQ(on_cuda.at("top1"), on_cpu.at("top1")) << subnet;
    EXPECT_EQ(on_cuda.at("top5"), on_cpu.at("top5")) << subnet;
    const double loss_difference = std::abs(on_cuda.at("loss").get<double>() - on_cpu.at("loss").get<double>());
    RecordProperty(concat(subnet, "_loss_difference"), concat(loss_difference));
    EXPECT_LE(loss_difference, 1e-5) << subnet;
  }
}

// A run on cuda killed with SIGKILL in its second phase, resumed on the cpu, ends where an
// uninterrupted cpu run ends (within the tolerance of training on the other device).
TEST_F(MicroRun, ACheckpointOfACudaRunResumesOnTheCpu) {
  train(options("cpu", Device::cpu));
  const TrainOptions killed = options("killed", Device::cuda);
  std::vector<std::string> args = {OFA_BINARY_PATH, "train",  "--space",   killed.space, "--recipe",
                                   killed.recipe,   "--data", killed.data, "--out",      killed.out,
                                   "--threads",     "1",      "--loader-threads", "1", "--seed", "3", "--device", "cuda"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t child = 0;
  ASSERT_EQ(posix_spawn(&child, argv[0], &quiet, nullptr, argv.data(), environ), 0) << argv[0];
  posix_spawn_file_actions_destroy(&quiet);

  // Global step 9 is the middle of the second phase (steps 7..12), which distils from the teacher.
  const auto reached = [&] {
    std::ifstream in(killed.out + "/metrics.jsonl");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find("\"global_step\":9,") != std::string::npos;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  int status = 0;
  bool exited = false;
  while (!reached() && !exited && std::chrono::steady_clock::now() < deadline) {
    exited = waitpid(child, &status, WNOHANG) == child;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
  }
  ASSERT_TRUE(reached()) << "the cuda run never logged step 9";
  ASSERT_FALSE(std::filesystem::exists(killed.out + "/supernet.safetensors")) << "the cuda run finished before it was killed";
  const SafetensorsFile checkpoint = load_safetensors(killed.out + "/checkpoint.safetensors");
  EXPECT_EQ(nlohmann::json::parse(checkpoint.metadata_at("position")).at("phase"), 1);

  TrainOptions resumed = options("killed", Device::cpu);
  resumed.resume = true;
  train(resumed);
  EXPECT_LE(max_relative_difference(killed.out + "/supernet.safetensors", dir / "cpu/supernet.safetensors"),
            kWeightTolerance);
  const std::vector<nlohmann::json> steps = records(killed.out + "/metrics.jsonl", "step");
  ASSERT_FALSE(steps.empty());
  EXPECT_TRUE(steps.front().contains("device_allocations")) << "the first steps ran on cuda";
  EXPECT_FALSE(steps.back().contains("device_allocations")) << "the last steps ran on the cpu";
  EXPECT_EQ(steps.back().at("global_step"), kSteps);
}

}  // namespace
}  // namespace ofa
