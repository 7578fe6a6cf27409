#include "distill/checkpoint.h"

#include <set>

#include "kernels/error.h"
#include "supernet/safetensors.h"

namespace ofa {
namespace {

constexpr const char* kFormat = "ofa-checkpoint-v1";
const std::string kMomentumPrefix = "momentum/";
const std::string kTeacherPrefix = "teacher/";

void add_network(std::vector<NamedTensor>& tensors, const ParameterList& list, const std::string& prefix) {
  for (const Parameter& p : list.parameters) tensors.push_back({prefix + p.name, p.value});
  for (const Buffer& b : list.buffers) tensors.push_back({prefix + b.name, b.value});
}

// (destination, name in file) of every tensor a checkpoint of `state` holds.
std::vector<NamedTensor> layout(const TrainingState& state) {
  std::vector<NamedTensor> tensors;
  const ParameterList& params = state.supernet->network().parameters();
  add_network(tensors, params, "");
  for (std::size_t i = 0; i < params.parameters.size(); ++i)
    tensors.push_back({kMomentumPrefix + params.parameters[i].name, (*state.momentum)[i]});
  if (*state.teacher) add_network(tensors, (*state.teacher)->network->parameters(), kTeacherPrefix);
  return tensors;
}

}  // namespace

void save_checkpoint(const std::string& path, const TrainingState& state) {
  const nlohmann::json meta = {{"phase", state.position.phase},
                               {"step", state.position.step},
                               {"global_step", state.position.global_step},
                               {"has_teacher", static_cast<bool>(*state.teacher)}};
  save_safetensors(path, layout(state),
                   {{"format", kFormat}, {"position", meta.dump()}, {"run", state.run.dump()}});
}

void load_checkpoint(const std::string& path, TrainingState& state) {
  const SafetensorsFile file = load_safetensors(path);
  OFA_CHECK(file.metadata_at("format") == kFormat, path, "metadata 'format' is '", file.metadata_at("format"),
            "', expected '", kFormat, "'");
  nlohmann::json run, position;
  try {
    run = nlohmann::json::parse(file.metadata_at("run"));
    position = nlohmann::json::parse(file.metadata_at("position"));
  } catch (const nlohmann::json::exception& e) {
    fail(path, "metadata is not valid JSON: ", e.what());
  }
  OFA_CHECK(run == state.run, path, "belongs to another run: its space, recipe, data or seed differ (checkpoint: ",
            run.dump(), ")");

  TrainingPosition restored;
  try {
    restored = {position.at("phase").get<std::int64_t>(), position.at("step").get<std::int64_t>(),
                position.at("global_step").get<std::int64_t>()};
  } catch (const nlohmann::json::exception& e) {
    fail(path, "metadata 'position' is malformed: ", e.what());
  }

  std::unique_ptr<ExtractedNetwork> teacher;
  if (position.value("has_teacher", false))
    teacher = std::make_unique<ExtractedNetwork>(
        extract_subnet(*state.supernet, largest_subnet(state.supernet->space())));
  std::unique_ptr<ExtractedNetwork>* wanted_teacher = state.teacher;
  TrainingState target = state;
  target.teacher = &teacher;
  const std::vector<NamedTensor> tensors = layout(target);
  std::set<std::string> names;
  for (const NamedTensor& t : tensors) {
    file.at(t.name, t.tensor.shape());
    names.insert(t.name);
  }
  for (const NamedTensor& t : file.tensors)
    OFA_CHECK(names.count(t.name) == 1, path, "tensor '", t.name, "' does not belong to this run's networks");

  for (const NamedTensor& t : tensors) {
    Tensor destination = t.tensor;
    destination.copy_from(file.at(t.name));
  }
  *wanted_teacher = std::move(teacher);
  state.position = restored;
}

}  // namespace ofa
