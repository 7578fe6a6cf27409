#include "distill/evaluation.h"

#include <algorithm>

#include "distill/data/batch_loader.h"
#include "kernels/error.h"
#include "kernels/ops/accuracy.h"
#include "kernels/ops/cross_entropy.h"

namespace ofa {

EvalResult evaluate(Network& network, std::shared_ptr<const Dataset> dataset, const DataProfile& profile,
                    std::int64_t resolution, std::int64_t batch_size) {
  LoaderOptions options;
  options.batch_size = batch_size;
  options.shuffle = false;
  options.drop_last = false;
  options.augmentation = profile.eval_augmentation;
  options.normalization = profile.normalization;
  BatchLoader loader(std::move(dataset), options);
  loader.start_epoch(0, 0, resolution);
  EvalResult result;
  double loss_sum = 0;
  std::int64_t top1 = 0, top5 = 0;
  Batch batch;
  while (loader.next(batch)) {
    const Tensor& logits = network.forward(batch.images, false);
    const AccuracyCounts counts = accuracy_counts(logits, batch.labels, 5);
    top1 += counts.top1;
    top5 += counts.topk;
    const auto n = static_cast<std::int64_t>(batch.labels.size());
    loss_sum += static_cast<double>(cross_entropy_forward(logits, batch.labels, 0.0f)) * static_cast<double>(n);
    result.images += n;
  }
  OFA_CHECK(result.images > 0, "evaluate", "the dataset '", loader.dataset().name(), "' has no images");
  const auto images = static_cast<double>(result.images);
  result.top1 = static_cast<double>(top1) / images;
  result.top5 = static_cast<double>(top5) / images;
  result.loss = loss_sum / images;
  return result;
}

void recalibrate_batch_norm(Network& network, std::shared_ptr<const Dataset> dataset, const DataProfile& profile,
                            std::int64_t resolution, std::int64_t images, std::uint64_t seed,
                            std::int64_t batch_size) {
  OFA_CHECK(images >= 2, "recalibrate_batch_norm", "needs at least 2 images, got ", images);
  LoaderOptions options;
  options.batch_size = std::min(batch_size, images);
  options.shuffle = true;
  options.drop_last = true;
  options.seed = seed;
  options.augmentation = profile.train_augmentation;
  options.normalization = profile.normalization;
  BatchLoader loader(std::move(dataset), options);
  const std::int64_t batches = std::min(loader.batches_per_epoch(), std::max<std::int64_t>(1, images / options.batch_size));
  loader.start_epoch(0, 0, resolution);
  const BatchNormConfig saved = network.batch_norm_config();
  Batch batch;
  for (std::int64_t k = 0; k < batches && loader.next(batch); ++k) {
    BatchNormConfig config = saved;
    config.momentum = 1.0f / static_cast<float>(k + 1);
    network.set_batch_norm_config(config);
    network.forward(batch.images, true);
  }
  network.set_batch_norm_config(saved);
}

}  // namespace ofa
