#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "search/accuracy_predictor.h"
#include "search/rank_correlation.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"
#include "tests/search/synthetic_objective.h"
#include "tests/support/expect_error.h"

namespace ofa {
namespace {

std::vector<AccuracySample> synthetic_samples(const SearchSpace& space, std::uint64_t seed, std::uint64_t count) {
  std::vector<AccuracySample> samples;
  for (std::uint64_t i = 0; i < count; ++i) {
    const Subnet subnet = sample_subnet(space, {}, seed, i);
    samples.push_back({subnet, testing::synthetic_accuracy(space, subnet)});
  }
  return samples;
}

TEST(AccuracyPredictor, LearnsASmoothFunctionOfTheEncoding) {
  const SearchSpace space = load_search_space("mbv3-small");
  const std::vector<AccuracySample> samples = synthetic_samples(space, 1, 400);
  AccuracyPredictor predictor(space, 0);
  const PredictorTraining training;
  const auto start = std::chrono::steady_clock::now();
  const PredictorReport report = predictor.train(samples, training);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("predictor on 320 synthetic subnets: %.2f s, held-out RMSE %.4f, tau %.3f (train RMSE %.4f)\n", seconds,
              report.holdout_rmse, report.holdout_kendall_tau, report.train_rmse);
  EXPECT_EQ(report.train_samples, 320);
  EXPECT_EQ(report.holdout_samples, 80);
  EXPECT_GE(report.holdout_kendall_tau, 0.9);
  EXPECT_LT(report.holdout_rmse, 0.008);  // the targets spread over ~0.1

  // Subnets it never saw, from another seed.
  const std::vector<AccuracySample> unseen = synthetic_samples(space, 2, 200);
  std::vector<Subnet> subnets;
  std::vector<double> truth;
  for (const AccuracySample& s : unseen) {
    subnets.push_back(s.subnet);
    truth.push_back(s.top1);
  }
  EXPECT_GE(kendall_tau(predictor.predict(subnets), truth), 0.9);
  EXPECT_GT(predictor.predict(largest_subnet(space)), predictor.predict(smallest_subnet(space)) + 0.05);
}

TEST(AccuracyPredictor, TrainingIsSeededAndTheFileRoundTrips) {
  const SearchSpace space = load_search_space("mbv3-small");
  const std::vector<AccuracySample> samples = synthetic_samples(space, 3, 100);
  PredictorTraining training;
  training.steps = 20;
  training.seed = 9;
  AccuracyPredictor first(space, 0), second(space, 1);
  first.train(samples, training);
  second.train(samples, training);
  const std::vector<Subnet> probe = {largest_subnet(space), smallest_subnet(space), sample_subnet(space, {}, 4, 0)};
  EXPECT_EQ(first.predict(probe), second.predict(probe));

  const std::string path = (std::filesystem::path(::testing::TempDir()) / "predictor.safetensors").string();
  first.save(path, {{"note", "test"}});
  const AccuracyPredictor loaded = AccuracyPredictor::load(path);
  const std::vector<double> expected = first.predict(probe), actual = loaded.predict(probe);
  for (std::size_t i = 0; i < probe.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-6);
  EXPECT_EQ(loaded.space().to_json(), space.to_json());
}

TEST(AccuracyPredictor, RejectsTooFewSamplesAndForeignFiles) {
  const SearchSpace space = load_search_space("mbv3-small");
  AccuracyPredictor predictor(space, 0);
  testing::expect_error_naming([&] { predictor.train(synthetic_samples(space, 1, 5), {}); }, "AccuracyPredictor::train",
                               "at least 10");
  const std::string path = (std::filesystem::path(::testing::TempDir()) / "not_a_predictor.safetensors").string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fputs("garbage", f);
  std::fclose(f);
  testing::expect_error_naming([&] { AccuracyPredictor::load(path); }, path);
}

}  // namespace
}  // namespace ofa
