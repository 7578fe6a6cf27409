#include <gtest/gtest.h>

#include <cstdint>

#include "search/efficiency.h"
#include "search/layer_key.h"
#include "supernet/counting.h"
#include "supernet/network.h"
#include "supernet/network_plan.h"
#include "supernet/search_space.h"
#include "supernet/subnet.h"

namespace ofa {
namespace {

std::int64_t stored_floats(const Network& network) {
  std::int64_t values = 0;
  for (const Parameter& p : network.parameters().parameters) values += p.value.numel();
  for (const Buffer& b : network.parameters().buffers) values += b.value.numel();
  return values;
}

TEST(SubnetEfficiency, LargestImagenetSubnetMatchesCounting) {
  const SearchSpace space = load_search_space("mbv3-imagenet");
  const Subnet subnet = largest_subnet(space);
  const SubnetCost cost = count_subnet(space, subnet);
  const SubnetEfficiency efficiency = subnet_efficiency(space, subnet);
  EXPECT_EQ(efficiency.macs, cost.macs);
  EXPECT_EQ(efficiency.macs, 566170656.0);
  EXPECT_EQ(efficiency.params, cost.params);
  EXPECT_EQ(efficiency.params, 7664760);
  EXPECT_EQ(efficiency.peak_activation_bytes, cost.peak_activation_bytes);
  EXPECT_FALSE(efficiency.latency_ms.has_value());
}

// Model bytes are what the extracted network stores: every parameter and BN running statistic.
TEST(SubnetEfficiency, ModelBytesAreTheExtractedNetworksTensors) {
  for (const char* name : {"mbv3-small", "mbv3-imagenet"}) {
    const SearchSpace space = load_search_space(name);
    for (const Subnet& subnet : {largest_subnet(space), smallest_subnet(space), sample_subnet(space, {}, 5, 0)}) {
      const Network network(subnet_plan(space, subnet), 0);
      EXPECT_EQ(model_bytes(space, subnet), 4 * stored_floats(network)) << name;
      EXPECT_EQ(subnet_efficiency(space, subnet).model_bytes, model_bytes(space, subnet)) << name;
    }
  }
}

TEST(SubnetEfficiency, PredictsLatencyFromATable) {
  const SearchSpace space = load_search_space("mbv3-small");
  LatencyTable table;
  for (const auto& [key, layer] : space_layers(space)) table.milliseconds[key] = 0.5;
  const Subnet subnet = smallest_subnet(space);
  const SubnetEfficiency efficiency = subnet_efficiency(space, subnet, &table);
  ASSERT_TRUE(efficiency.latency_ms.has_value());
  EXPECT_DOUBLE_EQ(*efficiency.latency_ms, 0.5 * static_cast<double>(subnet_layers(space, subnet).size()));
}

}  // namespace
}  // namespace ofa
