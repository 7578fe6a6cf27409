#pragma once

namespace ofa {

// One knob for every parallel loop: OpenMP regions and OpenBLAS both follow it.
void set_num_threads(int threads);
int num_threads();

}  // namespace ofa
