#include <gtest/gtest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "distill/data/batch_loader.h"
#include "distill/trainer.h"
#include "kernels/error.h"
#include "search/search_run.h"
#include "supernet/safetensors.h"
#include "supernet/weight_file.h"
#include "tests/search/untrained_run.h"
#include "tools/extract_command.h"

// `ofa extract --onnx`. The numbers of the model are checked against onnxruntime by
// tests/search/check_onnx_logits.py (ctest: search.onnx_runtime_logits, label python) on the
// sample WritesTheOnnxRuntimeSample leaves; its structure by tests/supernet/test_onnx_export.cpp.
namespace ofa {
namespace {

namespace fs = std::filesystem;

class ExtractOnnxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = fs::path(::testing::TempDir()) / (::testing::UnitTest::GetInstance()->current_test_info()->name() +
                                              std::string("_") + std::to_string(getpid()));
    fs::remove_all(work_);
    testing::write_untrained_run(work_ / "run", testing::tiny_space_file(), 3);
  }
  void TearDown() override { fs::remove_all(work_); }

  std::string run_dir() const { return (work_ / "run").string(); }

  int ofa(std::vector<std::string> args) {
    CLI::App app;
    ExtractCommand extract(app);
    args.insert(args.begin(), "ofa");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    app.parse(static_cast<int>(argv.size()), argv.data());
    error_.clear();
    try {
      return extract.run();
    } catch (const Error& e) {
      error_ = e.what();
      return 1;
    }
  }

  fs::path work_;
  std::string error_;
};

// For both ends of the space: the extracted weights and ONNX model, and a sample of 64 real
// Fashion-MNIST test images (NHWC, preprocessed as evaluation does) with our eval-mode logits.
// ctest's python test sets OFA_ONNX_SAMPLE_DIR and then runs check_onnx_logits.py on it.
//
// The supernet is trained (the resume test's tiny space and recipe, ~10 s on one thread): ReLU and
// h-swish stages, SE, residuals, strides 1 and 2, kernels 7 and (through trained transforms) 3. An
// untrained mbv3-small does not serve: its deep random blocks amplify rounding so much that one ulp
// of input noise moves some of its logits by 6e-4 in onnxruntime itself, and ours and
// onnxruntime's then differ from a float64 evaluation of the same graph by as much.
TEST_F(ExtractOnnxTest, WritesTheOnnxRuntimeSample) {
  const char* requested = std::getenv("OFA_ONNX_SAMPLE_DIR");
  const fs::path dir = requested != nullptr ? fs::path(requested) : work_ / "sample";
  fs::create_directories(dir);
  const fs::path resume = fs::path(__FILE__).parent_path().parent_path() / "distill" / "resume";
  fs::remove_all(work_ / "run");
  TrainOptions training;
  training.space = (resume / "tiny_space.json").string();
  training.recipe = (resume / "tiny_recipe.json").string();
  training.out = run_dir();
  training.threads = 1;
  training.loader_workers = 1;
  training.seed = 7;
  train(training);
  const SearchRun run = open_search_run(run_dir());
  for (const std::string which : {"max", "min"}) {
    const std::string weights = (dir / (which + ".safetensors")).string(), model = (dir / (which + ".onnx")).string();
    ASSERT_EQ(
        ofa({"extract", "--run", run_dir(), "--subnet", which, "--out", weights, "--onnx", model, "--threads", "1"}), 0)
        << error_;
    const ExtractedNetwork extracted = load_extracted(weights);
    EXPECT_EQ(extracted.subnet, which == "max" ? largest_subnet(run.space()) : smallest_subnet(run.space()));
    // Recalibrated on real images, no batch norm keeps a fresh layer's variances (1), which would
    // let a fold that ignores them pass. Means are checked in aggregate: those after an expand conv
    // are ~0 by construction (its input's per-channel shift, a project BN's beta, gets no gradient
    // through the training-mode BN that follows, so it stays at its initial 0).
    std::int64_t nonzero_means = 0, means = 0;
    for (const Buffer& b : extracted.network->parameters().buffers) {
      const bool mean = b.name.ends_with("running_mean");
      float largest = 0;
      for (std::int64_t i = 0; i < b.value.numel(); ++i)
        largest = std::max(largest, std::abs(b.value.f32()[i] - (mean ? 0.0f : 1.0f)));
      if (mean) {
        ++means;
        nonzero_means += largest > 1e-2f ? 1 : 0;
      } else {
        EXPECT_GT(largest, 0.05f) << which << " " << b.name;
      }
    }
    EXPECT_GE(2 * nonzero_means, means) << which;

    LoaderOptions options;
    options.batch_size = 64;
    options.shuffle = false;
    options.drop_last = false;
    options.workers = 1;
    options.augmentation = run.profile.eval_augmentation;
    options.normalization = run.profile.normalization;
    BatchLoader loader(run.test, options);
    loader.start_epoch(0, 0, extracted.subnet.resolution);
    Batch batch;
    ASSERT_TRUE(loader.next(batch));
    const Tensor logits = extracted.network->forward(batch.images, false).clone();
    const std::vector<NamedTensor> sample{{"images", batch.images}, {"logits", logits}};
    save_safetensors((dir / (which + "_sample.safetensors")).string(), sample,
                     {{"subnet", subnet_to_json(extracted.subnet).dump()}});
  }
}

TEST_F(ExtractOnnxTest, BadOnnxDestinationsAreRefusedBeforeAnythingIsWritten) {
  const std::string out = (work_ / "min.safetensors").string();
  EXPECT_EQ(ofa({"extract", "--run", run_dir(), "--subnet", "min", "--out", out, "--onnx",
                 (work_ / "missing" / "min.onnx").string()}),
            1);
  EXPECT_NE(error_.find("--onnx " + (work_ / "missing" / "min.onnx").string() + ": the directory"), std::string::npos)
      << error_;
  EXPECT_EQ(ofa({"extract", "--run", run_dir(), "--subnet", "min", "--out", out, "--onnx", out}), 1);
  EXPECT_NE(error_.find("--onnx and --out name the same file"), std::string::npos) << error_;
  EXPECT_EQ(ofa({"extract", "--run", run_dir(), "--subnet", "min", "--out", out, "--onnx", work_.string()}), 1);
  EXPECT_NE(error_.find("must name a file, not a directory"), std::string::npos) << error_;
  std::vector<std::string> entries;
  for (const auto& entry : fs::directory_iterator(work_)) entries.push_back(entry.path().filename().string());
  EXPECT_EQ(entries, std::vector<std::string>{"run"});
}

}  // namespace
}  // namespace ofa
