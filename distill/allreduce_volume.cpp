#include "distill/allreduce_volume.h"

#include <limits>
#include <vector>

#include "distill/gradient_reducer.h"
#include "kernels/error.h"
#include "supernet/supernet.h"

namespace ofa {
namespace {

// Sends nothing: only the reducer's byte count is wanted.
class CountingTransport final : public GradientTransport {
 public:
  void start(const Tensor&, std::string_view) override {}
  void finish() override {}
};

}  // namespace

AllreduceVolume measure_allreduce_volume(const SearchSpace& space, int samples, int subnets_per_step,
                                         std::uint64_t seed) {
  OFA_CHECK(samples > 0, "--samples", samples, ", expected at least 1");
  OFA_CHECK(subnets_per_step > 0, "--subnets-per-step", subnets_per_step, ", expected at least 1");
  Supernet supernet(space, seed);
  Network& network = supernet.network();
  CountingTransport transport;
  GradientReducer reducer(network.parameters(), transport, std::numeric_limits<std::size_t>::max());
  const auto step_bytes = [&](const std::vector<Subnet>& subnets) {
    reducer.begin_step(0);
    for (std::size_t k = 0; k < subnets.size(); ++k) {
      supernet.set_active(subnets[k]);
      reducer.backward_hook(k + 1 == subnets.size())->layer_finished(network.gradient_extents());
    }
    reducer.finish_step();
    return reducer.reduced_bytes();
  };

  AllreduceVolume volume;
  volume.samples = samples;
  volume.subnets_per_step = subnets_per_step;
  for (const Parameter& p : network.parameters().parameters)
    volume.all_parameters += p.value.numel() * static_cast<std::int64_t>(sizeof(float));
  volume.largest = step_bytes({largest_subnet(space)});
  volume.smallest = step_bytes({smallest_subnet(space)});
  double single = 0, steps = 0;
  for (int i = 0; i < samples; ++i) {
    const auto draw = static_cast<std::uint64_t>(i) * static_cast<std::uint64_t>(subnets_per_step);
    single += static_cast<double>(step_bytes({sample_subnet(space, {}, seed, draw)}));
    std::vector<Subnet> subnets;
    for (int k = 0; k < subnets_per_step; ++k)
      subnets.push_back(sample_subnet(space, {}, seed, draw + static_cast<std::uint64_t>(k)));
    steps += static_cast<double>(step_bytes(subnets));
  }
  volume.mean_subnet = single / samples;
  volume.mean_step = steps / samples;
  return volume;
}

}  // namespace ofa
