#pragma once

#include <memory>
#include <string>

#include "supernet/extraction.h"
#include "supernet/supernet.h"

// Supernets and extracted subnets as safetensors files. Every parameter and BN running statistic
// is stored under its registered name at its stored (max or extracted) size; the metadata holds
// the search space JSON (and, for a subnet, its architecture), so a file alone rebuilds its network
// and Python reads it with safetensors or numpy.
namespace ofa {

// Files are the same whichever device the weights are on (they go through host copies), so a
// file saved from one device loads on the other.
void save_supernet(const std::string& path, const Supernet& supernet);
std::unique_ptr<Supernet> load_supernet(const std::string& path, Device device = Device::cpu);
// Replaces the weights of an existing supernet; the file's search space must equal the supernet's.
// Everything is checked before anything is copied, so a bad file leaves the weights untouched.
void load_supernet_weights(const std::string& path, Supernet& supernet);

void save_extracted(const std::string& path, const ExtractedNetwork& extracted);
ExtractedNetwork load_extracted(const std::string& path, Device device = Device::cpu);

}  // namespace ofa
