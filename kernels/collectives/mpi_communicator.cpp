#include "kernels/collectives/mpi_communicator.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace ofa {
namespace {

constexpr std::size_t kErrorSize = 512;
// Polls before a waiting rank starts to sleep between tests: the usual collective completes
// within microseconds of the last rank arriving, a rank waiting longer leaves the core to others.
constexpr int kSpinPolls = 2000;
constexpr auto kPollSleep = std::chrono::microseconds(50);
// How long a rank that failed waits for the others to fail at the same point (shared bad input)
// before it has the launcher stop the job.
constexpr double kErrorExitGraceSeconds = 5;

std::string plugin_path() {
  if (const char* path = std::getenv("OFA_MPI_PLUGIN"); path != nullptr && *path != '\0') return path;
  std::error_code error;
  const std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", error);
  return ((error ? std::filesystem::path(".") : executable.parent_path()) / "libofa_mpi.so").string();
}

}  // namespace

std::unique_ptr<MpiCommunicator> MpiCommunicator::join(const LaunchEnvironment& launch) {
  const std::string path = plugin_path();
  const std::string started_by = concat("started by an MPI launcher (", launch.launcher, "=", launch.value, ")");
  // RTLD_GLOBAL: Open MPI loads its components with dlopen and they resolve symbols of libmpi.
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  OFA_CHECK(library != nullptr, path, "cannot be loaded (", dlerror(), "), but this process was ", started_by,
            ". Build ofa with MPI (libopenmpi-dev, tools/scripts/install-deps.sh) so that libofa_mpi.so is built "
            "beside it, or set OFA_MPI_PLUGIN to its path");
  auto entry = reinterpret_cast<OfaMpiPluginEntry>(dlsym(library, "ofa_mpi_plugin"));
  OFA_CHECK(entry != nullptr, path, "has no ofa_mpi_plugin symbol; it is not ofa's MPI plugin");
  const OfaMpiPlugin* plugin = entry();
  OFA_CHECK(plugin->version == OFA_MPI_PLUGIN_VERSION, path, "is plugin version ", plugin->version, ", this ofa needs ",
            OFA_MPI_PLUGIN_VERSION, "; rebuild them together");
  char error[kErrorSize] = {};
  int rank = 0, size = 0;
  OFA_CHECK(plugin->init(&rank, &size, error, sizeof error) == 0, "ofa", "this process was ", started_by,
            " but could not join the MPI job: ", error);
  return std::unique_ptr<MpiCommunicator>(new MpiCommunicator(plugin, rank, size));
}

MpiCommunicator::MpiCommunicator(const OfaMpiPlugin* plugin, int rank, int size)
    : Communicator(rank, size), plugin_(plugin) {}

MpiCommunicator::~MpiCommunicator() {
  if (left_) return;
  char error[kErrorSize] = {};
  if (plugin_->finalize(error, sizeof error) != 0) std::fprintf(stderr, "ofa: rank %d of %d: %s\n", rank(), size(), error);
}

void MpiCommunicator::wait(OfaMpiRequestHandle request, std::string_view what, double timeout_seconds) const {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::duration<double>(timeout_seconds);
  char error[kErrorSize] = {};
  for (int polls = 0;; ++polls) {
    int done = 0;
    if (plugin_->test(request, &done, error, sizeof error) != 0)
      throw CollectiveFailure(concat(what, ": ", error));
    if (done != 0) return;
    if (clock::now() > deadline)
      throw CollectiveFailure(concat(what, " did not complete within ", timeout_seconds,
                                     " s (--collective-timeout): another rank died, hangs or fell behind. Stopping "
                                     "the job; the last checkpoint is intact, continue with --resume"));
    if (polls > kSpinPolls) std::this_thread::sleep_for(kPollSleep);
  }
}

void MpiCommunicator::allreduce_sum(std::span<float> values, std::string_view what) {
  char error[kErrorSize] = {};
  OfaMpiRequestHandle request = nullptr;
  if (plugin_->start_allreduce_sum(OFA_MPI_FLOAT, values.data(), static_cast<long long>(values.size()), &request,
                                   error, sizeof error) != 0)
    throw CollectiveFailure(concat(what, ": ", error));
  wait(request, what, timeout());
}

void MpiCommunicator::allreduce_sum(std::span<double> values, std::string_view what) {
  char error[kErrorSize] = {};
  OfaMpiRequestHandle request = nullptr;
  if (plugin_->start_allreduce_sum(OFA_MPI_DOUBLE, values.data(), static_cast<long long>(values.size()), &request,
                                   error, sizeof error) != 0)
    throw CollectiveFailure(concat(what, ": ", error));
  wait(request, what, timeout());
}

void MpiCommunicator::allgather(std::span<const std::byte> mine, std::span<std::byte> all, std::string_view what) {
  OFA_CHECK(all.size() == mine.size() * static_cast<std::size_t>(size()), "allgather", what, ": ", all.size(),
            " bytes for ", size(), " ranks of ", mine.size());
  char error[kErrorSize] = {};
  OfaMpiRequestHandle request = nullptr;
  if (plugin_->start_allgather(mine.data(), static_cast<long long>(mine.size()), all.data(), &request, error,
                               sizeof error) != 0)
    throw CollectiveFailure(concat(what, ": ", error));
  wait(request, what, timeout());
}

void MpiCommunicator::broadcast(std::span<std::byte> bytes, int root, std::string_view what) {
  char error[kErrorSize] = {};
  OfaMpiRequestHandle request = nullptr;
  if (plugin_->start_broadcast(bytes.data(), static_cast<long long>(bytes.size()), root, &request, error,
                               sizeof error) != 0)
    throw CollectiveFailure(concat(what, ": ", error));
  wait(request, what, timeout());
}

void MpiCommunicator::shut_down_after_error(bool collective_failed) {
  std::fflush(stderr);
  std::fflush(stdout);
  if (!collective_failed) {
    char error[kErrorSize] = {};
    OfaMpiRequestHandle request = nullptr;
    try {
      if (plugin_->start_error_barrier(&request, error, sizeof error) == 0) {
        wait(request, "the error barrier", std::min(timeout(), kErrorExitGraceSeconds));
        left_ = true;
        plugin_->finalize(error, sizeof error);
        return;
      }
    } catch (const CollectiveFailure&) {
      // The others did not fail here: they wait in a collective this rank will never join.
    }
  }
  left_ = true;
  plugin_->abort(1);
}

}  // namespace ofa
