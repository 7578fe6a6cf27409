#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "distill/data/augmentation.h"
#include "distill/data/dataset.h"
#include "kernels/tensor.h"

namespace ofa {

struct LoaderOptions {
  std::int64_t batch_size = 64;
  bool shuffle = true;    // a new seeded order every epoch (training); false: dataset order
  bool drop_last = true;  // training keeps every step at batch_size; evaluation wants every image
  int workers = 2;        // background threads that read, decode and augment
  int prefetch = 4;       // batches being made or waiting ahead of the consumer
  std::uint64_t seed = 0;
  // The rows of every batch this loader makes: [shard_begin, shard_end) of batch_size, -1 for
  // the end (a data-parallel rank's shard). Batch i still starts at row i * batch_size of the
  // epoch's order and batches_per_epoch() is unchanged, so positions mean the same on every rank.
  std::int64_t shard_begin = 0, shard_end = -1;
  Augmentation augmentation;
  Normalization normalization;
};

struct Batch {
  std::int64_t epoch = 0;
  std::int64_t index = 0;  // position in the epoch: with the epoch, all a checkpoint must store
  std::int64_t resolution = 0;
  Tensor images;                      // [B, R, R, C] NHWC float32, normalised (B: the shard's rows)
  std::vector<std::int32_t> labels;   // B classes
  std::vector<std::int64_t> samples;  // B dataset indices the images came from
};

// Batches of one dataset in a seeded order, made ahead of time by worker threads. Batch i of
// epoch e is a pure function of (seed, e, i, its resolution): which images (the epoch's
// permutation), their crops and flips (seeded by image index) and their pixels. It does not
// depend on the number of workers, on timing, or on where the epoch was started, so resuming
// at (epoch, batch) reproduces an uninterrupted run exactly.
//
// An image that cannot be decoded is replaced by the next image of the dataset that can (the
// same replacement on every run), with a warning on stderr naming the file; next() throws once
// more than 1 % of the dataset has failed.
class BatchLoader {
 public:
  using ResolutionOf = std::function<std::int64_t(std::int64_t batch)>;

  BatchLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  std::int64_t batches_per_epoch() const { return batches_per_epoch_; }
  const Dataset& dataset() const { return *dataset_; }
  const LoaderOptions& options() const { return options_; }

  // Aims the workers at batches first_batch.. of `epoch` (first_batch is 0 for a fresh epoch,
  // the checkpoint's position on resume), discarding anything made for the previous position.
  // resolution_of(i) is batch i's resolution (the trainer's elastic-resolution sample); it is
  // called here, on this thread, once per remaining batch, so it need not be thread-safe.
  void start_epoch(std::int64_t epoch, std::int64_t first_batch, const ResolutionOf& resolution_of);
  void start_epoch(std::int64_t epoch, std::int64_t first_batch, std::int64_t resolution);

  // The epoch's next batch in order, waiting for the workers if it is not ready; false once the
  // epoch is exhausted. Rethrows a worker's error for that batch.
  bool next(Batch& batch);

  // Distinct images skipped as undecodable so far.
  std::int64_t skipped_images() const;

 private:
  struct Plan {
    std::int64_t epoch = 0;
    std::int64_t first = 0;
    std::vector<std::int64_t> order;        // dataset indices, the epoch's data order
    std::vector<std::int64_t> resolutions;  // of batches first..
  };
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };

  void work();
  Batch make_batch(const Plan& plan, std::int64_t index, std::vector<std::uint8_t>& scratch);
  ImageView read_image(std::int64_t& sample, std::vector<std::uint8_t>& scratch);

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  std::int64_t batches_per_epoch_ = 0;

  std::mutex mutex_;
  std::condition_variable work_available_;
  std::condition_variable batch_ready_;
  std::shared_ptr<const Plan> plan_;
  std::int64_t next_claim_ = 0;
  std::int64_t next_deliver_ = 0;
  std::map<std::int64_t, Slot> ready_;
  bool stopping_ = false;

  mutable std::mutex failures_mutex_;
  std::set<std::int64_t> failed_samples_;

  std::vector<std::thread> workers_;
};

}  // namespace ofa
