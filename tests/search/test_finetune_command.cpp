#include <gtest/gtest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "distill/run_evaluation.h"
#include "distill/trainer.h"
#include "kernels/error.h"
#include "search/search_run.h"
#include "supernet/weight_file.h"
#include "tests/search/untrained_run.h"
#include "tools/finetune_command.h"

namespace ofa {
namespace {

namespace fs = std::filesystem;

fs::path work_dir() {
  return fs::path(::testing::TempDir()) / (::testing::UnitTest::GetInstance()->current_test_info()->name() +
                                           std::string("_") + std::to_string(getpid()));
}

std::vector<std::string> entries_of(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// As ofa_main does: parse, run, and turn an ofa::Error into exit status 1 and its message; the
// JSON report the command prints is kept in `report`.
struct Ofa {
  int operator()(std::vector<std::string> args) {
    CLI::App app;
    FinetuneCommand finetune(app);
    args.insert(args.begin(), "ofa");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    app.parse(static_cast<int>(argv.size()), argv.data());
    error.clear();
    ::testing::internal::CaptureStdout();
    int status = 1;
    try {
      status = finetune.run();
    } catch (const Error& e) {
      error = e.what();
    }
    const std::string printed = ::testing::internal::GetCapturedStdout();
    if (status == 0) report = nlohmann::json::parse(printed);
    return status;
  }

  std::string error;
  nlohmann::json report;
};

// A tiny supernet trained once per process (the resume test's space and recipe, as the search
// command's tests train it); ctest runs each test in its own process, in parallel.
class FinetuneCommandTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path resume = fs::path(__FILE__).parent_path().parent_path() / "distill" / "resume";
    trained_ = fs::path(::testing::TempDir()) / ("finetune_tiny_run_" + std::to_string(getpid()));
    fs::remove_all(trained_);
    TrainOptions options;
    options.space = (resume / "tiny_space.json").string();
    options.recipe = (resume / "tiny_recipe.json").string();
    options.out = trained_.string();
    options.threads = 1;
    options.loader_workers = 1;
    options.seed = 7;
    train(options);
  }
  static void TearDownTestSuite() { fs::remove_all(trained_); }

  void SetUp() override {
    work_ = work_dir();
    fs::remove_all(work_);
    fs::create_directories(work_);
  }
  void TearDown() override { fs::remove_all(work_); }

  static fs::path trained_;
  fs::path work_;
  Ofa ofa;
};

fs::path FinetuneCommandTest::trained_;

TEST_F(FinetuneCommandTest, LowersTheTrainingLossKeepsAccuracyAndWritesWeightsEvalReads) {
  const fs::path out = work_ / "min.safetensors";
  ASSERT_EQ(ofa({"finetune", "--run", trained_.string(), "--subnet", "min", "--epochs", "3", "--out", out.string(),
                 "--threads", "1", "--loader-threads", "1"}),
            0)
      << ofa.error;
  const nlohmann::json& report = ofa.report;
  // The tiny recipe's epoch is 256 images in batches of 32; its last phase's peak lr is the default.
  EXPECT_EQ(report["steps"], 3 * 8);
  EXPECT_EQ(report["lr"], 0.01);
  const std::vector<double> losses = report["train_loss_by_epoch"].get<std::vector<double>>();
  ASSERT_EQ(losses.size(), 3u);
  EXPECT_LT(losses.back(), losses.front()) << report.dump();
  // 200 validation images: a stated margin of 3 points (6 images) for the noise of so few steps.
  EXPECT_GE(report["after"]["valid_top1"].get<double>(), report["before"]["valid_top1"].get<double>() - 0.03)
      << report.dump();
  EXPECT_GE(report["after"]["test_top1"].get<double>(), report["before"]["test_top1"].get<double>() - 0.03)
      << report.dump();

  // The file is the fine-tuned network, not the extracted one, and `ofa eval --weights` reads it.
  const SearchRun run = open_search_run(trained_.string());
  const ExtractedNetwork saved = load_extracted(out.string());
  EXPECT_EQ(saved.subnet, smallest_subnet(run.space()));
  const ExtractedNetwork original = extract_subnet(*run.supernet, smallest_subnet(run.space()));
  EXPECT_NE(saved.network->head().classifier.at({0, 0}), original.network->head().classifier.at({0, 0}));
  EvalOptions eval;
  eval.weights = out.string();
  eval.split = "test";
  eval.seed = 7;
  eval.calibration_images = 64;
  eval.threads = 1;
  const nlohmann::json evaluated = evaluate_run(eval);
  EXPECT_EQ(evaluated["images"], 10000);
  EXPECT_NEAR(evaluated["top1"].get<double>(), report["after"]["test_top1"].get<double>(), 0.05);
  EXPECT_EQ(entries_of(work_), std::vector<std::string>{"min.safetensors"});  // no temporary left
}

// Bad input needs no trained weights: an untrained run of the same tiny space.
class FinetuneInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = work_dir();
    fs::remove_all(work_);
    testing::write_untrained_run(work_ / "run", testing::tiny_space_file(), 7);
    fs::create_directories(work_ / "unfinished");
    fs::copy_file(work_ / "run" / "run.json", work_ / "unfinished" / "run.json");
  }
  void TearDown() override { fs::remove_all(work_); }

  fs::path work_;
  Ofa ofa;
};

TEST_F(FinetuneInputTest, BadInputFailsWithOneClearLineNamingTheFieldAndWritesNothing) {
  const std::string run = (work_ / "run").string(), out = (work_ / "out.safetensors").string();
  // Slot 1 of "ks" is 9, which the space (3, 5, 7) does not have.
  const fs::path bad_subnet = work_ / "bad_subnet.json";
  std::ofstream(bad_subnet) << R"({"ks": [3, 9, 3, 3], "e": [3, 3, 3, 3], "d": [1, 1], "r": 24})";
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> cases = {
      {{"--run", run, "--subnet", bad_subnet.string(), "--epochs", "1", "--out", out}, {bad_subnet.string(), "ks[1]"}},
      {{"--run", run, "--subnet", "min", "--epochs", "0", "--out", out},
       {"--epochs 0: expected a positive number of epochs"}},
      {{"--run", run, "--subnet", "min", "--epochs", "1", "--lr", "0", "--out", out},
       {"--lr 0: expected a positive learning rate"}},
      {{"--run", (work_ / "unfinished").string(), "--subnet", "min", "--epochs", "1", "--out", out},
       {"unfinished", "has no supernet.safetensors"}},
      {{"--run", run, "--subnet", "min", "--epochs", "1", "--out", (work_ / "missing" / "out.safetensors").string()},
       {"--out", "does not exist"}},
  };
  for (const auto& [args, expected] : cases) {
    std::vector<std::string> command = {"finetune"};
    command.insert(command.end(), args.begin(), args.end());
    command.insert(command.end(), {"--threads", "1", "--loader-threads", "1"});
    EXPECT_EQ(ofa(command), 1) << args[3];
    for (const std::string& part : expected) EXPECT_NE(ofa.error.find(part), std::string::npos) << ofa.error;
    EXPECT_EQ(ofa.error.find('\n'), std::string::npos) << ofa.error;
  }
  EXPECT_EQ(entries_of(work_), (std::vector<std::string>{"bad_subnet.json", "run", "unfinished"}));
  EXPECT_EQ(entries_of(work_ / "run"), (std::vector<std::string>{"run.json", "supernet.safetensors"}));
}

}  // namespace
}  // namespace ofa
