// MPI (or any host Communicator) as a GradientTransport: the sums happen in finish(), in start
// order. On the CPU, MPI progresses a non-blocking collective only inside MPI calls, so starting
// the reductions early would not overlap them with the backward pass; the CPU path therefore
// sends one flat buffer per step (its bucket size is unbounded, distill/data_parallel.cpp).
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "kernels/collectives/gradient_transport.h"
#include "kernels/collectives/nccl_transport.h"
#include "kernels/cuda/backend.h"

namespace ofa {
namespace {

class HostTransport final : public GradientTransport {
 public:
  explicit HostTransport(Communicator& communicator) : communicator_(communicator) {}

  void start(const Tensor& buffer, std::string_view what) override {
    OFA_CHECK(buffer.rank() == 1 && buffer.is_contiguous(), "GradientTransport::start", "expected a flat contiguous "
              "buffer, got ", buffer.describe());
    pending_.push_back({buffer, std::string(what)});
  }

  void finish() override {
    for (auto& [buffer, what] : pending_) {
      if (buffer.device() == Device::cpu) {
        communicator_.allreduce_sum(std::span(buffer.f32(), static_cast<std::size_t>(buffer.numel())), what);
      } else {
        Tensor host = buffer.to(Device::cpu);
        communicator_.allreduce_sum(std::span(host.f32(), static_cast<std::size_t>(host.numel())), what);
        buffer.copy_from(host);
      }
    }
    pending_.clear();
  }

 private:
  Communicator& communicator_;
  std::vector<std::pair<Tensor, std::string>> pending_;
};

}  // namespace

std::unique_ptr<GradientTransport> make_gradient_transport(Communicator& communicator, Device device) {
  if (device == Device::cuda && std::strcmp(cuda::active_backend().name, "gpu") == 0)
    return make_nccl_transport(communicator);
  return std::make_unique<HostTransport>(communicator);
}

}  // namespace ofa
