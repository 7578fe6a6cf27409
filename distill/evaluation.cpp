#include "distill/evaluation.h"

#include <algorithm>

#include "distill/batch_upload.h"
#include "distill/data/batch_loader.h"
#include "kernels/error.h"
#include "kernels/ops/metric_sums.h"

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
  // Summed where the network is and read once at the end: on cuda no batch waits for the device.
  MetricSums sums(network.device());
  Batch batch;
  while (loader.next(batch)) {
    const Tensor& logits = network.forward(images_on(network.device(), batch.images), false);
    sums.add_accuracy(logits, batch.labels, 5);
    // Weighted by the batch's size, so the mean is over images even when the last batch is short.
    sums.add_cross_entropy(logits, batch.labels, 0.0f, static_cast<double>(batch.labels.size()));
  }
  const MetricTotals totals = sums.read();
  EvalResult result;
  result.images = totals.rows;
  OFA_CHECK(result.images > 0, "evaluate", "the dataset '", loader.dataset().name(), "' has no images");
  const auto images = static_cast<double>(result.images);
  result.top1 = static_cast<double>(totals.top1) / images;
  result.top5 = static_cast<double>(totals.topk) / images;
  result.loss = totals.loss / images;
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
    network.forward(images_on(network.device(), batch.images), true);
  }
  network.set_batch_norm_config(saved);
}

}  // namespace ofa
