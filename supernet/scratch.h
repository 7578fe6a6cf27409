#pragma once

#include "kernels/tensor.h"

namespace ofa {

// A reusable activation buffer: shaped() returns a contiguous tensor of the requested shape on
// the requested device, reallocating only when it outgrows every earlier request (or the device
// changes), so a training loop that samples a new subnet and resolution each step stops
// allocating after the largest one has run; on cuda that means no cudaMalloc in a step.
class Scratch {
 public:
  Tensor& shaped(const Shape& shape, Device device) {
    if (!capacity_.defined() || capacity_.device() != device || capacity_.numel() < shape.numel())
      capacity_ = Tensor::empty({shape.numel()}, DType::f32, device);
    view_ = capacity_.prefix(0, shape.numel()).reshape(shape);
    return view_;
  }
  Tensor& get() { return view_; }
  const Tensor& get() const { return view_; }

 private:
  Tensor capacity_;
  Tensor view_;
};

}  // namespace ofa
