#pragma once

#include "kernels/tensor.h"

namespace ofa {

// A reusable activation buffer: shaped() returns a contiguous tensor of the requested shape,
// reallocating only when it outgrows every earlier request, so a training loop that samples a
// new subnet and resolution each step stops allocating after the largest one has run.
class Scratch {
 public:
  Tensor& shaped(const Shape& shape) {
    if (capacity_.numel() < shape.numel()) capacity_ = Tensor::empty({shape.numel()});
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
