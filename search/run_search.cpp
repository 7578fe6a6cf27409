#include "search/run_search.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "distill/evaluation.h"
#include "distill/progress.h"
#include "kernels/error.h"
#include "kernels/threads.h"
#include "search/accuracy_dataset.h"
#include "search/accuracy_predictor.h"
#include "search/evolution.h"
#include "search/latency_measurement.h"
#include "search/nsga2.h"
#include "search/pareto_report.h"
#include "search/search_run.h"
#include "search/search_target.h"
#include "search/subnet_encoding.h"
#include "supernet/atomic_file.h"
#include "supernet/counting.h"
#include "supernet/onnx_export.h"
#include "supernet/safetensors.h"
#include "supernet/weight_file.h"

namespace ofa {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

void write_json(const std::string& path, const nlohmann::json& document) {
  const std::string text = document.dump(2) + "\n";
  write_file_atomically(path, std::as_bytes(std::span(text.data(), text.size())));
}

// How the run's data turns pixels into the network's input, for the ONNX model's doc string.
std::string input_normalization(const SearchRun& run) {
  const auto list = [](const std::vector<float>& values) {
    std::string text;
    for (float v : values) text += concat(text.empty() ? "[" : ", ", v);
    return text + "]";
  };
  return concat("per channel (pixel / 255 - mean) / std, mean ", list(run.profile.normalization.mean), ", std ",
                list(run.profile.normalization.stddev), "; evaluation crops the central ",
                run.profile.eval_augmentation.center_fraction * 100.0f, " % and resizes it bilinearly");
}

// "label: done/total, ETA", redrawn in place on a terminal, a line every 10 % otherwise.
class ProgressLine {
 public:
  explicit ProgressLine(std::string label) : label_(std::move(label)), terminal_(isatty(fileno(stderr)) != 0) {}

  void update(std::int64_t done, std::int64_t total) {
    const double elapsed = seconds_since(start_);
    const bool last = done == total;
    const bool due = terminal_ ? elapsed - last_draw_ > 0.2 : done * 10 / total != (done - 1) * 10 / total;
    if (!due && !last) return;
    last_draw_ = elapsed;
    const double eta = done > 0 ? elapsed * static_cast<double>(total - done) / static_cast<double>(done) : 0;
    std::fprintf(stderr, "%s%s: %lld/%lld, %s elapsed, ETA %s%s", terminal_ ? "\r" : "", label_.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total), format_duration(elapsed).c_str(),
                 format_duration(eta).c_str(), terminal_ && !last ? "   " : "\n");
    std::fflush(stderr);
  }

 private:
  std::string label_;
  bool terminal_;
  Clock::time_point start_ = Clock::now();
  double last_draw_ = -1;
};

struct Target {
  SearchTarget spec;
  std::shared_ptr<const LatencyTable> table;  // latency targets only
  Constraint constraint;
  std::string pareto_key;  // the Pareto front it belongs to: macs, params, memory, latency[-TABLE]
};

// Parsed before the run is opened, so a mistyped target costs nothing.
std::vector<SearchTarget> parse_targets(const std::vector<std::string>& texts) {
  OFA_CHECK(!texts.empty(), "ofa search", "give at least one --target NAME:METRIC<=VALUE");
  std::vector<SearchTarget> targets;
  std::set<std::string> names;
  for (const std::string& text : texts) {
    targets.push_back(parse_search_target(text));
    OFA_CHECK(names.insert(targets.back().name).second, concat("--target '", text, "'"), "the name '",
              targets.back().name, "' is used by another target; each target writes its own folder");
  }
  return targets;
}

// One front per metric; latency fronts per table, named by the table's file when there are several.
std::vector<Target> plan_targets(const std::vector<SearchTarget>& specs, const SearchSpace& space, bool force) {
  std::set<std::string> tables;
  for (const SearchTarget& spec : specs)
    if (!spec.latency_table.empty()) tables.insert(spec.latency_table);
  std::vector<Target> targets;
  for (const SearchTarget& spec : specs) {
    std::shared_ptr<const LatencyTable> table =
        spec.metric == "latency" ? read_target_table(spec, space, force) : nullptr;
    targets.push_back({spec, table, target_constraint(spec, space, table), spec.metric});
    if (spec.metric == "latency" && tables.size() > 1)
      targets.back().pareto_key = concat("latency-", fs::path(spec.latency_table).stem().string());
  }
  return targets;
}

// The predictor for these measurements: the run directory's, when it was trained on exactly
// them with these settings, otherwise trained now and saved there.
AccuracyPredictor predictor_for(const SearchRun& run, const std::vector<AccuracySample>& samples,
                                const nlohmann::json& trained_on, const PredictorTraining& training,
                                nlohmann::json& report) {
  const std::string path = (fs::path(run.directory) / "accuracy_predictor.safetensors").string();
  if (fs::exists(path)) {
    const SafetensorsFile file = load_safetensors(path);
    const auto found = file.metadata.find("trained_on");
    if (found != file.metadata.end() && found->second == trained_on.dump()) {
      report = nlohmann::json::parse(file.metadata_at("report"));
      report["reused"] = path;
      return AccuracyPredictor::load(path);
    }
  }
  AccuracyPredictor predictor(run.space(), training.seed);
  const PredictorReport r = predictor.train(samples, training);
  report = {{"train_samples", r.train_samples},
            {"holdout_samples", r.holdout_samples},
            {"train_rmse", r.train_rmse},
            {"holdout_rmse", r.holdout_rmse},
            {"holdout_kendall_tau", r.holdout_kendall_tau}};
  predictor.save(path, {{"trained_on", trained_on.dump()}, {"report", report.dump()}});
  return predictor;
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace

nlohmann::json run_search(const SearchOptions& options) {
  OFA_CHECK(!options.out.empty(), "ofa search", "--out DIR is required");
  OFA_CHECK(options.generations >= 1 && options.pareto_generations >= 0 && options.predictor_samples >= 10,
            "ofa search", "--generations must be >= 1 and --predictor-samples >= 10");
  set_num_threads(options.threads);
  const std::vector<SearchTarget> specs = parse_targets(options.targets);
  const SearchRun run = open_search_run(options.run);
  const SearchSpace& space = run.space();
  const std::vector<Target> targets = plan_targets(specs, space, options.force);

  // Impossible budgets are reported before any time is spent on measurements.
  for (const Target& t : targets) {
    const double smallest = smallest_achievable(space, t.constraint, 1000, options.seed);
    OFA_CHECK(smallest <= t.constraint.limit, concat("--target '", t.spec.text, "'"), "no subnet of ", space.name,
              " meets ", t.spec.metric, " <= ", t.constraint.limit, " ", t.constraint.unit,
              "; the smallest achievable ", t.spec.metric, " is ", fixed(smallest, 4), " ", t.constraint.unit);
  }

  ProgressLine measuring(
      concat("measuring ", options.predictor_samples, " subnets (", accuracy_cache_path(run.directory), ")"));
  AccuracyDatasetOptions dataset;
  dataset.samples = options.predictor_samples;
  dataset.seed = options.seed;
  dataset.validation_images = options.validation_images;
  const std::vector<AccuracySample> samples = measure_accuracy_dataset(
      run, dataset, [&](std::int64_t done, std::int64_t total) { measuring.update(done, total); });

  PredictorTraining training;
  training.seed = options.seed;
  const nlohmann::json trained_on = {{"sample_seed", options.seed},
                                     {"samples", options.predictor_samples},
                                     {"validation_images", options.validation_images},
                                     {"calibration_images", run.calibration_images},
                                     {"steps", training.steps},
                                     {"batch_size", training.batch_size},
                                     {"learning_rate", training.learning_rate},
                                     {"weight_decay", training.weight_decay},
                                     {"holdout_fraction", training.holdout_fraction},
                                     {"seed", training.seed}};
  nlohmann::json predictor_report;
  const Clock::time_point training_start = Clock::now();
  const AccuracyPredictor predictor = predictor_for(run, samples, trained_on, training, predictor_report);
  predictor_report["seconds"] = seconds_since(training_start);
  std::fprintf(stderr, "accuracy predictor: held-out RMSE %.4f, Kendall tau %.3f (%lld train / %lld held-out)%s\n",
               predictor_report["holdout_rmse"].get<double>(), predictor_report["holdout_kendall_tau"].get<double>(),
               static_cast<long long>(predictor_report["train_samples"].get<std::int64_t>()),
               static_cast<long long>(predictor_report["holdout_samples"].get<std::int64_t>()),
               predictor_report.contains("reused") ? ", reused" : "");
  const BatchObjective objective = [&predictor](std::span<const Subnet> subnets) { return predictor.predict(subnets); };

  fs::create_directories(options.out);
  nlohmann::json summary = {{"run", options.run},
                            {"space", space.name},
                            {"seed", options.seed},
                            {"predictor", predictor_report},
                            {"targets", nlohmann::json::array()}};
  std::map<std::string, std::vector<MarkedSubnet>> marks;
  for (const Target& t : targets) {
    EvolutionConfig config;
    config.generations = options.generations;
    config.seed = options.seed;
    const Clock::time_point start = Clock::now();
    const EvolutionResult found = evolve(space, objective, std::span(&t.constraint, 1), config);
    const double search_seconds = seconds_since(start);
    const Subnet subnet = canonical_subnet(space, found.best.subnet);

    ExtractedNetwork network = calibrated_subnet(run, subnet);
    const EvalResult valid = evaluate(*network.network, run.valid, run.profile, subnet.resolution);
    const EvalResult test = evaluate(*network.network, run.test, run.profile, subnet.resolution);
    const SubnetCost cost = count_subnet(space, subnet);
    const fs::path folder = fs::path(options.out) / t.spec.name;
    fs::create_directories(folder);
    write_json((folder / "subnet.json").string(), subnet_to_json(subnet));
    save_extracted((folder / "weights.safetensors").string(), network);

    nlohmann::json result = {{"target", t.spec.text},
                             {"metric", t.spec.metric},
                             {"unit", t.constraint.unit},
                             {"limit", t.constraint.limit},
                             {"value", found.best.metrics.front()},
                             {"subnet", subnet_to_json(subnet)},
                             {"predicted_valid_top1", found.best.score},
                             {"measured_valid_top1", valid.top1},
                             {"measured_test_top1", test.top1},
                             {"macs_m", cost.macs / 1e6},
                             {"params_m", static_cast<double>(cost.params) / 1e6},
                             {"memory_kb", static_cast<double>(cost.peak_activation_bytes) / 1024.0},
                             {"search_seconds", search_seconds},
                             {"generations", options.generations}};
    if (t.table) {
      // Measured end to end here, as the table's entries were (on the table's backend and threads).
      LatencyMeasurementOptions timing;
      timing.device = parse_latency_device(t.table->device.backend, t.table->device.threads, t.spec.latency_table);
      timing.seed = options.seed;
      result["latency_table"] = t.spec.latency_table;
      result["measured_latency_ms"] = measure_subnets_ms(space, {subnet}, timing).front();
    }
    write_json((folder / "result.json").string(), result);
    summary["targets"].push_back(result);
    marks[t.pareto_key].push_back({t.spec.name, found.best.metrics.front(), found.best.score});
    std::fprintf(stderr, "target %s: %d generations in %.2f s\n", t.spec.name.c_str(),
                 static_cast<int>(options.generations), search_seconds);
  }

  nlohmann::json fronts = nlohmann::json::object();
  for (const Target& t : targets) {
    if (fronts.contains(t.pareto_key)) continue;
    Nsga2Config config;
    config.generations = options.pareto_generations;
    config.seed = options.seed;
    const Clock::time_point start = Clock::now();
    const std::vector<ParetoPoint> front = nsga2_front(space, objective, t.constraint.metric, config);
    const ParetoAxis axis{t.spec.metric, t.constraint.unit};
    const std::string stem = (fs::path(options.out) / concat("pareto_", t.pareto_key)).string();
    write_pareto_csv(stem + ".csv", axis, front);
    write_pareto_svg(stem + ".svg", axis, front, marks[t.pareto_key],
                     concat(space.name, ": predicted accuracy against ", t.pareto_key));
    fronts[t.pareto_key] = {
        {"points", front.size()}, {"csv", stem + ".csv"}, {"svg", stem + ".svg"}, {"seconds", seconds_since(start)}};
  }
  summary["pareto"] = fronts;
  write_json((fs::path(options.out) / "search.json").string(), summary);

  std::printf("%-12s %-18s %12s %12s %9s %10s %11s %10s %10s %9s\n", "target", "constraint", "value", "measured",
              "MACs(M)", "params(M)", "memory(KB)", "pred.val%", "meas.val%", "test%");
  for (const nlohmann::json& r : summary["targets"]) {
    const std::string& text = r["target"].get_ref<const std::string&>();
    const std::string constraint =
        concat(r["metric"].get<std::string>(), "<=", r["limit"].get<double>(), " ", r["unit"].get<std::string>());
    const std::string measured =
        r.contains("measured_latency_ms") ? concat(fixed(r["measured_latency_ms"].get<double>(), 3), " ms") : "-";
    std::printf("%-12s %-18s %12s %12s %9.2f %10.3f %11.1f %10.2f %10.2f %9.2f\n",
                text.substr(0, text.find(':')).c_str(), constraint.c_str(),
                concat(fixed(r["value"].get<double>(), 3), " ", r["unit"].get<std::string>()).c_str(), measured.c_str(),
                r["macs_m"].get<double>(), r["params_m"].get<double>(), r["memory_kb"].get<double>(),
                100 * r["predicted_valid_top1"].get<double>(), 100 * r["measured_valid_top1"].get<double>(),
                100 * r["measured_test_top1"].get<double>());
  }
  return summary;
}

nlohmann::json run_extract(const ExtractOptions& options) {
  OFA_CHECK(!options.out.empty(), "ofa extract", "--out FILE is required");
  OFA_CHECK(options.onnx != options.out, "ofa extract", "--onnx and --out name the same file '", options.out, "'");
  check_file_destination(options.out, concat("--out ", options.out));
  if (!options.onnx.empty()) check_file_destination(options.onnx, concat("--onnx ", options.onnx));
  set_num_threads(options.threads);
  const SearchRun run = open_search_run(options.run);
  const Subnet subnet = load_subnet(options.subnet, run.space());
  const ExtractedNetwork network = calibrated_subnet(run, subnet);
  const std::string model = options.onnx.empty() ? std::string() : onnx_model_bytes(network, input_normalization(run));
  save_extracted(options.out, network);
  if (!options.onnx.empty())
    write_file_atomically(options.onnx, std::as_bytes(std::span(model.data(), model.size())));
  const SubnetCost cost = count_subnet(run.space(), subnet);
  nlohmann::json summary = {{"out", options.out},
                            {"subnet", subnet_to_json(subnet)},
                            {"calibration_images", run.calibration_images},
                            {"macs_m", cost.macs / 1e6},
                            {"params_m", static_cast<double>(cost.params) / 1e6},
                            {"memory_kb", static_cast<double>(cost.peak_activation_bytes) / 1024.0}};
  if (!options.onnx.empty()) summary["onnx"] = {{"file", options.onnx}, {"opset", kOnnxOpset}, {"input_layout", "NCHW"}};
  return summary;
}

}  // namespace ofa
