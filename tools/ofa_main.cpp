#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "kernels/blas_kernels.h"
#include "kernels/error.h"
#include "kernels/threads.h"
#include "tools/bench_distributed_command.h"
#include "tools/extract_command.h"
#include "tools/finetune_command.h"
#include "tools/info_command.h"
#include "tools/latency_command.h"
#include "tools/search_command.h"
#include "tools/train_command.h"

#ifdef OFA_WITH_BENCH
#include <benchmark/benchmark.h>
#endif
#ifdef OFA_WITH_KERNEL_BENCH
#include "tools/bench/cuda/exec_kernel_benchmarks.h"
#endif

namespace {

#ifdef OFA_WITH_BENCH
int run_op_benchmarks(const std::string& filter, int threads, const std::vector<std::string>& extra) {
  ofa::set_num_threads(threads);
  std::vector<std::string> args = {"ofa bench ops", "--benchmark_filter=" + filter};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  benchmark::Initialize(&argc, argv.data());
  if (benchmark::ReportUnrecognizedArguments(argc, argv.data())) return 2;
  benchmark::AddCustomContext("threads", std::to_string(threads));
  benchmark::AddCustomContext("openblas_core", ofa::loaded_blas_core());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  ofa::match_blas_kernels_to_cpu(argv);
  CLI::App app{"ofa: once-for-all supernets: train once, extract a subnet per device"};
  app.require_subcommand(1);

  ofa::TrainCommand train(app);
  ofa::EvalCommand eval(app);
  ofa::InfoCommand info(app);
  ofa::LatencyCommand latency(app);
  ofa::SearchCommand search(app);
  ofa::ExtractCommand extract(app);
  ofa::FinetuneCommand finetune(app);
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  CLI::App* bench_ops = bench->add_subcommand("ops", "Time every op's forward and backward at OFA MobileNetV3 block shapes");
  std::string filter = ".";
  int threads = 2;
  bench_ops->add_option("--filter", filter, "Regular expression selecting benchmark cases")->capture_default_str();
  bench_ops->add_option("--threads", threads, "Worker threads (OpenMP and OpenBLAS)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  bench_ops->allow_extras();
  bench_ops->footer("Other --benchmark_* flags (e.g. --benchmark_repetitions=5) pass through to Google Benchmark.");
  CLI::App* bench_kernels =
      bench->add_subcommand("kernels", "Time every CUDA kernel beside cuDNN/cuBLAS doing the same work (needs a GPU)");
  std::string kernel_filter = ".";
  bench_kernels->add_option("--filter", kernel_filter, "Regular expression selecting benchmark cases")
      ->capture_default_str();
  bench_kernels->allow_extras();
  bench_kernels->footer("Other --benchmark_* flags (e.g. --benchmark_out=FILE) pass through to Google Benchmark.");
  ofa::BenchDistributedCommand bench_distributed(*bench);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (train.parsed()) return train.run();
    if (eval.parsed()) return eval.run();
    if (info.parsed()) return info.run();
    if (latency.parsed()) return latency.run();
    if (search.parsed()) return search.run();
    if (extract.parsed()) return extract.run();
    if (finetune.parsed()) return finetune.run();
    if (bench_distributed.parsed()) return bench_distributed.run();
    if (bench_ops->parsed()) {
#ifdef OFA_WITH_BENCH
      return run_op_benchmarks(filter, threads, bench_ops->remaining());
#else
      std::fprintf(stderr, "ofa bench ops: this binary was built with -DOFA_BUILD_BENCH=OFF\n");
      return 2;
#endif
    }
    if (bench_kernels->parsed()) {
#ifdef OFA_WITH_KERNEL_BENCH
      return ofa::bench::exec_kernel_benchmarks(kernel_filter, bench_kernels->remaining());
#else
      std::fprintf(stderr,
                   "ofa bench kernels: this build has no CUDA kernel benchmarks (they need -DOFA_CUDA=ON, nvcc, "
                   "cuDNN and cuBLAS at configure time)\n");
      return 2;
#endif
    }
  } catch (const ofa::Error& e) {
    std::fprintf(stderr, "ofa: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
