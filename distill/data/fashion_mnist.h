#pragma once

#include <memory>
#include <string>

#include "distill/data/dataset.h"

namespace ofa {

// Where Debian's dataset-fashion-mnist package installs the four IDX files.
inline constexpr const char* kFashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

// Fashion-MNIST (or MNIST: the same format) from `directory`: train-{images,labels} or
// t10k-{images,labels}, each `-idx3-ubyte` / `-idx1-ubyte`, gzip-compressed (`.gz`) or not.
// 28x28x1 images, 10 classes. A missing file, a bad magic number, a truncated file, trailing
// bytes, a label count that differs from the image count or a label above 9 throw ofa::Error
// naming the file.
std::shared_ptr<InMemoryDataset> load_fashion_mnist(const std::string& directory, DataSplit split);

}  // namespace ofa
