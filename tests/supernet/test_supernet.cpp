#include <gtest/gtest.h>

#include <string>

#include "kernels/error.h"
#include "supernet/channel_reorganization.h"
#include "supernet/extraction.h"
#include "supernet/supernet.h"
#include "tests/support/test_tensors.h"
#include "tests/supernet/tiny_space.h"

namespace ofa {
namespace {

using testing::Probe;
using testing::random_tensor;
using testing::tiny_space;

Tensor images(const Supernet& supernet, std::int64_t batch, std::int64_t resolution) {
  return random_tensor({batch, resolution, resolution, supernet.space().in_channels});
}

// A few training-mode forwards give the batch norms running statistics far from their init,
// so eval-mode comparisons exercise them.
void warm_up_statistics(Supernet& supernet, std::int64_t steps) {
  for (std::int64_t i = 0; i < steps; ++i) {
    supernet.set_active(sample_subnet(supernet.space(), {}, 11, static_cast<std::uint64_t>(i)));
    supernet.network().forward(images(supernet, 4, 10), true);
  }
}

// Non-trivial transforms and BN affine parameters, so a wrong slice or a skipped transform shows.
void perturb_parameters(Supernet& supernet) {
  for (Parameter& p : supernet.network().parameters().parameters) {
    Tensor noise = random_tensor(p.value.shape(), -0.2f, 0.2f);
    const float* n = noise.f32();
    float* v = p.value.f32();
    for (std::int64_t i = 0; i < p.value.numel(); ++i) v[i] += n[i];
  }
}

TEST(Supernet, GradientsOfEveryParameterMatchFiniteDifferences) {
  Supernet supernet(tiny_space(), 3);
  perturb_parameters(supernet);
  Subnet subnet = largest_subnet(supernet.space());
  subnet.kernel = {3, 5, 5, 3};  // both transforms on the path, and a middle size
  subnet.expand = {4, 3, 6, 4};
  subnet.depth = {2, 2};
  subnet.resolution = 8;
  supernet.set_active(subnet);
  const Tensor x = images(supernet, 3, 8);
  Network& network = supernet.network();
  const Probe probe({3, 5});
  const auto loss = [&] { return probe(network.forward(x, true)); };

  network.zero_grad();
  network.forward(x, true);
  network.backward(probe.weights);
  // Every op's gradient is checked tightly in tests/kernels; this test catches wiring (a wrong
  // buffer, slice, residual or transform), which is off by O(1). Five blocks of float32 batch norm
  // plus ReLU/h-swish kinks crossed by the step leave O(5 %) noise in a few differences, hence the
  // looser tolerance.
  int checked = 0;
  for (Parameter& p : network.parameters().parameters) {
    testing::expect_gradient(loss, p.value, p.grad, p.name, 1e-3, 5e-3, 8e-2, 6);
    ++checked;
  }
  EXPECT_GT(checked, 40);
}

TEST(Supernet, InactiveSlicesAndSkippedBlocksGetNoGradient) {
  Supernet supernet(tiny_space(), 4);
  const Subnet subnet = smallest_subnet(supernet.space());
  supernet.set_active(subnet);
  Network& network = supernet.network();
  network.zero_grad();
  network.forward(images(supernet, 2, 8), true);
  network.backward(random_tensor({2, 5}));
  for (const Parameter& p : network.parameters().parameters) {
    const bool in_skipped_block = p.name.rfind("blocks.2.", 0) == 0 || p.name.rfind("blocks.4.", 0) == 0;
    const Tensor g = p.grad.clone();
    double total = 0;
    for (std::int64_t i = 0; i < g.numel(); ++i) total += std::abs(g.f32()[i]);
    if (in_skipped_block) {
      EXPECT_EQ(total, 0.0) << p.name;
    }
  }
  // Block 1 runs at expand 3 (24 of 48 channels): its expand rows 24.. stay untouched.
  const Parameter* expand = nullptr;
  for (const Parameter& p : network.parameters().parameters)
    if (p.name == "blocks.1.expand.weight") expand = &p;
  ASSERT_NE(expand, nullptr);
  double active = 0, inactive = 0;
  for (std::int64_t row = 0; row < expand->grad.dim(0); ++row) {
    for (std::int64_t col = 0; col < expand->grad.dim(1); ++col) (row < 24 ? active : inactive) += std::abs(expand->grad.at({row, col}));
  }
  EXPECT_GT(active, 0.0);
  EXPECT_EQ(inactive, 0.0);
}

void expect_same_logits(Supernet& supernet, const Subnet& subnet, const std::string& what) {
  supernet.set_active(subnet);
  const Tensor x = images(supernet, 3, subnet.resolution);
  const Tensor want = supernet.network().forward(x, false).clone();
  ExtractedNetwork extracted = extract_subnet(supernet, subnet);
  const Tensor got = extracted.network->forward(x, false).clone();
  testing::expect_close(got, want, 1e-5, 1e-4, what);
}

TEST(Supernet, ExtractedNetworkComputesTheSupernetsLogits) {
  Supernet supernet(tiny_space(), 5);
  perturb_parameters(supernet);
  warm_up_statistics(supernet, 6);
  expect_same_logits(supernet, largest_subnet(supernet.space()), "largest");
  expect_same_logits(supernet, smallest_subnet(supernet.space()), "smallest");
  for (std::uint64_t i = 0; i < 20; ++i)
    expect_same_logits(supernet, sample_subnet(supernet.space(), {}, 99, i), "random subnet " + std::to_string(i));
}

TEST(Supernet, ExtractedWeightsAreContiguousAndExactlySized) {
  Supernet supernet(tiny_space(), 6);
  const Subnet subnet = smallest_subnet(supernet.space());
  ExtractedNetwork extracted = extract_subnet(supernet, subnet);
  const Network& network = *extracted.network;
  EXPECT_EQ(network.blocks().size(), 3u);  // first block + one per stage at depth 1
  for (const Parameter& p : network.parameters().parameters) {
    EXPECT_TRUE(p.value.is_contiguous()) << p.name;
    EXPECT_EQ(p.name.find("transform"), std::string::npos) << p.name << ": transforms are folded in";
  }
  EXPECT_EQ(network.blocks()[1].weights().depthwise.shape(), Shape({3, 3, 24}));
}

TEST(Supernet, ReorganizingChannelsKeepsTheLargestSubnetsFunction) {
  Supernet supernet(tiny_space(), 7);
  perturb_parameters(supernet);
  warm_up_statistics(supernet, 6);
  supernet.set_active(largest_subnet(supernet.space()));
  const Tensor x = images(supernet, 3, 10);
  const Tensor before = supernet.network().forward(x, false).clone();
  const Tensor project_before = supernet.network().blocks()[1].weights().project.clone();

  supernet.reorganize_channels();
  const Tensor after = supernet.network().forward(x, false).clone();
  testing::expect_close(after, before, 1e-5, 1e-4, "largest subnet after reorganisation");

  // The order really changed, and the L1 norms of the projection columns now decrease.
  const Tensor& project = supernet.network().blocks()[1].weights().project;
  bool moved = false;
  double previous = 1e30;
  for (std::int64_t c = 0; c < project.dim(1); ++c) {
    double norm = 0;
    for (std::int64_t o = 0; o < project.dim(0); ++o) {
      norm += std::abs(project.at({o, c}));
      moved = moved || project.at({o, c}) != project_before.at({o, c});
    }
    EXPECT_LE(norm, previous) << "column " << c;
    previous = norm;
  }
  EXPECT_TRUE(moved);
}

TEST(Supernet, PermuteAxisMovesWholeSlices) {
  Tensor t = Tensor::empty({2, 3, 2});
  for (std::int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = static_cast<float>(i);
  permute_axis(t, 1, {2, 0, 1});
  EXPECT_EQ(t.at({0, 0, 0}), 4.0f);
  EXPECT_EQ(t.at({0, 0, 1}), 5.0f);
  EXPECT_EQ(t.at({0, 1, 0}), 0.0f);
  EXPECT_EQ(t.at({1, 2, 1}), 9.0f);
}

TEST(Supernet, RejectsASubnetOutsideItsSpace) {
  Supernet supernet(tiny_space(), 8);
  Subnet subnet = largest_subnet(supernet.space());
  subnet.kernel[2] = 9;
  try {
    supernet.set_active(subnet, "my_subnet.json");
    FAIL() << "accepted kernel 9";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("my_subnet.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ks[2]"), std::string::npos) << e.what();
  }
  EXPECT_EQ(supernet.active(), largest_subnet(supernet.space())) << "a rejected subnet must not be half-applied";
}

TEST(Supernet, ActiveSubnetDoesNotDependOnWhatRanBefore) {
  Supernet supernet(tiny_space(), 9);
  perturb_parameters(supernet);
  const Subnet subnet = sample_subnet(supernet.space(), {}, 1, 1);
  supernet.set_active(subnet);
  const Tensor x = images(supernet, 2, subnet.resolution);
  const Tensor first = supernet.network().forward(x, true).clone();
  supernet.set_active(largest_subnet(supernet.space()));
  supernet.network().forward(images(supernet, 5, 10), true);
  supernet.set_active(subnet);
  testing::expect_close(supernet.network().forward(x, true), first, 0, 0, "same subnet, same input");
}

}  // namespace
}  // namespace ofa
