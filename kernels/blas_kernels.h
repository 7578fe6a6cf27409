#pragma once

#include <string>
#include <string_view>

namespace ofa {

// OpenBLAS chooses its GEMM kernels from the CPU's model number when the library loads. A CPU
// newer than the packaged OpenBLAS (Debian's 0.3.21 does not know Intel's model 207, an
// AVX-512 Xeon) gets the SSE3 "Prescott" kernels: measured on such a machine, a training step
// of mbv3-small at batch 64 on 2 threads runs 1.66x slower than with OpenBLAS's AVX-512 kernels.

// Widest vector instructions a core type's kernels use: 0 SSE, 1 AVX, 2 AVX2+FMA, 3 AVX-512;
// -1 for a name this table does not know.
int blas_core_vector_level(std::string_view core_name);

// The OpenBLAS core type to ask for when `loaded_core` uses narrower vectors than the CPU
// offers (`cpu_level` as above), or "" when it is as wide or unknown.
std::string blas_core_to_request(std::string_view loaded_core, int cpu_level);

// This CPU's level as above, counting only instructions the operating system enables.
int cpu_vector_level();

// The core type OpenBLAS loaded in this process.
std::string loaded_blas_core();

// Called first thing in main: when OpenBLAS loaded narrower kernels than the CPU supports and
// the user has not set OPENBLAS_CORETYPE, runs this program again with it set (OpenBLAS reads
// it only while loading). Returns only when nothing needs to change or the re-run failed.
void match_blas_kernels_to_cpu(char** argv);

}  // namespace ofa
