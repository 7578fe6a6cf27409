#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "distill/data/data_spec.h"
#include "distill/data/dataset.h"
#include "distill/recipe.h"
#include "supernet/subnet.h"
#include "supernet/supernet.h"

// `ofa finetune`: trains one extracted subnet further, as OFA fine-tunes the subnets it has
// specialised for a device: knowledge distillation from the supernet's largest subnet (the
// teacher, frozen, run in training mode as the trainer runs it), on the run's training split with
// the run's recipe (batch size, augmentation, label smoothing, KD temperature, momentum, weight
// decay), one cosine-annealed learning rate from --lr to 0 over all steps, no warm-up (the weights
// are trained already). BN statistics are recalibrated before the "before" and "after"
// measurements, as `ofa extract` and `ofa eval` do, and the file written is the recalibrated one.
namespace ofa {

// What a finished training run provides (search/search_run.h opens one).
struct FinetuneRun {
  const Supernet* supernet = nullptr;
  Recipe recipe;
  DataProfile profile;
  std::shared_ptr<const Dataset> train, valid, test;
  std::uint64_t seed = 0;  // the run's: data order, crops and dropout derive from it
};

struct FinetuneOptions {
  Subnet subnet;
  double epochs = 0;      // > 0; an epoch is the recipe's (train_images_per_epoch when set)
  double lr = 0;          // peak learning rate; 0: the peak of the recipe's last phase
  double kd_ratio = 1.0;  // OFA's default weight of the distillation loss
  std::string out;        // the fine-tuned standalone weights (safetensors, written atomically)
  int loader_workers = 2;
  std::FILE* progress = stderr;  // progress lines; null: silent
};

// Throws ofa::Error naming the option for epochs <= 0, a negative lr or kd_ratio, or an --out
// that is a directory or lies in a missing or unwritable one; all are checked before any work.
void check_finetune_options(const FinetuneOptions& options);

// Fine-tunes, writes options.out, and returns the report: accuracy and loss on the validation and
// test splits before and after, the mean training loss of every epoch, steps, lr and time.
nlohmann::json finetune_subnet(const FinetuneRun& run, const FinetuneOptions& options);

}  // namespace ofa
