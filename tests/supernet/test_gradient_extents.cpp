// The gradient prefixes a backward reports (GradientExtent) decide what the data-parallel
// all-reduce sends; an entry a backward writes outside them would silently stay rank-local. So:
// every non-zero gradient entry lies inside the reported prefixes, each layer reports once, in
// backward order, and the report equals Network::gradient_extents().
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "supernet/supernet.h"
#include "tests/support/test_tensors.h"
#include "tests/supernet/tiny_space.h"

namespace ofa {
namespace {

using testing::random_tensor;
using testing::tiny_space;

class RecordingHook final : public GradientHook {
 public:
  void layer_finished(std::span<const GradientExtent> gradients) override {
    ++layers;
    reported.insert(reported.end(), gradients.begin(), gradients.end());
  }
  int layers = 0;
  std::vector<GradientExtent> reported;
};

// Whether index (row-major in `shape`) lies inside the prefix `extent`.
bool inside(const Shape& shape, const Shape& extent, std::int64_t index) {
  for (int axis = shape.rank() - 1; axis >= 0; --axis) {
    if (index % shape[axis] >= extent[axis]) return false;
    index /= shape[axis];
  }
  return true;
}

void check_subnet(Supernet& supernet, const Subnet& subnet, const std::string& what) {
  Network& network = supernet.network();
  supernet.set_active(subnet);
  network.zero_grad();
  network.forward(random_tensor({3, subnet.resolution, subnet.resolution, supernet.space().in_channels}), true);
  RecordingHook hook;
  network.backward(random_tensor({3, supernet.space().num_classes}), &hook);

  const std::vector<GradientExtent> expected = network.gradient_extents();
  ASSERT_EQ(hook.reported.size(), expected.size()) << what;
  std::map<std::size_t, Shape> extents;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(hook.reported[i].parameter, expected[i].parameter) << what << " report " << i;
    EXPECT_EQ(hook.reported[i].extent, expected[i].extent) << what << " report " << i;
    EXPECT_TRUE(extents.emplace(hook.reported[i].parameter, hook.reported[i].extent).second)
        << what << ": parameter " << hook.reported[i].parameter << " reported twice";
  }
  // The head, each block that ran, the stem: reported last, after every block.
  EXPECT_EQ(hook.reported.back().parameter, 2u) << what << ": the stem's BN beta comes last";

  const ParameterList& list = network.parameters();
  for (std::size_t p = 0; p < list.parameters.size(); ++p) {
    const Tensor& grad = list.parameters[p].grad;
    const auto found = extents.find(p);
    double outside = 0, within = 0;
    for (std::int64_t i = 0; i < grad.numel(); ++i) {
      const double v = std::abs(grad.f32()[i]);
      (found != extents.end() && inside(grad.shape(), found->second, i) ? within : outside) += v;
    }
    EXPECT_EQ(outside, 0.0) << what << ": " << list.parameters[p].name << " has gradient outside "
                            << (found == extents.end() ? std::string("(not reported)") : found->second.str());
    // A reported prefix is one the pass wrote: no parameter is sent for nothing.
    if (found != extents.end()) {
      EXPECT_GT(within, 0.0) << what << ": " << list.parameters[p].name << " reported but untouched";
    }
  }
}

TEST(GradientExtents, CoverEveryGradientTheBackwardWrites) {
  Supernet supernet(tiny_space(0.1f), 3);
  check_subnet(supernet, largest_subnet(supernet.space()), "largest");
  check_subnet(supernet, smallest_subnet(supernet.space()), "smallest");
  for (std::uint64_t i = 0; i < 12; ++i)
    check_subnet(supernet, sample_subnet(supernet.space(), {}, 5, i), "random subnet " + std::to_string(i));
}

TEST(GradientExtents, NarrowSubnetsReportPrefixesNotWholeTensors) {
  Supernet supernet(tiny_space(), 3);
  supernet.set_active(smallest_subnet(supernet.space()));
  std::int64_t reported = 0, total = 0;
  for (const GradientExtent& e : supernet.network().gradient_extents()) reported += e.extent.numel();
  for (const Parameter& p : supernet.network().parameters().parameters) total += p.value.numel();
  EXPECT_LT(reported * 2, total) << "the smallest subnet should touch well under half of the weights";
}

}  // namespace
}  // namespace ofa
