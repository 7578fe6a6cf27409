#pragma once

#include <memory>
#include <string>

#include "distill/data/dataset.h"

namespace ofa {

// CIFAR's binary version from `directory` (cifar-10-batches-bin / cifar-100-binary as
// unpacked, or their parent). Each record is the label byte(s) and a 32x32 image as three
// 1024-byte planes R, G, B; loading transposes them to HWC.
//   CIFAR-10:  data_batch_1.bin .. data_batch_5.bin (train), test_batch.bin (test); 10 classes.
//   CIFAR-100: train.bin, test.bin; a coarse and a fine label byte per record, the fine one
//              (100 classes) is used.
// A missing file, a size that is not a whole number of records, or a label out of range throws
// ofa::Error naming the file.
std::shared_ptr<InMemoryDataset> load_cifar10(const std::string& directory, DataSplit split);
std::shared_ptr<InMemoryDataset> load_cifar100(const std::string& directory, DataSplit split);

}  // namespace ofa
