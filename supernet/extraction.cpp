#include "supernet/extraction.h"

#include "kernels/ops/elastic_kernel.h"

namespace ofa {
namespace {

void copy_prefix(Tensor& dst, const Tensor& src) { dst.copy_from(src.prefix(dst.shape())); }

void copy_batch_norm(BatchNormParams& dst, const BatchNormParams& src) {
  copy_prefix(dst.gamma, src.gamma);
  copy_prefix(dst.beta, src.beta);
  copy_prefix(dst.running_mean, src.running_mean);
  copy_prefix(dst.running_var, src.running_var);
}

void copy_block(MBConvBlock& dst, const MBConvBlock& src) {
  const MBConvWeights& s = src.weights();
  MBConvWeights& d = dst.weights();
  if (d.expand.defined()) {
    copy_prefix(d.expand, s.expand);
    copy_batch_norm(d.expand_bn, s.expand_bn);
  }
  const std::int64_t kernel = dst.plan().max_kernel(), mid = dst.plan().max_mid_channels;
  elastic_kernel_forward(s.depthwise, src.plan().kernel_sizes, s.transforms, kernel, mid, d.depthwise);
  copy_batch_norm(d.depthwise_bn, s.depthwise_bn);
  if (d.se.reduce_weight.defined()) {
    copy_prefix(d.se.reduce_weight, s.se.reduce_weight);
    copy_prefix(d.se.reduce_bias, s.se.reduce_bias);
    copy_prefix(d.se.expand_weight, s.se.expand_weight);
    copy_prefix(d.se.expand_bias, s.se.expand_bias);
  }
  copy_prefix(d.project, s.project);
  copy_batch_norm(d.project_bn, s.project_bn);
}

}  // namespace

ExtractedNetwork extract_subnet(const Supernet& supernet, const Subnet& subnet) {
  const SearchSpace& space = supernet.space();
  validate_subnet(space, subnet, "subnet to extract");
  const Network& src = supernet.network();
  ExtractedNetwork extracted{space, subnet, std::make_unique<Network>(subnet_plan(space, subnet), 0, src.device())};
  Network& dst = *extracted.network;

  HeadWeights& dh = dst.head();
  const HeadWeights& sh = src.head();
  dh.stem.copy_from(sh.stem);
  copy_batch_norm(dh.stem_bn, sh.stem_bn);
  dh.final_expand.copy_from(sh.final_expand);
  copy_batch_norm(dh.final_expand_bn, sh.final_expand_bn);
  dh.feature_mix.copy_from(sh.feature_mix);
  dh.classifier.copy_from(sh.classifier);
  dh.classifier_bias.copy_from(sh.classifier_bias);

  const NetworkPlan& src_plan = src.plan();
  copy_block(dst.blocks()[0], src.blocks()[0]);
  for (std::size_t s = 0; s < src_plan.stage_first_block.size(); ++s)
    for (std::int64_t j = 0; j < subnet.depth[s]; ++j) {
      const auto from = static_cast<std::size_t>(src_plan.stage_first_block[s] + j);
      const auto to = static_cast<std::size_t>(dst.plan().stage_first_block[s] + j);
      copy_block(dst.blocks()[to], src.blocks()[from]);
    }
  dst.set_active(full_size(dst.plan(), subnet.resolution));
  return extracted;
}

}  // namespace ofa
