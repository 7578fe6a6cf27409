#pragma once

// A cuDNN convolution the way the project's kernels compute it: NHWC float32, cross-correlation,
// "same" padding k/2 (output (size - 1) / stride + 1), weights [out][kh][kw][in / groups], and
// strict FP32 (CUDNN_FMA_MATH: no TF32 tensor cores, the precision of the hand-written kernels).
// Each direction runs cuDNN's fastest algorithm on this device, found by cudnnFind* (which times
// every algorithm, so only the directions asked for are searched).

#include <cudnn.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "tools/bench/cuda/cudnn_descriptors.h"
#include "tools/bench/cuda/library_status.h"

namespace ofa::cuda::yardstick {

struct ConvolutionGeometry {
  int batch, height, width, in_channels, out_channels, kernel, stride, groups;

  int out_height() const { return (height - 1) / stride + 1; }
  int out_width() const { return (width - 1) / stride + 1; }
};

enum ConvolutionDirections : unsigned { kForward = 1, kBackwardData = 2, kBackwardFilter = 4, kAllDirections = 7 };

class CudnnConvolution {
 public:
  CudnnConvolution(cudnnHandle_t handle, const ConvolutionGeometry& g, unsigned directions = kAllDirections)
      : handle_(handle),
        directions_(directions),
        x_(nhwc_tensor(g.batch, g.height, g.width, g.in_channels)),
        y_(nhwc_tensor(g.batch, g.out_height(), g.out_width(), g.out_channels)),
        w_(nhwc_filter(g.out_channels, g.in_channels / g.groups, g.kernel)) {
    OFA_CHECK(g.groups >= 1 && g.in_channels % g.groups == 0 && g.out_channels % g.groups == 0, "CudnnConvolution",
              "channels ", g.in_channels, " -> ", g.out_channels, " do not split into ", g.groups, " groups");
    const int pad = g.kernel / 2;
    check_cudnn(cudnnSetConvolution2dDescriptor(conv_.get(), pad, pad, g.stride, g.stride, 1, 1,
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                "cudnnSetConvolution2dDescriptor");
    check_cudnn(cudnnSetConvolutionGroupCount(conv_.get(), g.groups), "cudnnSetConvolutionGroupCount");
    check_cudnn(cudnnSetConvolutionMathType(conv_.get(), CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
    if (directions & kForward) find_forward();
    if (directions & kBackwardData) find_backward_data();
    if (directions & kBackwardFilter) find_backward_filter();
  }

  std::size_t workspace_bytes() const { return workspace_bytes_; }

  // "fwd=A bwd_data=B bwd_filter=C": cuDNN's algorithm numbers, for the benchmark's label.
  std::string algorithms() const {
    std::string label;
    if (directions_ & kForward) label += concat("fwd=", int(forward_), " ");
    if (directions_ & kBackwardData) label += concat("bwd_data=", int(backward_data_), " ");
    if (directions_ & kBackwardFilter) label += concat("bwd_filter=", int(backward_filter_), " ");
    return label.substr(0, label.size() - 1);
  }

  void forward(const float* x, const float* w, float* y, void* workspace) const {
    searched(kForward);
    const float one = 1.0f, zero = 0.0f;
    check_cudnn(cudnnConvolutionForward(handle_, &one, x_.get(), x, w_.get(), w, conv_.get(), forward_, workspace,
                                        workspace_bytes_, &zero, y_.get(), y),
                "cudnnConvolutionForward");
  }

  void backward_data(const float* w, const float* dy, float* dx, void* workspace) const {
    searched(kBackwardData);
    const float one = 1.0f, zero = 0.0f;
    check_cudnn(cudnnConvolutionBackwardData(handle_, &one, w_.get(), w, y_.get(), dy, conv_.get(), backward_data_,
                                             workspace, workspace_bytes_, &zero, x_.get(), dx),
                "cudnnConvolutionBackwardData");
  }

  // dw = accumulate * dw + the filter gradient (the project's weight gradients accumulate).
  void backward_filter(const float* x, const float* dy, float* dw, void* workspace, float accumulate) const {
    searched(kBackwardFilter);
    const float one = 1.0f;
    check_cudnn(cudnnConvolutionBackwardFilter(handle_, &one, x_.get(), x, y_.get(), dy, conv_.get(),
                                               backward_filter_, workspace, workspace_bytes_, &accumulate, w_.get(),
                                               dw),
                "cudnnConvolutionBackwardFilter");
  }

 private:
  void searched(ConvolutionDirections direction) const {
    OFA_CHECK(directions_ & direction, "CudnnConvolution", "this direction was not searched for an algorithm");
  }

  // The first (fastest) result cuDNN ran successfully without tensor cores; results come sorted
  // by time.
  template <class Perf>
  static auto fastest(const std::vector<Perf>& results, int returned, const char* direction) {
    for (int i = 0; i < returned; ++i) {
      const Perf& r = results[std::size_t(i)];
      if (r.status == CUDNN_STATUS_SUCCESS && r.mathType != CUDNN_TENSOR_OP_MATH &&
          r.mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
        return r;
    }
    fail("CudnnConvolution", "CUDNN_STATUS_NOT_SUPPORTED: cuDNN has no strict-FP32 algorithm for the ", direction,
         " direction of this convolution");
  }

  void find_forward() {
    int count = 0, returned = 0;
    check_cudnn(cudnnGetConvolutionForwardAlgorithmMaxCount(handle_, &count),
                "cudnnGetConvolutionForwardAlgorithmMaxCount");
    std::vector<cudnnConvolutionFwdAlgoPerf_t> results(std::size_t(std::max(count, 1)));
    check_cudnn(cudnnFindConvolutionForwardAlgorithm(handle_, x_.get(), w_.get(), conv_.get(), y_.get(),
                                                     int(results.size()), &returned, results.data()),
                "cudnnFindConvolutionForwardAlgorithm");
    const auto best = fastest(results, returned, "forward");
    forward_ = best.algo;
    workspace_bytes_ = std::max(workspace_bytes_, best.memory);
  }

  void find_backward_data() {
    int count = 0, returned = 0;
    check_cudnn(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle_, &count),
                "cudnnGetConvolutionBackwardDataAlgorithmMaxCount");
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> results(std::size_t(std::max(count, 1)));
    check_cudnn(cudnnFindConvolutionBackwardDataAlgorithm(handle_, w_.get(), y_.get(), conv_.get(), x_.get(),
                                                          int(results.size()), &returned, results.data()),
                "cudnnFindConvolutionBackwardDataAlgorithm");
    const auto best = fastest(results, returned, "backward-data");
    backward_data_ = best.algo;
    workspace_bytes_ = std::max(workspace_bytes_, best.memory);
  }

  void find_backward_filter() {
    int count = 0, returned = 0;
    check_cudnn(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle_, &count),
                "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount");
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> results(std::size_t(std::max(count, 1)));
    check_cudnn(cudnnFindConvolutionBackwardFilterAlgorithm(handle_, x_.get(), y_.get(), conv_.get(), w_.get(),
                                                            int(results.size()), &returned, results.data()),
                "cudnnFindConvolutionBackwardFilterAlgorithm");
    const auto best = fastest(results, returned, "backward-filter");
    backward_filter_ = best.algo;
    workspace_bytes_ = std::max(workspace_bytes_, best.memory);
  }

  cudnnHandle_t handle_;
  unsigned directions_;
  TensorDescriptor x_, y_;
  FilterDescriptor w_;
  ConvolutionDescriptor conv_;
  cudnnConvolutionFwdAlgo_t forward_{};
  cudnnConvolutionBwdDataAlgo_t backward_data_{};
  cudnnConvolutionBwdFilterAlgo_t backward_filter_{};
  std::size_t workspace_bytes_ = 0;
};

}  // namespace ofa::cuda::yardstick
