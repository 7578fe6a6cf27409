#include "search/accuracy_predictor.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

#include "kernels/error.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/linear.h"
#include "kernels/random.h"
#include "kernels/threads.h"
#include "search/rank_correlation.h"
#include "search/subnet_encoding.h"
#include "supernet/safetensors.h"

namespace ofa {
namespace {

constexpr const char* kFormat = "ofa-accuracy-predictor-v1";
constexpr std::uint64_t kInitStream = 0x70726564ULL;  // "pred"
constexpr std::uint64_t kSplitStream = 0x73706c74ULL;
constexpr std::uint64_t kOrderStream = 0x6f726472ULL;

std::vector<std::int64_t> layer_widths(const SearchSpace& space) {
  std::vector<std::int64_t> widths = {encoding_size(space)};
  for (int l = 0; l < AccuracyPredictor::kHiddenLayers; ++l) widths.push_back(AccuracyPredictor::kHiddenWidth);
  widths.push_back(1);
  return widths;
}

std::string weight_name(std::size_t layer) { return concat("layers.", layer, ".weight"); }
std::string bias_name(std::size_t layer) { return concat("layers.", layer, ".bias"); }

// A seeded permutation of [0, n): Fisher-Yates on the portable draws.
std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[uniform_index(rng, i)]);
  return order;
}

double rmse(std::span<const double> predicted, std::span<const double> measured) {
  double sum = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) sum += (predicted[i] - measured[i]) * (predicted[i] - measured[i]);
  return std::sqrt(sum / static_cast<double>(std::max<std::size_t>(predicted.size(), 1)));
}

// The activations one training step keeps for its backward pass, sized for one batch.
struct Activations {
  std::vector<Tensor> inputs;          // inputs[l]: layer l's input
  std::vector<Tensor> pre_activation;  // hidden layers' outputs before ReLU
  Tensor output;                       // [batch, 1], overwritten in place by its gradient
};

struct AdamState {
  std::vector<Tensor> weight_grad, bias_grad, weight_m, weight_v, bias_m, bias_v;
};

// AdamW's update of one tensor (decay only where `decay` is non-zero).
void adam_update(Tensor& value, const Tensor& grad, Tensor& m, Tensor& v, double lr, double decay, std::int64_t step) {
  constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEpsilon = 1e-8;
  const double correction1 = 1.0 - std::pow(kBeta1, static_cast<double>(step));
  const double correction2 = 1.0 - std::pow(kBeta2, static_cast<double>(step));
  float* p = value.f32();
  const float* g = grad.f32();
  float* mp = m.f32();
  float* vp = v.f32();
  const auto b1 = static_cast<float>(kBeta1), b2 = static_cast<float>(kBeta2);
  const auto step_size = static_cast<float>(lr / correction1);
  const auto root_correction = static_cast<float>(std::sqrt(correction2));
  const auto shrink = static_cast<float>(1.0 - lr * decay);
  for (std::int64_t i = 0; i < value.numel(); ++i) {
    mp[i] = b1 * mp[i] + (1.0f - b1) * g[i];
    vp[i] = b2 * vp[i] + (1.0f - b2) * g[i] * g[i];
    p[i] = shrink * p[i] - step_size * mp[i] / (std::sqrt(vp[i]) / root_correction + static_cast<float>(kEpsilon));
  }
}

// The GEMMs of a 400-wide MLP at a batch of ~100 rows are too small to gain from threads, and on
// shared cores OpenMP's waiting makes them many times slower (measured: 8x on 2 busy cores), so
// the predictor runs on one thread and restores the caller's setting after.
class SingleThreaded {
 public:
  SingleThreaded() : saved_(num_threads()) { set_num_threads(1); }
  ~SingleThreaded() { set_num_threads(saved_); }
  SingleThreaded(const SingleThreaded&) = delete;
  SingleThreaded& operator=(const SingleThreaded&) = delete;

 private:
  int saved_;
};

}  // namespace

AccuracyPredictor::AccuracyPredictor(SearchSpace space, std::uint64_t seed) : space_(std::move(space)) {
  const std::vector<std::int64_t> widths = layer_widths(space_);
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    Layer layer{Tensor::empty(Shape{widths[l + 1], widths[l]}), Tensor::zeros(Shape{widths[l + 1]})};
    // He-uniform: keeps the ReLU layers' activations at a steady scale through the depth.
    const auto bound = static_cast<float>(std::sqrt(6.0 / static_cast<double>(widths[l])));
    float* w = layer.weight.f32();
    for (std::int64_t i = 0; i < layer.weight.numel(); ++i)
      w[i] = (2.0f * uniform01(seed, kInitStream + l, static_cast<std::uint64_t>(i)) - 1.0f) * bound;
    layers_.push_back(std::move(layer));
  }
}

Tensor AccuracyPredictor::encode(std::span<const Subnet> subnets) const {
  const std::int64_t features = encoding_size(space_);
  Tensor x = Tensor::empty(Shape{static_cast<std::int64_t>(subnets.size()), features});
  for (std::size_t i = 0; i < subnets.size(); ++i)
    encode_subnet(space_, subnets[i],
                  std::span(x.f32() + static_cast<std::int64_t>(i) * features, static_cast<std::size_t>(features)));
  return x;
}

std::vector<double> AccuracyPredictor::predict(std::span<const Subnet> subnets) const {
  if (subnets.empty()) return {};
  const SingleThreaded one_thread;
  Tensor x = encode(subnets);
  const std::int64_t rows = x.dim(0);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    Tensor y = Tensor::empty(Shape{rows, layers_[l].weight.dim(0)});
    linear_forward(x, layers_[l].weight, &layers_[l].bias, y.dim(1), y);
    if (l + 1 < layers_.size()) activation_forward(Activation::relu, y, y);
    x = y;
  }
  std::vector<double> predictions(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i)
    predictions[static_cast<std::size_t>(i)] = target_mean_ + target_scale_ * static_cast<double>(x.f32()[i]);
  return predictions;
}

double AccuracyPredictor::predict(const Subnet& subnet) const { return predict(std::span(&subnet, 1)).front(); }

PredictorReport AccuracyPredictor::train(std::span<const AccuracySample> samples, const PredictorTraining& training) {
  OFA_CHECK(samples.size() >= 10, "AccuracyPredictor::train", "needs at least 10 measured subnets, got ",
            samples.size());
  OFA_CHECK(training.holdout_fraction >= 0 && training.holdout_fraction < 1, "AccuracyPredictor::train",
            "holdout_fraction is ", training.holdout_fraction, ", expected [0, 1)");
  OFA_CHECK(training.steps > 0 && training.batch_size > 0 && training.learning_rate > 0, "AccuracyPredictor::train",
            "steps, batch_size and learning_rate must be positive");
  *this = AccuracyPredictor(space_, training.seed);
  const SingleThreaded one_thread;

  const std::vector<std::size_t> order = permutation(samples.size(), mix64(training.seed ^ kSplitStream));
  const auto holdout =
      static_cast<std::size_t>(std::llround(training.holdout_fraction * static_cast<double>(samples.size())));
  std::vector<Subnet> train_subnets, holdout_subnets;
  std::vector<double> train_top1, holdout_top1;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const AccuracySample& sample = samples[order[i]];
    (i < holdout ? holdout_subnets : train_subnets).push_back(sample.subnet);
    (i < holdout ? holdout_top1 : train_top1).push_back(sample.top1);
  }

  double mean = 0, variance = 0;
  for (double y : train_top1) mean += y / static_cast<double>(train_top1.size());
  for (double y : train_top1) variance += (y - mean) * (y - mean) / static_cast<double>(train_top1.size());
  target_mean_ = mean;
  target_scale_ = variance > 0 ? std::sqrt(variance) : 1.0;

  const Tensor features = encode(train_subnets);
  const std::int64_t n = features.dim(0), width = features.dim(1);
  const std::int64_t batch = std::min<std::int64_t>(training.batch_size, n);
  const std::int64_t steps_per_epoch = n / batch;
  const std::int64_t total_steps = training.steps;

  Activations act;
  AdamState adam;
  for (const Layer& layer : layers_) {
    act.inputs.push_back(Tensor::empty(Shape{batch, layer.weight.dim(1)}));
    act.pre_activation.push_back(Tensor::empty(Shape{batch, layer.weight.dim(0)}));
    for (auto* list : {&adam.weight_grad, &adam.weight_m, &adam.weight_v})
      list->push_back(Tensor::zeros(layer.weight.shape()));
    for (auto* list : {&adam.bias_grad, &adam.bias_m, &adam.bias_v}) list->push_back(Tensor::zeros(layer.bias.shape()));
  }
  std::vector<Tensor> input_grads;
  for (const Layer& layer : layers_) input_grads.push_back(Tensor::empty(Shape{batch, layer.weight.dim(1)}));
  act.output = Tensor::empty(Shape{batch, 1});

  std::int64_t step = 0;
  for (std::int64_t epoch = 0; step < total_steps; ++epoch) {
    const std::vector<std::size_t> shuffled = permutation(
        static_cast<std::size_t>(n), mix64(training.seed ^ kOrderStream) + static_cast<std::uint64_t>(epoch));
    for (std::int64_t s = 0; s < steps_per_epoch && step < total_steps; ++s) {
      float* x = act.inputs[0].f32();
      for (std::int64_t r = 0; r < batch; ++r)
        std::copy_n(
            features.f32() + static_cast<std::int64_t>(shuffled[static_cast<std::size_t>(s * batch + r)]) * width,
            width, x + r * width);
      for (std::size_t l = 0; l < layers_.size(); ++l) {
        Tensor& y = l + 1 < layers_.size() ? act.pre_activation[l] : act.output;
        linear_forward(act.inputs[l], layers_[l].weight, &layers_[l].bias, layers_[l].weight.dim(0), y);
        if (l + 1 < layers_.size()) activation_forward(Activation::relu, y, act.inputs[l + 1]);
      }
      // Mean squared error on standardised targets: d/d output = 2 (output - target) / batch.
      float* g = act.output.f32();
      for (std::int64_t r = 0; r < batch; ++r) {
        const double target =
            (train_top1[shuffled[static_cast<std::size_t>(s * batch + r)]] - target_mean_) / target_scale_;
        g[r] = static_cast<float>(2.0 * (static_cast<double>(g[r]) - target) / static_cast<double>(batch));
      }
      for (Tensor& t : adam.weight_grad) t.fill(0.0f);
      for (Tensor& t : adam.bias_grad) t.fill(0.0f);
      const Tensor* upstream = &act.output;
      for (std::size_t l = layers_.size(); l-- > 0;) {
        if (l + 1 < layers_.size()) {
          activation_backward(Activation::relu, act.pre_activation[l], input_grads[l + 1], input_grads[l + 1]);
          upstream = &input_grads[l + 1];
        }
        linear_backward(act.inputs[l], layers_[l].weight, *upstream, l > 0 ? &input_grads[l] : nullptr,
                        adam.weight_grad[l], &adam.bias_grad[l]);
      }
      ++step;
      const double lr =
          training.learning_rate * 0.5 *
          (1.0 + std::cos(std::numbers::pi * static_cast<double>(step - 1) / static_cast<double>(total_steps)));
      for (std::size_t l = 0; l < layers_.size(); ++l) {
        adam_update(layers_[l].weight, adam.weight_grad[l], adam.weight_m[l], adam.weight_v[l], lr,
                    training.weight_decay, step);
        adam_update(layers_[l].bias, adam.bias_grad[l], adam.bias_m[l], adam.bias_v[l], lr, 0.0, step);
      }
    }
  }

  PredictorReport report;
  report.train_samples = static_cast<std::int64_t>(train_subnets.size());
  report.holdout_samples = static_cast<std::int64_t>(holdout_subnets.size());
  report.train_rmse = rmse(predict(train_subnets), train_top1);
  if (holdout_subnets.size() >= 2) {
    const std::vector<double> predicted = predict(holdout_subnets);
    report.holdout_rmse = rmse(predicted, holdout_top1);
    report.holdout_kendall_tau = kendall_tau(predicted, holdout_top1);
  }
  return report;
}

void AccuracyPredictor::save(const std::string& path, const std::map<std::string, std::string>& metadata) const {
  std::vector<NamedTensor> tensors;
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    tensors.push_back({weight_name(l), layers_[l].weight});
    tensors.push_back({bias_name(l), layers_[l].bias});
  }
  Tensor target = Tensor::empty(Shape{2});
  target.f32()[0] = static_cast<float>(target_mean_);
  target.f32()[1] = static_cast<float>(target_scale_);
  tensors.push_back({"target_mean_scale", target});
  std::map<std::string, std::string> all = metadata;
  all["format"] = kFormat;
  all["search_space"] = space_.to_json().dump();
  save_safetensors(path, tensors, all);
}

AccuracyPredictor AccuracyPredictor::load(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  const std::string& format = file.metadata_at("format");
  OFA_CHECK(format == kFormat, path, "metadata 'format' is '", format, "', expected '", kFormat, "'");
  nlohmann::json space_document;
  try {
    space_document = nlohmann::json::parse(file.metadata_at("search_space"));
  } catch (const nlohmann::json::exception& e) {
    fail(path, "metadata 'search_space' is not valid JSON: ", e.what());
  }
  AccuracyPredictor predictor(parse_search_space(space_document, path + " (metadata 'search_space')"), 0);
  for (std::size_t l = 0; l < predictor.layers_.size(); ++l) {
    Layer& layer = predictor.layers_[l];
    layer.weight.copy_from(file.at(weight_name(l), layer.weight.shape()));
    layer.bias.copy_from(file.at(bias_name(l), layer.bias.shape()));
  }
  const Tensor& target = file.at("target_mean_scale", Shape{2});
  predictor.target_mean_ = static_cast<double>(target.f32()[0]);
  predictor.target_scale_ = static_cast<double>(target.f32()[1]);
  OFA_CHECK(std::isfinite(predictor.target_mean_) && predictor.target_scale_ > 0, path,
            "tensor 'target_mean_scale' holds ", predictor.target_mean_, ", ", predictor.target_scale_,
            "; expected a finite mean and a positive scale");
  return predictor;
}

}  // namespace ofa
