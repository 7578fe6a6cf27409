#include "distill/finetune.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "distill/data/batch_loader.h"
#include "distill/evaluation.h"
#include "distill/lr_schedule.h"
#include "distill/progress.h"
#include "distill/training_step.h"
#include "kernels/error.h"
#include "kernels/ops/accuracy.h"
#include "supernet/atomic_file.h"
#include "supernet/extraction.h"
#include "supernet/weight_file.h"

namespace ofa {
namespace {

using Clock = std::chrono::steady_clock;

// Loader epochs and dropout streams of fine-tuning's own, far from the ones training used (epochs
// p * 100000 + e, streams step * 64 + k), so fine-tuning sees fresh data orders, crops and dropout
// masks instead of replaying the run's.
constexpr std::int64_t kFirstLoaderEpoch = 1'000'000'000;
constexpr std::uint64_t kFirstDropoutStream = std::uint64_t{1} << 48;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Accuracy and loss on both held-out splits after recalibrating BN as `ofa extract` does.
nlohmann::json measure(Network& network, const FinetuneRun& run, std::int64_t resolution) {
  recalibrate_batch_norm(network, run.train, run.profile, resolution, run.recipe.bn_calibration_images, run.seed);
  const EvalResult valid = evaluate(network, run.valid, run.profile, resolution);
  const EvalResult test = evaluate(network, run.test, run.profile, resolution);
  return {{"valid_top1", valid.top1}, {"valid_loss", valid.loss}, {"test_top1", test.top1}, {"test_loss", test.loss}};
}

}  // namespace

void check_finetune_options(const FinetuneOptions& options) {
  OFA_CHECK(std::isfinite(options.epochs) && options.epochs > 0, concat("--epochs ", options.epochs),
            "expected a positive number of epochs (fractions allowed)");
  OFA_CHECK(std::isfinite(options.lr) && options.lr >= 0, concat("--lr ", options.lr),
            "expected a positive learning rate, or 0 for the peak of the run's last phase");
  OFA_CHECK(std::isfinite(options.kd_ratio) && options.kd_ratio >= 0, concat("--kd-ratio ", options.kd_ratio),
            "expected a weight >= 0 for the distillation loss");
  OFA_CHECK(!options.out.empty(), "ofa finetune", "--out FILE is required");
  check_file_destination(options.out, concat("--out ", options.out));
}

nlohmann::json finetune_subnet(const FinetuneRun& run, const FinetuneOptions& options) {
  check_finetune_options(options);
  OFA_CHECK(run.supernet != nullptr && !run.recipe.phases.empty(), "ofa finetune",
            "needs a trained supernet and the recipe it was trained with");
  const Clock::time_point start = Clock::now();
  const SearchSpace& space = run.supernet->space();
  validate_subnet(space, options.subnet, "--subnet");
  const Recipe& recipe = run.recipe;
  const double peak_lr = options.lr > 0 ? options.lr : recipe.phases.back().lr;
  const std::int64_t resolution = options.subnet.resolution;

  ExtractedNetwork student = extract_subnet(*run.supernet, options.subnet);
  Network& network = *student.network;
  const nlohmann::json before = measure(network, run, resolution);
  const ExtractedNetwork teacher = extract_subnet(*run.supernet, largest_subnet(space));

  LoaderOptions loader_options;
  loader_options.batch_size = recipe.batch_size;
  loader_options.workers = options.loader_workers;
  loader_options.seed = run.seed;
  loader_options.augmentation = run.profile.train_augmentation;
  loader_options.normalization = run.profile.normalization;
  BatchLoader loader(run.train, loader_options);
  const std::int64_t per_epoch = steps_per_epoch(recipe, loader.batches_per_epoch());
  const std::int64_t total = std::max<std::int64_t>(1, std::llround(options.epochs * static_cast<double>(per_epoch)));
  const std::int64_t epochs = (total + per_epoch - 1) / per_epoch;
  const StudentLoss losses{static_cast<float>(recipe.label_smoothing), static_cast<float>(options.kd_ratio),
                           static_cast<float>(recipe.kd_temperature)};
  std::vector<Tensor> momentum = zero_momentum(network.parameters());

  std::unique_ptr<ProgressLog> log;
  if (options.progress != nullptr) {
    log = std::make_unique<ProgressLog>("", options.progress, isatty(fileno(options.progress)) != 0);
    log->message(concat("finetune ", subnet_to_json(options.subnet).dump(), ": ", total, " steps of ",
                        recipe.batch_size, " images at resolution ", resolution, ", lr ", peak_lr,
                        " cosine to 0, KD ratio ", options.kd_ratio, " from the largest subnet"));
  }
  const Clock::time_point train_start = Clock::now();
  Clock::time_point log_start = train_start;
  std::vector<double> epoch_losses;
  double epoch_loss = 0, log_loss = 0, log_accuracy = 0;
  std::int64_t log_steps = 0;
  Batch batch;
  for (std::int64_t step = 0; step < total; ++step) {
    const std::int64_t epoch = step / per_epoch, in_epoch = step % per_epoch;
    if (in_epoch == 0) loader.start_epoch(kFirstLoaderEpoch + epoch, 0, resolution);
    OFA_CHECK(loader.next(batch), "ofa finetune", "the data loader ran out of batches in epoch ", epoch);
    const double lr = learning_rate(step, total, 0, peak_lr, 0.0);
    const std::uint64_t stream = kFirstDropoutStream + 2 * static_cast<std::uint64_t>(step);
    const Tensor soft_targets = teacher.network->forward(batch.images, true, run.seed, stream + 1).clone();
    network.zero_grad();
    const Tensor& logits = network.forward(batch.images, true, run.seed, stream);
    Tensor dlogits = Tensor::empty(logits.shape());
    const double loss = student_loss(logits, batch.labels, &soft_targets, losses, dlogits);
    OFA_CHECK(std::isfinite(loss), "ofa finetune", "the loss became ", loss, " at step ", step,
              "; stopping without writing ", options.out, "; try a lower --lr");
    const double accuracy =
        static_cast<double>(accuracy_counts(logits, batch.labels, 1).top1) / static_cast<double>(batch.labels.size());
    network.backward(dlogits);
    sgd_update(network.parameters(), momentum, recipe, lr);

    epoch_loss += loss;
    log_loss += loss;
    log_accuracy += accuracy;
    ++log_steps;
    const bool epoch_end = in_epoch + 1 == per_epoch || step + 1 == total;
    if (epoch_end) {
      epoch_losses.push_back(epoch_loss / static_cast<double>(in_epoch + 1));
      epoch_loss = 0;
    }
    if (log) {
      const bool log_line = (step + 1) % recipe.log_every_steps == 0 || epoch_end;
      const double elapsed = seconds_since(train_start);
      StepReport report;
      report.phase = "finetune";
      report.phase_index = report.phases = 1;
      report.epoch = epoch + 1;
      report.epochs = epochs;
      report.step = in_epoch + 1;
      report.steps_in_epoch = std::min(per_epoch, total - epoch * per_epoch);
      report.global_step = step + 1;
      report.loss = log_loss / static_cast<double>(log_steps);
      report.accuracy = log_accuracy / static_cast<double>(log_steps);
      report.learning_rate = lr;
      report.images_per_second =
          static_cast<double>(log_steps * recipe.batch_size) / std::max(seconds_since(log_start), 1e-9);
      report.eta_seconds = elapsed * static_cast<double>(total - step - 1) / static_cast<double>(step + 1);
      log->step(report, log_line);
      if (log_line) {
        log_loss = log_accuracy = 0;
        log_steps = 0;
        log_start = Clock::now();
      }
    }
  }
  const double train_seconds = seconds_since(train_start);

  const nlohmann::json after = measure(network, run, resolution);
  save_extracted(options.out, student);
  return {{"out", options.out},
          {"subnet", subnet_to_json(options.subnet)},
          {"teacher", subnet_to_json(teacher.subnet)},
          {"epochs", options.epochs},
          {"steps", total},
          {"batch_size", recipe.batch_size},
          {"lr", peak_lr},
          {"kd_ratio", options.kd_ratio},
          {"calibration_images", recipe.bn_calibration_images},
          {"before", before},
          {"after", after},
          {"train_loss_by_epoch", epoch_losses},
          {"train_seconds", train_seconds},
          {"seconds", seconds_since(start)}};
}

}  // namespace ofa
