#pragma once

#include <string>
#include <vector>

#include "kernels/tensor.h"

namespace ofa {

// A learnable max-size tensor and its gradient (same shape and device; the active prefix accumulates).
// Tensors are shared handles, so a Parameter copied into a list still updates the layer's weights.
struct Parameter {
  std::string name;
  Tensor value;
  Tensor grad;
  bool weight_decay = true;  // false on batch norm and biases, as OFA's no_decay_keys
};

// State that is saved and loaded but not learned (batch norm running statistics).
struct Buffer {
  std::string name;
  Tensor value;
};

struct ParameterList {
  std::vector<Parameter> parameters;
  std::vector<Buffer> buffers;

  void add(std::string name, const Tensor& value, bool weight_decay) {
    parameters.push_back(
        {std::move(name), value, Tensor::zeros(value.shape(), DType::f32, value.device()), weight_decay});
  }
  void add_buffer(std::string name, const Tensor& value) { buffers.push_back({std::move(name), value}); }
};

}  // namespace ofa
