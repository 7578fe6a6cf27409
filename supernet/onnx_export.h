#pragma once

#include <cstdint>
#include <string>

#include "supernet/extraction.h"

// An extracted subnet as an ONNX model, for runtimes outside this project (onnxruntime,
// TensorRT, OpenVINO). The graph is the eval-mode network: batch norm folded into the
// convolution before it, dropout dropped, h-swish as HardSwish, h-sigmoid as
// HardSigmoid(1/6, 1/2), SE as GlobalAveragePool -> Conv -> Relu -> Conv -> HardSigmoid -> Mul.
//
// The input is NCHW, ONNX's (and PyTorch's) convention, not our NHWC: 'images' float32
// [batch, C, R, R] at the subnet's resolution R, already normalised as training normalised it;
// the output is 'logits' float32 [batch, classes], before any softmax. The model's doc string
// says this, plus whatever the caller passes as `preprocessing` (the dataset's normalisation).
namespace ofa {

inline constexpr std::int64_t kOnnxOpset = 14;     // the first opset with HardSwish
inline constexpr std::int64_t kOnnxIrVersion = 8;  // ONNX 1.11's, the newest Debian 12's libonnx 1.12 knows
inline constexpr const char* kOnnxInputName = "images";
inline constexpr const char* kOnnxOutputName = "logits";

// The serialised ModelProto. Throws ofa::Error if the network is not one extract_subnet made
// (a block still holding several kernel sizes).
std::string onnx_model_bytes(const ExtractedNetwork& extracted, const std::string& preprocessing);

// Writes onnx_model_bytes atomically (supernet/atomic_file.h).
void save_onnx_model(const std::string& path, const ExtractedNetwork& extracted, const std::string& preprocessing);

}  // namespace ofa
