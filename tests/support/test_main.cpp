#include <gtest/gtest.h>

#include "kernels/blas_kernels.h"

// The CPU suites run their GEMMs on the OpenBLAS kernels `ofa` itself would use on this CPU.
int main(int argc, char** argv) {
  ofa::match_blas_kernels_to_cpu(argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
