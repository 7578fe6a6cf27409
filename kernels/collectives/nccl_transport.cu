// NCCL behind GradientTransport (nccl_transport.h). Host code only; nvcc builds it with the GPU
// backend so that it sees the same CUDA runtime (streams, events) as the kernels do.
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <nccl.h>

#include <chrono>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "kernels/collectives/nccl_transport.h"
#include "kernels/cuda/backend.h"
#include "kernels/cuda/stream.h"

namespace ofa {
namespace {

constexpr int kSpinPolls = 2000;
constexpr auto kPollSleep = std::chrono::microseconds(20);

// The NCCL calls this file makes, resolved from libnccl.so.2 at run time.
struct NcclLibrary {
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRankConfig) init_rank_config = nullptr;
  decltype(&ncclAllReduce) all_reduce = nullptr;
  decltype(&ncclCommGetAsyncError) get_async_error = nullptr;
  decltype(&ncclCommAbort) abort = nullptr;
  decltype(&ncclCommFinalize) finalize = nullptr;
  decltype(&ncclCommDestroy) destroy = nullptr;
  decltype(&ncclGetErrorString) error_string = nullptr;

  static const NcclLibrary& load() {
    static const NcclLibrary library = [] {
      void* handle = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
      OFA_CHECK(handle != nullptr, "libnccl.so.2", "cannot be loaded (", dlerror(),
                "); a data-parallel run on GPUs needs NCCL (Debian's libnccl2, or NVIDIA's package)");
      NcclLibrary l;
      resolve(handle, "ncclGetUniqueId", l.get_unique_id);
      resolve(handle, "ncclCommInitRankConfig", l.init_rank_config);
      resolve(handle, "ncclAllReduce", l.all_reduce);
      resolve(handle, "ncclCommGetAsyncError", l.get_async_error);
      resolve(handle, "ncclCommAbort", l.abort);
      resolve(handle, "ncclCommFinalize", l.finalize);
      resolve(handle, "ncclCommDestroy", l.destroy);
      resolve(handle, "ncclGetErrorString", l.error_string);
      return l;
    }();
    return library;
  }

  template <class Function>
  static void resolve(void* handle, const char* name, Function& function) {
    function = reinterpret_cast<Function>(dlsym(handle, name));
    OFA_CHECK(function != nullptr, "libnccl.so.2", "has no ", name, "; NCCL 2.14 or later is needed");
  }
};

void cuda_check(cudaError_t status, const char* call) {
  OFA_CHECK(status == cudaSuccess, call, cudaGetErrorString(status));
}

class NcclTransport final : public GradientTransport {
 public:
  explicit NcclTransport(Communicator& communicator) : communicator_(communicator), nccl_(NcclLibrary::load()) {
    ncclUniqueId id{};
    if (communicator_.rank() == 0) nccl_check(nccl_.get_unique_id(&id), "ncclGetUniqueId");
    communicator_.broadcast(std::as_writable_bytes(std::span(&id, 1)), 0, "the broadcast of the NCCL unique id");
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;  // calls return at once; every wait below is polled against the deadline
    const ncclResult_t status =
        nccl_.init_rank_config(&comm_, communicator_.size(), id, communicator_.rank(), &config);
    if (status != ncclInProgress) nccl_check(status, "ncclCommInitRankConfig");
    wait_for_communicator("the NCCL communicator set-up");
    cuda_check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    cuda_check(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming), "cudaEventCreateWithFlags");
  }

  ~NcclTransport() override {
    if (comm_ != nullptr) {
      // A clean shut-down only when everything before it worked; otherwise abort, which never waits.
      bool clean = !failed_ && cudaStreamSynchronize(stream_) == cudaSuccess;
      if (clean) {
        const ncclResult_t finalized = nccl_.finalize(comm_);
        clean = (finalized == ncclSuccess || finalized == ncclInProgress) && settle() == ncclSuccess;
      }
      if (clean)
        nccl_.destroy(comm_);
      else
        nccl_.abort(comm_);
    }
    for (cudaEvent_t event : ready_) cudaEventDestroy(event);
    if (done_ != nullptr) cudaEventDestroy(done_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }

  NcclTransport(const NcclTransport&) = delete;
  NcclTransport& operator=(const NcclTransport&) = delete;

  void start(const Tensor& buffer, std::string_view what) override {
    OFA_CHECK(buffer.rank() == 1 && buffer.is_contiguous() && buffer.device() == Device::cuda,
              "GradientTransport::start", "expected a flat contiguous CUDA buffer, got ", buffer.describe());
    what_ = what;
    if (pending_.size() == ready_.size()) {
      cudaEvent_t event = nullptr;
      cuda_check(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreateWithFlags");
      ready_.push_back(event);
    }
    // The bucket was packed on the current stream: NCCL's stream waits for exactly that much.
    const cudaEvent_t ready = ready_[pending_.size()];
    cuda_check(cudaEventRecord(ready, static_cast<cudaStream_t>(cuda::current_stream())), "cudaEventRecord");
    cuda_check(cudaStreamWaitEvent(stream_, ready, 0), "cudaStreamWaitEvent");
    float* data = const_cast<float*>(buffer.f32());
    const ncclResult_t status = nccl_.all_reduce(data, data, static_cast<std::size_t>(buffer.numel()), ncclFloat32,
                                                 ncclSum, comm_, stream_);
    if (status == ncclInProgress)
      wait_for_communicator(what_);
    else
      nccl_check(status, "ncclAllReduce");
    pending_.push_back(buffer);  // keeps the memory until the reduction is done
  }

  void finish() override {
    if (pending_.empty()) return;
    cuda_check(cudaEventRecord(done_, stream_), "cudaEventRecord");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(communicator_.timeout());
    for (int polls = 0;; ++polls) {
      const cudaError_t state = cudaEventQuery(done_);
      if (state == cudaSuccess) break;
      if (state != cudaErrorNotReady) cuda_check(state, "cudaEventQuery");
      check_async_error(what_);
      if (std::chrono::steady_clock::now() > deadline) fail_timed_out(what_);
      if (polls > kSpinPolls) std::this_thread::sleep_for(kPollSleep);
    }
    pending_.clear();
  }

 private:
  void nccl_check(ncclResult_t status, const char* call) {
    if (status == ncclSuccess) return;
    failed_ = true;
    throw CollectiveFailure(concat(call, " failed: ", nccl_.error_string(status)));
  }

  void check_async_error(std::string_view what) {
    ncclResult_t state = ncclSuccess;
    nccl_.get_async_error(comm_, &state);
    if (state != ncclSuccess && state != ncclInProgress) {
      failed_ = true;
      throw CollectiveFailure(concat(what, " failed in NCCL: ", nccl_.error_string(state)));
    }
  }

  // Polls the communicator's state until its last call is done or the timeout passes (then
  // ncclInProgress).
  ncclResult_t settle() const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(communicator_.timeout());
    for (int polls = 0;; ++polls) {
      ncclResult_t state = ncclSuccess;
      nccl_.get_async_error(comm_, &state);
      if (state != ncclInProgress || std::chrono::steady_clock::now() > deadline) return state;
      if (polls > kSpinPolls) std::this_thread::sleep_for(kPollSleep);
    }
  }

  void wait_for_communicator(std::string_view what) {
    const ncclResult_t state = settle();
    if (state == ncclInProgress) fail_timed_out(what);
    if (state != ncclSuccess) {
      failed_ = true;
      throw CollectiveFailure(concat(what, " failed in NCCL: ", nccl_.error_string(state)));
    }
  }

  [[noreturn]] void fail_timed_out(std::string_view what) {
    failed_ = true;
    nccl_.abort(comm_);
    comm_ = nullptr;
    throw CollectiveFailure(concat(what, " did not complete within ", communicator_.timeout(),
                                   " s (--collective-timeout): another rank died, hangs or fell behind. Stopping the "
                                   "job; the last checkpoint is intact, continue with --resume"));
  }

  Communicator& communicator_;
  const NcclLibrary& nccl_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t done_ = nullptr;
  std::vector<cudaEvent_t> ready_;  // one per bucket in flight, reused from step to step
  std::vector<Tensor> pending_;
  std::string what_;
  bool failed_ = false;
};

}  // namespace

std::unique_ptr<GradientTransport> make_nccl_transport(Communicator& communicator) {
  return std::make_unique<NcclTransport>(communicator);
}

void use_gpu_of_local_rank(int local_rank) {
  if (cuda::gpu_backend() == nullptr) return;
  int devices = 0;
  cuda_check(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
  cuda_check(cudaSetDevice(local_rank % devices), "cudaSetDevice");
}

}  // namespace ofa
