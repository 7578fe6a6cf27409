#include "distill/data_parallel.h"

#include <chrono>
#include <limits>
#include <string>

#include "kernels/collectives/agreement.h"

namespace ofa {
namespace {

// PyTorch DDP's default bucket: big enough that NCCL runs near its bus bandwidth, small enough
// that the first all-reduce starts early in the backward pass.
constexpr std::size_t kGpuBucketBytes = 25u << 20;
// Shards are told apart in the dropout stream's top bits; steps and subnets use the low ones.
constexpr int kShardStreamShift = 48;

// Rank `root`'s text reaches every rank; `failed` says whether it is an error message.
void broadcast_text(Communicator& communicator, int root, std::string& text, bool& failed, std::string_view what) {
  std::int64_t header[2] = {static_cast<std::int64_t>(text.size()), failed ? 1 : 0};
  communicator.broadcast(std::as_writable_bytes(std::span(header)), root, what);
  text.resize(static_cast<std::size_t>(header[0]));
  failed = header[1] != 0;
  communicator.broadcast(std::as_writable_bytes(std::span(text.data(), text.size())), root, what);
}

}  // namespace

DataParallel::DataParallel(Communicator& communicator, std::int64_t global_batch, const DataParallelOptions& options)
    : communicator_(communicator),
      options_(options),
      shards_(global_batch, communicator.size(), communicator.rank(), options.micro_batches) {
  OFA_CHECK(!(options_.sync_batch_norm && options_.micro_batches > 1), "--sync-bn",
            "cannot be combined with --micro-batches above 1: a rank's micro-batches run one after another, so "
            "their statistics cannot be synchronised; use more ranks or plain per-rank statistics");
}

DataParallel::~DataParallel() = default;

void DataParallel::require_same_configuration(const nlohmann::json& configuration) {
  if (size() == 1) return;
  const std::string text = configuration.dump();
  require_same_on_all_ranks(communicator_, fnv1a(std::as_bytes(std::span(text.data(), text.size()))),
                            "the training configuration (space, recipe, data, seed, --resume, --micro-batches, "
                            "--sync-bn)",
                            "start every rank with the same command and the same files");
}

void DataParallel::require_same_tensors(std::span<const Tensor> tensors, std::int64_t global_step) {
  if (size() == 1) return;
  std::uint64_t hash = kFnvOffsetBasis;
  for (const Tensor& t : tensors) {
    const Tensor host = t.device() == Device::cpu && t.is_contiguous() ? t : t.to(Device::cpu);
    hash = fnv1a(std::as_bytes(std::span(host.f32(), static_cast<std::size_t>(host.numel()))), hash);
  }
  require_same_on_all_ranks(communicator_, hash, concat("the weights and optimiser state at step ", global_step),
                            "the ranks diverged (a non-deterministic reduction?); resume from the last checkpoint");
}

void DataParallel::on_root(std::string_view what, const std::function<void()>& work) {
  std::string message;
  bool failed = false;
  if (is_root()) {
    try {
      work();
    } catch (const Error& e) {
      if (size() == 1) throw;
      message = e.what();
      failed = true;
    }
  }
  if (size() == 1) return;
  broadcast_text(communicator_, 0, message, failed, what);
  if (failed) throw Error(message);
}

std::vector<nlohmann::json> DataParallel::share_out(std::size_t count, std::string_view what,
                                                    const std::function<nlohmann::json(std::size_t)>& work) {
  const auto ranks = static_cast<std::size_t>(size());
  std::vector<std::string> texts(count);
  std::vector<bool> failures(count, false);
  for (std::size_t i = static_cast<std::size_t>(rank()); i < count; i += ranks) {
    try {
      texts[i] = work(i).dump();
    } catch (const Error& e) {
      if (ranks == 1) throw;
      texts[i] = e.what();
      failures[i] = true;
    }
  }
  std::vector<nlohmann::json> results(count);
  for (std::size_t i = 0; i < count; ++i) {
    bool failed = failures[i];
    if (ranks > 1) broadcast_text(communicator_, static_cast<int>(i % ranks), texts[i], failed, what);
    if (failed) throw Error(texts[i]);
    results[i] = nlohmann::json::parse(texts[i]);
  }
  return results;
}

void DataParallel::sum(std::span<double> values, std::string_view what) {
  if (size() > 1) communicator_.allreduce_sum(values, what);
}

BatchNormConfig DataParallel::batch_norm_config(BatchNormConfig base) const {
  base.sync = options_.sync_batch_norm && size() > 1 ? &communicator_ : nullptr;
  return base;
}

std::uint64_t DataParallel::dropout_stream(std::uint64_t stream, int m) const {
  return stream + (static_cast<std::uint64_t>(shards_.shard(m)) << kShardStreamShift);
}

void DataParallel::attach(ParameterList& parameters) {
  if (size() == 1) return;
  const Device device = parameters.parameters.front().grad.device();
  transport_ = make_gradient_transport(communicator_, device);
  reducer_ = std::make_unique<GradientReducer>(
      parameters, *transport_, device == Device::cpu ? std::numeric_limits<std::size_t>::max() : kGpuBucketBytes);
}

void DataParallel::begin_step(std::int64_t global_step) {
  if (reducer_) reducer_->begin_step(global_step);
}

GradientHook* DataParallel::backward_hook(bool last) { return reducer_ ? reducer_->backward_hook(last) : nullptr; }

void DataParallel::finish_step() {
  if (!reducer_) return;
  const auto start = std::chrono::steady_clock::now();
  reducer_->finish_step();
  reduce_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace ofa
