// GradientReducer on a real supernet, with a transport that stands for a job of two identical
// ranks (it doubles every buffer): inside the step's union of extents the gradient doubles,
// outside it stays zero, and with small buckets the transport starts during the last backward.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "distill/gradient_reducer.h"
#include "supernet/supernet.h"
#include "tests/support/test_tensors.h"
#include "tests/supernet/tiny_space.h"

namespace ofa {
namespace {

using testing::random_tensor;

class DoublingTransport final : public GradientTransport {
 public:
  void start(const Tensor& buffer, std::string_view) override {
    started_in_backward.push_back(in_backward);
    elements += buffer.numel();
    pending.push_back(buffer);
  }
  void finish() override {
    for (Tensor& b : pending)
      for (std::int64_t i = 0; i < b.numel(); ++i) b.f32()[i] *= 2.0f;
    pending.clear();
  }
  bool in_backward = false;
  std::vector<bool> started_in_backward;
  std::int64_t elements = 0;
  std::vector<Tensor> pending;
};

struct StepResult {
  std::vector<Tensor> before, after;  // every gradient before and after the reduction
  std::int64_t reduced_bytes = 0;
};

// Two subnets of different depth and width in one step, as progressive shrinking samples them.
StepResult run_step(Supernet& supernet, GradientReducer& reducer, DoublingTransport& transport) {
  Network& network = supernet.network();
  network.zero_grad();
  reducer.begin_step(7);
  const std::vector<Subnet> subnets = {smallest_subnet(supernet.space()), sample_subnet(supernet.space(), {}, 3, 1)};
  for (std::size_t k = 0; k < subnets.size(); ++k) {
    supernet.set_active(subnets[k]);
    network.forward(random_tensor({2, 8, 8, supernet.space().in_channels}), true);
    transport.in_backward = true;
    network.backward(random_tensor({2, supernet.space().num_classes}), reducer.backward_hook(k + 1 == subnets.size()));
    transport.in_backward = false;
  }
  StepResult result;
  for (const Parameter& p : network.parameters().parameters) result.before.push_back(p.grad.clone());
  reducer.finish_step();
  for (const Parameter& p : network.parameters().parameters) result.after.push_back(p.grad.clone());
  result.reduced_bytes = reducer.reduced_bytes();
  return result;
}

void expect_doubled_everywhere(const StepResult& r, const ParameterList& list) {
  for (std::size_t p = 0; p < r.before.size(); ++p)
    for (std::int64_t i = 0; i < r.before[p].numel(); ++i)
      ASSERT_EQ(r.after[p].f32()[i], 2.0f * r.before[p].f32()[i]) << list.parameters[p].name << " entry " << i;
}

TEST(GradientReducer, OneFlatBufferSumsEveryGradientTheStepWrote) {
  Supernet supernet(testing::tiny_space(), 1);
  DoublingTransport transport;
  GradientReducer reducer(supernet.network().parameters(), transport, SIZE_MAX);
  const StepResult r = run_step(supernet, reducer, transport);
  // Entries outside the union are zero before, so doubling everything is the exact expectation:
  // anything the reducer missed would stay single.
  expect_doubled_everywhere(r, supernet.network().parameters());
  EXPECT_EQ(reducer.buckets(), 1);
  EXPECT_EQ(transport.started_in_backward, std::vector<bool>{false});
  std::int64_t total = 0;
  for (const Parameter& p : supernet.network().parameters().parameters) total += p.value.numel();
  EXPECT_EQ(r.reduced_bytes, transport.elements * 4);
  EXPECT_LT(transport.elements, total) << "two narrow subnets should not send every weight";
}

TEST(GradientReducer, SmallBucketsStartDuringTheLastBackward) {
  Supernet supernet(testing::tiny_space(), 1);
  DoublingTransport transport;
  GradientReducer reducer(supernet.network().parameters(), transport, 4096);
  const StepResult r = run_step(supernet, reducer, transport);
  expect_doubled_everywhere(r, supernet.network().parameters());
  ASSERT_GT(reducer.buckets(), 2);
  EXPECT_TRUE(transport.started_in_backward.front()) << "the head's bucket should leave before the stem is done";
  EXPECT_EQ(r.reduced_bytes, transport.elements * 4);
}

TEST(GradientReducer, ASecondStepStartsFromNothing) {
  Supernet supernet(testing::tiny_space(), 1);
  DoublingTransport transport;
  GradientReducer reducer(supernet.network().parameters(), transport, SIZE_MAX);
  run_step(supernet, reducer, transport);
  const StepResult second = run_step(supernet, reducer, transport);
  expect_doubled_everywhere(second, supernet.network().parameters());
}

}  // namespace
}  // namespace ofa
