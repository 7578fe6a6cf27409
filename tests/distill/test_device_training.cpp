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
#include "tests/distill/micro_run.h"

extern char** environ;

// ofa train and ofa eval on cuda tensors (the emulated backend in CI, a GPU where there is one)
// against the same runs on the cpu, on a micro space and 48 + 16 Fashion-MNIST images so that the
// emulated kernels finish in seconds.
namespace ofa {
namespace {

// Weights after 18 steps on cuda against the cpu's, relative to each tensor's scale: measured
// 2.5e-7 for the supernet and 1.3e-6 for the checkpoint (momentum included); the kernels sum in
// other orders, and the difference grows with the steps.
constexpr double kWeightTolerance = 1e-5;

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
  ASSERT_EQ(cuda_steps.size(), std::size_t{kMicroSteps});
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
  EXPECT_EQ(steps.back().at("global_step"), kMicroSteps);
}

}  // namespace
}  // namespace ofa
