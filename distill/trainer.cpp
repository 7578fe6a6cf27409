#include "distill/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string_view>
#include <utility>

#include "distill/batch_upload.h"
#include "distill/checkpoint.h"
#include "distill/data/batch_loader.h"
#include "distill/data/data_spec.h"
#include "distill/data/validation_split.h"
#include "distill/data_parallel.h"
#include "distill/evaluation.h"
#include "distill/lr_schedule.h"
#include "distill/progress.h"
#include "distill/recipe.h"
#include "distill/step_cost.h"
#include "distill/training_step.h"
#include "kernels/error.h"
#include "kernels/cuda/backend.h"
#include "kernels/device_choice.h"
#include "kernels/ops/cross_entropy.h"
#include "kernels/ops/distillation.h"
#include "kernels/ops/metric_sums.h"
#include "kernels/ops/residual_add.h"
#include "kernels/ops/sgd.h"
#include "kernels/random.h"
#include "kernels/threads.h"
#include "supernet/atomic_file.h"
#include "supernet/counting.h"
#include "supernet/weight_file.h"

namespace ofa {
namespace {

namespace fs = std::filesystem;

// Counter-based streams: every random choice is a pure function of (seed, stream, index).
constexpr std::uint64_t kResolutionStream = 0x7265736fULL;
constexpr std::uint64_t kValidationSubnetSeed = 0x76616c69ULL;
constexpr std::uint64_t kSubnetsPerStepLimit = 64;
constexpr std::uint64_t kTeacherDropoutStream = kSubnetsPerStepLimit - 1;

std::string path_in(const std::string& dir, const char* name) { return (fs::path(dir) / name).string(); }

// cudaMalloc calls so far, where the active CUDA backend has made them; 0 for the cpu.
std::uint64_t device_allocations(Device device) {
  return device == Device::cuda ? cuda::active_backend().allocator.stats().device_allocations : 0;
}

struct NamedSubnet {
  std::string name;
  Subnet subnet;
};

std::vector<NamedSubnet> validation_subnets(const SearchSpace& space, const ElasticChoices& trained) {
  return {{"largest", phase_extreme_subnet(space, trained, true)},
          {"smallest", phase_extreme_subnet(space, trained, false)},
          {"random0", sample_subnet(space, trained, kValidationSubnetSeed, 0)},
          {"random1", sample_subnet(space, trained, kValidationSubnetSeed, 1)}};
}

// `measure` of every named subnet, as {name: result}, shared out over the ranks. A recipe that
// trains few subnets names some of them twice (one subnet: every name); each is measured once.
nlohmann::json measure_each_once(DataParallel& parallel, const std::vector<NamedSubnet>& named, std::string_view what,
                                 const std::function<nlohmann::json(const Subnet&)>& measure) {
  std::vector<Subnet> distinct;
  std::vector<std::size_t> result_of(named.size());
  for (std::size_t i = 0; i < named.size(); ++i) {
    const auto found = std::find(distinct.begin(), distinct.end(), named[i].subnet);
    result_of[i] = static_cast<std::size_t>(found - distinct.begin());
    if (found == distinct.end()) distinct.push_back(named[i].subnet);
  }
  const std::vector<nlohmann::json> results =
      parallel.share_out(distinct.size(), what, [&](std::size_t i) { return measure(distinct[i]); });
  nlohmann::json by_name = nlohmann::json::object();
  for (std::size_t i = 0; i < named.size(); ++i) by_name[named[i].name] = results[result_of[i]];
  return by_name;
}

class Trainer {
 public:
  Trainer(const TrainOptions& options, Communicator& communicator);
  nlohmann::json run();

 private:
  void open_run_directory();
  void use_job_batch_norm(Network& network) const;
  void require_ranks_agree();
  void run_phase(std::size_t p);
  void step(const Phase& phase, const ElasticChoices& choices, const Batch& batch, double lr);
  MetricTotals check_losses(const Phase& phase);
  void validate(std::size_t p, std::int64_t epoch);
  nlohmann::json final_evaluation();
  EvalResult recalibrated_accuracy(const Subnet& subnet, std::shared_ptr<const Dataset> split) const;
  void write_checkpoint();
  std::int64_t phase_steps(const Phase& phase) const;
  std::int64_t resolution_at(std::size_t p, const ElasticChoices& choices, std::int64_t step) const;
  double remaining_work() const;

  TrainOptions options_;
  std::unique_ptr<DataParallel> parallel_;
  DataSpec spec_;
  DataProfile profile_;
  Recipe recipe_;
  SearchSpace space_;
  ElasticChoices trained_choices_;  // recipe_choices: what validation and the final evaluation measure
  TrainValidSplit split_;
  std::shared_ptr<const Dataset> test_;
  nlohmann::json identity_;
  std::unique_ptr<Supernet> supernet_;
  std::vector<Tensor> momentum_;
  std::unique_ptr<Sgd> sgd_;
  std::unique_ptr<ExtractedNetwork> teacher_;
  TrainingPosition position_;
  std::unique_ptr<BatchLoader> loader_;
  std::unique_ptr<ProgressLog> log_;  // rank 0's only
  std::int64_t steps_per_epoch_ = 0;

  // Losses and accuracy summed on the training device between log lines and read only on logging
  // and checkpoint steps, so other steps never wait for a cuda device: the first subnet's (shown
  // and logged) and the other subnets' (only checked for being finite).
  std::unique_ptr<MetricSums> logged_sums_, other_sums_;
  std::int64_t logged_steps_ = 0;
  std::int64_t unchecked_from_step_ = 0;        // global steps done when the losses were last checked
  // The last log line's, for the progress bar between log lines (NaN before the first).
  double shown_loss_ = std::nan(""), shown_accuracy_ = std::nan("");
  std::int64_t step_device_allocations_ = 0;    // cudaMalloc calls in the steps since the last log line
  // Throughput.
  double reduce_seconds_ = 0;  // waiting for the gradient all-reduce since the last log line
  std::chrono::steady_clock::time_point log_start_, run_start_;
  std::vector<double> step_costs_;  // relative_step_cost of each phase, for the ETA
  double work_done_ = 0;
};

Trainer::Trainer(const TrainOptions& options, Communicator& communicator) : options_(options) {
  OFA_CHECK(!options_.out.empty(), "ofa train", "--out DIR is required");
  set_num_threads(options_.threads);
  spec_ = parse_data_spec(options_.data);
  const std::shared_ptr<const Dataset> train_full = open_dataset(spec_, DataSplit::train);
  test_ = open_dataset(spec_, DataSplit::test);
  space_ = load_search_space(options_.space).with_input_channels(train_full->channels());
  OFA_CHECK(space_.num_classes == train_full->num_classes(), options_.space, "num_classes is ", space_.num_classes,
            " but the data '", options_.data, "' has ", train_full->num_classes(), " classes");
  recipe_ = load_recipe(options_.recipe);
  validate_recipe(recipe_, space_);
  trained_choices_ = recipe_choices(recipe_, space_);
  for (const Phase& phase : recipe_.phases) step_costs_.push_back(relative_step_cost(space_, phase));
  profile_ = data_profile(spec_, recipe_.crop_padding, recipe_.origin);
  OFA_CHECK(!options_.sync_batch_norm || options_.device == Device::cpu, "--sync-bn",
            "synchronised batch norm is implemented for the cpu only; train with --device cpu or without --sync-bn");
  parallel_ = std::make_unique<DataParallel>(communicator, recipe_.batch_size,
                                             DataParallelOptions{options_.micro_batches, options_.sync_batch_norm});
  const std::int64_t validation = recipe_.validation_images > 0
                                      ? recipe_.validation_images
                                      : default_validation_size(spec_, train_full->size());
  split_ = split_validation(train_full, validation, options_.seed);
  identity_ = {{"space", space_.to_json()}, {"recipe", recipe_.to_json()}, {"data", options_.data},
               {"seed", options_.seed}};
  parallel_->require_same_configuration({{"run", identity_},
                                         {"resume", options_.resume},
                                         {"micro_batches", options_.micro_batches},
                                         {"sync_batch_norm", options_.sync_batch_norm}});

  LoaderOptions loader;
  loader.batch_size = recipe_.batch_size;
  loader.workers = options_.loader_workers;
  loader.seed = options_.seed;
  loader.augmentation = profile_.train_augmentation;
  loader.normalization = profile_.normalization;
  loader.shard_begin = parallel_->shards().rank_rows().begin;
  loader.shard_end = parallel_->shards().rank_rows().end;
  loader_ = std::make_unique<BatchLoader>(split_.train, loader);
  steps_per_epoch_ = steps_per_epoch(recipe_, loader_->batches_per_epoch());

  supernet_ = std::make_unique<Supernet>(space_, options_.seed, options_.device);
  use_job_batch_norm(supernet_->network());
  parallel_->attach(supernet_->network().parameters());  // after the weights are on their device
  momentum_ = zero_momentum(supernet_->network().parameters());
  std::vector<SgdParameter> sgd_parameters;
  const ParameterList& list = supernet_->network().parameters();
  for (std::size_t i = 0; i < list.parameters.size(); ++i)
    sgd_parameters.push_back({list.parameters[i].value, list.parameters[i].grad, momentum_[i], list.parameters[i].weight_decay});
  sgd_ = std::make_unique<Sgd>(std::move(sgd_parameters));
  logged_sums_ = std::make_unique<MetricSums>(options_.device);
  other_sums_ = std::make_unique<MetricSums>(options_.device);
  open_run_directory();
}

// The networks that train on this rank's shard: the supernet and the teacher (it runs in training
// mode, so its batch statistics are the global batch's too under --sync-bn).
void Trainer::use_job_batch_norm(Network& network) const {
  network.set_batch_norm_config(parallel_->batch_norm_config(network.batch_norm_config()));
}

void Trainer::open_run_directory() {
  const std::string run_json = path_in(options_.out, "run.json");
  const std::string checkpoint = path_in(options_.out, "checkpoint.safetensors");
  if (options_.resume) {
    OFA_CHECK(fs::exists(run_json), options_.out, "has no run.json to resume; start without --resume");
    std::ifstream in(run_json);
    nlohmann::json saved;
    try {
      saved = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      fail(run_json, "is not valid JSON: ", e.what());
    }
    OFA_CHECK(saved == identity_, run_json,
              "describes another run (space, recipe, data or seed differ from this command's); resume with the "
              "same options or use another --out");
    // Every rank reads rank 0's checkpoint (the run directory must be shared); the check after it
    // catches a rank that read another one.
    if (fs::exists(checkpoint)) {
      TrainingState state{supernet_.get(), &momentum_, &teacher_, {}, identity_};
      load_checkpoint(checkpoint, state);
      position_ = state.position;
      if (teacher_) use_job_batch_norm(*teacher_->network);
    }
    require_ranks_agree();
  } else {
    parallel_->on_root("the creation of the run directory", [&] {
      OFA_CHECK(!fs::exists(run_json), options_.out,
                "already holds a run; pass --resume to continue it or choose another --out");
      std::error_code error;
      fs::create_directories(options_.out, error);
      OFA_CHECK(!error, options_.out, "cannot create the run directory: ", error.message());
      const std::string text = identity_.dump(2) + "\n";
      write_file_atomically(run_json, std::as_bytes(std::span(text.data(), text.size())));
    });
  }
  if (parallel_->is_root())
    log_ = std::make_unique<ProgressLog>(path_in(options_.out, "metrics.jsonl"), stderr, isatty(fileno(stderr)) != 0);
}

std::int64_t Trainer::phase_steps(const Phase& phase) const {
  return std::max<std::int64_t>(1, std::llround(phase.epochs * static_cast<double>(steps_per_epoch_)));
}

std::int64_t Trainer::resolution_at(std::size_t p, const ElasticChoices& choices, std::int64_t step) const {
  const auto n = static_cast<double>(choices.resolutions.size());
  const float u = uniform01(options_.seed, kResolutionStream + p, static_cast<std::uint64_t>(step));
  const auto index = std::min(static_cast<std::size_t>(u * n), choices.resolutions.size() - 1);
  return choices.resolutions[index];
}

double Trainer::remaining_work() const {
  double work = 0;
  for (std::size_t p = static_cast<std::size_t>(position_.phase); p < recipe_.phases.size(); ++p) {
    const std::int64_t done = static_cast<std::int64_t>(p) == position_.phase ? position_.step : 0;
    work += static_cast<double>(phase_steps(recipe_.phases[p]) - done) * step_costs_[p];
  }
  return work;
}

// Rank 0's checkpoint stands for every rank, and every rank resumes from it: the ranks must hold
// the same weights and momentum (all that SGD changes) when it is written and when it is read.
void Trainer::require_ranks_agree() {
  std::vector<Tensor> tensors = momentum_;
  for (const Parameter& p : supernet_->network().parameters().parameters) tensors.push_back(p.value);
  parallel_->require_same_tensors(tensors, position_.global_step);
}

void Trainer::write_checkpoint() {
  require_ranks_agree();
  parallel_->on_root("the checkpoint", [&] {
    TrainingState state{supernet_.get(), &momentum_, &teacher_, position_, identity_};
    save_checkpoint(path_in(options_.out, "checkpoint.safetensors"), state);
  });
}

void Trainer::step(const Phase& phase, const ElasticChoices& choices, const Batch& batch, double lr) {
  Network& network = supernet_->network();
  const ShardPlan& shards = parallel_->shards();
  const auto global = static_cast<std::uint64_t>(position_.global_step);
  const bool sandwich = phase.sampling == SamplingRule::sandwich;
  const bool use_teacher = phase.kd_ratio > 0 && !sandwich;
  const auto kd_ratio = static_cast<float>(phase.kd_ratio);
  const auto smoothing = static_cast<float>(recipe_.label_smoothing);
  const auto temperature = static_cast<float>(recipe_.kd_temperature);
  const Tensor rank_images = images_on(options_.device, batch.images);

  network.zero_grad();
  parallel_->begin_step(position_.global_step + 1);  // numbered as the log numbers steps
  for (int m = 0; m < shards.micro_batches(); ++m) {
    const RowRange rows = shards.micro_batch(m);
    const Tensor images = rank_images.narrow(0, rows.begin, rows.size());
    const std::span<const std::int32_t> labels =
        std::span(batch.labels).subspan(static_cast<std::size_t>(rows.begin), static_cast<std::size_t>(rows.size()));
    // The shard's loss counts by its share of the global batch: summed over shards, the gradient
    // is the batch mean's.
    const double weight = shards.weight(m);
    Tensor soft_targets;
    if (use_teacher)
      soft_targets = teacher_->network
                         ->forward(images, true, options_.seed,
                                   parallel_->dropout_stream(global * kSubnetsPerStepLimit + kTeacherDropoutStream, m))
                         .clone();
    for (std::int64_t k = 0; k < phase.subnets_per_step; ++k) {
      Subnet subnet;
      if (sandwich && k < 2)
        subnet = phase_extreme_subnet(space_, choices, k == 0);
      else
        subnet = sample_subnet(space_, choices, options_.seed, global * kSubnetsPerStepLimit + static_cast<std::uint64_t>(k));
      subnet.resolution = batch.resolution;
      supernet_->set_active(subnet);
      const Tensor& logits = network.forward(
          images, true, options_.seed, parallel_->dropout_stream(global * kSubnetsPerStepLimit + static_cast<std::uint64_t>(k), m));
      MetricSums& sums = k == 0 ? *logged_sums_ : *other_sums_;
      sums.add_cross_entropy(logits, labels, smoothing, weight);
      Tensor dlogits = Tensor::empty(logits.shape(), DType::f32, logits.device());
      cross_entropy_backward(logits, labels, smoothing, static_cast<float>(weight), dlogits);
      const bool distil = (use_teacher || (sandwich && k > 0)) && kd_ratio > 0;
      if (distil) {
        sums.add_distillation(logits, soft_targets, temperature, phase.kd_ratio * weight);
        Tensor dkd = Tensor::empty(logits.shape(), DType::f32, logits.device());
        distillation_backward(logits, soft_targets, temperature, kd_ratio * static_cast<float>(weight), dkd);
        residual_add_forward(dlogits, dkd, dlogits);
      }
      if (k == 0) {
        logged_sums_->add_accuracy(logits, labels, 1);
        if (sandwich) soft_targets = logits.clone();
      }
      const bool last = m + 1 == shards.micro_batches() && k + 1 == phase.subnets_per_step;
      network.backward(dlogits, parallel_->backward_hook(last));
    }
  }
  parallel_->finish_step();
  reduce_seconds_ += parallel_->reduce_seconds();

  SgdConfig config;
  config.lr = static_cast<float>(lr);
  config.momentum = static_cast<float>(recipe_.momentum);
  config.weight_decay = static_cast<float>(recipe_.weight_decay);
  config.nesterov = recipe_.nesterov;
  sgd_->step(config);
  ++logged_steps_;
}

// Reading the sums waits for the device, so losses are checked only where the host reads anyway:
// on log lines, and before every checkpoint, so that the checkpoint on disk is a good one.
// Returns the logged sums.
MetricTotals Trainer::check_losses(const Phase& phase) {
  MetricTotals logged = logged_sums_->read();
  const MetricTotals others = other_sums_->read();
  // Summed over the ranks (each holds its share of the global batch's mean), so every rank sees
  // the global batch's loss and accuracy and a non-finite loss on any rank stops all of them alike.
  std::array<double, 4> job = {logged.loss, static_cast<double>(logged.top1), static_cast<double>(logged.rows),
                               logged.finite && others.finite ? 0.0 : 1.0};
  parallel_->sum(job, "the sum of the losses and accuracy since the last check");
  OFA_CHECK(job[3] == 0.0, "ofa train",
            concat("a loss became NaN or infinite within global steps ",
                   unchecked_from_step_ + 1, "..", position_.global_step, " (phase '", phase.name,
                   "'); stopping. The last good checkpoint is kept in ", options_.out, "; try a lower learning rate"));
  logged.loss = job[0];
  logged.top1 = std::llround(job[1]);
  logged.rows = std::llround(job[2]);
  other_sums_->clear();
  unchecked_from_step_ = position_.global_step;
  return logged;
}

void Trainer::validate(std::size_t p, std::int64_t epoch) {
  nlohmann::json results = {{"phase", recipe_.phases[p].name}, {"epoch", epoch}, {"global_step", position_.global_step}};
  // The subnets are shared out over the ranks: the weights are the same everywhere and BN
  // recalibration replaces every rank's own statistics, so any rank computes the same result.
  const auto score = [&](const Subnet& s) {
    const EvalResult r = recalibrated_accuracy(s, split_.valid);
    return nlohmann::json{{"top1", r.top1}, {"top5", r.top5}, {"loss", r.loss}, {"resolution", s.resolution}};
  };
  results.update(measure_each_once(*parallel_, validation_subnets(space_, trained_choices_), "the validation", score));
  if (log_) log_->record("validation", results);
}

void Trainer::run_phase(std::size_t p) {
  const Phase& phase = recipe_.phases[p];
  const ElasticChoices choices = phase_choices(phase, space_);
  const std::int64_t total = phase_steps(phase);
  const std::int64_t warmup =
      std::min<std::int64_t>(total, std::llround(phase.warmup_epochs * static_cast<double>(steps_per_epoch_)));
  const std::int64_t epochs = (total + steps_per_epoch_ - 1) / steps_per_epoch_;
  if (position_.step == 0) {
    for (Tensor& m : momentum_) m.fill(0.0f);  // OFA builds a new optimiser for every phase
    if (phase.reorganize_channels) supernet_->reorganize_channels();
  }
  if (phase.kd_ratio > 0 && phase.sampling == SamplingRule::random && !teacher_) {
    teacher_ = std::make_unique<ExtractedNetwork>(extract_subnet(*supernet_, largest_subnet(space_)));
    use_job_batch_norm(*teacher_->network);
  }
  if (log_)
    log_->message(concat("phase ", p + 1, "/", recipe_.phases.size(), " '", phase.name, "': ", total, " steps, ",
                       phase.subnets_per_step, " subnet(s) per step, lr ", phase.lr,
                       position_.step > 0 ? concat(", resuming at step ", position_.step) : std::string()));

  bool loader_aimed = false;
  Batch batch;
  while (position_.step < total) {
    const std::int64_t epoch = position_.step / steps_per_epoch_;
    const std::int64_t in_epoch = position_.step % steps_per_epoch_;
    if (in_epoch == 0 || !loader_aimed) {
      const std::int64_t epoch_start = epoch * steps_per_epoch_;
      loader_->start_epoch(static_cast<std::int64_t>(p) * 100000 + epoch, in_epoch,
                           [&](std::int64_t i) { return resolution_at(p, choices, epoch_start + i); });
      loader_aimed = true;
    }
    OFA_CHECK(loader_->next(batch), "ofa train", "the data loader ran out of batches in epoch ", epoch);
    const double lr = learning_rate(position_.step, total, warmup, phase.lr, recipe_.lr_warmup_start);
    const std::uint64_t allocations_before = device_allocations(options_.device);
    step(phase, choices, batch, lr);
    step_device_allocations_ += static_cast<std::int64_t>(device_allocations(options_.device) - allocations_before);
    ++position_.step;
    ++position_.global_step;
    work_done_ += step_costs_[p];

    const bool epoch_end = position_.step % steps_per_epoch_ == 0 || position_.step == total;
    const bool log_line = position_.global_step % recipe_.log_every_steps == 0 || epoch_end;
    const bool checkpoint = epoch_end || position_.global_step % recipe_.checkpoint_every_steps == 0;
    if (log_line || checkpoint) {
      const MetricTotals logged = check_losses(phase);
      if (log_line) {
        shown_loss_ = logged.loss / static_cast<double>(logged_steps_);
        shown_accuracy_ = static_cast<double>(logged.top1) / static_cast<double>(logged.rows);
      }
    }
    const auto now = std::chrono::steady_clock::now();
    const double since_log = std::chrono::duration<double>(now - log_start_).count();
    const double since_start = std::chrono::duration<double>(now - run_start_).count();
    StepReport report;
    report.recipe = recipe_.name;
    report.phase = phase.name;
    report.phase_index = static_cast<std::int64_t>(p) + 1;
    report.phases = static_cast<std::int64_t>(recipe_.phases.size());
    report.epoch = epoch + 1;
    report.epochs = epochs;
    report.step = in_epoch + 1;
    report.steps_in_epoch = std::min(steps_per_epoch_, total - epoch * steps_per_epoch_);
    report.global_step = position_.global_step;
    report.loss = shown_loss_;
    report.accuracy = shown_accuracy_;
    report.learning_rate = lr;
    report.images_per_second = static_cast<double>(logged_steps_ * recipe_.batch_size) / std::max(since_log, 1e-9);
    report.eta_seconds = remaining_work() * since_start / std::max(work_done_, 1e-9);
    if (options_.device == Device::cuda) {
      report.device_allocations = step_device_allocations_;
      report.device_reserved_mb = static_cast<double>(cuda::active_backend().allocator.stats().bytes_reserved) / 1e6;
    }
    report.ranks = parallel_->size();
    report.allreduce_ms = 1e3 * reduce_seconds_ / static_cast<double>(logged_steps_);
    report.allreduce_bytes = parallel_->reduced_bytes();
    if (log_) log_->step(report, log_line);
    if (log_line) {
      logged_sums_->clear();
      reduce_seconds_ = 0;
      logged_steps_ = 0;
      step_device_allocations_ = 0;
      log_start_ = now;
    }
    if (epoch_end) {
      validate(p, epoch + 1);
      log_start_ = std::chrono::steady_clock::now();  // keep validation time out of images/s
    }
    if (checkpoint) write_checkpoint();
  }
}

// The subnet's weights taken out of the supernet, with BN statistics re-estimated on training
// images at its resolution, as every accuracy of a run is measured.
EvalResult Trainer::recalibrated_accuracy(const Subnet& subnet, std::shared_ptr<const Dataset> split) const {
  ExtractedNetwork extracted = extract_subnet(*supernet_, subnet);
  recalibrate_batch_norm(*extracted.network, split_.train, profile_, subnet.resolution, recipe_.bn_calibration_images,
                         options_.seed);
  return evaluate(*extracted.network, std::move(split), profile_, subnet.resolution);
}

nlohmann::json Trainer::final_evaluation() {
  nlohmann::json results = {{"space", space_.name}, {"recipe", recipe_.name}, {"data", options_.data},
                            {"seed", options_.seed}, {"steps", position_.global_step}};
  const std::vector<NamedSubnet> extremes = {{"largest", phase_extreme_subnet(space_, trained_choices_, true)},
                                             {"smallest", phase_extreme_subnet(space_, trained_choices_, false)}};
  results.update(measure_each_once(*parallel_, extremes, "the final evaluation", [&](const Subnet& subnet) {
    const EvalResult r = recalibrated_accuracy(subnet, test_);
    const SubnetCost cost = count_subnet(space_, subnet);
    return nlohmann::json{{"subnet", subnet_to_json(subnet)}, {"test_top1", r.top1}, {"test_top5", r.top5},
                          {"macs_m", cost.macs / 1e6}, {"params_m", static_cast<double>(cost.params) / 1e6}};
  }));
  return results;
}

nlohmann::json Trainer::run() {
  run_start_ = log_start_ = std::chrono::steady_clock::now();
  unchecked_from_step_ = position_.global_step;
  if (log_ && options_.device != Device::cpu) log_->message(concat("device: ", describe_device(options_.device)));
  for (auto p = static_cast<std::size_t>(position_.phase); p < recipe_.phases.size(); ++p) {
    position_.phase = static_cast<std::int64_t>(p);
    run_phase(p);
    position_.phase = static_cast<std::int64_t>(p) + 1;
    position_.step = 0;
    write_checkpoint();
  }
  parallel_->on_root("the final weights",
                     [&] { save_supernet(path_in(options_.out, "supernet.safetensors"), *supernet_); });
  nlohmann::json results = final_evaluation();
  results["train_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start_).count();
  if (parallel_->size() > 1) results["ranks"] = parallel_->size();
  parallel_->on_root("the results", [&] {
    const std::string text = results.dump(2) + "\n";
    write_file_atomically(path_in(options_.out, "results.json"), std::as_bytes(std::span(text.data(), text.size())));
    log_->record("final", results);
  });
  return results;
}

}  // namespace

nlohmann::json train(const TrainOptions& options, Communicator& communicator) {
  Trainer trainer(options, communicator);
  return trainer.run();
}

nlohmann::json train(const TrainOptions& options) {
  SingleProcess single;
  return train(options, single);
}

}  // namespace ofa
