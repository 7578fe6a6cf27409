#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <unistd.h>

#include "distill/evaluation.h"
#include "distill/trainer.h"
#include "kernels/error.h"
#include "search/accuracy_dataset.h"
#include "search/latency_measurement.h"
#include "search/latency_table.h"
#include "search/search_run.h"
#include "supernet/counting.h"
#include "supernet/weight_file.h"
#include "tools/extract_command.h"
#include "tools/search_command.h"

namespace ofa {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A tiny supernet trained once for the suite (the resume test's space and recipe: ~10 s on one
// thread), copied per test so that each test owns its run directory's caches. ctest runs every
// test in its own process, in parallel, so the trained run is per process.
class SearchCommandTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path here = fs::path(__FILE__).parent_path().parent_path() / "distill" / "resume";
    trained_ = fs::path(::testing::TempDir()) / ("search_tiny_run_" + std::to_string(getpid()));
    fs::remove_all(trained_);
    TrainOptions options;
    options.space = (here / "tiny_space.json").string();
    options.recipe = (here / "tiny_recipe.json").string();
    options.out = trained_.string();
    options.threads = 1;
    options.loader_workers = 1;
    options.seed = 7;
    train(options);
  }

  static void TearDownTestSuite() { fs::remove_all(trained_); }

  void SetUp() override {
    work_ = fs::path(::testing::TempDir()) /
            (::testing::UnitTest::GetInstance()->current_test_info()->name() + std::string("_") + std::to_string(getpid()));
    fs::remove_all(work_);
    fs::create_directories(work_ / "run");
    for (const char* file : {"run.json", "supernet.safetensors"}) fs::copy_file(trained_ / file, work_ / "run" / file);
  }

  std::string run_dir() const { return (work_ / "run").string(); }

  // As ofa_main does: parse, run, and turn an ofa::Error into exit status 1 and its message.
  int ofa(std::vector<std::string> args) {
    CLI::App app;
    SearchCommand search(app);
    ExtractCommand extract(app);
    args.insert(args.begin(), "ofa");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    app.parse(static_cast<int>(argv.size()), argv.data());
    error_.clear();
    try {
      return search.parsed() ? search.run() : extract.run();
    } catch (const Error& e) {
      error_ = e.what();
      return 1;
    }
  }

  static fs::path trained_;
  fs::path work_;
  std::string error_;
};

fs::path SearchCommandTest::trained_;

TEST_F(SearchCommandTest, SearchWritesEveryTargetAndTheFronts) {
  const fs::path out = work_ / "out";
  ASSERT_EQ(ofa({"search", "--run", run_dir(), "--target", "small:macs<=0.5", "--target", "lean:memory<=40", "--out",
                 out.string(), "--predictor-samples", "20", "--validation-images", "100", "--generations", "30",
                 "--pareto-generations", "10", "--threads", "1"}),
            0)
      << error_;

  const SearchRun run = open_search_run(run_dir());
  for (const char* name : {"small", "lean"}) {
    const nlohmann::json result = nlohmann::json::parse(read_text(out / name / "result.json"));
    const Subnet subnet = parse_subnet(nlohmann::json::parse(read_text(out / name / "subnet.json")), run.space(), name);
    EXPECT_EQ(parse_subnet(result["subnet"], run.space(), name), subnet);
    const SubnetCost cost = count_subnet(run.space(), subnet);
    if (std::string(name) == "small") {
      EXPECT_LE(cost.macs / 1e6, 0.5);
      EXPECT_DOUBLE_EQ(result["value"].get<double>(), cost.macs / 1e6);
    } else {
      EXPECT_LE(static_cast<double>(cost.peak_activation_bytes) / 1024.0, 40.0);
      EXPECT_DOUBLE_EQ(result["value"].get<double>(), static_cast<double>(cost.peak_activation_bytes) / 1024.0);
    }
    // The weights file is the calibrated network: evaluating it again gives the reported accuracy.
    const ExtractedNetwork saved = load_extracted((out / name / "weights.safetensors").string());
    EXPECT_EQ(saved.subnet, subnet);
    const double test_top1 = evaluate(*saved.network, run.test, run.profile, subnet.resolution).top1;
    EXPECT_DOUBLE_EQ(result["measured_test_top1"].get<double>(), test_top1);
    EXPECT_GT(test_top1, 0.1);  // better than chance on 10 classes, even for this tiny run
    EXPECT_GT(result["predicted_valid_top1"].get<double>(), 0.0);
  }
  EXPECT_EQ(lines_of(accuracy_cache_path(run_dir())).size(), 20u);
  EXPECT_TRUE(fs::exists(fs::path(run_dir()) / "accuracy_predictor.safetensors"));
  for (const char* metric : {"macs", "memory"}) {
    const std::vector<std::string> csv = lines_of(out / concat("pareto_", metric, ".csv"));
    EXPECT_GE(csv.size(), 3u) << metric;  // a header and at least the two ends of the front
    const std::string svg = read_text(out / concat("pareto_", metric, ".svg"));
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
  }
  EXPECT_NE(read_text(out / "pareto_macs.svg").find(">small</text>"), std::string::npos);
  const nlohmann::json summary = nlohmann::json::parse(read_text(out / "search.json"));
  EXPECT_EQ(summary["targets"].size(), 2u);

  // A second search reuses the measurements and the predictor, and finds the same subnets.
  const std::string first = read_text(out / "small" / "subnet.json");
  ASSERT_EQ(ofa({"search", "--run", run_dir(), "--target", "small:macs<=0.5", "--out", (work_ / "again").string(),
                 "--predictor-samples", "20", "--validation-images", "100", "--generations", "30",
                 "--pareto-generations", "10", "--threads", "1"}),
            0)
      << error_;
  EXPECT_EQ(read_text(work_ / "again" / "small" / "subnet.json"), first);
  EXPECT_TRUE(nlohmann::json::parse(read_text(work_ / "again" / "search.json"))["predictor"].contains("reused"));
}

TEST_F(SearchCommandTest, BadTargetsFailWithOneClearLineAndWriteNothing) {
  const fs::path out = work_ / "out";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"phone-macs<=5", "--target 'phone-macs<=5': expected NAME:METRIC<=VALUE"},
      {"phone:flops<=5", "unknown metric 'flops'"},
      {"phone:macs<=fast", "the limit 'fast' is not a positive number"},
      {"phone:macs<=-1", "the limit '-1' is not a positive number"},
      {"a/b:macs<=5", "the name 'a/b' names the output folder"},
      {"phone:latency@/nonexistent/table.json<=5", "/nonexistent/table.json"},
  };
  for (const auto& [target, message] : cases) {
    EXPECT_EQ(ofa({"search", "--run", run_dir(), "--target", target, "--out", out.string()}), 1) << target;
    EXPECT_NE(error_.find(message), std::string::npos) << error_;
    EXPECT_EQ(error_.find('\n'), std::string::npos) << error_;
  }
  // The tiny space's smallest subnet (kernel 3, expand 3, depth 1, resolution 24) needs 0.110816 M MACs.
  EXPECT_EQ(ofa({"search", "--run", run_dir(), "--target", "micro:macs<=0.05", "--out", out.string()}), 1);
  EXPECT_NE(error_.find("--target 'micro:macs<=0.05': no subnet of resume-test meets macs <= 0.05 M; the smallest "
                        "achievable macs is 0.1108 M"),
            std::string::npos)
      << error_;
  EXPECT_EQ(
      ofa({"search", "--run", run_dir(), "--target", "a:macs<=1", "--target", "a:params<=1", "--out", out.string()}),
      1);
  EXPECT_NE(error_.find("the name 'a' is used by another target"), std::string::npos) << error_;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(accuracy_cache_path(run_dir())));
}

TEST_F(SearchCommandTest, MeasurementsResumeAndACorruptLineIsAnError) {
  AccuracyDatasetOptions options;
  options.samples = 4;
  options.seed = 3;
  options.validation_images = 50;
  const SearchRun run = open_search_run(run_dir());
  const std::vector<AccuracySample> measured = measure_accuracy_dataset(run, options);
  const std::string path = accuracy_cache_path(run_dir());
  const std::vector<std::string> lines = lines_of(path);
  ASSERT_EQ(lines.size(), 4u);

  // A measurement killed mid-append leaves a torn last line: it is dropped and measured again.
  std::string text;
  for (std::size_t i = 0; i < 3; ++i) text += lines[i] + "\n";
  { std::ofstream(path, std::ios::trunc) << text << lines[3].substr(0, 20); }
  std::int64_t calls = 0;
  const std::vector<AccuracySample> resumed =
      measure_accuracy_dataset(run, options, [&](std::int64_t, std::int64_t) { ++calls; });
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(lines_of(path), lines);
  for (std::size_t i = 0; i < measured.size(); ++i) EXPECT_EQ(resumed[i].top1, measured[i].top1);

  // A damaged complete line is the user's data: an error naming the file and line, nothing redone.
  { std::ofstream(path, std::ios::trunc) << lines[0] << "\n{\"seed\": 3, \"index\": oops}\n" << lines[2] << "\n"; }
  try {
    measure_accuracy_dataset(run, options);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(lines_of(path).size(), 3u);

  // A line of another run's space.
  nlohmann::json foreign = nlohmann::json::parse(lines[0]);
  foreign["index"] = 1;
  { std::ofstream(path, std::ios::trunc) << foreign.dump() << "\n"; }
  try {
    read_accuracy_cache(path, run.space());
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":1: the subnet is not sample 1 of seed 3"), std::string::npos)
        << e.what();
  }
}

TEST_F(SearchCommandTest, LatencyTargetsUseTheTableAndRefuseAnotherSpacesUnlessForced) {
  const SearchRun run = open_search_run(run_dir());
  LatencyMeasurementOptions quick;
  quick.warmup = 1;
  quick.repeats = 3;
  const LatencyTable table = measure_latency_table(run.space(), quick);
  const std::string table_path = (work_ / "cpu.json").string();
  write_latency_table(table, table_path);
  const double smallest = predict_latency_ms(table, run.space(), smallest_subnet(run.space()));
  const double largest = predict_latency_ms(table, run.space(), largest_subnet(run.space()));
  const double limit = (smallest + largest) / 2;
  const fs::path out = work_ / "out";
  const std::vector<std::string> common = {
      "--out",         out.string(), "--predictor-samples",  "12", "--validation-images", "50",
      "--generations", "10",         "--pareto-generations", "5",  "--threads",           "1"};
  std::vector<std::string> args = {"search", "--run", run_dir(), "--target",
                                   concat("cpu:latency@", table_path, "<=", limit)};
  args.insert(args.end(), common.begin(), common.end());
  ASSERT_EQ(ofa(args), 0) << error_;
  const nlohmann::json result = nlohmann::json::parse(read_text(out / "cpu" / "result.json"));
  const Subnet subnet = parse_subnet(result["subnet"], run.space(), "result");
  EXPECT_LE(result["value"].get<double>(), limit);
  EXPECT_DOUBLE_EQ(result["value"].get<double>(), predict_latency_ms(table, run.space(), subnet));
  EXPECT_GT(result["measured_latency_ms"].get<double>(), 0.0);
  EXPECT_TRUE(fs::exists(out / "pareto_latency.csv"));

  // The same table claiming another space.
  LatencyTable foreign = table;
  foreign.space_name = "mbv3-small";
  foreign.space = load_search_space("mbv3-small").to_json();
  const std::string foreign_path = (work_ / "foreign.json").string();
  write_latency_table(foreign, foreign_path);
  args = {"search", "--run", run_dir(), "--target", concat("cpu:latency@", foreign_path, "<=", limit)};
  args.insert(args.end(), common.begin(), common.end());
  EXPECT_EQ(ofa(args), 1);
  EXPECT_NE(error_.find("--force"), std::string::npos) << error_;
  args.push_back("--force");
  EXPECT_EQ(ofa(args), 0) << error_;
}

TEST_F(SearchCommandTest, ExtractWritesACalibratedStandaloneNetwork) {
  const fs::path out = work_ / "min.safetensors";
  ASSERT_EQ(ofa({"extract", "--run", run_dir(), "--subnet", "min", "--out", out.string(), "--threads", "1"}), 0)
      << error_;
  const SearchRun run = open_search_run(run_dir());
  const ExtractedNetwork saved = load_extracted(out.string());
  EXPECT_EQ(saved.subnet, smallest_subnet(run.space()));
  // The same network calibrated here: identical BN statistics, hence identical accuracy.
  ExtractedNetwork fresh = calibrated_subnet(run, smallest_subnet(run.space()));
  EXPECT_EQ(evaluate(*saved.network, run.test, run.profile, 24).top1,
            evaluate(*fresh.network, run.test, run.profile, 24).top1);
  EXPECT_EQ(ofa({"extract", "--run", (work_ / "nowhere").string(), "--out", out.string()}), 1);
  EXPECT_NE(error_.find("no run.json"), std::string::npos) << error_;
}

}  // namespace
}  // namespace ofa
