#include "supernet/weight_file.h"

#include <nlohmann/json.hpp>

#include <set>
#include <vector>

#include "kernels/error.h"
#include "supernet/safetensors.h"

namespace ofa {
namespace {

constexpr const char* kFormatKey = "format";
constexpr const char* kSupernetFormat = "ofa-supernet-v1";
constexpr const char* kSubnetFormat = "ofa-subnet-v1";
constexpr const char* kSpaceKey = "search_space";
constexpr const char* kSubnetKey = "subnet";

std::vector<NamedTensor> named_tensors(const ParameterList& list) {
  std::vector<NamedTensor> tensors;
  for (const Parameter& p : list.parameters) tensors.push_back({p.name, p.value});
  for (const Buffer& b : list.buffers) tensors.push_back({b.name, b.value});
  return tensors;
}

void check_format(const SafetensorsFile& file, const char* expected) {
  const std::string& format = file.metadata_at(kFormatKey);
  OFA_CHECK(format == expected, file.path, "metadata 'format' is '", format, "', expected '", expected, "'");
}

SearchSpace space_of(const SafetensorsFile& file) {
  const std::string origin = file.path + " (metadata 'search_space')";
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(file.metadata_at(kSpaceKey));
  } catch (const nlohmann::json::exception& e) {
    fail(origin, "not valid JSON: ", e.what());
  }
  return parse_search_space(document, origin);
}

// Checks that the file holds exactly the network's tensors at their shapes, then copies them.
void restore(const SafetensorsFile& file, const ParameterList& list) {
  const std::vector<NamedTensor> wanted = named_tensors(list);
  std::set<std::string> names;
  for (const NamedTensor& t : wanted) {
    file.at(t.name, t.tensor.shape());
    names.insert(t.name);
  }
  for (const NamedTensor& t : file.tensors)
    OFA_CHECK(names.count(t.name) == 1, file.path, "tensor '", t.name, "' does not belong to this network");
  for (const NamedTensor& t : wanted) {
    Tensor destination = t.tensor;
    destination.copy_from(file.at(t.name));
  }
}

}  // namespace

void save_supernet(const std::string& path, const Supernet& supernet) {
  save_safetensors(path, named_tensors(supernet.network().parameters()),
                   {{kFormatKey, kSupernetFormat}, {kSpaceKey, supernet.space().to_json().dump()}});
}

std::unique_ptr<Supernet> load_supernet(const std::string& path, Device device) {
  const SafetensorsFile file = load_safetensors(path);
  check_format(file, kSupernetFormat);
  auto supernet = std::make_unique<Supernet>(space_of(file), 0, device);
  restore(file, supernet->network().parameters());
  return supernet;
}

void load_supernet_weights(const std::string& path, Supernet& supernet) {
  const SafetensorsFile file = load_safetensors(path);
  check_format(file, kSupernetFormat);
  OFA_CHECK(space_of(file).to_json() == supernet.space().to_json(), path, "was trained on search space '",
            space_of(file).name, "', which differs from this supernet's space '", supernet.space().name, "'");
  restore(file, supernet.network().parameters());
}

void save_extracted(const std::string& path, const ExtractedNetwork& extracted) {
  save_safetensors(path, named_tensors(extracted.network->parameters()),
                   {{kFormatKey, kSubnetFormat},
                    {kSpaceKey, extracted.space.to_json().dump()},
                    {kSubnetKey, subnet_to_json(extracted.subnet).dump()}});
}

ExtractedNetwork load_extracted(const std::string& path, Device device) {
  const SafetensorsFile file = load_safetensors(path);
  check_format(file, kSubnetFormat);
  SearchSpace space = space_of(file);
  const std::string origin = path + " (metadata 'subnet')";
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(file.metadata_at(kSubnetKey));
  } catch (const nlohmann::json::exception& e) {
    fail(origin, "not valid JSON: ", e.what());
  }
  Subnet subnet = parse_subnet(document, space, origin);
  auto network = std::make_unique<Network>(subnet_plan(space, subnet), 0, device);
  restore(file, network->parameters());
  network->set_active(full_size(network->plan(), subnet.resolution));
  return {std::move(space), std::move(subnet), std::move(network)};
}

}  // namespace ofa
