#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "kernels/error.h"
#include "supernet/extraction.h"
#include "supernet/onnx_export.h"
#include "supernet/supernet.h"
#include "tests/supernet/tiny_space.h"
#include "tests/support/perturbed_weights.h"

// The ONNX model's structure: it parses back, passes ONNX's own checker and full shape
// inference, states its opset, and names and shapes its input and output as documented. The
// numbers are compared with onnxruntime's in tests/search (ctest label python).
namespace ofa {
namespace {

namespace fs = std::filesystem;

onnx::ModelProto parse(const std::string& bytes) {
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromString(bytes));
  return model;
}

// Dimension values of a graph input or output; a symbolic one as -1.
std::vector<std::int64_t> dims_of(const onnx::ValueInfoProto& value) {
  std::vector<std::int64_t> dims;
  for (const auto& d : value.type().tensor_type().shape().dim()) dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return dims;
}

const onnx::TensorProto& initializer(const onnx::ModelProto& model, const std::string& name) {
  for (const onnx::TensorProto& t : model.graph().initializer())
    if (t.name() == name) return t;
  throw Error("no initializer " + name);
}

float value_at(const onnx::TensorProto& tensor, std::size_t index) {
  float v = 0;
  std::memcpy(&v, tensor.raw_data().data() + index * sizeof(float), sizeof(float));
  return v;
}

class OnnxExportTest : public ::testing::Test {
 protected:
  OnnxExportTest() : supernet_(testing::tiny_space(), 11) {
    testing::perturb_constant_initialised(supernet_.network().parameters(), 5);
  }

  ExtractedNetwork extract(const Subnet& subnet) { return extract_subnet(supernet_, subnet); }

  Supernet supernet_;
};

TEST_F(OnnxExportTest, ModelPassesOnnxCheckerAndShapeInference) {
  // A mixed subnet: kernels 3/5/7 (through the perturbed transforms), every expand, both depths.
  Subnet subnet = largest_subnet(supernet_.space());
  subnet.kernel = {3, 5, 7, 5};
  subnet.expand = {3, 6, 4, 3};
  subnet.depth = {2, 1};
  subnet.resolution = 10;
  const ExtractedNetwork extracted = extract(subnet);
  onnx::ModelProto model = parse(onnx_model_bytes(extracted, "test normalisation"));

  EXPECT_NO_THROW(onnx::checker::check_model(model));
  EXPECT_EQ(model.ir_version(), 8);
  ASSERT_EQ(model.opset_import_size(), 1);
  EXPECT_EQ(model.opset_import(0).domain(), "");
  EXPECT_EQ(model.opset_import(0).version(), 14);

  const onnx::GraphProto& graph = model.graph();
  ASSERT_EQ(graph.input_size(), 1);
  ASSERT_EQ(graph.output_size(), 1);
  EXPECT_EQ(graph.input(0).name(), "images");
  EXPECT_EQ(graph.output(0).name(), "logits");
  EXPECT_EQ(graph.input(0).type().tensor_type().elem_type(), onnx::TensorProto_DataType_FLOAT);
  EXPECT_EQ(graph.input(0).type().tensor_type().shape().dim(0).dim_param(), "batch");
  EXPECT_EQ(dims_of(graph.input(0)), (std::vector<std::int64_t>{-1, 3, 10, 10}));  // NCHW, 3 channels
  EXPECT_EQ(dims_of(graph.output(0)), (std::vector<std::int64_t>{-1, 5}));
  EXPECT_NE(model.doc_string().find("NCHW"), std::string::npos) << model.doc_string();
  EXPECT_NE(model.doc_string().find("[batch, 3, 10, 10]"), std::string::npos) << model.doc_string();
  EXPECT_NE(model.doc_string().find("test normalisation"), std::string::npos) << model.doc_string();
  std::map<std::string, std::string> metadata;
  for (const auto& entry : model.metadata_props()) metadata[entry.key()] = entry.value();
  EXPECT_EQ(metadata["input_layout"], "NCHW");
  EXPECT_EQ(metadata["subnet"], subnet_to_json(subnet).dump());

  // Strict inference: a node whose inputs do not fit (a wrong weight layout, a residual add of
  // two shapes) throws, and the declared output must agree with the inferred one.
  EXPECT_NO_THROW(onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                                     onnx::ShapeInferenceOptions(true, 1, false)));
  std::map<std::string, std::vector<std::int64_t>> shapes;
  for (const onnx::ValueInfoProto& value : model.graph().value_info()) shapes[value.name()] = dims_of(value);
  // The stem keeps 10x10 (stride 1), the stride-2 stage halves it: 5x5 at the head.
  EXPECT_EQ(shapes["stem.hswish"], (std::vector<std::int64_t>{-1, 8, 10, 10}));
  EXPECT_EQ(shapes["head.final_expand.hswish"], (std::vector<std::int64_t>{-1, 16, 5, 5}));

  std::map<std::string, int> ops;
  for (const onnx::NodeProto& node : graph.node()) ++ops[node.op_type()];
  EXPECT_EQ(ops["BatchNormalization"], 0);  // folded
  EXPECT_EQ(ops["Dropout"], 0);
  // The stem; the expand-less first block's depthwise and project; expand, depthwise and project
  // of the three stage blocks; the SE block's reduce and expand; the head's final expand.
  EXPECT_EQ(ops["Conv"], 1 + 2 + 3 * 3 + 2 + 1);
  EXPECT_EQ(ops["HardSigmoid"], 1);  // SE's gate
  EXPECT_EQ(ops["Mul"], 1);
  EXPECT_EQ(ops["GlobalAveragePool"], 2);  // SE's and the head's
  EXPECT_EQ(ops["Gemm"], 2);               // feature mix and classifier
  EXPECT_EQ(ops["Add"], 3);                // residuals: the first block and both stride-1 8 -> 8 blocks of stage 0
  EXPECT_EQ(ops["HardSwish"], 5);          // stem, the h-swish stage's expand and depthwise, the head's two
  EXPECT_EQ(ops["Relu"], 6);               // the relu blocks' 1 + 2 * 2 activations and SE's hidden layer
}

// The stem's weights are transposed from [O, K, K, I] to [O, I, K, K] and scaled by the folded
// batch norm; its bias is beta - mean * gamma / sqrt(var + eps).
TEST_F(OnnxExportTest, StemWeightsAreTransposedAndBatchNormIsFolded) {
  const ExtractedNetwork extracted = extract(largest_subnet(supernet_.space()));
  const onnx::ModelProto model = parse(onnx_model_bytes(extracted, ""));
  const HeadWeights& head = extracted.network->head();
  const onnx::TensorProto& weight = initializer(model, "stem.weight");
  const onnx::TensorProto& bias = initializer(model, "stem.bias");
  const std::int64_t in = 3, k = 3;
  ASSERT_EQ(weight.dims_size(), 4);
  EXPECT_EQ(weight.dims(1), in);
  EXPECT_EQ(weight.dims(2), k);
  for (std::int64_t o : {0, 5})
    for (std::int64_t c : {0, 2}) {
      const double scale = head.stem_bn.gamma.at({o}) / std::sqrt(head.stem_bn.running_var.at({o}) + 1e-5);
      const std::int64_t u = 2, v = 1;
      EXPECT_NEAR(value_at(weight, static_cast<std::size_t>(((o * in + c) * k + u) * k + v)),
                  head.stem.at({o, u, v, c}) * scale, 1e-6);
      EXPECT_NEAR(value_at(bias, static_cast<std::size_t>(o)),
                  head.stem_bn.beta.at({o}) - head.stem_bn.running_mean.at({o}) * scale, 1e-6);
    }
}

TEST_F(OnnxExportTest, RefusesANetworkThatRunsSlicesOfItsWeights) {
  // The supernet's own network at a smaller kernel is not a standalone network.
  ExtractedNetwork sliced{supernet_.space(), smallest_subnet(supernet_.space()),
                          std::make_unique<Network>(supernet_plan(supernet_.space()), 3)};
  sliced.network->set_active(active_in_supernet(supernet_.space(), smallest_subnet(supernet_.space())));
  try {
    onnx_model_bytes(sliced, "");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("export only networks made by extract_subnet"), std::string::npos) << e.what();
  }
}

TEST_F(OnnxExportTest, SaveWritesTheSameBytesAtomically) {
  const ExtractedNetwork extracted = extract(smallest_subnet(supernet_.space()));
  const fs::path dir = fs::path(::testing::TempDir()) / ("onnx_export_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path file = dir / "min.onnx";
  save_onnx_model(file.string(), extracted, "");
  std::ifstream in(file, std::ios::binary);
  const std::string written{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_EQ(written, onnx_model_bytes(extracted, ""));
  EXPECT_NO_THROW(onnx::checker::check_model(parse(written)));

  EXPECT_THROW(save_onnx_model((dir / "missing" / "x.onnx").string(), extracted, ""), Error);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);  // no temporary left
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ofa
