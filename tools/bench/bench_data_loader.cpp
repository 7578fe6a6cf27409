#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>

#include "distill/data/batch_loader.h"
#include "distill/data/data_spec.h"

// Images per second the Fashion-MNIST training loader delivers (padded crop, flip, normalise,
// batch 64) with 1 and 2 worker threads, at the native 28 and at an elastic 32 that resamples.
// Wall time, since the work happens on the loader's threads; the consumer only takes batches,
// so this is the ceiling the training step would have to undercut to ever wait on data.
namespace ofa::bench {
namespace {

struct FashionMnist {
  DataSpec spec = parse_data_spec("fashion-mnist");
  DataProfile profile = data_profile(spec);
  std::shared_ptr<const Dataset> train = open_dataset(spec, DataSplit::train);
};

const FashionMnist& fashion_mnist() {
  static const FashionMnist data;
  return data;
}

void BM_FashionMnistLoader(benchmark::State& state) {
  const FashionMnist& data = fashion_mnist();
  LoaderOptions options;
  options.batch_size = 64;
  options.workers = static_cast<int>(state.range(0));
  options.prefetch = 2 * options.workers;
  options.augmentation = data.profile.train_augmentation;
  options.normalization = data.profile.normalization;
  BatchLoader loader(data.train, options);
  const std::int64_t resolution = state.range(1);
  std::int64_t epoch = 0;
  loader.start_epoch(epoch, 0, resolution);
  Batch batch;
  for (auto _ : state) {
    if (!loader.next(batch)) {
      loader.start_epoch(++epoch, 0, resolution);
      loader.next(batch);
    }
    benchmark::DoNotOptimize(batch.images.f32());
  }
  state.SetItemsProcessed(state.iterations() * options.batch_size);
}

BENCHMARK(BM_FashionMnistLoader)
    ->ArgNames({"workers", "resolution"})
    ->Args({1, 28})
    ->Args({2, 28})
    ->Args({2, 32})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ofa::bench
