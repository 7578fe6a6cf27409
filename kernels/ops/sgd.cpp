#include "kernels/ops/sgd.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "kernels/cuda/on_cuda_ops.h"
#include "kernels/ops/checks.h"

namespace ofa {
namespace {

void check_config(const char* op, const SgdConfig& config) {
  OFA_CHECK(config.lr >= 0.0f && std::isfinite(config.lr), op, "lr must be set, finite and >= 0, got ", config.lr);
  OFA_CHECK(config.momentum >= 0.0f && config.momentum < 1.0f, op, "momentum must be in [0, 1), got ",
            config.momentum);
  OFA_CHECK(config.weight_decay >= 0.0f && std::isfinite(config.weight_decay), op,
            "weight_decay must be finite and >= 0, got ", config.weight_decay);
}

void check_parameter(const char* op, std::size_t index, const SgdParameter& p, Device device) {
  const std::string name = "parameter " + std::to_string(index);
  const Device own = checks::common_device(op, {{(name + " param").c_str(), &p.param},
                                                {(name + " grad").c_str(), &p.grad},
                                                {(name + " momentum_buffer").c_str(), &p.momentum_buffer}});
  OFA_CHECK(own == device, op, name, " is on ", device_name(own), ", parameter 0 on ", device_name(device),
            "; one step updates parameters of one device");
  checks::contiguous(op, (name + " param").c_str(), p.param);
  checks::contiguous(op, (name + " grad").c_str(), p.grad);
  checks::contiguous(op, (name + " momentum_buffer").c_str(), p.momentum_buffer);
  checks::shape(op, (name + " grad").c_str(), p.grad, p.param.shape());
  checks::shape(op, (name + " momentum_buffer").c_str(), p.momentum_buffer, p.param.shape());
}

// Called inside the parallel region: the orphaned `omp for` splits this parameter across the
// team, and `nowait` lets each thread go straight on to the next parameter (they are independent).
void update_parameter(SgdParameter& p, const SgdConfig& config) {
  float* w = p.param.f32();
  float* buf = p.momentum_buffer.f32();
  const float* g = p.grad.f32();
  const std::int64_t count = p.param.numel();
  const float decay = p.weight_decay ? config.weight_decay : 0.0f;
  const float momentum = config.momentum, lr = config.lr;
  const bool nesterov = config.nesterov;
#pragma omp for simd schedule(static) nowait
  for (std::int64_t i = 0; i < count; ++i) {
    const float d = g[i] + decay * w[i];
    const float velocity = momentum * buf[i] + d;
    buf[i] = velocity;
    w[i] -= lr * (nesterov ? d + momentum * velocity : velocity);
  }
}

void check_parameters(const char* op, std::span<const SgdParameter> parameters) {
  for (std::size_t i = 0; i < parameters.size(); ++i)
    check_parameter(op, i, parameters[i], parameters[0].param.device());
}

void step_on_cpu(std::span<SgdParameter> parameters, const SgdConfig& config) {
#pragma omp parallel
  for (SgdParameter& p : parameters) update_parameter(p, config);
}

bool on_cuda_device(std::span<const SgdParameter> parameters) {
  return !parameters.empty() && parameters[0].param.device() == Device::cuda;
}

}  // namespace

void sgd_step(std::span<SgdParameter> parameters, const SgdConfig& config) {
  const char* op = "sgd_step";
  check_config(op, config);
  check_parameters(op, parameters);
  if (on_cuda_device(parameters)) return on_cuda::sgd_step(parameters, config);
  step_on_cpu(parameters, config);
}

Sgd::Sgd(std::vector<SgdParameter> parameters) : parameters_(std::move(parameters)) {
  check_parameters("Sgd", parameters_);
  if (on_cuda_device(parameters_))
    device_parameters_ = std::make_unique<on_cuda::SgdDeviceParameters>(on_cuda::upload_sgd_parameters(parameters_));
}

Sgd::~Sgd() = default;

void Sgd::step(const SgdConfig& config) {
  check_config("Sgd::step", config);
  if (device_parameters_) return on_cuda::sgd_step(*device_parameters_, config);
  step_on_cpu(parameters_, config);
}

}  // namespace ofa
