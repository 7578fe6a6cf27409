#include "supernet/onnx_export.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <span>
#include <vector>

#include "kernels/error.h"
#include "supernet/atomic_file.h"

namespace ofa {
namespace {

// A weight in ONNX's layout, computed in double where batch norm is folded in.
struct OnnxWeight {
  std::vector<std::int64_t> dims;
  std::vector<float> values;
};

// Contiguous host floats of any tensor (a view, a CUDA tensor).
std::vector<float> host_values(const Tensor& tensor) {
  const Tensor host = tensor.to(Device::cpu);
  return {host.f32(), host.f32() + host.numel()};
}

// Builds the GraphProto node by node; every value and initializer is named after the layer it
// belongs to (the registered parameter names), so a graph viewer shows where a value came from.
class GraphBuilder {
 public:
  GraphBuilder(onnx::GraphProto& graph, float bn_eps) : graph_(graph), bn_eps_(bn_eps) {}

  std::string initializer(const std::string& name, const OnnxWeight& weight) {
    onnx::TensorProto* tensor = graph_.add_initializer();
    tensor->set_name(name);
    tensor->set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (std::int64_t d : weight.dims) tensor->add_dims(d);
    // raw_data is little-endian float32, as this machine (and every one ofa builds on) stores it.
    tensor->set_raw_data(weight.values.data(), weight.values.size() * sizeof(float));
    return name;
  }

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output) {
    onnx::NodeProto* node = graph_.add_node();
    node->set_op_type(op);
    node->set_name(output + "/" + op);
    for (const std::string& input : inputs) node->add_input(input);
    node->add_output(output);
    return *node;
  }

  static void ints(onnx::NodeProto& node, const std::string& name, const std::vector<std::int64_t>& values) {
    onnx::AttributeProto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto_AttributeType_INTS);
    for (std::int64_t v : values) attribute->add_ints(v);
  }
  static void integer(onnx::NodeProto& node, const std::string& name, std::int64_t value) {
    onnx::AttributeProto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto_AttributeType_INT);
    attribute->set_i(value);
  }
  static void real(onnx::NodeProto& node, const std::string& name, float value) {
    onnx::AttributeProto* attribute = node.add_attribute();
    attribute->set_name(name);
    attribute->set_type(onnx::AttributeProto_AttributeType_FLOAT);
    attribute->set_f(value);
  }

  std::string activation(Activation kind, const std::string& x, const std::string& name) {
    switch (kind) {
      case Activation::none:
        return x;
      case Activation::relu:
        node("Relu", {x}, name + ".relu");
        return name + ".relu";
      case Activation::hswish:
        node("HardSwish", {x}, name + ".hswish");
        return name + ".hswish";
      case Activation::hsigmoid: {
        onnx::NodeProto& n = node("HardSigmoid", {x}, name + ".hsigmoid");
        real(n, "alpha", 1.0f / 6.0f);
        real(n, "beta", 0.5f);
        return name + ".hsigmoid";
      }
    }
    return x;
  }

  // Conv (square kernel, "same" padding k/2 as our ops) with `bn` folded into weight and bias:
  // scale = gamma / sqrt(var + eps), W' = W * scale per output channel, b' = beta - mean * scale.
  std::string conv_bn(const std::string& x, const std::string& name, OnnxWeight weight, std::int64_t stride,
                      std::int64_t group, const BatchNormParams& bn, Activation act) {
    const std::vector<float> gamma = host_values(bn.gamma), beta = host_values(bn.beta),
                             mean = host_values(bn.running_mean), var = host_values(bn.running_var);
    const std::size_t out = static_cast<std::size_t>(weight.dims[0]);
    OFA_CHECK(gamma.size() == out, "ONNX export", name, ": batch norm has ", gamma.size(), " channels, the conv ", out);
    const std::size_t per_output = weight.values.size() / out;
    OnnxWeight bias{{weight.dims[0]}, std::vector<float>(out)};
    for (std::size_t o = 0; o < out; ++o) {
      const double scale = static_cast<double>(gamma[o]) / std::sqrt(static_cast<double>(var[o]) + bn_eps_);
      for (std::size_t i = 0; i < per_output; ++i) {
        float& w = weight.values[o * per_output + i];
        w = static_cast<float>(static_cast<double>(w) * scale);
      }
      bias.values[o] = static_cast<float>(static_cast<double>(beta[o]) - static_cast<double>(mean[o]) * scale);
    }
    const std::int64_t kernel = weight.dims[2];
    onnx::NodeProto& n =
        node("Conv", {x, initializer(name + ".weight", weight), initializer(name + ".bias", bias)}, name);
    ints(n, "kernel_shape", {kernel, kernel});
    ints(n, "strides", {stride, stride});
    ints(n, "pads", {kernel / 2, kernel / 2, kernel / 2, kernel / 2});
    integer(n, "group", group);
    return activation(act, name, name);
  }

  // 1x1 Conv with a bias and no batch norm (SE's layers).
  std::string conv_bias(const std::string& x, const std::string& name, const Tensor& weight, const Tensor& bias) {
    OnnxWeight w{{weight.dim(0), weight.dim(1), 1, 1}, host_values(weight)};
    OnnxWeight b{{bias.dim(0)}, host_values(bias)};
    node("Conv", {x, initializer(name + ".weight", w), initializer(name + ".bias", b)}, name);
    return name;
  }

 private:
  onnx::GraphProto& graph_;
  double bn_eps_;
};

// [O, K, K, I] (our dense conv) -> [O, I, K, K].
OnnxWeight dense_conv_weight(const Tensor& weight) {
  const std::vector<float> src = host_values(weight);
  const std::int64_t out = weight.dim(0), k = weight.dim(1), in = weight.dim(3);
  OnnxWeight w{{out, in, k, k}, std::vector<float>(src.size())};
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t u = 0; u < k; ++u)
      for (std::int64_t v = 0; v < k; ++v)
        for (std::int64_t c = 0; c < in; ++c)
          w.values[static_cast<std::size_t>(((o * in + c) * k + u) * k + v)] =
              src[static_cast<std::size_t>(((o * k + u) * k + v) * in + c)];
  return w;
}

// [K, K, C] (our depthwise kernel) -> [C, 1, K, K].
OnnxWeight depthwise_weight(const Tensor& weight) {
  const std::vector<float> src = host_values(weight);
  const std::int64_t k = weight.dim(0), channels = weight.dim(2);
  OnnxWeight w{{channels, 1, k, k}, std::vector<float>(src.size())};
  for (std::int64_t u = 0; u < k; ++u)
    for (std::int64_t v = 0; v < k; ++v)
      for (std::int64_t c = 0; c < channels; ++c)
        w.values[static_cast<std::size_t>((c * k + u) * k + v)] =
            src[static_cast<std::size_t>((u * k + v) * channels + c)];
  return w;
}

// [O, I] (our pointwise conv) is already ONNX's [O, I, 1, 1].
OnnxWeight pointwise_weight(const Tensor& weight) {
  return {{weight.dim(0), weight.dim(1), 1, 1}, host_values(weight)};
}

std::string block(GraphBuilder& g, const std::string& x, const std::string& name, const MBConvBlock& block,
                  const ActiveBlock& active) {
  const BlockPlan& plan = block.plan();
  const MBConvWeights& w = block.weights();
  OFA_CHECK(plan.kernel_sizes.size() == 1 && active.kernel == plan.max_kernel() &&
                active.mid_channels == plan.max_mid_channels && active.se_channels == plan.max_se_channels,
            "ONNX export", name, " runs a slice of its weights (kernel ", active.kernel, " of ", plan.max_kernel(),
            ", ", active.mid_channels, " of ", plan.max_mid_channels,
            " channels); export only networks made by extract_subnet");
  std::string y = x;
  if (plan.has_expand)
    y = g.conv_bn(y, name + ".expand", pointwise_weight(w.expand), 1, 1, w.expand_bn, plan.activation);
  y = g.conv_bn(y, name + ".depthwise", depthwise_weight(w.depthwise), plan.stride, plan.max_mid_channels,
                w.depthwise_bn, plan.activation);
  if (plan.squeeze_excite) {
    g.node("GlobalAveragePool", {y}, name + ".se.pool");
    const std::string hidden = g.activation(
        Activation::relu, g.conv_bias(name + ".se.pool", name + ".se.reduce", w.se.reduce_weight, w.se.reduce_bias),
        name + ".se.reduce");
    const std::string gate = g.activation(
        Activation::hsigmoid, g.conv_bias(hidden, name + ".se.expand", w.se.expand_weight, w.se.expand_bias),
        name + ".se.expand");
    g.node("Mul", {y, gate}, name + ".se");
    y = name + ".se";
  }
  y = g.conv_bn(y, name + ".project", pointwise_weight(w.project), 1, 1, w.project_bn, Activation::none);
  if (plan.residual()) {
    g.node("Add", {x, y}, name + ".residual");
    y = name + ".residual";
  }
  return y;
}

void tensor_value(onnx::ValueInfoProto& value, const std::string& name, const std::vector<std::int64_t>& dims) {
  value.set_name(name);
  onnx::TypeProto_Tensor* type = value.mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  onnx::TensorShapeProto* shape = type->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  for (std::int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

void metadata(onnx::ModelProto& model, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto* entry = model.add_metadata_props();
  entry->set_key(key);
  entry->set_value(value);
}

}  // namespace

std::string onnx_model_bytes(const ExtractedNetwork& extracted, const std::string& preprocessing) {
  OFA_CHECK(extracted.network != nullptr, "ONNX export", "no network to export");
  const Network& network = *extracted.network;
  const NetworkPlan& plan = network.plan();
  const HeadWeights& head = network.head();
  const std::int64_t resolution = extracted.subnet.resolution;
  const std::string subnet = subnet_to_json(extracted.subnet).dump();

  onnx::ModelProto model;
  model.set_ir_version(kOnnxIrVersion);
  model.set_producer_name("ofa");
  model.set_domain("ofa.subnet");
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  model.set_doc_string(concat(
      "A subnet of the once-for-all search space '", extracted.space.name, "', extracted as a standalone network: ",
      subnet, ". Input '", kOnnxInputName, "': float32 [batch, ", plan.in_channels, ", ", resolution, ", ", resolution,
      "], NCHW (channels first), normalised images at the subnet's resolution",
      preprocessing.empty() ? std::string() : concat(" (", preprocessing, ")"), ". Output '", kOnnxOutputName,
      "': float32 [batch, ", plan.num_classes,
      "], class logits before softmax. Eval mode: batch norm folded into the convolutions, no dropout."));
  metadata(model, "search_space", extracted.space.name);
  metadata(model, "subnet", subnet);
  metadata(model, "input_layout", "NCHW");

  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name("ofa_subnet");
  tensor_value(*graph.add_input(), kOnnxInputName, {plan.in_channels, resolution, resolution});
  tensor_value(*graph.add_output(), kOnnxOutputName, {plan.num_classes});

  GraphBuilder g(graph, network.batch_norm_config().eps);
  std::string x = g.conv_bn(kOnnxInputName, "stem", dense_conv_weight(head.stem), plan.stem_stride, 1, head.stem_bn,
                            plan.stem_activation);
  const ActiveNetwork& active = network.active();
  for (std::size_t b = 0; b < network.blocks().size(); ++b)
    if (block_runs(plan, active, b)) x = block(g, x, concat("blocks.", b), network.blocks()[b], active.blocks[b]);
  x = g.conv_bn(x, "head.final_expand", pointwise_weight(head.final_expand), 1, 1, head.final_expand_bn,
                plan.head_activation);
  g.node("GlobalAveragePool", {x}, "head.pool");
  GraphBuilder::integer(g.node("Flatten", {"head.pool"}, "head.flatten"), "axis", 1);
  // Gemm computes A * B^T with transB = 1: our [out, in] linear weights go in unchanged.
  const std::string mix_weight = g.initializer(
      "head.feature_mix.weight", {{head.feature_mix.dim(0), head.feature_mix.dim(1)}, host_values(head.feature_mix)});
  GraphBuilder::integer(g.node("Gemm", {"head.flatten", mix_weight}, "head.feature_mix"), "transB", 1);
  x = g.activation(plan.head_activation, "head.feature_mix", "head.feature_mix");
  const std::string classifier_weight = g.initializer(
      "head.classifier.weight", {{head.classifier.dim(0), head.classifier.dim(1)}, host_values(head.classifier)});
  const std::string classifier_bias =
      g.initializer("head.classifier.bias", {{head.classifier_bias.dim(0)}, host_values(head.classifier_bias)});
  GraphBuilder::integer(g.node("Gemm", {x, classifier_weight, classifier_bias}, kOnnxOutputName), "transB", 1);

  std::string bytes;
  OFA_CHECK(model.SerializeToString(&bytes), "ONNX export", "protobuf could not serialise the model");
  return bytes;
}

void save_onnx_model(const std::string& path, const ExtractedNetwork& extracted, const std::string& preprocessing) {
  const std::string bytes = onnx_model_bytes(extracted, preprocessing);
  write_file_atomically(path, std::as_bytes(std::span(bytes.data(), bytes.size())));
}

}  // namespace ofa
