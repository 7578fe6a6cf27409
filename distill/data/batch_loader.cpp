#include "distill/data/batch_loader.h"

#include <iostream>
#include <numeric>
#include <utility>

#include "distill/data/image_decode.h"
#include "distill/data/random_streams.h"
#include "kernels/error.h"

namespace ofa {

BatchLoader::BatchLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  const std::string& name = dataset_->name();
  OFA_CHECK(options_.batch_size > 0, name, "batch size is ", options_.batch_size, ", expected > 0");
  OFA_CHECK(options_.workers > 0, name, "loader workers is ", options_.workers, ", expected > 0");
  OFA_CHECK(options_.prefetch > 0, name, "loader prefetch depth is ", options_.prefetch, ", expected > 0");
  const std::int64_t shard_end = options_.shard_end < 0 ? options_.batch_size : options_.shard_end;
  OFA_CHECK(options_.shard_begin >= 0 && options_.shard_begin < shard_end && shard_end <= options_.batch_size, name,
            "loader shard [", options_.shard_begin, ", ", options_.shard_end, ") is not a non-empty part of a batch of ",
            options_.batch_size);
  check_augmentation(options_.augmentation);
  check_normalization(options_.normalization, dataset_->channels());
  const std::int64_t size = dataset_->size();
  batches_per_epoch_ =
      options_.drop_last ? size / options_.batch_size : (size + options_.batch_size - 1) / options_.batch_size;
  OFA_CHECK(batches_per_epoch_ > 0, name, "holds ", size, " images, fewer than one batch of ", options_.batch_size);
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { work(); });
}

BatchLoader::~BatchLoader() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_available_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void BatchLoader::start_epoch(std::int64_t epoch, std::int64_t first_batch, const ResolutionOf& resolution_of) {
  OFA_CHECK(epoch >= 0, dataset_->name(), "epoch ", epoch, " is negative");
  OFA_CHECK(first_batch >= 0 && first_batch <= batches_per_epoch_, dataset_->name(), "batch ", first_batch,
            " is outside the epoch's ", batches_per_epoch_, " batches");
  auto plan = std::make_shared<Plan>();
  plan->epoch = epoch;
  plan->first = first_batch;
  for (std::int64_t i = first_batch; i < batches_per_epoch_; ++i) {
    plan->resolutions.push_back(resolution_of(i));
    OFA_CHECK(plan->resolutions.back() > 0, dataset_->name(), "batch ", i, " of epoch ", epoch, " asks for resolution ",
              plan->resolutions.back(), ", expected > 0");
  }
  if (options_.shuffle) {
    plan->order = data_streams::permutation(dataset_->size(), options_.seed, data_streams::shuffle(epoch));
  } else {
    plan->order.resize(static_cast<std::size_t>(dataset_->size()));
    std::iota(plan->order.begin(), plan->order.end(), std::int64_t{0});
  }
  {
    const std::lock_guard lock(mutex_);
    plan_ = std::move(plan);
    next_claim_ = next_deliver_ = first_batch;
    ready_.clear();
  }
  work_available_.notify_all();
}

void BatchLoader::start_epoch(std::int64_t epoch, std::int64_t first_batch, std::int64_t resolution) {
  start_epoch(epoch, first_batch, [resolution](std::int64_t) { return resolution; });
}

bool BatchLoader::next(Batch& batch) {
  std::unique_lock lock(mutex_);
  OFA_CHECK(plan_ != nullptr, dataset_->name(), "next() called before start_epoch()");
  if (next_deliver_ >= batches_per_epoch_) return false;
  batch_ready_.wait(lock, [this] { return ready_.contains(next_deliver_); });
  auto node = ready_.extract(next_deliver_);
  ++next_deliver_;
  lock.unlock();
  work_available_.notify_all();
  if (node.mapped().error) std::rethrow_exception(node.mapped().error);
  batch = std::move(node.mapped().batch);
  return true;
}

std::int64_t BatchLoader::skipped_images() const {
  const std::lock_guard lock(failures_mutex_);
  return static_cast<std::int64_t>(failed_samples_.size());
}

void BatchLoader::work() {
  std::vector<std::uint8_t> scratch;
  std::unique_lock lock(mutex_);
  for (;;) {
    work_available_.wait(lock, [this] {
      return stopping_ ||
             (plan_ != nullptr && next_claim_ < batches_per_epoch_ && next_claim_ < next_deliver_ + options_.prefetch);
    });
    if (stopping_) return;
    const std::shared_ptr<const Plan> plan = plan_;
    const std::int64_t index = next_claim_++;
    lock.unlock();
    Slot slot;
    try {
      slot.batch = make_batch(*plan, index, scratch);
    } catch (...) {
      slot.error = std::current_exception();
    }
    lock.lock();
    // A batch made for a position the consumer has since left is dropped.
    if (plan == plan_) {
      ready_.emplace(index, std::move(slot));
      batch_ready_.notify_all();
    }
  }
}

Batch BatchLoader::make_batch(const Plan& plan, std::int64_t index, std::vector<std::uint8_t>& scratch) {
  Batch batch;
  batch.epoch = plan.epoch;
  batch.index = index;
  batch.resolution = plan.resolutions[static_cast<std::size_t>(index - plan.first)];
  const std::int64_t batch_rows = std::min(options_.batch_size, dataset_->size() - index * options_.batch_size);
  const std::int64_t first = std::min(options_.shard_begin, batch_rows);
  const std::int64_t last = options_.shard_end < 0 ? batch_rows : std::min(options_.shard_end, batch_rows);
  const std::int64_t begin = index * options_.batch_size + first;
  const std::int64_t count = last - first;
  const std::int64_t r = batch.resolution, channels = dataset_->channels();
  batch.images = Tensor::empty({count, r, r, channels});
  batch.labels.resize(static_cast<std::size_t>(count));
  batch.samples.resize(static_cast<std::size_t>(count));
  float* out = batch.images.f32();
  for (std::int64_t i = 0; i < count; ++i) {
    std::int64_t sample = plan.order[static_cast<std::size_t>(begin + i)];
    const ImageView image = read_image(sample, scratch);
    OFA_CHECK(image.channels == channels, dataset_->name(), "image ", sample, " has ", image.channels,
              " channels, expected ", channels);
    augment_image(image, options_.augmentation, options_.normalization, r, {options_.seed, plan.epoch, sample},
                  out + i * r * r * channels);
    batch.labels[static_cast<std::size_t>(i)] = dataset_->label(sample);
    batch.samples[static_cast<std::size_t>(i)] = sample;
  }
  return batch;
}

ImageView BatchLoader::read_image(std::int64_t& sample, std::vector<std::uint8_t>& scratch) {
  const std::int64_t size = dataset_->size();
  for (;;) {
    try {
      return dataset_->image(sample, scratch);
    } catch (const ImageDecodeError& error) {
      const std::lock_guard lock(failures_mutex_);
      if (failed_samples_.insert(sample).second)
        std::cerr << "warning: skipping " << error.what() << " (" << failed_samples_.size() << " undecodable so far)\n";
      const auto failed = static_cast<std::int64_t>(failed_samples_.size());
      if (failed * 100 > size)
        fail(dataset_->name(), failed, " of its ", size,
             " images cannot be decoded, more than 1 %; the latest: ", error.what());
    }
    sample = (sample + 1) % size;
  }
}

}  // namespace ofa
