#include "kernels/blas_kernels.h"

#include <gtest/gtest.h>

namespace ofa {
namespace {

TEST(BlasKernels, KnowsTheVectorWidthOfOpenBlasCores) {
  EXPECT_EQ(blas_core_vector_level("Prescott"), 0);
  EXPECT_EQ(blas_core_vector_level("Sandybridge"), 1);
  EXPECT_EQ(blas_core_vector_level("Haswell"), 2);
  EXPECT_EQ(blas_core_vector_level("Zen"), 2);
  EXPECT_EQ(blas_core_vector_level("SkylakeX"), 3);
  EXPECT_EQ(blas_core_vector_level("COOPERLAKE"), 3);
  EXPECT_EQ(blas_core_vector_level("SapphireRapids"), 3);
  EXPECT_EQ(blas_core_vector_level("Neoverse N1"), -1);
}

TEST(BlasKernels, RequestsWiderKernelsOnlyWhenTheCpuHasThem) {
  EXPECT_EQ(blas_core_to_request("Prescott", 3), "SkylakeX");
  EXPECT_EQ(blas_core_to_request("Haswell", 3), "SkylakeX");
  EXPECT_EQ(blas_core_to_request("Prescott", 2), "Haswell");
  EXPECT_EQ(blas_core_to_request("Sandybridge", 2), "Haswell");
  EXPECT_EQ(blas_core_to_request("SkylakeX", 3), "");
  EXPECT_EQ(blas_core_to_request("Cooperlake", 3), "");
  EXPECT_EQ(blas_core_to_request("Haswell", 2), "");
  EXPECT_EQ(blas_core_to_request("Prescott", 1), "");
  EXPECT_EQ(blas_core_to_request("Prescott", 0), "");
  EXPECT_EQ(blas_core_to_request("SomethingNew", 3), "");
}

TEST(BlasKernels, ReportsTheLoadedCoreAndTheCpuLevel) {
  EXPECT_GE(blas_core_vector_level(loaded_blas_core()), -1);
  EXPECT_FALSE(loaded_blas_core().empty());
  EXPECT_GE(cpu_vector_level(), 0);
  EXPECT_LE(cpu_vector_level(), 3);
}

}  // namespace
}  // namespace ofa
