#include <gtest/gtest.h>

#include "tests/cuda/norm_loss_cases.h"
#include "tests/cuda/thread_order.h"

// The normalisation, elementwise, loss and optimiser kernels' real source, run by the emulator in
// both thread orders and compared with the CPU op library.

namespace ofa::cuda::testing {
namespace {

class EmulatedNormLossOps : public BothThreadOrders {};
OFA_IN_BOTH_THREAD_ORDERS(EmulatedNormLossOps);

const EmulatedLauncher launcher;
// The kernels add in other orders than the CPU ops, and fuse other multiply-adds.
constexpr double kTolerance = 2e-5;

TEST_P(EmulatedNormLossOps, BatchNormMatchesCpu) { check_batch_norm(launcher, false, kTolerance); }
TEST_P(EmulatedNormLossOps, ActivationsMatchCpu) { check_activations(launcher, false, kTolerance); }
TEST_P(EmulatedNormLossOps, ResidualAddMatchesCpu) { check_residual_add(launcher, false); }
TEST_P(EmulatedNormLossOps, DropoutMaskEqualsCpu) { check_dropout(launcher, false); }
TEST_P(EmulatedNormLossOps, PoolingAndChannelScaleMatchCpu) { check_pooling(launcher, false, kTolerance); }
TEST_P(EmulatedNormLossOps, SqueezeExciteMatchesCpu) { check_squeeze_excite(launcher, false, kTolerance); }
TEST_P(EmulatedNormLossOps, BilinearResizeMatchesCpu) { check_bilinear_resize(launcher, false, kTolerance); }
TEST_P(EmulatedNormLossOps, CrossEntropyMatchesCpu) { check_cross_entropy(launcher, false, kTolerance); }
TEST_P(EmulatedNormLossOps, DistillationMatchesCpu) { check_distillation(launcher, false, kTolerance); }
TEST_P(EmulatedNormLossOps, AccuracyCountsEqualCpu) { check_accuracy(launcher, false); }
TEST_P(EmulatedNormLossOps, SgdMatchesCpu) { check_sgd(launcher, false, kTolerance); }

}  // namespace
}  // namespace ofa::cuda::testing
